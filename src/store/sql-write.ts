/**
 * One write = one new version (https://hl7.org/fhir/R4/http.html#update): the current row is
 * locked (`FOR UPDATE`), so concurrent writers to one id, in this process or another, get
 * consecutive version numbers; then the history row and the search side-table rows are written
 * in one statement. Must run inside a transaction.
 */
import type { Resource } from '@medplum/fhirtypes';
import { conflict, preconditionFailed } from '../outcomes';
import type { SqlDriver } from './repository';
import { hasPart2Label, withPart2Labels } from '../access/owner-rules';
import { writeGrants } from './consent-grants';
import type { WritePlan } from './owners';
import type { ServerBase } from './local-refs';
import { extractSearchValues, type SearchValues } from './search-values';

export interface WrittenVersion {
  versionId: number;
  lastUpdated: string;
  /** false when the id had no current (non-deleted) version before. */
  existed: boolean;
  /** false when nothing was written (deleting what is already gone). */
  changed: boolean;
  /** The resource as stored (with meta and any labels added), absent for a delete. */
  doc?: Resource;
}

const EMPTY: SearchValues = { tokens: [], strings: [], dates: [], references: [], numbers: [], patientIds: [] };

/** History row plus side tables, replacing the previous version's rows, in one round trip. */
const SIDE_TABLES_SQL = `
  h AS (INSERT INTO fhir_history (resource_type, id, version_id, last_updated, deleted, content, patient_ids, owner, part2)
        VALUES ($1, $2, $3, $4::timestamptz, $5, $6::jsonb, $7::text[], $26, $27)),
  d1 AS (DELETE FROM fhir_token WHERE resource_type = $1 AND id = $2),
  d2 AS (DELETE FROM fhir_string WHERE resource_type = $1 AND id = $2),
  d3 AS (DELETE FROM fhir_date WHERE resource_type = $1 AND id = $2),
  d4 AS (DELETE FROM fhir_reference WHERE resource_type = $1 AND id = $2),
  d5 AS (DELETE FROM fhir_number WHERE resource_type = $1 AND id = $2),
  i1 AS (INSERT INTO fhir_token (resource_type, id, code, system, value)
         SELECT $1, $2, c, s, v FROM unnest($8::text[], $9::text[], $10::text[]) AS t(c, s, v)),
  i2 AS (INSERT INTO fhir_string (resource_type, id, code, value, norm)
         SELECT $1, $2, c, v, n FROM unnest($11::text[], $12::text[], $13::text[]) AS t(c, v, n)),
  i3 AS (INSERT INTO fhir_date (resource_type, id, code, low, high)
         SELECT $1, $2, c, l, h FROM unnest($14::text[], $15::timestamptz[], $16::timestamptz[]) AS t(c, l, h)),
  i4 AS (INSERT INTO fhir_reference (resource_type, id, code, target_type, target_id, ref)
         SELECT $1, $2, c, tt, ti, r FROM unnest($17::text[], $18::text[], $19::text[], $20::text[]) AS t(c, tt, ti, r)),
  i5 AS (INSERT INTO fhir_number (resource_type, id, code, low, high, system, unit)
         SELECT $1, $2, c, l, h, s, u FROM unnest($21::text[], $22::numeric[], $23::numeric[], $24::text[], $25::text[]) AS t(c, l, h, s, u))`;

const UPDATE_SQL = `WITH u AS (UPDATE fhir_resource SET version_id = $3, last_updated = $4::timestamptz, deleted = $5, content = $6::jsonb, patient_ids = $7::text[],
  owner = $26, part2 = $27 WHERE resource_type = $1 AND id = $2), ${SIDE_TABLES_SQL} SELECT 1`;
const SIDE_ONLY_SQL = `WITH ${SIDE_TABLES_SQL} SELECT 1`;

/**
 * The stored document and its search values: a patient's record whose owner is a 42 CFR Part 2
 * program gets the Part 2 labels (R, 42CFRPart2, ETH) where missing. Records in no Patient's
 * compartment (the program's Organization, Practitioners) are not labelled.
 */
export function prepareDoc(doc: Resource, plan: WritePlan | undefined, base?: ServerBase): { doc: Resource; values: SearchValues; part2: boolean } {
  if (plan?.part2Patients?.length) {
    const labelled = hasPart2Label(doc) ? doc : withPart2Labels(doc);
    return { doc: labelled, values: { ...extractSearchValues(labelled, base), patientIds: [...plan.part2Patients] }, part2: true };
  }
  if (plan?.part2Owner && !hasPart2Label(doc)) {
    const labelled = withPart2Labels(doc);
    const values = extractSearchValues(labelled, base);
    if (values.patientIds.length > 0) {
      return { doc: labelled, values, part2: true };
    }
  }
  return { doc, values: extractSearchValues(doc, base), part2: hasPart2Label(doc) };
}

/**
 * Writes the next version of `type/id`: `content` is the resource (its meta is set here), or
 * `null` for a delete (a tombstone). `ifMatch` is the version the caller expects (412 otherwise).
 * `plan` gives the owner (src/store/owners.ts); a delete keeps the last owner. `base`: the
 * server's FHIR base, for which references are local (src/store/local-refs.ts).
 */
export async function writeVersion(
  tx: SqlDriver,
  type: string,
  id: string,
  content: Resource | null,
  ifMatch?: string,
  plan?: WritePlan,
  base?: ServerBase,
): Promise<WrittenVersion> {
  for (let attempt = 0; ; attempt++) {
    const cur = await tx.query<{ version_id: number; deleted: boolean; owner: string | null }>(
      'SELECT version_id, deleted, owner FROM fhir_resource WHERE resource_type = $1 AND id = $2 FOR UPDATE',
      [type, id],
    );
    const row = cur.rows[0];
    if (ifMatch !== undefined && (!row || row.deleted || String(row.version_id) !== ifMatch)) {
      const now = row && !row.deleted ? `is ${row.version_id}` : 'does not exist';
      throw preconditionFailed(`If-Match: expected version ${ifMatch} of ${type}/${id}, but the current version ${now}`);
    }
    if (content === null && (!row || row.deleted)) {
      return { versionId: row?.version_id ?? 0, lastUpdated: '', existed: false, changed: false };
    }
    const versionId = row ? row.version_id + 1 : 1;
    const lastUpdated = new Date().toISOString();
    const prepared = content ? prepareDoc({ ...content, id, meta: { ...content.meta, versionId: String(versionId), lastUpdated } }, plan, base) : undefined;
    const doc = prepared?.doc ?? null;
    const values = prepared?.values ?? EMPTY;
    const owner = content ? (plan?.owner ?? null) : (row?.owner ?? null);
    const params = [
      type,
      id,
      versionId,
      lastUpdated,
      content === null,
      doc ? JSON.stringify(doc) : null,
      values.patientIds,
      ...sideParams(values),
      owner,
      prepared?.part2 ?? false,
    ];
    if (!row) {
      const inserted = await tx.query(
        `INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, deleted, content, patient_ids, owner, part2)
         VALUES ($1, $2, $3, $4::timestamptz, $5, $6::jsonb, $7::text[], $8, $9) ON CONFLICT (resource_type, id) DO NOTHING RETURNING 1`,
        [...params.slice(0, 7), owner, prepared?.part2 ?? false],
      );
      if (inserted.rows.length === 0) {
        // Another writer created this id between our SELECT and INSERT: lock its row and go again.
        if (attempt < 3) {
          continue;
        }
        throw conflict(`Could not write ${type}/${id}: concurrent creates of it kept winning; send it again`);
      }
      await tx.query(SIDE_ONLY_SQL, params);
    } else {
      await tx.query(UPDATE_SQL, params);
    }
    if (type === 'Consent') {
      await writeGrants(tx, id, doc, owner);
    }
    return { versionId, lastUpdated, existed: !!row && !row.deleted, changed: true, ...(doc ? { doc } : {}) };
  }
}

function sideParams(v: SearchValues): unknown[] {
  return [
    v.tokens.map((t) => t.code),
    v.tokens.map((t) => t.system),
    v.tokens.map((t) => t.value),
    v.strings.map((s) => s.code),
    v.strings.map((s) => s.value),
    v.strings.map((s) => s.norm),
    v.dates.map((d) => d.code),
    v.dates.map((d) => d.low),
    v.dates.map((d) => d.high),
    v.references.map((r) => r.code),
    v.references.map((r) => r.targetType),
    v.references.map((r) => r.targetId),
    v.references.map((r) => r.ref),
    v.numbers.map((n) => n.code),
    v.numbers.map((n) => n.low),
    v.numbers.map((n) => n.high),
    v.numbers.map((n) => n.system),
    v.numbers.map((n) => n.unit),
  ];
}
