/**
 * Re-extracts the search values of every current resource (src/store/search-values.ts) when what
 * they depend on changed: the extraction itself (a schema step that indexes more, such as the
 * modifier rows of `:text`, `:of-type` and `:identifier`), or the server's FHIR base, which decides
 * which absolute references are local (src/store/local-refs.ts). Runs at start inside the
 * migration's transaction (src/store/schema.ts), in keyset batches so memory stays bounded.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ServerBase } from './local-refs';
import type { SqlDriver } from './repository';
import { extractSearchValues } from './search-values';
import { replaceSideRows } from './sql-write-many';

const BATCH = 500;

/** Rebuilds the side tables and `patient_ids` of every current resource; returns how many were reindexed. */
export async function reindexAll(tx: SqlDriver, base: ServerBase | undefined): Promise<number> {
  let after: [string, string] = ['', ''];
  let done = 0;
  for (;;) {
    const res = await tx.query<{ resource_type: string; id: string; content: Resource }>(
      `SELECT resource_type, id, content FROM fhir_resource
        WHERE NOT deleted AND content IS NOT NULL AND (resource_type, id) > ($1, $2)
        ORDER BY resource_type, id LIMIT ${BATCH}`,
      after,
    );
    if (res.rows.length === 0) {
      return done;
    }
    const batch = res.rows.map((r) => ({ type: r.resource_type, id: r.id, values: extractSearchValues(r.content, base) }));
    await replaceSideRows(tx, batch, batch);
    await tx.query(
      `UPDATE fhir_resource r SET patient_ids = string_to_array(u.p, chr(31))
         FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, i, p) WHERE r.resource_type = u.t AND r.id = u.i`,
      [batch.map((b) => b.type), batch.map((b) => b.id), batch.map((b) => b.values.patientIds.join('\u001f'))],
    );
    done += batch.length;
    const last = res.rows[res.rows.length - 1];
    after = [last.resource_type, last.id];
  }
}
