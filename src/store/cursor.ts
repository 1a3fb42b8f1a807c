/**
 * The FETCH loop both drivers use for a declared cursor
 * (https://www.postgresql.org/docs/current/sql-fetch.html); `CLOSE` is left to the caller.
 */
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
