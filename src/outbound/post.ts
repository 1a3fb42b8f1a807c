/**
 * Sends a folder of transaction Bundles (src/outbound/split.ts) to a FHIR server, one
 * `POST [base]` each with `Content-Type: application/fhir+json`
 * (https://hl7.org/fhir/R4/http.html#transaction), in the manifest's order: this server, HAPI, a
 * cloud FHIR service. Plain FHIR REST, nothing PeerBridge-specific.
 *
 * - Retries: a 408, 429, 502, 503 or 504 answer, a network error or a timeout is tried again
 *   after an exponential backoff (1 s, 2 s, 4 s ... at most 60 s, with jitter), or after the
 *   answer's `Retry-After` (seconds or an HTTP date, at most 15 minutes). Safe because every
 *   entry is a PUT to a fixed id: a Bundle that was stored although its answer was lost is the
 *   same Bundle again. A 401 with a renewable token (SMART Backend Services) gets a new token
 *   once. Any other answer is final: a 4xx (or 500) is recorded, not retried.
 * - The first Bundle not accepted stops the run: later Bundles may refer to its resources.
 * - Checkpoint: after each accepted Bundle, its SHA-256 is saved per server base; a rerun with
 *   the same checkpoint skips Bundles already accepted there (translation is deterministic, so
 *   the same input makes the same Bundles) and sends the rest.
 * - Report: per Bundle, the attempts (status or error, delay), the final status, the
 *   OperationOutcome's issues and the response Bundle's entry statuses (counted, and every entry
 *   that was not 2xx with its outcome).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Manifest } from './split';

/** Where the access token comes from; `renew` (when there is one) is asked after a 401. */
export interface TokenSource {
  get(): Promise<string | undefined>;
  renew?(): Promise<string | undefined>;
}

export interface PostOptions {
  /** The FHIR base URL (`https://fhir.example.org/fhir`). */
  base: string;
  token?: TokenSource;
  checkpointFile: string;
  reportFile: string;
  /** Further tries after the first (default 5). */
  retries?: number;
  /** First backoff delay (default 1,000 ms), doubled per try up to `maxDelayMs` (default 60,000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The longest Retry-After honoured (default 15 minutes). */
  maxRetryAfterMs?: number;
  /** Per request (default 10 minutes: a large transaction takes time to store). */
  timeoutMs?: number;
  /** One line per Bundle sent, for the terminal. */
  onBundle?: (result: BundleResult) => void;
}

export interface Attempt {
  status?: number;
  error?: string;
  /** Milliseconds waited before the next try, and why. */
  wait?: number;
  retryAfter?: string;
}

export interface BundleResult {
  file: string;
  sha256: string;
  entries: number;
  result: 'accepted' | 'already accepted' | 'refused' | 'unreachable' | 'not sent';
  status?: number;
  attempts: Attempt[];
  /** The OperationOutcome's issues (an error answer, or the response's own outcome). */
  issues?: OperationOutcomeIssue[];
  /** Response Bundle entry statuses, counted (`"201 Created": 412`). */
  entryStatuses?: Record<string, number>;
  /** Response entries that were not 2xx. */
  failedEntries?: { index: number; status: string; issues?: OperationOutcomeIssue[] }[];
}

export interface PostReport {
  base: string;
  startedAt: string;
  finishedAt?: string;
  totals: Record<BundleResult['result'], number>;
  bundles: BundleResult[];
}

interface Checkpoint {
  /** Per server base: SHA-256 of each accepted Bundle -> its file and when. */
  servers: Record<string, Record<string, { file: string; at: string }>>;
}

const RETRIED = new Set([408, 429, 502, 503, 504]);

/** Posts the manifest's Bundles in order; resolves to the report (also written to `reportFile`). */
export async function postBundles(dir: string, manifest: Manifest, options: PostOptions): Promise<PostReport> {
  const base = options.base.replace(/\/+$/, '');
  const checkpoint = readCheckpoint(options.checkpointFile);
  const done = (checkpoint.servers[base] ??= {});
  const report: PostReport = {
    base,
    startedAt: new Date().toISOString(),
    totals: { accepted: 0, 'already accepted': 0, refused: 0, unreachable: 0, 'not sent': 0 },
    bundles: [],
  };
  let stopped = false;
  for (const b of manifest.bundles) {
    const result: BundleResult = { file: b.file, sha256: b.sha256, entries: b.entries, result: 'not sent', attempts: [] };
    if (stopped) {
      // not sent: an earlier Bundle was not accepted
    } else if (done[b.sha256]) {
      result.result = 'already accepted';
    } else {
      await send(base, readFileSync(join(dir, b.file)), result, options);
      if (result.result === 'accepted') {
        done[b.sha256] = { file: b.file, at: new Date().toISOString() };
        writeAtomically(options.checkpointFile, `${JSON.stringify(checkpoint, null, 2)}\n`);
      } else {
        stopped = true;
      }
      options.onBundle?.(result);
    }
    report.totals[result.result]++;
    report.bundles.push(result);
    writeAtomically(options.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  }
  report.finishedAt = new Date().toISOString();
  writeAtomically(options.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Sends one Bundle with retries, filling in `result`. */
async function send(base: string, body: Buffer, result: BundleResult, options: PostOptions): Promise<void> {
  const retries = options.retries ?? 5;
  let renewed = false;
  let token: string | undefined;
  try {
    token = await options.token?.get();
  } catch (e) {
    result.attempts.push({ error: `no access token: ${(e as Error).message}` });
    result.result = 'refused';
    return;
  }
  for (let attempt = 0; ; attempt++) {
    const a: Attempt = {};
    result.attempts.push(a);
    let res: Response | undefined;
    try {
      res = await fetch(base, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/fhir+json',
          accept: 'application/fhir+json',
          prefer: 'return=minimal',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: AbortSignal.timeout(options.timeoutMs ?? 600_000),
      });
    } catch (e) {
      a.error = errorText(e);
    }
    const answer = res ? await readBody(res) : undefined;
    if (res) {
      a.status = res.status;
      result.status = res.status;
      describe(answer, result);
      if (res.ok) {
        result.result = 'accepted';
        return;
      }
      if (res.status === 401 && options.token?.renew && !renewed) {
        renewed = true;
        try {
          token = await options.token.renew();
        } catch (e) {
          result.attempts.push({ error: `no new access token: ${(e as Error).message}` });
          result.result = 'refused';
          return;
        }
        attempt--;
        continue;
      }
      if (!RETRIED.has(res.status)) {
        result.result = 'refused';
        return;
      }
    }
    if (attempt >= retries) {
      result.result = res ? 'refused' : 'unreachable';
      return;
    }
    const retryAfter = res?.headers.get('retry-after') ?? undefined;
    a.wait = delay(attempt, retryAfter, options);
    if (retryAfter) a.retryAfter = retryAfter;
    await new Promise((r) => setTimeout(r, a.wait));
  }
}

/** Milliseconds before try `attempt + 1`: Retry-After when given (capped), else exponential backoff with jitter. */
export function delay(
  attempt: number,
  retryAfter: string | undefined,
  options: Pick<PostOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs'> = {},
): number {
  const cap = options.maxRetryAfterMs ?? 15 * 60_000;
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) && retryAfter.trim() !== '' ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) return Math.min(cap, Math.max(0, Math.round(ms)));
  }
  const backoff = Math.min(options.maxDelayMs ?? 60_000, (options.baseDelayMs ?? 1000) * 2 ** attempt);
  return Math.round(backoff * (0.5 + Math.random() / 2));
}

/** What the answer said: an OperationOutcome's issues, a response Bundle's entry statuses. */
function describe(answer: unknown, result: BundleResult): void {
  const body = answer as (OperationOutcome | Bundle) | undefined;
  // The last answer's, not an earlier attempt's.
  delete result.issues;
  delete result.entryStatuses;
  delete result.failedEntries;
  if (body?.resourceType === 'OperationOutcome') {
    result.issues = body.issue ?? [];
  } else if (body?.resourceType === 'Bundle') {
    const counts: Record<string, number> = {};
    const failed: NonNullable<BundleResult['failedEntries']> = [];
    (body.entry ?? []).forEach((e, index) => {
      const status = e.response?.status ?? '(none)';
      counts[status] = (counts[status] ?? 0) + 1;
      if (!/^2\d\d/.test(status)) failed.push({ index, status, ...(e.response?.outcome ? { issues: e.response.outcome.issue } : {}) });
    });
    result.entryStatuses = counts;
    if (failed.length) result.failedEntries = failed;
  }
}

async function readBody(res: Response): Promise<unknown> {
  try {
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function errorText(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'no answer before the timeout';
  return err.cause?.code ? `${err.message}: ${err.cause.code}` : err.message;
}

function readCheckpoint(file: string): Checkpoint {
  if (!existsSync(file)) return { servers: {} };
  let parsed: Checkpoint;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (e) {
    throw new Error(`${file} is not a checkpoint of 'translate --post' (${(e as Error).message}): remove it to send every Bundle`);
  }
  if (!parsed || typeof parsed.servers !== 'object' || parsed.servers === null) {
    throw new Error(`${file} is not a checkpoint of 'translate --post' (no "servers"): remove it to send every Bundle`);
  }
  return parsed;
}

/** Writes then renames, so that an interrupted run never leaves half a file. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
