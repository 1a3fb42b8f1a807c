/**
 * Many updates in a few statements (a transaction Bundle, an ingest batch): the same rows as
 * `writeVersion` writes one resource at a time, but with one statement per table for the whole
 * batch (`unnest` over arrays). Every resource of the batch is locked first, new ids included,
 * in one global order (src/store/write-locks.ts), so concurrent batches over the same ids queue
 * instead of deadlocking and version numbers stay consecutive. Must run inside a transaction.
 * Ids that appear twice in one batch, or that a writer without those locks creates meanwhile,
 * go through `writeVersion` one by one.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { SqlDriver } from './repository';
import { writeGrants } from './consent-grants';
import type { WritePlan } from './owners';
import type { ServerBase } from './local-refs';
import type { SearchValues } from './search-values';
import { prepareDoc, writeVersion, type WrittenVersion } from './sql-write';
import { lockForWrite } from './write-locks';

interface Planned {
  /** index in the input */
  at: number;
  resource: Resource;
  type: string;
  id: string;
  versionId: number;
  existed: boolean;
  /** had a row (possibly a tombstone) before */
  hadRow: boolean;
  doc: Resource;
  values: SearchValues;
  owner: string | null;
  part2: boolean;
}

const key = (type: string, id: string): string => `${type}/${id}`;

/**
 * Writes the next version of each resource (they must have ids); results in input order.
 * `plans[i]` gives resource i's owner; `base` is the server's FHIR base (src/store/local-refs.ts).
 */
export async function writeMany(tx: SqlDriver, resources: Resource[], plans: WritePlan[] = [], base?: ServerBase): Promise<WrittenVersion[]> {
  const results = new Array<WrittenVersion>(resources.length);
  await lockForWrite(
    tx,
    resources.map((r) => ({ type: r.resourceType, id: r.id as string })),
  );
  // Every statement below meets the rows in key order (inserts of new ids too), so that a batch
  // too large for the write locks still takes its row locks in the same order as any other;
  // repeats of one id stay in input order (the later one is the later version).
  const keys = resources.map((r) => key(r.resourceType, r.id as string));
  const order = resources.map((_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
  const seen = new Set<string>();
  const batch: number[] = [];
  const oneByOne: number[] = [];
  for (const i of order) {
    (seen.has(keys[i]) ? oneByOne : batch).push(i);
    seen.add(keys[i]);
  }
  if (batch.length > 0) {
    const types = batch.map((i) => resources[i].resourceType);
    const ids = batch.map((i) => resources[i].id as string);
    const current = await tx.query<{ resource_type: string; id: string; version_id: number; deleted: boolean }>(
      `SELECT r.resource_type, r.id, r.version_id, r.deleted FROM fhir_resource r
         JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i
        ORDER BY r.resource_type, r.id FOR UPDATE OF r`,
      [types, ids],
    );
    const byKey = new Map(current.rows.map((r) => [key(r.resource_type, r.id), r]));
    const lastUpdated = new Date().toISOString();
    const planned: Planned[] = batch.map((i) => {
      const resource = resources[i];
      const row = byKey.get(key(resource.resourceType, resource.id as string));
      const versionId = row ? row.version_id + 1 : 1;
      const prepared = prepareDoc({ ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated } }, plans[i], base);
      return {
        at: i,
        resource,
        type: resource.resourceType,
        id: resource.id as string,
        versionId,
        existed: !!row && !row.deleted,
        hadRow: !!row,
        doc: prepared.doc,
        values: prepared.values,
        owner: plans[i]?.owner ?? null,
        part2: prepared.part2,
      };
    });
    const fresh = planned.filter((p) => !p.hadRow);
    const inserted = new Set<string>();
    if (fresh.length > 0) {
      const res = await tx.query<{ resource_type: string; id: string }>(
        `INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, deleted, content, patient_ids, owner, part2)
         SELECT t, i, 1, $3::timestamptz, false, c::jsonb, string_to_array(p, chr(31)), o, p2
           FROM unnest($1::text[], $2::text[], $4::text[], $5::text[], $6::text[], $7::boolean[]) AS u(t, i, c, p, o, p2)
         ON CONFLICT (resource_type, id) DO NOTHING RETURNING resource_type, id`,
        [
          fresh.map((p) => p.type),
          fresh.map((p) => p.id),
          lastUpdated,
          fresh.map((p) => JSON.stringify(p.doc)),
          fresh.map((p) => joinIds(p.values.patientIds)),
          fresh.map((p) => p.owner),
          fresh.map((p) => p.part2),
        ],
      );
      for (const r of res.rows) {
        inserted.add(key(r.resource_type, r.id));
      }
    }
    const lost = fresh.filter((p) => !inserted.has(key(p.type, p.id)));
    const existing = planned.filter((p) => p.hadRow);
    if (existing.length > 0) {
      await tx.query(
        `UPDATE fhir_resource r SET version_id = u.v, last_updated = $4::timestamptz, deleted = false, content = u.c::jsonb,
                patient_ids = string_to_array(u.p, chr(31)), owner = u.o, part2 = u.p2
           FROM unnest($1::text[], $2::text[], $3::int[], $5::text[], $6::text[], $7::text[], $8::boolean[]) AS u(t, i, v, c, p, o, p2)
          WHERE r.resource_type = u.t AND r.id = u.i`,
        [
          existing.map((p) => p.type),
          existing.map((p) => p.id),
          existing.map((p) => p.versionId),
          lastUpdated,
          existing.map((p) => JSON.stringify(p.doc)),
          existing.map((p) => joinIds(p.values.patientIds)),
          existing.map((p) => p.owner),
          existing.map((p) => p.part2),
        ],
      );
    }
    const written = planned.filter((p) => p.hadRow || inserted.has(key(p.type, p.id)));
    await writeRows(tx, written, existing, lastUpdated);
    for (const p of written) {
      results[p.at] = { versionId: p.versionId, lastUpdated, existed: p.existed, changed: true, doc: p.doc };
    }
    const consents = written.filter((p) => p.type === 'Consent');
    if (consents.length > 0) {
      await writeGrants(
        tx,
        consents.map((p) => p.id),
        consents.map((p) => p.doc),
        consents.map((p) => p.owner),
      );
    }
    // Created by another writer between our lock and our insert: take the one-by-one path.
    for (const p of lost) {
      results[p.at] = await writeVersion(tx, p.type, p.id, p.resource, undefined, plans[p.at], base);
    }
  }
  for (const i of oneByOne) {
    const r = resources[i];
    results[i] = await writeVersion(tx, r.resourceType, r.id as string, r, undefined, plans[i], base);
  }
  return results;
}

/** Resource-type/id pairs can't travel as a 2-D array; patient id lists are joined on a unit separator. */
const joinIds = (ids: string[]): string => ids.join('\u001f');

/** The search-value side tables: which values fill them, and each column as [row field, column, SQL type]. */
const SIDE_TABLES: { table: string; values: Exclude<keyof SearchValues, 'patientIds'>; columns: [string, string, string][] }[] = [
  {
    table: 'fhir_token',
    values: 'tokens',
    columns: [
      ['code', 'code', 'text'],
      ['system', 'system', 'text'],
      ['value', 'value', 'text'],
    ],
  },
  {
    table: 'fhir_string',
    values: 'strings',
    columns: [
      ['code', 'code', 'text'],
      ['value', 'value', 'text'],
      ['norm', 'norm', 'text'],
    ],
  },
  {
    table: 'fhir_date',
    values: 'dates',
    columns: [
      ['code', 'code', 'text'],
      ['low', 'low', 'timestamptz'],
      ['high', 'high', 'timestamptz'],
    ],
  },
  {
    table: 'fhir_reference',
    values: 'references',
    columns: [
      ['code', 'code', 'text'],
      ['targetType', 'target_type', 'text'],
      ['targetId', 'target_id', 'text'],
      ['ref', 'ref', 'text'],
    ],
  },
  {
    table: 'fhir_number',
    values: 'numbers',
    columns: [
      ['code', 'code', 'text'],
      ['low', 'low', 'numeric'],
      ['high', 'high', 'numeric'],
      ['system', 'system', 'text'],
      ['unit', 'unit', 'text'],
    ],
  },
];

async function writeRows(tx: SqlDriver, written: Planned[], replaced: Planned[], lastUpdated: string): Promise<void> {
  if (written.length === 0) {
    return;
  }
  await tx.query(
    `INSERT INTO fhir_history (resource_type, id, version_id, last_updated, deleted, content, patient_ids, owner, part2)
     SELECT t, i, v, $4::timestamptz, false, c::jsonb, string_to_array(p, chr(31)), o, p2
       FROM unnest($1::text[], $2::text[], $3::int[], $5::text[], $6::text[], $7::text[], $8::boolean[]) AS u(t, i, v, c, p, o, p2)`,
    [
      written.map((p) => p.type),
      written.map((p) => p.id),
      written.map((p) => p.versionId),
      lastUpdated,
      written.map((p) => JSON.stringify(p.doc)),
      written.map((p) => joinIds(p.values.patientIds)),
      written.map((p) => p.owner),
      written.map((p) => p.part2),
    ],
  );
  await replaceSideRows(tx, replaced, written);
}

/**
 * The search-value rows of many resources: those of `stale` deleted, those of `fresh` (with their
 * values) inserted, one statement per table (writes, and the reindex of src/store/reindex.ts).
 */
export async function replaceSideRows(
  tx: SqlDriver,
  stale: { type: string; id: string }[],
  fresh: { type: string; id: string; values: SearchValues }[],
): Promise<void> {
  if (stale.length > 0) {
    const keys = [stale.map((p) => p.type), stale.map((p) => p.id)];
    for (const { table } of SIDE_TABLES) {
      await tx.query(`DELETE FROM ${table} x USING unnest($1::text[], $2::text[]) AS k(t, i) WHERE x.resource_type = k.t AND x.id = k.i`, keys);
    }
  }
  for (const t of SIDE_TABLES) {
    // One unnest per table: the owner's type and id, then the row's own columns, each as an array.
    const types: string[] = [];
    const ids: string[] = [];
    const columns: unknown[][] = t.columns.map(() => []);
    for (const p of fresh) {
      for (const row of p.values[t.values] as unknown as Record<string, unknown>[]) {
        types.push(p.type);
        ids.push(p.id);
        t.columns.forEach(([field], k) => columns[k].push(row[field]));
      }
    }
    if (types.length === 0) {
      continue;
    }
    const names = t.columns.map(([, column]) => column).join(', ');
    const arrays = t.columns.map(([, , cast], k) => `$${k + 3}::${cast}[]`).join(', ');
    await tx.query(`INSERT INTO ${t.table} (resource_type, id, ${names}) SELECT * FROM unnest($1::text[], $2::text[], ${arrays})`, [types, ids, ...columns]);
  }
}
