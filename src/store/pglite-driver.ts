/**
 * The embedded driver: PGlite (PostgreSQL compiled to WASM, https://pglite.dev), file-backed in
 * `DATA_DIR` for the server or in memory for tests. One PGlite instance is one PostgreSQL session,
 * so PGlite itself queues queries and transactions; the SQL is the same as for the `pg` driver.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { cursorName, fetchBatches, JoinedTransactionDriver } from './cursor';
import { lockDataDir, type DirLock } from './dir-lock';
import { seedFromTemplate } from './pglite-template';
import type { QueryResult, SqlDriver } from './repository';

/** PostgreSQL's buffer pool in PGlite unless PGLITE_SHARED_BUFFERS says otherwise. */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '128MB';

export interface PgliteOptions {
  /**
   * PostgreSQL's `shared_buffers` (e.g. `16MB`, `256MB`). initdb writes 128MB, sized for a server;
   * in PGlite the buffer pool lives in the WebAssembly heap, which never shrinks and whose pages
   * PostgreSQL touches at start, so it is resident from the first second (about 100 MB more of the
   * idle server's RSS than 16MB). A page not in the pool is one synchronous `read()` from the
   * operating system's page cache: cheap per page, but on a store that outgrows a small pool it
   * dominated the server (53% of its CPU in `read` on the 10-minute soak with 16MB), so the default
   * stays PostgreSQL's 128MB; see README, Benchmarks (`npm run bench:idle`, `npm run bench:soak`).
   */
  sharedBuffers?: string;
}

/**
 * Opens PGlite in `dataDir` (created when missing), or in memory when `dataDir` is undefined.
 * A data directory is locked for this process until `close()` (dir-lock.ts): throws
 * StoreLockedError, naming the holder, when another process (or opener) has it. A directory
 * without a cluster is first filled from the initdb template (pglite-template.ts).
 */
export async function openPgliteDriver(dataDir?: string, options: PgliteOptions = {}): Promise<SqlDriver> {
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${options.sharedBuffers ?? DEFAULT_PGLITE_SHARED_BUFFERS}`];
  if (!dataDir) {
    return new PgliteDriver(await PGlite.create({ startParams }));
  }
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir);
  try {
    await seedFromTemplate(dataDir);
    return new PgliteDriver(await PGlite.create(dataDir, { startParams }), lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** A driver over a PGlite the caller opened and closes (the template's worker: src/store/pglite-template.ts). */
export function pgliteSqlDriver(db: PGlite): SqlDriver {
  return new PgliteDriver(db);
}

type Queryable = Pick<Transaction, 'query'>;

async function run<R>(q: Queryable, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  const res = await q.query<R>(sql, params);
  return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
}

class PgliteDriver implements SqlDriver {
  readonly name = 'pglite' as const;
  constructor(
    private readonly db: PGlite,
    private readonly lock?: DirLock,
  ) {}

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    return run<R>(this.db, sql, params);
  }

  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new JoinedTransactionDriver('pglite', (sql, params) => run(tx, sql, params))));
  }

  /**
   * A `WITH HOLD` cursor outlives the transaction that declares it, so other queries on this
   * single session can run between two FETCHes (a plain cursor would keep PGlite's one
   * transaction, and with it every other request, waiting until the consumer is done).
   */
  async *cursor<R = Record<string, unknown>>(sql: string, params: unknown[], batchSize: number): AsyncIterable<R[]> {
    const name = cursorName();
    await this.db.transaction((tx) => tx.query(`DECLARE ${name} NO SCROLL CURSOR WITH HOLD FOR ${sql}`, params));
    try {
      yield* fetchBatches(async (fetch) => (await this.db.query<R>(fetch)).rows, name, batchSize);
    } finally {
      await this.db.query(`CLOSE ${name}`).catch(() => undefined);
    }
  }

  /** Closes PGlite (flushing its files), then releases the data directory. */
  async close(): Promise<void> {
    try {
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
