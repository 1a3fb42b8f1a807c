/**
 * Who may manage which clients through `/admin/clients` (admin-router.ts). The `Client` scopes say
 * what an admin client may do (register, list, remove); these rules bound whom and what for, so an
 * admin can never hand out more than it has itself:
 *
 * - a client registered for every organization (`*`) registers clients for any organizations and
 *   sees every client;
 * - any other admin registers clients only for organizations it is registered for (at least one,
 *   never `*`), and sees (lists, reads, removes) only clients whose organizations are all its own;
 *   a client it cannot see answers as unknown;
 * - the scopes of a new client must each be covered by the admin's own registered scopes (a
 *   `system/Client.c` holder with `system/*.rs` may register `system/Encounter.rs`, not
 *   `system/*.cruds`, nor `system/AuditEvent.rs` or `system/Client.d` unless it holds those).
 */
import { ALL_ORGANIZATIONS, type Client, type NewClient } from './clients';
import { allows, parseScope, parseScopes } from './scopes';

/** The admin making a request: its registered scopes and its organizations. */
export interface ClientAdmin {
  /** Scopes the admin itself holds (its registration; the token's scopes when it has none). */
  scopes: readonly string[];
  organizations: readonly string[];
  allOrganizations: boolean;
  /** The admin may itself create resources under ids of its own. */
  assignIds?: boolean;
}

/** Can `admin` see (list, read, remove) `client`? */
export function canSee(admin: ClientAdmin, client: Pick<Client, 'organizations'>): boolean {
  if (admin.allOrganizations) return true;
  return client.organizations.length > 0 && client.organizations.every((o) => o !== ALL_ORGANIZATIONS && admin.organizations.includes(o));
}

/**
 * Why `admin` may not register `input` (empty: it may). Scopes that are not SMART system scopes
 * are left to ClientStore's own checks.
 */
export function escalations(admin: ClientAdmin, input: Pick<NewClient, 'scopes' | 'organizations' | 'assignIds'>): string[] {
  const problems: string[] = [];
  if (input.assignIds === true && !admin.assignIds && !admin.allOrganizations) {
    problems.push('assignIds may be given only by an admin that assigns ids itself (or is registered for every organization)');
  }
  const held = parseScopes(admin.scopes);
  for (const raw of new Set(Array.isArray(input.scopes) ? input.scopes : [])) {
    const scope = typeof raw === 'string' ? parseScope(raw) : undefined;
    if (!scope || admin.scopes.includes(raw)) continue;
    const missing = scope.interactions.filter((interaction) => !allows(held, { type: scope.type, interaction }));
    if (missing.length > 0) {
      problems.push(`scope '${raw}' grants more than your own scopes (${admin.scopes.join(' ') || 'none'}): you may register only scopes you hold`);
    }
  }
  if (admin.allOrganizations) return problems;
  const orgs = [...new Set(Array.isArray(input.organizations) ? input.organizations : [])];
  const mine = admin.organizations.join(', ') || 'none';
  if (orgs.length === 0) {
    problems.push(`give the organizations the client serves: you may register clients only for your own organizations (${mine})`);
  }
  for (const org of orgs) {
    if (org === ALL_ORGANIZATIONS) {
      problems.push(`organization '${ALL_ORGANIZATIONS}' (every organization) may be given only by a client registered for every organization`);
    } else if (!admin.organizations.includes(org)) {
      problems.push(`organization '${String(org)}' is not one of yours (${mine}): you may register clients only for your own organizations`);
    }
  }
  return problems;
}
