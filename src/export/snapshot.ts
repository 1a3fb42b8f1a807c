/**
 * Reading the store as it was at a job's `transactionTime` (Bulk Data: "SHALL include any
 * matching resources modified up to and including this instant", and nothing later;
 * https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status).
 *
 * Works on the store's tables (src/store/schema.ts) directly, in two disjoint halves:
 * - current rows last written at or before T: they are the version current at T;
 * - rows written after T (normally few): the version current at T comes from `fhir_history`.
 * Both halves walk the `(resource_type, id)` key in bounded keyset batches, so no query holds a
 * connection, a transaction or PGlite's single session while a client downloads, and the NDJSON
 * line is PostgreSQL's own `content::text`: resources are never parsed or re-serialised here.
 *
 * Why not `Repository.stream({asOf})`: it reads every resource from the history table with
 * `DISTINCT ON`, parses each into an object and needs a second `JSON.stringify`; this path is
 * several times faster on 100k resources and lets a file be any key range of one type.
 */
import { visibleCondition } from '../store/access-sql';
import type { RepositoryAccess, SqlDriver } from '../store/repository';

/** What a job exports. */
export interface SnapshotFilter {
  /** The snapshot instant. */
  transactionTime: Date;
  /** Resource types; undefined for all. */
  types?: string[];
  /** Only versions written after this instant (`_since`). */
  since?: Date;
  /** Only these patients' compartments (Group export, `patient` parameter). */
  patientIds?: string[];
  /** Only resources in some patient's compartment (Patient-level export). */
  compartment?: boolean;
  /**
   * The client's access (src/store/access-sql.ts): its tenants only, and 42 CFR Part 2 records
   * only with consent, checked when the job is planned and again when a file is read.
   */
  access?: RepositoryAccess;
}

/** A key range of one type: (after, upto], either end open when undefined. */
export interface KeyRange {
  type: string;
  after?: string;
  upto?: string;
}

class Params {
  readonly values: unknown[] = [];
  add(v: unknown, cast = ''): string {
    this.values.push(v);
    return `$${this.values.length}${cast}`;
  }
}

/** Conditions on the version's own columns (alias `a`): types, `_since`, compartments. */
function filterConds(f: SnapshotFilter, p: Params, a: string, range?: KeyRange): string[] {
  const out: string[] = [];
  if (range) {
    out.push(`r.resource_type = ${p.add(range.type)}`);
    if (range.after !== undefined) {
      out.push(`r.id > ${p.add(range.after)}`);
    }
    if (range.upto !== undefined) {
      out.push(`r.id <= ${p.add(range.upto)}`);
    }
  }
  // A file's range is one of the planned types; one that is not (a job whose types were cut to
  // the client's scopes after it was planned) reads nothing.
  if (f.types && !(range && f.types.includes(range.type))) {
    out.push(`r.resource_type = ANY(${p.add(f.types, '::text[]')})`);
  }
  if (f.since) {
    out.push(`${a}.last_updated > ${p.add(f.since.toISOString(), '::timestamptz')}`);
  }
  if (f.patientIds) {
    out.push(`${a}.patient_ids && ${p.add(f.patientIds, '::text[]')}`);
  } else if (f.compartment) {
    out.push(`cardinality(${a}.patient_ids) > 0`);
  }
  if (f.access) {
    out.push(visibleCondition(f.access, a, (v) => p.add(v)));
  }
  return out;
}

/**
 * One half as a SELECT of `cols` (in terms of alias `v`, the version current at T): `current`
 * (rows last written at or before T) or `changed` (rows written after T, version from history).
 * `r` is always the `fhir_resource` row, so keys come from its primary key.
 */
function half(which: 'current' | 'changed', f: SnapshotFilter, p: Params, cols: (v: string) => string, range?: KeyRange): string {
  const t = p.add(f.transactionTime.toISOString(), '::timestamptz');
  if (which === 'current') {
    const conds = [`r.last_updated <= ${t}`, 'NOT r.deleted', ...filterConds(f, p, 'r', range)];
    return `SELECT ${cols('r')} FROM fhir_resource r WHERE ${conds.join(' AND ')}`;
  }
  const conds = [`r.last_updated > ${t}`, 'NOT h.deleted', ...filterConds(f, p, 'h', range)];
  return `SELECT ${cols('h')} FROM fhir_resource r CROSS JOIN LATERAL (
      SELECT x.resource_type, x.last_updated, x.deleted, x.content, x.patient_ids, x.owner, x.part2 FROM fhir_history x
       WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.last_updated <= ${t}
       ORDER BY x.version_id DESC LIMIT 1) h
    WHERE ${conds.join(' AND ')}`;
}

/** Both halves, one after the other. */
function both(f: SnapshotFilter, p: Params, cols: (v: string) => string, range?: KeyRange): string {
  return `${half('current', f, p, cols, range)} UNION ALL ${half('changed', f, p, cols, range)}`;
}

/**
 * Runs a whole-snapshot query (counts, splits) with JIT compilation off: PostgreSQL servers
 * JIT-compile queries whose estimated cost is high (`jit_above_cost`), which on these scans costs
 * far more (hundreds of ms) than it saves; the lateral join's estimate easily crosses the
 * threshold while statistics are stale. The small LIMITed reads of `readRange` stay below it.
 */
async function query<R>(driver: SqlDriver, sql: string, params: unknown[]): Promise<R[]> {
  if (driver.name !== 'pg') {
    return (await driver.query<R>(sql, params)).rows;
  }
  return driver.transaction(async (tx) => {
    await tx.query('SET LOCAL jit = off');
    return (await tx.query<R>(sql, params)).rows;
  });
}

/** Number of resources per type in the snapshot. */
export async function countByType(driver: SqlDriver, f: SnapshotFilter): Promise<Map<string, number>> {
  const p = new Params();
  const rows = await query<{ resource_type: string; n: number }>(
    driver,
    `SELECT resource_type, count(*)::int AS n FROM (${both(f, p, () => 'r.resource_type')}) s GROUP BY resource_type ORDER BY resource_type`,
    p.values,
  );
  return new Map(rows.map((r) => [r.resource_type, Number(r.n)]));
}

/**
 * Splits one type's snapshot into files of at most `max` resources: the ranges
 * (undefined, k1], (k1, k2], ..., (kn, undefined) with their sizes; `total` is the type's count.
 */
export async function splitType(driver: SqlDriver, f: SnapshotFilter, type: string, total: number, max: number): Promise<(KeyRange & { count: number })[]> {
  if (total <= max) {
    return [{ type, count: total }];
  }
  const p = new Params();
  const keys = both(f, p, () => 'r.id', { type });
  const every = p.add(max, '::int');
  const rows = await query<{ id: string }>(
    driver,
    `SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM (${keys}) k) s WHERE rn % ${every} = 0 ORDER BY id`,
    p.values,
  );
  const ranges: (KeyRange & { count: number })[] = [];
  let after: string | undefined;
  for (const { id } of rows) {
    ranges.push({ type, after, upto: id, count: max });
    after = id;
  }
  const rest = total - max * rows.length;
  if (rest > 0) {
    ranges.push({ type, after, count: rest });
  }
  return ranges;
}

/**
 * Resources per query when reading a file. Measured on 100k resources (bench:api): 250 keeps a
 * batch's rows (~0.6 MB) in V8's young generation, so the server's RSS stays flat during an
 * export; 1,000-row batches survive scavenges, get promoted and grew RSS by ~100 MB, and were
 * no faster.
 */
export const READ_BATCH = 250;

/**
 * Streams one file's NDJSON lines (`content::text` of each resource), `batchSize` resources per
 * query: first the current half, then the changed half, each by keyset on the id. Lines within a
 * file are in no particular order (NDJSON needs none).
 */
export async function* readRange(driver: SqlDriver, f: SnapshotFilter, range: KeyRange, batchSize = READ_BATCH): AsyncIterable<string[]> {
  const size = Math.max(1, Math.floor(batchSize));
  for (const which of ['current', 'changed'] as const) {
    let after = range.after;
    for (;;) {
      const p = new Params();
      // content::text outside the LIMIT: only the rows returned are turned into text.
      const inner = `${half(which, f, p, (v) => `r.id, ${v}.content`, { ...range, after })} ORDER BY r.resource_type, r.id LIMIT ${size}`;
      const sql = `SELECT id, content::text AS line FROM (${inner}) s ORDER BY id`;
      const { rows } = await driver.query<{ id: string; line: string }>(sql, p.values);
      if (rows.length > 0) {
        yield rows.map((r) => r.line);
        after = rows[rows.length - 1].id;
      }
      if (rows.length < size) {
        break;
      }
    }
  }
}
