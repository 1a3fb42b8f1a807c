/**
 * Ingest rejects ("nothing lost", mappings/README.md): every record the translation of an outside
 * source (CSV row, HL7 v2 message, JSON record) rejects is kept with its raw input and reasons, so
 * it can be listed (`GET /ingest/rejects`) and re-run once the mapping is fixed
 * (`POST /ingest/rejects/$retry`, src/pipeline/retry-rejects.ts).
 *
 * Table `ingest_reject` (created by `RejectStore.open`: idempotent DDL under an advisory lock, so
 * several processes may start at once on one PostgreSQL):
 * - the reject as the pipeline reported it (`location` is its `where`, `record_id` its `id`);
 *   `raw` and `header` are `text`, never truncated;
 * - `status` `open` | `resolved`, `received_at` (first time it was rejected), `attempts` (how many
 *   times it was rejected: 1 when first stored), `last_tried_at`, `resolved_at`;
 * - `fingerprint`: sha256 of (source, feed, input, kind, record id, raw). At most one OPEN reject
 *   has a fingerprint (a partial unique index), so a source record sent again while its reject is
 *   open updates that reject (attempts + 1, latest errors, record number and location) instead of
 *   piling up copies. kind and record id are part of it because one source record can make several
 *   canonical records (an HL7 DFT with two FT1 segments) that are rejected each on its own.
 *
 * Times are kept to the millisecond, so a `receivedAt` read back into a JS Date is exact and the
 * keyset cursor (`received_at`, `id`) never skips or repeats a row.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, FhirError } from '../outcomes';
import type { SqlDriver } from './repository';

/** One reason a record was rejected. */
export interface RejectError {
  /** Canonical target (`durationMinutes`, `episode.id`); absent for the whole record. */
  field?: string;
  /** Where in the source (`line 13, column "Minutes"`, `FT1[2]-7.1`). */
  source?: string;
  reason: string;
  /** Pipeline stage: parse, mapping, canonical, rules, fhir, validate, store. */
  stage: string;
}

/** A rejected source record, as the pipeline (src/pipeline/translate-source.ts) reports it. */
export interface RejectRecord {
  /** The source (mapping folder name). */
  source: string;
  feed?: string;
  /** Record number in its input, from 1. */
  record: number;
  /** The input's name (`contacts.csv`, `request body`). */
  input: string;
  /** Where in the input (`line 13`, `message 4`, `$.clients[2]`). */
  where: string;
  /** The canonical record kind, when the record got that far. */
  kind?: string;
  /** The source record id, when known. */
  id?: string;
  errors: RejectError[];
  /** The raw input of the record (a CSV line, an HL7 message, a JSON record). */
  raw: string;
  /** CSV header line, to re-run a row alone. */
  header?: string;
}

export type RejectStatus = 'open' | 'resolved';

/**
 * A stored reject. `id` is the reject's own id (a UUID); the source record's id is `recordId`
 * (the RejectRecord's `id`).
 */
export type StoredReject = Omit<RejectRecord, 'id'> & {
  id: string;
  recordId?: string;
  status: RejectStatus;
  /** When it was first rejected (ISO instant). */
  receivedAt: string;
  /** Times it was rejected: 1 when stored, + 1 per failed retry or re-send while open. */
  attempts: number;
  lastTriedAt?: string;
  resolvedAt?: string;
};

export interface RejectQuery {
  source?: string;
  feed?: string;
  /** Default `open`. */
  status?: RejectStatus | 'all';
  /** Page size, 0..MAX_REJECT_COUNT (default DEFAULT_REJECT_COUNT); 0 gives the total only. */
  count?: number;
  /** `next` of the previous page. */
  cursor?: string;
}

export interface RejectPage {
  items: StoredReject[];
  /** Matches of the whole query (not only this page). */
  total: number;
  /** Cursor of the next page; absent on the last one. */
  next?: string;
}

export const DEFAULT_REJECT_COUNT = 50;
export const MAX_REJECT_COUNT = 1000;

/** Rows and characters of input per INSERT statement of `add`. */
const CHUNK_ROWS = 1000;
const CHUNK_CHARS = 8 * 1024 * 1024;

/** Arbitrary, fixed key for `pg_advisory_xact_lock`: "PBREJECT" read as ASCII. */
const DDL_LOCK = 0x504252454a454354n;

const DDL = [
  `CREATE TABLE IF NOT EXISTS ingest_reject (
    id uuid PRIMARY KEY,
    source text NOT NULL,
    feed text,
    record integer NOT NULL,
    input text NOT NULL,
    location text NOT NULL,
    kind text,
    record_id text,
    errors jsonb NOT NULL,
    raw text NOT NULL,
    header text,
    fingerprint text NOT NULL,
    status text NOT NULL DEFAULT 'open',
    received_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 1,
    last_tried_at timestamptz,
    resolved_at timestamptz)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS ingest_reject_open_fingerprint ON ingest_reject (fingerprint) WHERE status = 'open'`,
  'CREATE INDEX IF NOT EXISTS ingest_reject_by_status ON ingest_reject (source, status, received_at DESC, id DESC)',
  'CREATE INDEX IF NOT EXISTS ingest_reject_by_source ON ingest_reject (source, received_at DESC, id DESC)',
];

const NOW = "date_trunc('milliseconds', now())";

const COLUMNS = 'id, source, feed, record, input, location, kind, record_id, errors, raw, header, status, received_at, attempts, last_tried_at, resolved_at';

interface RejectRow {
  id: string;
  source: string;
  feed: string | null;
  record: number;
  input: string;
  location: string;
  kind: string | null;
  record_id: string | null;
  errors: RejectError[] | string;
  raw: string;
  header: string | null;
  status: RejectStatus;
  received_at: Date | string;
  attempts: number;
  last_tried_at: Date | string | null;
  resolved_at: Date | string | null;
}

const iso = (v: Date | string): string => new Date(v).toISOString();

function toStored(r: RejectRow): StoredReject {
  return {
    id: r.id,
    source: r.source,
    ...(r.feed !== null ? { feed: r.feed } : {}),
    record: Number(r.record),
    input: r.input,
    where: r.location,
    ...(r.kind !== null ? { kind: r.kind } : {}),
    ...(r.record_id !== null ? { recordId: r.record_id } : {}),
    errors: typeof r.errors === 'string' ? (JSON.parse(r.errors) as RejectError[]) : r.errors,
    raw: r.raw,
    ...(r.header !== null ? { header: r.header } : {}),
    status: r.status,
    receivedAt: iso(r.received_at),
    attempts: Number(r.attempts),
    ...(r.last_tried_at !== null ? { lastTriedAt: iso(r.last_tried_at) } : {}),
    ...(r.resolved_at !== null ? { resolvedAt: iso(r.resolved_at) } : {}),
  };
}

/**
 * PostgreSQL text cannot hold U+0000, and jsonb refuses lone surrogates: both become U+FFFD
 * (a binary file read as text is the only way to get them; the rest of the record is kept).
 */
const BAD_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string): string => s.replace(BAD_CHARS, '\uFFFD');
const cleanJson = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? clean(v) : v));

/** Stages whose errors mean the input itself is wrong (`invalid`); the others are `processing`. */
const INPUT_STAGES = new Set(['parse', 'mapping', 'canonical', 'validate']);

/**
 * One OperationOutcome issue per reject error: the reason in `details.text`, the canonical field
 * in `expression`, the source path and stage in `diagnostics` (`source: line 13, column "Minutes";
 * stage: mapping`), after `prefix` when given.
 */
export function rejectIssues(errors: RejectError[], prefix?: string): OperationOutcomeIssue[] {
  const list = errors.length ? errors : [{ reason: 'Rejected (no reason was recorded)', stage: 'unknown' }];
  return list.map((e) => ({
    severity: 'error',
    code: INPUT_STAGES.has(e.stage) ? 'invalid' : 'processing',
    details: { text: e.reason },
    ...(e.field ? { expression: [e.field] } : {}),
    diagnostics: [prefix, e.source !== undefined ? `source: ${e.source}` : undefined, `stage: ${e.stage}`].filter((s) => s !== undefined).join('; '),
  }));
}

/** A reject's errors as an OperationOutcome. */
export function rejectOutcome(errors: RejectError[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: rejectIssues(errors) };
}

/** The identity of a rejected source record: the same record sent again has the same fingerprint. */
export function rejectFingerprint(r: RejectRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([r.source, r.feed ?? null, r.input, r.kind ?? null, r.id ?? null, r.raw]))
    .digest('hex');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Is `id` a reject id (a UUID)? Anything else matches no reject. */
export const isRejectId = (id: string): boolean => UUID.test(id);

function encodeCursor(r: StoredReject): string {
  return Buffer.from(JSON.stringify([r.receivedAt, r.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === 'string' && UUID.test(v[1])) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw new FhirError(badRequest(`Invalid cursor '${cursor}': use the next link of the previous page`, 'cursor'), 400);
}

/** The `ingest_reject` table. */
export class RejectStore {
  private constructor(private readonly driver: SqlDriver) {}

  /** Creates the table when missing (safe from several processes at once) and returns the store. */
  static async open(driver: SqlDriver): Promise<RejectStore> {
    await driver.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK.toString()]);
      for (const sql of DDL) {
        await tx.query(sql);
      }
    });
    return new RejectStore(driver);
  }

  /**
   * Stores rejects: one multi-row INSERT (one per ~8 MB or 1,000 records, in one transaction, for
   * bigger lists). A reject whose source record already has an OPEN reject
   * (same fingerprint) updates it: attempts + 1, the new errors, record number, location and
   * header, `lastTriedAt` now; `receivedAt` stays the first time. Copies within one call count as
   * one attempt each. Returns the stored reject of each input, in input order.
   */
  async add(rejects: RejectRecord[], tx: SqlDriver = this.driver): Promise<StoredReject[]> {
    if (rejects.length === 0) {
      return [];
    }
    const prints = rejects.map(rejectFingerprint);
    // ON CONFLICT cannot update one row twice in a statement: collapse copies first (the last wins).
    const rows = new Map<string, Record<string, unknown>>();
    rejects.forEach((r, i) => {
      const n = ((rows.get(prints[i])?.n as number | undefined) ?? 0) + 1;
      rows.set(prints[i], {
        id: randomUUID(),
        source: r.source,
        feed: r.feed ?? null,
        record: r.record,
        input: r.input,
        location: r.where,
        kind: r.kind ?? null,
        record_id: r.id ?? null,
        errors: r.errors,
        raw: r.raw,
        header: r.header ?? null,
        fingerprint: prints[i],
        n,
      });
    });
    // One statement per ~8 MB of input (or 1,000 records), all in one transaction when several.
    const chunks: Record<string, unknown>[][] = [[]];
    let size = 0;
    for (const row of rows.values()) {
      const bytes = (row.raw as string).length + ((row.header as string | null)?.length ?? 0) + 1024;
      const last = chunks[chunks.length - 1];
      if (last.length > 0 && (last.length >= CHUNK_ROWS || size + bytes > CHUNK_CHARS)) {
        chunks.push([]);
        size = 0;
      }
      chunks[chunks.length - 1].push(row);
      size += bytes;
    }
    const insert = async (db: SqlDriver, chunk: Record<string, unknown>[]) =>
      (
        await db.query<RejectRow & { fingerprint: string }>(
          `INSERT INTO ingest_reject (id, source, feed, record, input, location, kind, record_id, errors, raw, header, fingerprint, status, received_at, attempts)
           SELECT id, source, feed, record, input, location, kind, record_id, errors, raw, header, fingerprint, 'open', ${NOW}, n
             FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, source text, feed text, record integer, input text, location text, kind text,
                                                     record_id text, errors jsonb, raw text, header text, fingerprint text, n integer)
           ON CONFLICT (fingerprint) WHERE status = 'open' DO UPDATE SET
             record = EXCLUDED.record, location = EXCLUDED.location, errors = EXCLUDED.errors, header = EXCLUDED.header,
             attempts = ingest_reject.attempts + EXCLUDED.attempts, last_tried_at = ${NOW}
           RETURNING ${COLUMNS}, fingerprint`,
          [cleanJson(chunk)],
        )
      ).rows;
    const stored =
      chunks.length === 1
        ? await insert(tx, chunks[0])
        : await tx.transaction(async (t) => {
            const all: (RejectRow & { fingerprint: string })[] = [];
            for (const chunk of chunks) all.push(...(await insert(t, chunk)));
            return all;
          });
    const byPrint = new Map(stored.map((r) => [r.fingerprint, toStored(r)]));
    return prints.map((p) => byPrint.get(p) as StoredReject);
  }

  /**
   * One page of rejects, newest first (`receivedAt` descending, then id descending), with keyset
   * paging: a reject resolved or added between two pages neither shifts nor repeats the others.
   * 400 (FhirError) for a bad count or cursor.
   */
  async list(q: RejectQuery = {}): Promise<RejectPage> {
    const count = q.count ?? DEFAULT_REJECT_COUNT;
    if (!Number.isInteger(count) || count < 0 || count > MAX_REJECT_COUNT) {
      throw new FhirError(badRequest(`count must be a whole number from 0 to ${MAX_REJECT_COUNT} (got ${count})`, '_count'), 400);
    }
    const status = q.status ?? 'open';
    if (status !== 'open' && status !== 'resolved' && status !== 'all') {
      throw new FhirError(badRequest(`status must be open, resolved or all (got '${String(status)}')`, 'status'), 400);
    }
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (q.source !== undefined) add((p) => `source = ${p}`, q.source);
    if (q.feed !== undefined) add((p) => `feed = ${p}`, q.feed);
    if (status !== 'all') add((p) => `status = ${p}`, status);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number((await this.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM ingest_reject ${filter}`, params)).rows[0]?.n ?? 0);
    if (count === 0) {
      return { items: [], total };
    }
    if (q.cursor !== undefined) {
      const [at, id] = decodeCursor(q.cursor);
      params.push(at, id);
      where.push(`(received_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(count + 1);
    const res = await this.driver.query<RejectRow>(
      `SELECT ${COLUMNS} FROM ingest_reject ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = res.rows.slice(0, count).map(toStored);
    return { items, total, ...(res.rows.length > count ? { next: encodeCursor(items[items.length - 1]) } : {}) };
  }

  /** The rejects with these ids, in the order given; unknown ids (and non-UUIDs) are left out. */
  async get(ids: string[]): Promise<StoredReject[]> {
    const valid = [...new Set(ids.filter(isRejectId).map((id) => id.toLowerCase()))];
    if (valid.length === 0) {
      return [];
    }
    const res = await this.driver.query<RejectRow>(`SELECT ${COLUMNS} FROM ingest_reject WHERE id = ANY($1::uuid[])`, [valid]);
    const byId = new Map(res.rows.map((r) => [String(r.id).toLowerCase(), toStored(r)]));
    return valid.flatMap((id) => byId.get(id) ?? []);
  }

  /** Marks an open reject resolved; false when it is unknown or was not open. */
  async resolve(id: string, tx: SqlDriver = this.driver): Promise<boolean> {
    if (!isRejectId(id)) {
      return false;
    }
    const res = await tx.query(`UPDATE ingest_reject SET status = 'resolved', resolved_at = ${NOW} WHERE id = $1 AND status = 'open' RETURNING id`, [id]);
    return res.rows.length > 0;
  }

  /**
   * Records a failed retry of an open reject: attempts + 1, `lastTriedAt` now, the new errors.
   * Undefined when it is unknown or not open.
   */
  async retried(id: string, errors: RejectError[], tx: SqlDriver = this.driver): Promise<StoredReject | undefined> {
    if (!isRejectId(id)) {
      return undefined;
    }
    const res = await tx.query<RejectRow>(
      `UPDATE ingest_reject SET attempts = attempts + 1, last_tried_at = ${NOW}, errors = $2::jsonb
        WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
      [id, cleanJson(errors)],
    );
    return res.rows[0] ? toStored(res.rows[0]) : undefined;
  }
}
