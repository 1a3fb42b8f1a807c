/**
 * Bulk Data Access 2.0 export (https://hl7.org/fhir/uv/bulkdata/export.html) at system, Patient
 * and Group level. `openBulkExport({ store })` creates the module's tables and returns:
 * - `routes`: the kick-off routes for the FHIR route table (`createApp({ routes })`), with
 *   their CapabilityStatement operations;
 * - `jobs` and `driver`, from which src/http/export-router.ts serves status polling, DELETE and
 *   file download at the FHIR base (`createApp({ bulkExport })`);
 * - `start()` / `close()`: the sweep timer (expired jobs removed, abandoned jobs resumed).
 *
 * Jobs and their file lists live in the database and each file is a key range of the store's
 * snapshot at the job's `transactionTime`, read when downloaded: nothing is kept in the process,
 * so any process on the same database answers for any job, and jobs outlive restarts.
 */
import { randomUUID } from 'node:crypto';
import type { Route } from '../fhir-api/types';
import type { Repository, SqlDriver } from '../store/repository';
import { loadExportConfig, type ExportConfig } from './config';
import { JobStore } from './jobs';
import { exportRoutes } from './routes';
import { migrateExport } from './schema';
import { ExportWorker, type Log } from './worker';

export { loadExportConfig, type ExportConfig } from './config';
export { EXPORT_DEFINITIONS } from './routes';
export { MAX_ATTEMPTS } from './worker';
export { NDJSON, type Manifest, type ManifestFile } from './status';
export type { Job, JobParams, JobStatus } from './jobs';

export interface BulkExportOptions {
  /** The store; its `driver` holds the job tables and is read for the snapshots. */
  store: Repository & { readonly driver: SqlDriver };
  /** Settings; missing ones come from `env` (default `process.env`) through `loadExportConfig`. */
  config?: Partial<ExportConfig>;
  env?: Record<string, string | undefined>;
  /** false: jobs are recorded but not worked on by this instance (tests; API-only processes). */
  worker?: boolean;
  log?: Log;
}

export interface BulkExport {
  routes: Route[];
  jobs: JobStore;
  /** The driver the job tables and snapshots are read through. */
  driver: SqlDriver;
  config: ExportConfig;
  /** Starts the sweep timer (and runs one sweep now). */
  start(): void;
  /** Removes expired jobs, then works through claimable ones. */
  sweep(): Promise<void>;
  /** Resolves when the worker has nothing in hand. */
  idle(): Promise<void>;
  /** Stops the timer and waits for the job in hand. Does not close the store. */
  close(): Promise<void>;
}

/** Creates the export tables (idempotent) and builds the module. */
export async function openBulkExport(options: BulkExportOptions): Promise<BulkExport> {
  const config: ExportConfig = { ...loadExportConfig(options.env ?? process.env), ...options.config };
  const driver = options.store.driver;
  await migrateExport(driver);
  const jobs = new JobStore(driver, randomUUID(), config.EXPORT_LEASE_SECONDS);
  const worker = options.worker === false ? undefined : new ExportWorker(jobs, driver, config, options.log);
  const logError = (err: unknown): void => {
    options.log?.('error', 'bulk export worker error', { error: err instanceof Error ? err.stack : String(err) });
  };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const sweep = async (): Promise<void> => {
    await jobs.deleteExpired();
    await worker?.runPending();
  };
  return {
    routes: exportRoutes({
      jobs,
      ttlHours: config.EXPORT_TTL_HOURS,
      onJob: () => {
        if (worker && !closed) {
          worker.runPending().catch(logError);
        }
      },
    }),
    jobs,
    driver,
    config,
    start() {
      if (timer || closed) {
        return;
      }
      sweep().catch(logError);
      timer = setInterval(() => {
        sweep().catch(logError);
      }, config.EXPORT_SWEEP_SECONDS * 1000);
      timer.unref();
    },
    sweep,
    idle: async () => {
      await worker?.idle();
    },
    async close() {
      closed = true;
      if (timer) {
        clearInterval(timer);
        timer = undefined;
      }
      await worker?.idle();
    },
  };
}
