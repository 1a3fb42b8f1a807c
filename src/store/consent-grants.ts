/**
 * `fhir_consent_grant`: the recipients each stored Consent releases 42 CFR Part 2 records to
 * (which Consents count: src/access/consent.ts). Rewritten with every version of a Consent, in
 * the write's transaction, and emptied when it is deleted, so the release check of
 * src/store/access-sql.ts is one indexed EXISTS. Each grant keeps its `grantor`, the Consent's
 * owner: it releases only records that organization owns (the patient's, src/access/owner-rules.ts).
 */
import type { Resource } from '@medplum/fhirtypes';
import { consentGrants } from '../access/consent';
import type { SqlDriver } from './repository';

/** Replaces the grants of Consents (content null: deleted, no grants), given by their owners (`grantor`). */
export async function writeGrants(
  tx: SqlDriver,
  consentId: string | string[],
  content: Resource | null | (Resource | null)[],
  grantor: string | null | (string | null)[],
): Promise<void> {
  const ids = Array.isArray(consentId) ? consentId : [consentId];
  const docs = Array.isArray(content) ? content : [content];
  const grantors = Array.isArray(grantor) ? grantor : [grantor];
  if (ids.length === 0) return;
  await tx.query('DELETE FROM fhir_consent_grant WHERE consent_id = ANY($1::text[])', [ids]);
  const rows = ids.flatMap((id, i) => {
    const doc = docs[i];
    return doc?.resourceType === 'Consent' ? consentGrants(doc).map((g) => ({ id, grantor: grantors[i] ?? null, ...g })) : [];
  });
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO fhir_consent_grant (consent_id, patient_id, organization_id, period_start, period_end, grantor)
     SELECT c, p, o, coalesce(s, '-infinity'::timestamptz), coalesce(e, 'infinity'::timestamptz), gr
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[]) AS g(c, p, o, s, e, gr)`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.patientId),
      rows.map((r) => r.organizationId),
      rows.map((r) => r.start ?? null),
      rows.map((r) => r.end ?? null),
      rows.map((r) => r.grantor),
    ],
  );
}
