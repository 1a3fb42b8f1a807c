/**
 * Console roles and the SMART scopes each gives (README, "Console sign-in"). A signed-in person
 * acts through the same permission checks as a Backend Services client (src/auth/permissions.ts)
 * with these scopes; none of them reads the audit trail (`system/AuditEvent.rs` is never implied)
 * or manages clients (`system/Client.*`: the client registry stays with `peerbridge clients` and
 * admin clients, out of reach of a browser session).
 *
 * | role | scopes | may |
 * | --- | --- | --- |
 * | viewer | `system/*.rs` | read and search records (person pages, `$everything`, `$export`) |
 * | analyst | `system/*.crus` | + ingest (`POST /ingest/{source}`: c, u on `*`), the rejects queue (c, u, r on `*`) and its retries, writes |
 * | admin | `system/*.cruds` | + delete |
 */
import { parseScopes, type Scope } from '../auth/scopes';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_SCOPES: Readonly<Record<Role, string>> = Object.freeze({
  viewer: 'system/*.rs',
  analyst: 'system/*.crus',
  admin: 'system/*.cruds',
});

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The role's scopes, parsed. */
export function roleScopes(role: Role): Scope[] {
  return parseScopes(ROLE_SCOPES[role].split(' '));
}
