/**
 * Planner statistics and dead rows as the store grows (issue 15 item 4). A store freshly loaded
 * has no statistics: PostgreSQL's autovacuum analyzes only after a delay, and PGlite, embedded,
 * never autovacuums or autoanalyzes. With stale statistics the planner takes a side table for
 * one row and nests loops over it: `Observation?subject:missing=true` on 18k fresh Observations
 * ran 3.5 s, 7 ms after `ANALYZE` (EXPLAIN ANALYZE on PostgreSQL 15, this machine).
 *
 * This driver decorator counts the resource rows written (inserts into and updates of
 * fhir_resource, as the drivers report them) and, once they reach 10% of the rows the store holds (at least 1,000),
 * analyzes the resource and search tables in the background, after the write that crossed the
 * line; on PGlite it runs `VACUUM ANALYZE`, as nothing else removes the dead rows updates leave.
 * One maintenance at a time; a failure is logged (by name) and the next crossing tries again.
 * PGlite has one connection: its VACUUM holds other statements back while it runs (about 1-2 s
 * per 100k rows); `STORE_MAINTENANCE=off` turns all of it off.
 */
import type { QueryResult, SqlDriver } from './repository';
import { SEARCH_VALUE_TABLES } from './schema';

const TABLES = ['fhir_resource', 'fhir_history', ...SEARCH_VALUE_TABLES];
/** Statements writing resource rows: inserts, and updates (which leave a dead row behind). */
const WRITES = /^\s*(?:INSERT\s+INTO|UPDATE|WITH\s+u\s+AS\s+\(UPDATE)\s+fhir_resource\b/i;

export interface MaintenanceOptions {
  /** Least rows written between two maintenances. */
  minRows?: number;
  /** Share of the store's rows written that triggers one. */
  fraction?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

export interface MaintainedDriver extends SqlDriver {
  /** Resolves when no maintenance is running (tests, shutdown). */
  maintenanceIdle(): Promise<void>;
  /** Maintenances run so far. */
  readonly maintenances: number;
}

/** Wraps `driver` so that bulk writes are followed by ANALYZE (and VACUUM on PGlite). */
export async function withMaintenance(driver: SqlDriver, options: MaintenanceOptions = {}): Promise<MaintainedDriver> {
  const minRows = options.minRows ?? 1000;
  const fraction = options.fraction ?? 0.1;
  const statement = driver.name === 'pglite' ? `VACUUM ANALYZE ${TABLES.join(', ')}` : `ANALYZE ${TABLES.join(', ')}`;
  let held = 0;
  try {
    const { rows } = await driver.query<{ n: number | string }>(`SELECT GREATEST(reltuples, 0)::bigint AS n FROM pg_class WHERE relname = 'fhir_resource'`);
    held = Number(rows[0]?.n ?? 0);
  } catch {
    held = 0;
  }
  let written = 0;
  let running: Promise<void> | undefined;
  let runs = 0;
  let closed = false;

  const counted = (sql: string, r: QueryResult<unknown>): void => {
    if (!WRITES.test(sql)) return;
    written += r.rowCount ?? 0;
    if (!running && !closed && written >= Math.max(minRows, fraction * held)) {
      const batch = written;
      written = 0;
      held += batch;
      // After the current statement (and its transaction) is done: a new task, on the driver itself.
      running = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => driver.query(statement))
        .then(
          () => {
            runs++;
          },
          (err: unknown) => {
            options.log?.('warn', 'store: background ANALYZE failed; tried again after more writes', { error: err instanceof Error ? err.name : 'unknown' });
          },
        )
        .finally(() => {
          running = undefined;
        });
    }
  };

  const wrap = (d: SqlDriver): SqlDriver => ({
    name: d.name,
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await d.query<R>(sql, params);
      counted(sql, r);
      return r;
    },
    transaction: <T>(fn: (tx: SqlDriver) => Promise<T>) => d.transaction((tx) => fn(wrap(tx))),
    cursor: <R>(sql: string, params: unknown[], batchSize: number) => d.cursor<R>(sql, params, batchSize),
    close: () => d.close(),
  });

  const outer = wrap(driver);
  return {
    ...outer,
    name: driver.name,
    get maintenances() {
      return runs;
    },
    maintenanceIdle: async () => {
      await running;
    },
    close: async () => {
      closed = true;
      await running;
      await driver.close();
    },
  };
}
