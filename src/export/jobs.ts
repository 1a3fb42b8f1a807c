/**
 * Bulk Data export jobs in the database (src/export/schema.ts): create, read, claim with a lease,
 * complete, fail, cancel, expire. Every time comparison uses the database clock (`now()`), so
 * processes on several machines agree on leases and expiry.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { RepositoryAccess, SqlDriver } from '../store/repository';
import type { KeyRange } from './snapshot';

/** `accepted`: waiting for a worker; `in-progress`: claimed; `completed` and `failed` are final. */
export type JobStatus = 'accepted' | 'in-progress' | 'completed' | 'failed';

/** Export level (https://hl7.org/fhir/uv/bulkdata/export.html#endpoint---system-level-export). */
export type ExportLevel = 'system' | 'patient' | 'group';

/** What to export, as stored in `params` (JSON). */
export interface JobParams {
  level: ExportLevel;
  /** `_type`; absent for every type the level allows. */
  types?: string[];
  /** `_since`, an ISO instant. */
  since?: string;
  /** The patients (Group members, or the `patient` parameter). */
  patientIds?: string[];
  groupId?: string;
  /**
   * The access of the client that started the job (absent: the server's own, unfiltered): the
   * worker plans and the file download reads only what that client may see, and only that client
   * may poll, cancel or download it.
   */
  access?: RepositoryAccess;
}

export interface Job {
  id: string;
  status: JobStatus;
  /** The kick-off request URL (the manifest's `request`). */
  request: string;
  params: JobParams;
  transactionTime: Date;
  expiresAt: Date;
  attempts: number;
  progress?: string;
  /** OperationOutcomes for the manifest's `error` array (parameters ignored under lenient handling). */
  issues: OperationOutcome[];
  /** Why the job failed. */
  error?: OperationOutcome;
}

/** One output file: a key range of one type with its resource count. */
export interface JobFile extends KeyRange {
  part: number;
  count: number;
}

/** The lease was lost (the job was cancelled, expired, or taken over): stop working on it. */
export class LeaseLost extends Error {
  constructor(id: string) {
    super(`Export job ${id} is no longer held by this worker`);
  }
}

interface JobRow {
  id: string;
  status: JobStatus;
  request: string;
  params: JobParams | string;
  transaction_time: Date | string;
  expires_at: Date | string;
  attempts: number;
  progress: string | null;
  issues: OperationOutcome[] | string;
  error: OperationOutcome | string | null;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

function toJob(r: JobRow): Job {
  return {
    id: r.id,
    status: r.status,
    request: r.request,
    params: json(r.params),
    transactionTime: new Date(r.transaction_time),
    expiresAt: new Date(r.expires_at),
    attempts: Number(r.attempts),
    progress: r.progress ?? undefined,
    issues: json(r.issues),
    error: r.error === null ? undefined : json(r.error),
  };
}

const COLUMNS = 'id, status, request, params, transaction_time, expires_at, attempts, progress, issues, error';

/** The job table, for one worker identity (`owner`). */
export class JobStore {
  constructor(
    private readonly driver: SqlDriver,
    readonly owner: string,
    private readonly leaseSeconds: number,
  ) {}

  async create(job: { id: string; request: string; params: JobParams; transactionTime: Date; ttlHours: number; issues: OperationOutcome[] }): Promise<void> {
    await this.driver.query(
      `INSERT INTO bulk_export_job (id, status, request, params, transaction_time, expires_at, issues, progress)
       VALUES ($1, 'accepted', $2, $3::jsonb, $4::timestamptz, now() + make_interval(secs => $5::float8), $6::jsonb, 'queued')`,
      [job.id, job.request, JSON.stringify(job.params), job.transactionTime.toISOString(), job.ttlHours * 3600, JSON.stringify(job.issues)],
    );
  }

  async get(id: string): Promise<Job | undefined> {
    const res = await this.driver.query<JobRow>(`SELECT ${COLUMNS} FROM bulk_export_job WHERE id = $1 AND expires_at > now()`, [id]);
    return res.rows[0] ? toJob(res.rows[0]) : undefined;
  }

  async files(id: string): Promise<JobFile[]> {
    const res = await this.driver.query<{ resource_type: string; part: number; after_id: string | null; upto_id: string | null; count: number }>(
      'SELECT resource_type, part, after_id, upto_id, count FROM bulk_export_file WHERE job_id = $1 ORDER BY resource_type, part',
      [id],
    );
    return res.rows.map((r) => ({
      type: r.resource_type,
      part: Number(r.part),
      after: r.after_id ?? undefined,
      upto: r.upto_id ?? undefined,
      count: Number(r.count),
    }));
  }

  /** Removes a job and its files (cancel); false when there was none. */
  async delete(id: string): Promise<boolean> {
    const res = await this.driver.query('DELETE FROM bulk_export_job WHERE id = $1 RETURNING id', [id]);
    return res.rows.length > 0;
  }

  /** Jobs not yet expired by status (for the metrics, src/ops/metrics.ts). */
  async countByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    const res = await this.driver.query<{ status: JobStatus; n: number }>(
      'SELECT status, count(*)::int AS n FROM bulk_export_job WHERE expires_at > now() GROUP BY status',
    );
    return Object.fromEntries(res.rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Removes every expired job and its files; returns how many. */
  async deleteExpired(): Promise<number> {
    const res = await this.driver.query('DELETE FROM bulk_export_job WHERE expires_at <= now() RETURNING id');
    return res.rows.length;
  }

  /**
   * Claims the oldest job nobody holds: new ones, and in-progress ones whose lease ran out (their
   * process died). `SKIP LOCKED` lets several processes claim at once without waiting.
   */
  async claim(): Promise<Job | undefined> {
    const res = await this.driver.query<JobRow>(
      `UPDATE bulk_export_job SET status = 'in-progress', lease_owner = $1, lease_until = now() + make_interval(secs => $2::float8), attempts = attempts + 1
        WHERE id = (SELECT id FROM bulk_export_job
                     WHERE status IN ('accepted', 'in-progress') AND (lease_until IS NULL OR lease_until < now()) AND expires_at > now()
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
      [this.owner, this.leaseSeconds],
    );
    return res.rows[0] ? toJob(res.rows[0]) : undefined;
  }

  /** Renews the lease and records progress; throws LeaseLost when the job is no longer ours. */
  async heartbeat(id: string, progress: string, driver: SqlDriver = this.driver): Promise<void> {
    const res = await driver.query(
      `UPDATE bulk_export_job SET lease_until = now() + make_interval(secs => $3::float8), progress = $4
        WHERE id = $1 AND lease_owner = $2 AND status = 'in-progress' RETURNING id`,
      [id, this.owner, this.leaseSeconds, progress],
    );
    if (res.rows.length === 0) {
      throw new LeaseLost(id);
    }
  }

  /**
   * Stores the files and marks the job completed, atomically and only while the lease is ours;
   * `issues` are added to the manifest's error file (records withheld under 42 CFR Part 2).
   */
  async complete(id: string, files: JobFile[], issues: OperationOutcome[] = []): Promise<void> {
    await this.driver.transaction(async (tx) => {
      await this.heartbeat(id, 'complete', tx);
      if (issues.length > 0) {
        await tx.query(`UPDATE bulk_export_job SET issues = issues || $2::jsonb WHERE id = $1`, [id, JSON.stringify(issues)]);
      }
      await tx.query('DELETE FROM bulk_export_file WHERE job_id = $1', [id]);
      if (files.length > 0) {
        await tx.query(
          `INSERT INTO bulk_export_file (job_id, resource_type, part, after_id, upto_id, count)
           SELECT $1, t, p, a, u, c FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::int[]) AS f(t, p, a, u, c)`,
          [
            id,
            files.map((f) => f.type),
            files.map((f) => f.part),
            files.map((f) => f.after ?? null),
            files.map((f) => f.upto ?? null),
            files.map((f) => f.count),
          ],
        );
      }
      await tx.query(`UPDATE bulk_export_job SET status = 'completed', lease_owner = NULL, lease_until = NULL WHERE id = $1`, [id]);
    });
  }

  /** Marks the job failed with the outcome the status request will answer. */
  async fail(id: string, outcome: OperationOutcome): Promise<void> {
    await this.driver.query(
      `UPDATE bulk_export_job SET status = 'failed', error = $2::jsonb, progress = 'failed', lease_owner = NULL, lease_until = NULL WHERE id = $1`,
      [id, JSON.stringify(outcome)],
    );
  }

  /** Gives the job back (after an error worth retrying): any worker may claim it at once. */
  async release(id: string): Promise<void> {
    await this.driver.query(`UPDATE bulk_export_job SET lease_until = now() WHERE id = $1 AND lease_owner = $2`, [id, this.owner]);
  }
}
