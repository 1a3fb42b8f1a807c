/**
 * A pool of validation worker threads (node:worker_threads), so validating a request body never
 * holds the event loop other requests need, and validation uses every core. Each worker loads the
 * validator once (the same definitions as the main thread's); the pool keeps one warm and starts
 * more, up to `size`, while requests wait. Budgets per request:
 * - elements: counted here before anything is posted (the count stops at the limit, so a million
 *   entries cost no more to refuse than the limit does): 413;
 * - time: a worker still busy after `timeoutMs` is terminated and replaced: 422;
 * - queue: more than `maxQueue` requests waiting for a worker: 503 with Retry-After.
 */
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FhirError, serviceUnavailable } from '../outcomes';
import { type BodyValidator, checkElementBudget, DEFAULT_VALIDATION_BUDGET, timeBudgetExceeded, type ValidationBudget } from './budget';
import type { DefinitionsOptions } from './definitions';
import type { TextValidationOptions, TextValidationResult } from './json-text';
import type { WorkerCall, WorkerJob, WorkerMessage, WorkerReply } from './pool-worker';
import type { ValidateOptions, ValidationResult } from './validator';

export interface ValidationPoolOptions {
  /** Worker threads at most (VALIDATION_WORKERS); default `os.availableParallelism()`. */
  size?: number;
  /** Requests waiting for a worker at most (VALIDATION_QUEUE); default 16 per worker. */
  maxQueue?: number;
  /** Per-request budget of `validate` (VALIDATION_MAX_ELEMENTS, VALIDATION_TIMEOUT_MS). */
  budget?: Partial<ValidationBudget>;
  /** What the workers' validators load: pass the main thread validator's `defs.options`. */
  definitions?: DefinitionsOptions;
  /**
   * Start the first worker now (default) or with the first request (`false`: the server, so an
   * idle process does not hold a second loaded validator, ~45 MB; the first validated request
   * waits for that worker to load instead, ~0.3 s). Either way one worker stays loaded after that.
   */
  warmAtStart?: boolean;
  /**
   * The workers' script, when it is not this folder's pool-worker: a module that serves more kinds
   * of job with `serveJobs` (src/pipeline/pool-worker.ts: pipeline runs too), without extension
   * (`.js` compiled, `.ts` under tsx), and what it is told at start beside the definitions.
   */
  worker?: { entry: string; data?: Record<string, unknown> };
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

/** Seconds a client is told to wait when the queue is full. */
const RETRY_AFTER_SECONDS = 2;

type Job = {
  /** What is posted to the worker. */
  post: WorkerJob | object;
  timeoutMs: number;
  /** Answers the worker's calls back to this thread while the job runs (a pipeline run's store lookups). */
  onCall?: (method: string, args: unknown[]) => Promise<unknown>;
  // The result's type follows the job's (a texts job resolves TextValidationResult[]).
  resolve: (result: never) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
};

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
}

export class ValidationPool implements BodyValidator {
  readonly size: number;
  readonly maxQueue: number;
  readonly budget: ValidationBudget;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;
  /** A worker failed before it was ready: no warm replacement until a request asks for one (no restart loop). */
  private startFailed = false;

  constructor(private readonly options: ValidationPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.maxQueue = Math.max(0, options.maxQueue ?? this.size * 16);
    this.budget = { ...DEFAULT_VALIDATION_BUDGET, ...options.budget };
    if (options.warmAtStart !== false) this.spawn();
  }

  /** Validates with the pool's budget. */
  validate(input: unknown, options?: ValidateOptions): Promise<ValidationResult> {
    return this.run(input, options ?? {}, this.budget);
  }

  /**
   * Parses and validates JSON texts in a worker, one batch per message (src/validation/json-text.ts:
   * issues with line and column), within `budget`'s time for the batch (elements are not counted:
   * the texts are parsed in the worker). The CLI validates a directory's files this way, on every core.
   */
  validateTexts(texts: string[], options: TextValidationOptions = {}, budget: ValidationBudget = this.budget): Promise<TextValidationResult[]> {
    if (this.closed) return Promise.reject(unavailable('The pool is closed'));
    return new Promise<TextValidationResult[]>((resolve, reject) => {
      this.queue.push({ post: { texts, options }, timeoutMs: budget.timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /**
   * Runs another kind of job on the pool's workers (one their script serves: `worker.entry`),
   * queued with the validations, within `timeoutMs` (default none: a pipeline run is bounded by
   * the body it reads). `onCall` answers what the worker asks back while it runs.
   */
  task<T>(post: object, options: { timeoutMs?: number; onCall?: (method: string, args: unknown[]) => Promise<unknown> } = {}): Promise<T> {
    if (this.closed) return Promise.reject(unavailable('The server is shutting down'));
    const idle = this.slots.filter((s) => s.ready && !s.job).length;
    if (this.queue.length >= this.maxQueue + idle) {
      return Promise.reject(unavailable(`Too many jobs are waiting for a worker (${this.queue.length}, VALIDATION_QUEUE); try again shortly`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        post,
        timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY,
        ...(options.onCall ? { onCall: options.onCall } : {}),
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** The same workers with another budget (e.g. `UNBUDGETED` for bundles the server built itself). */
  withBudget(budget: ValidationBudget): BodyValidator {
    return { validate: (input, options) => this.run(input, options ?? {}, budget) };
  }

  /** Workers running (ready or loading), busy, and requests waiting. */
  stats(): { workers: number; busy: number; queued: number } {
    return { workers: this.slots.length, busy: this.slots.filter((s) => s.job).length, queued: this.queue.length };
  }

  /** Refuses what waits, stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(unavailable('The server is shutting down'));
    await Promise.all(this.slots.splice(0).map((s) => this.stop(s, unavailable('The server is shutting down'))));
  }

  private async run(input: unknown, options: ValidateOptions, budget: ValidationBudget): Promise<ValidationResult> {
    if (this.closed) throw unavailable('The server is shutting down');
    checkElementBudget(input, budget.maxElements);
    const idle = this.slots.filter((s) => s.ready && !s.job).length;
    if (this.queue.length >= this.maxQueue + idle) {
      throw unavailable(`Too many validations are waiting (${this.queue.length}, VALIDATION_QUEUE); try again shortly`);
    }
    return new Promise<ValidationResult>((resolve, reject) => {
      this.queue.push({ post: { input, options }, timeoutMs: budget.timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** Hands waiting jobs to ready idle workers; starts another worker while jobs outnumber idle ones. */
  private pump(): void {
    if (this.closed) return;
    const idle = this.slots.filter((s) => !s.job).length;
    if (this.queue.length > idle && this.slots.length < this.size) this.spawn();
    for (const slot of this.slots) {
      const job = slot.ready && !slot.job ? this.queue.shift() : undefined;
      if (job) this.dispatch(slot, job);
    }
    // One worker stays loaded so the next request does not wait for a validator to load.
    if (this.slots.length === 0 && !this.startFailed) this.spawn();
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    if (Number.isFinite(job.timeoutMs)) {
      job.timer = setTimeout(() => {
        this.options.log?.('warn', 'validation stopped: over its time budget', { timeoutMs: job.timeoutMs });
        this.retire(slot, timeBudgetExceeded(job.timeoutMs));
      }, job.timeoutMs);
    }
    try {
      slot.worker.postMessage(job.post);
    } catch (err) {
      // Not cloneable (never so for parsed JSON): this job fails, the worker stays free.
      slot.job = undefined;
      clearTimeout(job.timer);
      job.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private spawn(): void {
    const slot: Slot = { worker: startWorker(this.options.definitions, this.options.worker), ready: false };
    this.slots.push(slot);
    slot.worker.unref();
    slot.worker.on('message', (message: WorkerMessage) => {
      if ('call' in message) {
        this.answerCall(slot, message.call);
        return;
      }
      if ('ready' in message) {
        slot.ready = true;
        this.startFailed = false;
      } else {
        const job = slot.job;
        slot.job = undefined;
        if (job) {
          clearTimeout(job.timer);
          if ('result' in message) (job.resolve as (r: unknown) => void)(message.result);
          else job.reject(new Error(`${'texts' in job.post || 'input' in job.post ? 'Validation' : 'A job'} failed in a worker: ${message.error}`));
        }
      }
      this.pump();
    });
    slot.worker.on('error', (err) => {
      this.options.log?.('error', 'validation worker failed', { error: err.stack ?? err.message });
      // A worker that cannot even load fails every waiting job: starting another would fail the same way.
      if (!slot.ready) {
        this.startFailed = true;
        for (const job of this.queue.splice(0)) job.reject(new Error(`Validation worker failed to start: ${err.message}`));
      }
      this.retire(slot, new Error(`Validation worker failed: ${err.message}`));
    });
    slot.worker.on('exit', () => {
      if (this.slots.includes(slot)) this.retire(slot, new Error('Validation worker exited'));
    });
  }

  /** Answers a call the worker makes while its job runs; a call without a running job that takes calls is refused. */
  private answerCall(slot: Slot, call: WorkerCall): void {
    const job = slot.job;
    const reply = (answer: { value?: unknown; error?: string }): void => {
      // The job may have ended meanwhile (terminated over its time budget): nobody waits for the answer.
      if (slot.job !== job || !this.slots.includes(slot)) return;
      try {
        slot.worker.postMessage({ reply: { id: call.id, ...answer } } satisfies WorkerReply);
      } catch (err) {
        // An answer that cannot be cloned fails the call, not the process.
        slot.worker.postMessage({
          reply: { id: call.id, error: `The answer to ${call.method} cannot be sent: ${(err as Error).message}` },
        } satisfies WorkerReply);
      }
    };
    const onCall = job?.onCall;
    if (!onCall) {
      reply({ error: `This job takes no call (${call.method})` });
      return;
    }
    // A handler that throws (instead of rejecting) fails the call too.
    Promise.resolve()
      .then(() => onCall(call.method, call.args))
      .then(
        (value) => reply({ value }),
        (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
      );
  }

  /** Takes a worker out of the pool (failing its job with `err`) and lets the pool replace it. */
  private retire(slot: Slot, err: Error): void {
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    void this.stop(slot, err);
    this.pump();
  }

  private async stop(slot: Slot, err: Error): Promise<void> {
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(err);
    }
    await slot.worker.terminate();
  }
}

function unavailable(text: string): FhirError {
  return serviceUnavailable(text, RETRY_AFTER_SECONDS);
}

/**
 * Starts a worker on pool-worker.js (compiled, `npm start`) or, running from TypeScript sources
 * (jest, tsx), on pool-worker.ts through tsx's require hook: a worker thread does not inherit the
 * main thread's TypeScript loader.
 */
function startWorker(definitions: DefinitionsOptions | undefined, script: ValidationPoolOptions['worker']): Worker {
  const ext = extname(__filename);
  const entry = `${script?.entry ?? join(__dirname, 'pool-worker')}${ext}`;
  const workerData = { ...script?.data, definitions, serve: script ? 'custom' : 'validation' };
  if (ext === '.ts') {
    return new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`, { eval: true, workerData });
  }
  return new Worker(entry, { workerData });
}
