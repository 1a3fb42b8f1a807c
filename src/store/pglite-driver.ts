/**
 * The embedded driver: PGlite (PostgreSQL compiled to WASM, https://pglite.dev), file-backed in
 * `DATA_DIR` for the server or in memory for tests. One PGlite instance is one PostgreSQL session,
 * so PGlite itself queues queries and transactions; the SQL is the same as for the `pg` driver.
 */
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { cursorName, fetchBatches, JoinedTransactionDriver } from './cursor';
import { lockDataDir, type DirLock } from './dir-lock';
import type { QueryResult, SqlDriver } from './repository';

/**
 * Opens PGlite in `dataDir` (created when missing), or in memory when `dataDir` is undefined.
 * A data directory is locked for this process until `close()` (dir-lock.ts): throws
 * StoreLockedError, naming the holder, when another process (or opener) has it.
 */
export async function openPgliteDriver(dataDir?: string): Promise<SqlDriver> {
  if (!dataDir) {
    return new PgliteDriver(await PGlite.create());
  }
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir);
  try {
    return new PgliteDriver(await PGlite.create(dataDir), lock);
  } catch (err) {
    lock.release();
    throw err;
  }
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
