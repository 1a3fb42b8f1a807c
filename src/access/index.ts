/**
 * Tenants and 42 CFR Part 2 (issue 6 items 3 and 4): the rules, apart from the SQL that applies
 * them (src/store/owners.ts at write time, src/store/access-sql.ts at read time).
 * - owner-rules.ts: who owns a resource; the tenant tag; Part 2 programs and labels.
 * - consent.ts: which Consents release Part 2 records, to whom, when.
 * - `accessOf`: a request's caller (src/auth AuthContext) -> the repository view it gets.
 */
import type { RepositoryAccess } from './repository-access';

export { consentGrants, type ConsentGrant } from './consent';
export {
  hasPart2Label,
  isPart2Program,
  ownerRule,
  OWNED_ONLY_TYPES,
  SHARED_TYPES,
  targetOf,
  tenantTag,
  TENANT_TAG_SYSTEM,
  withPart2Labels,
  type OwnerRule,
} from './owner-rules';

/** The id `DISABLED_AUTH` (src/auth/middleware.ts) carries when AUTH_DISABLED=true. */
const AUTH_DISABLED_CLIENT = 'auth-disabled';

/** What `res.locals.auth` holds (src/auth AuthContext), as far as access goes. */
export interface CallerLike {
  clientId: string;
  organizations: readonly string[];
  allOrganizations: boolean;
  /** Types hidden from the caller's bulk read paths (admin types its scopes do not name). */
  hiddenTypes?: readonly string[];
  /** Registered to create resources under ids of its own. */
  assignIds?: boolean;
  /** The types the caller's scopes let it read, when not every type. */
  readTypes?: readonly string[];
}

/**
 * The access of a request's caller: undefined (the unfiltered server view) when there is no
 * caller (auth not configured, tests) or auth is disabled; else the client's organizations.
 */
export function accessOf(caller: CallerLike | undefined): RepositoryAccess | undefined {
  if (!caller || (caller.allOrganizations && caller.clientId === AUTH_DISABLED_CLIENT)) {
    return undefined;
  }
  return {
    clientId: caller.clientId,
    organizations: [...caller.organizations],
    allOrganizations: caller.allOrganizations,
    ...(caller.hiddenTypes?.length ? { hiddenTypes: [...caller.hiddenTypes] } : {}),
    ...(caller.assignIds ? { assignIds: true } : {}),
    ...(caller.readTypes ? { readTypes: [...caller.readTypes] } : {}),
  };
}
