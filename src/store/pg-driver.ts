/**
 * The server driver: `pg` (node-postgres) with a connection pool, for a PostgreSQL server named by
 * `DATABASE_URL`. Same SQL as the PGlite driver.
 */
import { Pool, type PoolClient } from 'pg';
import { cursorName, fetchBatches, JoinedTransactionDriver } from './cursor';
import type { QueryResult, SqlDriver } from './repository';

/** Opens a pool on `url` and checks that the server answers. */
export async function openPgDriver(url: string, options: { max?: number } = {}): Promise<SqlDriver> {
  const pool = new Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client that loses its server emits 'error' on the pool; without a listener that crashes the process.
  pool.on('error', () => undefined);
  await pool.query('SELECT 1');
  return new PgPoolDriver(pool);
}

type Client = Pick<PoolClient, 'query'>;

async function run<R>(client: Client, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  const res = await client.query(sql, params as unknown[]);
  return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
}

class PgPoolDriver implements SqlDriver {
  readonly name = 'pg' as const;
  constructor(private readonly pool: Pool) {}

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    return run<R>(this.pool, sql, params);
  }

  async transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new JoinedTransactionDriver('pg', (sql, params) => run(client, sql, params)));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** A server-side cursor in its own transaction on one pooled connection, released at the end. */
  async *cursor<R = Record<string, unknown>>(sql: string, params: unknown[], batchSize: number): AsyncIterable<R[]> {
    const client = await this.pool.connect();
    const name = cursorName();
    let ok = false;
    try {
      await client.query('BEGIN');
      await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
      yield* fetchBatches(async (fetch) => (await run<R>(client, fetch)).rows, name, batchSize);
      ok = true;
    } finally {
      await client.query(ok ? 'COMMIT' : 'ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
