/**
 * Status requests, cancellation and output files, without Express
 * (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-status-request):
 * - in progress: 202 with `X-Progress` and `Retry-After`;
 * - failed: the job's OperationOutcome with a 500;
 * - complete: 200 with the manifest (`transactionTime`, `request`, `requiresAccessToken`,
 *   `output` and `error` file lists) and `Expires`;
 * - DELETE: 202, the job and its files gone; unknown or expired jobs: 404.
 * Files (https://hl7.org/fhir/uv/bulkdata/export.html#file-request) are streamed NDJSON, one
 * resource a line, read from the snapshot a batch at a time.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, notFound, serverError } from '../outcomes';
import type { RepositoryAccess, SqlDriver } from '../store/repository';
import type { Job, JobStore } from './jobs';
import { readRange } from './snapshot';
import { snapshotOf } from './worker';

/** Paths below the FHIR base, served by the export router. */
export const STATUS_PATH = 'bulkstatus';
export const FILES_PATH = 'bulkfiles';
export const NDJSON = 'application/fhir+ndjson';
/** Seconds a client is asked to wait between polls. */
const RETRY_AFTER = '2';
const FILE_RE = /^([A-Za-z]+)-(\d+)\.ndjson$/;

/** One entry of the manifest's `output` or `error` array. */
export interface ManifestFile {
  type: string;
  url: string;
  count: number;
}

/** The complete-status body (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status). */
export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: ManifestFile[];
  error: ManifestFile[];
}

export interface StatusAnswer {
  status: number;
  headers: Record<string, string>;
  manifest?: Manifest;
}

export interface FileAnswer {
  headers: Record<string, string>;
  /** Batches of NDJSON lines (without newlines). */
  lines: AsyncIterable<string[]>;
}

export const statusUrl = (base: string, id: string): string => `${base}/${STATUS_PATH}/${id}`;
const fileUrl = (base: string, id: string, type: string, part: number): string => `${base}/${FILES_PATH}/${id}/${type}-${part}.ndjson`;

function unknownJob(id: string): FhirError {
  return notFound(`No export job '${id}' (it may have been cancelled or have expired)`);
}

/**
 * The job, when `caller` may see it: a client sees only the jobs it started (another client's
 * job answers 404 like an unknown one); the server's own callers (no access) see every job.
 */
async function existing(jobs: JobStore, id: string, caller?: RepositoryAccess): Promise<Job> {
  const job = await jobs.get(id);
  if (!job || (caller && job.params.access?.clientId !== caller.clientId)) {
    throw unknownJob(id);
  }
  return job;
}

/** The answer to a status request; `base` is the FHIR base URL the file URLs hang off. */
export async function exportStatus(jobs: JobStore, id: string, base: string, caller?: RepositoryAccess): Promise<StatusAnswer> {
  const job = await existing(jobs, id, caller);
  if (job.status === 'failed') {
    throw serverError(job.error);
  }
  if (job.status !== 'completed') {
    return { status: 202, headers: { 'x-progress': job.progress ?? job.status, 'retry-after': RETRY_AFTER } };
  }
  const files = await jobs.files(id);
  const manifest: Manifest = {
    transactionTime: job.transactionTime.toISOString(),
    request: job.request,
    // Files need the token of the client that started the job when auth is on (src/auth/permissions.ts).
    requiresAccessToken: caller !== undefined,
    output: files.map((f) => ({ type: f.type, url: fileUrl(base, id, f.type, f.part), count: f.count })),
    error: job.issues.length > 0 ? [{ type: 'OperationOutcome', url: fileUrl(base, id, 'OperationOutcome', 1), count: job.issues.length }] : [],
  };
  return { status: 200, headers: { expires: job.expiresAt.toUTCString() }, manifest };
}

/** DELETE on the status URL: the job and its files are removed (202), or 404. */
export async function cancelExport(jobs: JobStore, id: string, caller?: RepositoryAccess): Promise<StatusAnswer> {
  if (caller) {
    await existing(jobs, id, caller);
  }
  if (!(await jobs.delete(id))) {
    throw unknownJob(id);
  }
  return { status: 202, headers: {} };
}

/** One output file of a completed job, as batches of lines; 404 for anything else. */
export async function exportFile(jobs: JobStore, driver: SqlDriver, id: string, name: string, caller?: RepositoryAccess): Promise<FileAnswer> {
  const job = await existing(jobs, id, caller);
  const m = FILE_RE.exec(name);
  const missing = (): FhirError => notFound(`Export job '${id}' has no file '${name}'`);
  if (!m || job.status !== 'completed') {
    throw missing();
  }
  const [, type, partText] = m;
  const part = Number(partText);
  const headers = { 'content-type': NDJSON, expires: job.expiresAt.toUTCString() };
  if (type === 'OperationOutcome' && part === 1 && job.issues.length > 0) {
    return { headers, lines: issueLines(job.issues) };
  }
  const file = (await jobs.files(id)).find((f) => f.type === type && f.part === part);
  if (!file) {
    throw missing();
  }
  return { headers, lines: readRange(driver, snapshotOf(job), file) };
}

async function* issueLines(issues: OperationOutcome[]): AsyncIterable<string[]> {
  yield issues.map((o) => JSON.stringify(o));
}
