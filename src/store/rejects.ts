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
 * - `fingerprint`: sha256 of (source, feed, kind, record id, raw, owner). At most one OPEN reject
 *   has a fingerprint (a partial unique index), so a source record sent again while its reject is
 *   open updates that reject (attempts + 1, latest errors, record number and location) instead of
 *   piling up copies. kind and record id are part of it because one source record can make several
 *   canonical records (an HL7 DFT with two FT1 segments) that are rejected each on its own. The
 *   input's name is not (issue 11 item 16): the same HL7 message over MLLP and in a POST body, or
 *   the same CSV row in two files, is one reject; raw line ends are normalised for the same reason.
 *   The owner is (else the posting client), so two tenants' identical lines are never one reject
 *   both could see. Open rejects kept before this rule keep their old fingerprint: a re-send of one
 *   makes a new reject once.
 * - tenants and 42 CFR Part 2 (issue 11 item 2): `owner` (Organization id; NULL when nothing says
 *   whose it is: then only clients of every organization and the server see it), `part2` (the
 *   owner is a Part 2 program, or the record is about a patient whose records are Part 2),
 *   `patient_id` (the Patient it is about, for the consent check) and `client_id` (the client that
 *   posted it; NULL for the server's own: MLLP, the CLI), decided by `add` (see `placeRejects`, reject-placement.ts).
 *   A client lists, counts, gets and retries only rejects of its organizations and those it posted;
 *   the raw input, header, record id and reasons of a Part 2 reject are released to it only as the
 *   records are (src/store/access-sql.ts: a consent grant of the patient to one of its
 *   organizations in force now), or when it posted them itself (it sent that input: nothing is
 *   disclosed). Rows kept before these columns have no owner.
 *
 * Times are kept to the millisecond, so a `receivedAt` read back into a JS Date is exact and the
 * keyset cursor (`received_at`, `id`) never skips or repeats a row.
 *
 * Why it is one file of about 400 lines: it is the one class that reads and writes the
 * `ingest_reject` table, and more than half of it is this comment and the SQL; the shapes, the
 * OperationOutcome presentation and the owner placement are already in reject-types.ts,
 * reject-outcome.ts and reject-placement.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { badRequest } from '../outcomes';
import { releaseRows } from './access-sql';
import { placeRejects } from './reject-placement';
import type { RejectError, RejectOwners, RejectPage, RejectQuery, RejectRecord, RejectStatus, StoredReject } from './reject-types';
import type { RepositoryAccess, SqlDriver } from './repository';

export { REJECT_WITHHELD_TEXT, rejectIssues, rejectOutcome, withheldIssue } from './reject-outcome';
export type { RejectError, RejectOwners, RejectPage, RejectQuery, RejectRecord, RejectStatus, RejectSubject, StoredReject } from './reject-types';

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
  // Tenants (issue 11 item 2): rows kept before have no owner, so only the unfiltered views see them.
  'ALTER TABLE ingest_reject ADD COLUMN IF NOT EXISTS owner text',
  'ALTER TABLE ingest_reject ADD COLUMN IF NOT EXISTS part2 boolean NOT NULL DEFAULT false',
  'ALTER TABLE ingest_reject ADD COLUMN IF NOT EXISTS patient_id text',
  'ALTER TABLE ingest_reject ADD COLUMN IF NOT EXISTS client_id text',
  'CREATE INDEX IF NOT EXISTS ingest_reject_by_owner ON ingest_reject (owner, source, status, received_at DESC, id DESC)',
];

const NOW = "date_trunc('milliseconds', now())";

const COLUMNS =
  'id, source, feed, record, input, location, kind, record_id, errors, raw, header, status, received_at, attempts, last_tried_at, resolved_at, owner, part2, patient_id, client_id';

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
  owner: string | null;
  part2: boolean;
  patient_id: string | null;
  client_id: string | null;
}

const iso = (v: Date | string): string => new Date(v).toISOString();

function toStored(r: RejectRow, released = true): StoredReject {
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
    ...(r.owner !== null ? { owner: r.owner } : {}),
    part2: r.part2 === true,
    released,
  };
}

/**
 * PostgreSQL text cannot hold U+0000, and jsonb refuses lone surrogates: both become U+FFFD
 * (a binary file read as text is the only way to get them; the rest of the record is kept).
 */
const BAD_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const clean = (s: string): string => s.replace(BAD_CHARS, '\uFFFD');
const cleanJson = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? clean(v) : v));

/**
 * The identity of a rejected source record: the same record sent again has the same fingerprint,
 * whatever input or channel it came in (see the header). `owner`: the reject's owner, else
 * `client:<id>` of the client that posted it, else null.
 */
export function rejectFingerprint(r: RejectRecord, owner: string | null = null): string {
  const raw = r.raw.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  return createHash('sha256')
    .update(JSON.stringify([r.source, r.feed ?? null, r.kind ?? null, r.id ?? null, raw, owner]))
    .digest('hex');
}

/** The SQL condition of the rejects a client sees: its organizations' and those it posted (undefined: all). */
function visibleTo(access: RepositoryAccess | undefined, add: (value: unknown) => string): string | undefined {
  if (!access || access.allOrganizations) return undefined;
  return `(owner = ANY(${add([...access.organizations])}::text[]) OR client_id = ${add(access.clientId)})`;
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
  throw badRequest(`Invalid cursor '${cursor}': use the next link of the previous page`, 'cursor');
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
   * one attempt each. Each is placed (owner, Part 2, patient, posting client: `placeRejects`) from
   * its record and `owners`. Returns the stored reject of each input, in input order.
   */
  async add(rejects: RejectRecord[], owners: RejectOwners = {}, tx: SqlDriver = this.driver): Promise<StoredReject[]> {
    if (rejects.length === 0) {
      return [];
    }
    const places = await placeRejects(tx, rejects, owners);
    const prints = rejects.map((r, i) => rejectFingerprint(r, places[i].owner ?? (places[i].clientId !== null ? `client:${places[i].clientId}` : null)));
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
        owner: places[i].owner,
        part2: places[i].part2,
        patient_id: places[i].patientId,
        client_id: places[i].clientId,
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
          `INSERT INTO ingest_reject (id, source, feed, record, input, location, kind, record_id, errors, raw, header, fingerprint, status, received_at, attempts,
                                      owner, part2, patient_id, client_id)
           SELECT id, source, feed, record, input, location, kind, record_id, errors, raw, header, fingerprint, 'open', ${NOW}, n, owner, part2, patient_id, client_id
             FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, source text, feed text, record integer, input text, location text, kind text,
                                                     record_id text, errors jsonb, raw text, header text, fingerprint text, n integer,
                                                     owner text, part2 boolean, patient_id text, client_id text)
           ON CONFLICT (fingerprint) WHERE status = 'open' DO UPDATE SET
             record = EXCLUDED.record, location = EXCLUDED.location, errors = EXCLUDED.errors, header = EXCLUDED.header,
             part2 = ingest_reject.part2 OR EXCLUDED.part2, patient_id = COALESCE(ingest_reject.patient_id, EXCLUDED.patient_id),
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
   * 400 (FhirError) for a bad count or cursor. With `access`, only the caller's rejects: in the
   * items, the total and the paging alike.
   */
  async list(q: RejectQuery = {}): Promise<RejectPage> {
    const count = q.count ?? DEFAULT_REJECT_COUNT;
    if (!Number.isInteger(count) || count < 0 || count > MAX_REJECT_COUNT) {
      throw badRequest(`count must be a whole number from 0 to ${MAX_REJECT_COUNT} (got ${count})`, '_count');
    }
    const status = q.status ?? 'open';
    if (status !== 'open' && status !== 'resolved' && status !== 'all') {
      throw badRequest(`status must be open, resolved or all (got '${String(status)}')`, 'status');
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
    if (q.kind !== undefined) add((p) => `kind = ${p}`, q.kind);
    if (q.since !== undefined) add((p) => `received_at >= ${p}::timestamptz`, q.since);
    if (q.until !== undefined) add((p) => `received_at < ${p}::timestamptz`, q.until);
    if (q.reason !== undefined) {
      const like = `%${q.reason.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      add((p) => `EXISTS (SELECT 1 FROM jsonb_array_elements(errors) AS e WHERE e->>'reason' ILIKE ${p})`, like);
      if (q.access && !q.access.allOrganizations) add((p) => `(NOT part2 OR client_id = ${p})`, q.access.clientId);
    }
    const visible = visibleTo(q.access, (value) => {
      params.push(value);
      return `$${params.length}`;
    });
    if (visible !== undefined) where.push(visible);
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
    const items = await this.released(res.rows.slice(0, count), q.access);
    return { items, total, ...(res.rows.length > count ? { next: encodeCursor(items[items.length - 1]) } : {}) };
  }

  /**
   * Ids of the open rejects of `source` that wait for a record (a reason among `reasons`, such as
   * `awaiting episode E-7014`: src/pipeline/stored-context.ts), oldest first, at most `limit`;
   * with `access`, only those the caller sees. Scans the source's open rejects (the by-status index).
   */
  async awaiting(source: string, reasons: readonly string[], access?: RepositoryAccess, limit = MAX_REJECT_COUNT): Promise<string[]> {
    if (reasons.length === 0) return [];
    const params: unknown[] = [source, [...reasons], limit];
    const visible = visibleTo(access, (value) => {
      params.push(value);
      return `$${params.length}`;
    });
    const res = await this.driver.query<{ id: string }>(
      `SELECT id FROM ingest_reject WHERE source = $1 AND status = 'open'
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(errors) AS e WHERE e->>'reason' = ANY($2::text[]))${visible ? ` AND ${visible}` : ''}
        ORDER BY received_at, id LIMIT $3`,
      params,
    );
    return res.rows.map((r) => String(r.id));
  }

  /**
   * The rejects with these ids, in the order given; unknown ids (and non-UUIDs) are left out, and
   * with `access` so are the ids the caller may not see: it cannot tell them from unknown ones.
   */
  async get(ids: string[], access?: RepositoryAccess): Promise<StoredReject[]> {
    const valid = [...new Set(ids.filter(isRejectId).map((id) => id.toLowerCase()))];
    if (valid.length === 0) {
      return [];
    }
    const params: unknown[] = [valid];
    const visible = visibleTo(access, (value) => {
      params.push(value);
      return `$${params.length}`;
    });
    const res = await this.driver.query<RejectRow>(
      `SELECT ${COLUMNS} FROM ingest_reject WHERE id = ANY($1::uuid[])${visible ? ` AND ${visible}` : ''}`,
      params,
    );
    const byId = new Map((await this.released(res.rows, access)).map((r) => [r.id.toLowerCase(), r]));
    return valid.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Rows as the caller may have them: `released` false for a Part 2 reject it did not post whose
   * patient has no consent grant, given by the reject's owner, to one of its organizations in force
   * now (the records' rule, src/store/access-sql.ts `releaseRows`); every row is released to the server's view.
   */
  private async released(rows: RejectRow[], access: RepositoryAccess | undefined): Promise<StoredReject[]> {
    const gated = (r: RejectRow): boolean => access !== undefined && r.part2 === true && r.client_id !== access.clientId;
    const asRecord = (r: RejectRow) => ({ row: r, owner: r.owner, part2: true, patient_ids: r.patient_id !== null ? [r.patient_id] : [] });
    const { rows: open } = await releaseRows(this.driver, access, rows.filter(gated).map(asRecord));
    const releasedRows = new Set(open.map((o) => o.row));
    return rows.map((r) => toStored(r, !gated(r) || releasedRows.has(r)));
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
