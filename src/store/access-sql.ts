/**
 * What a client may see, as SQL over a version row (`fhir_resource` or `fhir_history`, alias `a`),
 * for the access-filtered views of `SqlRepository.withAccess` (issue 6 items 3 and 4):
 *
 * - Tenants: `a.owner IS NULL OR a.owner = ANY(<the client's organizations>)`: a column equality
 *   on an indexed column (`fhir_resource_tenant`), skipped for a client of every organization.
 * - 42 CFR Part 2: a row labelled 42CFRPart2 (`a.part2`) is released only when every patient of
 *   its compartment (`a.patient_ids`) has a consent grant (src/access/consent.ts) to one of the
 *   client's organizations that covers `now()`; an indexed EXISTS on `fhir_consent_grant`, evaluated
 *   for labelled rows only. The gate applies to every client, a client of every organization
 *   included (it needs a grant to one of the organizations it is registered for); the server's own
 *   reads (no access: the ingest pipeline, the CLI, AUTH_DISABLED) are unfiltered.
 *
 * Searches (and `$everything`) select the gate as a column instead of filtering on it, so they can
 * say that records were withheld (an OperationOutcome warning) without naming them; reads answer 404.
 */
import type { RepositoryAccess } from './repository';

/** Adds a parameter, returns its placeholder (`$n`). */
export type AddParam = (value: unknown) => string;

/** The tenant condition on alias `a`, or undefined when the client sees every tenant. */
export function tenantCondition(access: RepositoryAccess, a: string, add: AddParam): string | undefined {
  if (access.allOrganizations) return undefined;
  return `(${a}.owner IS NULL OR ${a}.owner = ANY(${add([...access.organizations])}::text[]))`;
}

/** The 42 CFR Part 2 gate on alias `a`: true when the row may be released to the client. */
export function releasedCondition(access: RepositoryAccess, a: string, add: AddParam): string {
  if (access.organizations.length === 0) return `NOT ${a}.part2`;
  return `(NOT ${a}.part2 OR (cardinality(${a}.patient_ids) > 0 AND NOT EXISTS (
    SELECT 1 FROM unnest(${a}.patient_ids) AS gp(id) WHERE NOT EXISTS (
      SELECT 1 FROM fhir_consent_grant g WHERE g.patient_id = gp.id AND g.organization_id = ANY(${add([...access.organizations])}::text[])
         AND g.period_start <= now() AND g.period_end > now()))))`;
}

/** Both: the row is the client's to see. */
export function visibleCondition(access: RepositoryAccess, a: string, add: AddParam): string {
  const tenant = tenantCondition(access, a, add);
  const released = releasedCondition(access, a, add);
  return tenant ? `${tenant} AND ${released}` : released;
}

/** The warning searches, `$everything` and `$export` give when they left records out. */
export const WITHHELD_TEXT =
  'Some records matching this request were withheld under 42 CFR Part 2: no active consent of the patient permits disclosing them to your organization';
