/**
 * `fhir_consent_grant`: the recipients each stored Consent releases 42 CFR Part 2 records to
 * (which Consents count: src/access/consent.ts). Rewritten with every version of a Consent, in
 * the write's transaction, and emptied when it is deleted, so the release check of
 * src/store/access-sql.ts is one indexed EXISTS.
 */
import type { Consent, Resource } from '@medplum/fhirtypes';
import { consentGrants } from '../access/consent';
import type { SqlDriver } from './repository';

/** Replaces the grants of Consents (content null: deleted, no grants). */
export async function writeGrants(tx: SqlDriver, consentId: string | string[], content: Resource | null | (Resource | null)[]): Promise<void> {
  const ids = Array.isArray(consentId) ? consentId : [consentId];
  const docs = Array.isArray(content) ? content : [content];
  if (ids.length === 0) return;
  await tx.query('DELETE FROM fhir_consent_grant WHERE consent_id = ANY($1::text[])', [ids]);
  const rows = ids.flatMap((id, i) => {
    const doc = docs[i];
    return doc?.resourceType === 'Consent' ? consentGrants(doc as Consent).map((g) => ({ id, ...g })) : [];
  });
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO fhir_consent_grant (consent_id, patient_id, organization_id, period_start, period_end)
     SELECT c, p, o, coalesce(s, '-infinity'::timestamptz), coalesce(e, 'infinity'::timestamptz)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS g(c, p, o, s, e)`,
    [rows.map((r) => r.id), rows.map((r) => r.patientId), rows.map((r) => r.organizationId), rows.map((r) => r.start ?? null), rows.map((r) => r.end ?? null)],
  );
}
