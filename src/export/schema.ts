/**
 * The export module's own tables, created when it opens (idempotent DDL under an advisory lock,
 * so several processes may start at once on one PostgreSQL). Jobs live here, not in a process:
 * any process can answer a status request or serve a file, and a job whose process died is
 * taken over by another once its lease runs out.
 *
 * - `bulk_export_job`: one row per kick-off; `params` holds what to export, `transaction_time`
 *   the snapshot instant, `lease_owner`/`lease_until` the worker's claim, `issues` the
 *   OperationOutcomes for the manifest's `error` array, `error` the outcome of a failed job.
 * - `bulk_export_file`: the manifest's files, each a key range (`after_id`, `upto_id`] of one
 *   type in the snapshot. The NDJSON itself is read from the store when downloaded.
 */
import type { SqlDriver } from '../store/repository';

/** Arbitrary, fixed key for `pg_advisory_xact_lock`: "PBEXPORT" read as ASCII. */
const DDL_LOCK = 0x50424558504f5254n;

const DDL = [
  `CREATE TABLE IF NOT EXISTS bulk_export_job (
    id text PRIMARY KEY,
    status text NOT NULL,
    request text NOT NULL,
    params jsonb NOT NULL,
    transaction_time timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    progress text,
    issues jsonb NOT NULL DEFAULT '[]',
    error jsonb)`,
  'CREATE INDEX IF NOT EXISTS bulk_export_job_pending ON bulk_export_job (status, lease_until)',
  'CREATE INDEX IF NOT EXISTS bulk_export_job_expires ON bulk_export_job (expires_at)',
  `CREATE TABLE IF NOT EXISTS bulk_export_file (
    job_id text NOT NULL REFERENCES bulk_export_job (id) ON DELETE CASCADE,
    resource_type text NOT NULL,
    part integer NOT NULL,
    after_id text,
    upto_id text,
    count integer NOT NULL,
    PRIMARY KEY (job_id, resource_type, part))`,
];

/** Creates the export tables when missing; safe to run from several processes at once. */
export async function migrateExport(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK.toString()]);
    for (const sql of DDL) {
      await tx.query(sql);
    }
  });
}
