/**
 * The export worker: claims jobs from the database and plans their files. Planning counts the
 * snapshot per type and splits large types into key ranges; the NDJSON itself is produced when
 * a file is downloaded (src/export/snapshot.ts), so a job is small work and holds no data.
 *
 * A claim is a lease (`EXPORT_LEASE_SECONDS`), renewed after every step. A process that dies
 * mid-job leaves the lease to run out; any process's next sweep claims the job again and plans it
 * from the start (the snapshot instant is fixed, so the result is the same). A job claimed more
 * than `MAX_ATTEMPTS` times is marked failed with an OperationOutcome instead of looping forever.
 * Cancelling (DELETE) removes the row, so the next heartbeat stops the worker.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { SqlDriver } from '../store/repository';
import type { ExportConfig } from './config';
import { LeaseLost, type Job, type JobFile, type JobStore } from './jobs';
import { WITHHELD_TEXT } from '../store/access-sql';
import { countByType, splitType, type SnapshotFilter } from './snapshot';

/** Claims of one job before it is given up. */
export const MAX_ATTEMPTS = 3;

export type Log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

const failure = (text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'exception', details: { text } }],
});

/**
 * A job's types cut to what its client may read: the kick-off already asked only for those, and
 * this keeps the planning and every download to them whatever the stored job says.
 */
function readableOnly(types: string[] | undefined, readable: readonly string[] | undefined): string[] | undefined {
  if (!readable) {
    return types;
  }
  return (types ?? [...readable]).filter((t) => readable.includes(t));
}

/** The snapshot a job reads. */
export function snapshotOf(job: Job): SnapshotFilter {
  const p = job.params;
  return {
    transactionTime: job.transactionTime,
    types: readableOnly(p.types, p.access?.readTypes),
    since: p.since ? new Date(p.since) : undefined,
    patientIds: p.patientIds,
    compartment: p.level !== 'system',
    ...(p.access ? { access: p.access } : {}),
  };
}

/** The error-file notice of every client's job: 42 CFR Part 2 records are released only with consent (it says nothing of what was left out). */
export const WITHHELD_OUTCOME: OperationOutcome = {
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'information', code: 'suppressed', details: { text: WITHHELD_TEXT } }],
};

export class ExportWorker {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly jobs: JobStore,
    private readonly driver: SqlDriver,
    private readonly config: Pick<ExportConfig, 'EXPORT_FILE_MAX_RESOURCES'>,
    private readonly log?: Log,
  ) {}

  /** Works through every claimable job; concurrent calls share one loop. */
  runPending(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        for (let job = await this.jobs.claim(); job; job = await this.jobs.claim()) {
          await this.process(job);
        }
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when the current loop (if any) is done. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async process(job: Job): Promise<void> {
    if (job.attempts > MAX_ATTEMPTS) {
      this.log?.('warn', 'bulk export job given up', { job: job.id, attempts: job.attempts });
      await this.jobs.fail(job.id, failure(`The export was interrupted ${job.attempts - 1} times and has been given up; please start a new export`));
      return;
    }
    try {
      const files = await this.plan(job);
      // A client's export always carries the Part 2 notice, whether or not anything was left out (issue 11 item 7).
      await this.jobs.complete(job.id, files, job.params.access ? [WITHHELD_OUTCOME] : []);
    } catch (err) {
      if (err instanceof LeaseLost) {
        return;
      }
      this.log?.('error', 'bulk export job failed', { job: job.id, attempt: job.attempts, error: err instanceof Error ? err.stack : String(err) });
      if (job.attempts >= MAX_ATTEMPTS) {
        await this.jobs.fail(job.id, failure(`The export failed (job ${job.id}); the server log has the details`));
      } else {
        await this.jobs.release(job.id);
      }
    }
  }

  /** Counts the snapshot per type and splits it into files, renewing the lease between steps. */
  private async plan(job: Job): Promise<JobFile[]> {
    const snapshot = snapshotOf(job);
    await this.jobs.heartbeat(job.id, 'counting resources');
    const counts = await countByType(this.driver, snapshot);
    const files: JobFile[] = [];
    let done = 0;
    for (const [type, count] of counts) {
      await this.jobs.heartbeat(job.id, `planning files: ${done} of ${counts.size} resource types done`);
      const ranges = await splitType(this.driver, snapshot, type, count, this.config.EXPORT_FILE_MAX_RESOURCES);
      ranges.forEach((r, i) => files.push({ ...r, part: i + 1 }));
      done++;
    }
    return files;
  }
}
