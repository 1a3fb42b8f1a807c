/**
 * What a client may see, as SQL over a version row (`fhir_resource` or `fhir_history`, alias `a`),
 * for the access-filtered views of `SqlRepository.withAccess` (issue 6 items 3 and 4):
 *
 * - Tenants: `a.owner IS NULL OR a.owner = ANY(<the client's organizations>)`: a column equality
 *   on an indexed column (`fhir_resource_tenant`), skipped for a client of every organization.
 *   Rows without an owner are shared, except those of OWNED_ONLY_TYPES (AuditEvents of no one
 *   tenant), which only a client of every organization sees.
 * - 42 CFR Part 2: a row labelled 42CFRPart2 (`a.part2`) is released only when every patient of
 *   its compartment (`a.patient_ids`) has a consent grant (src/access/consent.ts) to one of the
 *   client's organizations that covers `now()` and was given by the row's owner (the grantor: a
 *   Consent stored in another tenant releases nothing); an indexed EXISTS on `fhir_consent_grant`, evaluated
 *   for labelled rows only. The gate applies to every client, a client of every organization
 *   included (it needs a grant to one of the organizations it is registered for); the server's own
 *   reads (no access: the ingest pipeline, the CLI, AUTH_DISABLED) are unfiltered.
 *
 * Searches (and `$everything`) select the gate as a column instead of filtering on it, so they can
 * say that records were withheld (an OperationOutcome warning) without naming them; reads answer 404.
 */
import { OWNED_ONLY_TYPES } from '../access/owner-rules';
import type { RepositoryAccess, SqlDriver } from './repository';

/** Adds a parameter, returns its placeholder (`$n`). */
export type AddParam = (value: unknown) => string;

/**
 * The client's slice of the store on alias `a`: its tenants, and not the types hidden from it
 * (`hiddenTypes`); undefined when it sees every tenant and every type.
 */
export function tenantCondition(access: RepositoryAccess, a: string, add: AddParam): string | undefined {
  const conds: string[] = [];
  if (!access.allOrganizations) {
    const shared = `(${a}.owner IS NULL AND ${a}.resource_type <> ALL(${add([...OWNED_ONLY_TYPES])}::text[]))`;
    conds.push(`(${shared} OR ${a}.owner = ANY(${add([...access.organizations])}::text[]))`);
  }
  if (access.hiddenTypes?.length) conds.push(`${a}.resource_type <> ALL(${add([...access.hiddenTypes])}::text[])`);
  return conds.length > 0 ? conds.join(' AND ') : undefined;
}

/** The 42 CFR Part 2 gate on alias `a`: true when the row may be released to the client. */
export function releasedCondition(access: RepositoryAccess, a: string, add: AddParam): string {
  if (access.organizations.length === 0) return `NOT ${a}.part2`;
  return `(NOT ${a}.part2 OR (cardinality(${a}.patient_ids) > 0 AND NOT EXISTS (
    SELECT 1 FROM unnest(${a}.patient_ids) AS gp(id) WHERE NOT EXISTS (
      SELECT 1 FROM fhir_consent_grant g WHERE g.patient_id = gp.id AND g.organization_id = ANY(${add([...access.organizations])}::text[])
         AND g.grantor = ${a}.owner AND g.period_start <= now() AND g.period_end > now()))))`;
}

/** Both: the row is the client's to see. */
export function visibleCondition(access: RepositoryAccess, a: string, add: AddParam): string {
  const tenant = tenantCondition(access, a, add);
  const released = releasedCondition(access, a, add);
  return tenant ? `${tenant} AND ${released}` : released;
}

/**
 * The notice every search, `$everything` and `$export` of a client carries (issue 11 item 7): the
 * same whether or not anything was left out, so it cannot tell a client that a withheld record
 * matched (OperationOutcome code `suppressed`: "not or might not have been returned").
 */
export const WITHHELD_TEXT =
  'Records of 42 CFR Part 2 programs are included only where an active consent of the patient permits disclosing them to your organization; records without one are left out. This notice is on every response to a client, whether or not anything was left out';

/** A version row's access columns, as selected by `ACCESS_COLUMNS`. */
export interface AccessRow {
  owner: string | null;
  part2: boolean;
  patient_ids: string[];
}

/** Columns to select (alias `a`) for checking rows in JS: cheaper to plan than the EXISTS (reads are ~0.1 ms); the patients only for Part 2 rows (an array costs a parse). */
export const accessColumns = (a: string): string => `, ${a}.owner, ${a}.part2, CASE WHEN ${a}.part2 THEN ${a}.patient_ids END AS patient_ids`;

/** Is the row in the client's slice: of one of its tenants (or shared), of a type not hidden from it? */
export function inTenant(access: RepositoryAccess, row: Pick<AccessRow, 'owner'>, type: string): boolean {
  if (access.hiddenTypes?.includes(type)) return false;
  if (access.allOrganizations) return true;
  return row.owner === null ? !OWNED_ONLY_TYPES.has(type) : access.organizations.includes(row.owner);
}

/**
 * Which labelled rows are released: their patients with a consent grant, given by the row's owner,
 * to one of the client's organizations and in force now (`patient` NUL `grantor` keys); one
 * indexed query, made only when labelled rows are at hand.
 */
async function grantedKeys(driver: SqlDriver, access: RepositoryAccess, rows: Pick<AccessRow, 'owner' | 'patient_ids'>[]): Promise<Set<string>> {
  const patientIds = [...new Set(rows.flatMap((r) => r.patient_ids ?? []))];
  const grantors = [...new Set(rows.map((r) => r.owner).filter((o): o is string => typeof o === 'string'))];
  if (patientIds.length === 0 || grantors.length === 0 || access.organizations.length === 0) {
    return new Set();
  }
  const res = await driver.query<{ patient_id: string; grantor: string }>(
    `SELECT DISTINCT patient_id, grantor FROM fhir_consent_grant
      WHERE patient_id = ANY($1::text[]) AND grantor = ANY($2::text[]) AND organization_id = ANY($3::text[]) AND period_start <= now() AND period_end > now()`,
    [patientIds, grantors, [...access.organizations]],
  );
  return new Set(res.rows.map((r) => `${r.patient_id}\u0000${r.grantor}`));
}

/**
 * The rows, of those the client's tenant filter already passed, released under 42 CFR Part 2
 * (the same rule as `releasedCondition`, checked in JS). Whether any were left out is not told:
 * every client response carries the same notice (issue 11 item 7).
 */
export async function releaseRows<R extends Pick<AccessRow, 'owner' | 'part2' | 'patient_ids'>>(
  driver: SqlDriver,
  access: RepositoryAccess | undefined,
  rows: R[],
): Promise<{ rows: R[] }> {
  if (!access || !rows.some((r) => r.part2)) {
    return { rows };
  }
  const granted = await grantedKeys(
    driver,
    access,
    rows.filter((r) => r.part2),
  );
  const out = rows.filter((r) => !r.part2 || ((r.patient_ids ?? []).length > 0 && r.patient_ids.every((p) => granted.has(`${p}\u0000${r.owner}`))));
  return { rows: out };
}
