/**
 * Whose view of the store a caller gets: the type the store's access rules take
 * (src/store/access-sql.ts, owners.ts) and `accessOf` (src/access/index.ts) makes. Here, below
 * the store, so access/ does not import store/; src/store/repository.ts re-exports it.
 */

/**
 * Whose view of the store a repository gives (`withAccess`): a client's tenants
 * (rules in src/store/access-sql.ts and src/access/). Absent: the server's own, unfiltered view.
 */
export interface RepositoryAccess {
  /** The client (for export jobs and logs). */
  clientId?: string;
  /** FHIR Organization ids the client is registered for. */
  organizations: readonly string[];
  /** Every tenant (no tenant filter); the 42 CFR Part 2 gate still applies. */
  allOrganizations: boolean;
  /**
   * Resource types this view never returns (admin types such as AuditEvent that the client's
   * scopes do not name): system history, `$everything`, `$export` and includes skip them.
   */
  hiddenTypes?: readonly string[];
  /**
   * The client may create resources under ids of its own (update-as-create, PUT entries with new
   * ids): registered by an admin (`clients add --assign-ids`), since such a client can tell an id
   * it cannot read that is taken (409) from a free one (201). Other clients' PUTs to ids they
   * cannot read answer 404, known or not (src/store/owners.ts).
   */
  assignIds?: boolean;
  /**
   * The types the client's scopes let it read, when they do not cover every type (undefined:
   * every type but `hiddenTypes`). Bulk Data jobs keep to these: an `$export` without `_type`
   * exports them, and a job never reads another type whatever its `types` say. Per-type routes
   * are checked against the scopes before they reach the store.
   */
  readTypes?: readonly string[];
}
