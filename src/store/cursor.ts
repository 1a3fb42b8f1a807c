/**
 * What both drivers share: the FETCH loop for a declared cursor
 * (https://www.postgresql.org/docs/current/sql-fetch.html), and the driver handed to
 * `transaction()` callbacks, which only needs a way to run SQL inside that transaction.
 */
import type { QueryResult, SqlDriver } from './repository';

let cursorSeq = 0;

/** A cursor name unique in this process (cursors are per session, so that is enough). */
export function cursorName(): string {
  return `pb_cursor_${++cursorSeq}`;
}

/** Yields the rows of cursor `name`, `batchSize` at a time, until it is exhausted. */
export async function* fetchBatches<R>(fetch: (sql: string) => Promise<R[]>, name: string, batchSize: number): AsyncIterable<R[]> {
  const sql = `FETCH ${Math.max(1, Math.floor(batchSize))} FROM ${name}`;
  for (;;) {
    const rows = await fetch(sql);
    if (rows.length === 0) {
      return;
    }
    yield rows;
  }
}

/** Runs one statement on a connection that is already inside a transaction. */
export type Exec = <R>(sql: string, params?: unknown[]) => Promise<QueryResult<R>>;

/** The driver given to `transaction()` callbacks: every query runs in that transaction; nested calls join it. */
export class JoinedTransactionDriver implements SqlDriver {
  constructor(
    readonly name: SqlDriver['name'],
    private readonly exec: Exec,
  ) {}

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    return this.exec<R>(sql, params);
  }

  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async *cursor<R = Record<string, unknown>>(sql: string, params: unknown[], batchSize: number): AsyncIterable<R[]> {
    const name = cursorName();
    await this.exec(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
    try {
      yield* fetchBatches(async (fetch) => (await this.exec<R>(fetch)).rows, name, batchSize);
    } finally {
      await this.exec(`CLOSE ${name}`).catch(() => undefined);
    }
  }

  /** The transaction's owner closes the connection. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
