/**
 * A validation worker thread (src/validation/pool.ts): loads the validator once, with the
 * definitions the main thread's validator loaded, then validates one input (or a batch of JSON texts) per message and posts
 * back the result (or the error's stack, for the pool to log). Budgets are the pool's business:
 * it counts elements before posting and terminates a worker that runs too long.
 *
 * `serveJobs` is the loop; a worker script of a later stage (src/pipeline/pool-worker.ts) serves
 * more kinds of job with it, and such a job may call back to the main thread (`call`) while it runs.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { DefinitionsOptions } from './definitions';
import { type TextValidationOptions, type TextValidationResult, validateJsonText } from './json-text';
import { type ValidateOptions, type ValidationResult, Validator } from './validator';

/**
 * A job, as the pool posts it: a parsed body, or JSON texts (files, for the CLI) to parse too, in
 * batches: one message per file cost more than validating a small one.
 */
export type WorkerJob = { input: unknown; options: ValidateOptions } | { texts: string[]; options: TextValidationOptions };

/** A question the worker asks the main thread while a job runs, and its answer. */
export interface WorkerCall {
  id: number;
  method: string;
  args: unknown[];
}
export interface WorkerReply {
  reply: { id: number; value?: unknown; error?: string };
}

/** What the worker posts: once `ready`, then one `result` or `error` per job, and `call`s while a job runs. */
export type WorkerMessage = { ready: true } | { result: unknown } | { error: string } | { call: WorkerCall };

/** Serves another kind of job (undefined: not one it serves); `call` asks the main thread. */
export type JobHandler = (job: object, call: (method: string, args: unknown[]) => Promise<unknown>) => Promise<unknown> | undefined;

/** The worker's loop: validation jobs, and those `more` serves; one job at a time (the pool posts one per worker). */
export function serveJobs(port: MessagePort, validator: Validator, more?: JobHandler): void {
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextCall = 0;
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++nextCall;
      waiting.set(id, { resolve, reject });
      port.postMessage({ call: { id, method, args } } satisfies WorkerMessage);
    });
  const fail = (err: unknown): WorkerMessage => ({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  port.on('message', (job: WorkerJob | WorkerReply | object) => {
    if ('reply' in job) {
      const w = waiting.get(job.reply.id);
      waiting.delete(job.reply.id);
      if (job.reply.error !== undefined) w?.reject(new Error(job.reply.error));
      else w?.resolve(job.reply.value);
      return;
    }
    const async = more?.(job, call);
    if (async) {
      async.then(
        (result) => port.postMessage({ result } satisfies WorkerMessage),
        (err: unknown) => port.postMessage(fail(err)),
      );
      return;
    }
    let message: WorkerMessage;
    try {
      const j = job as WorkerJob;
      message = {
        result:
          'texts' in j ? j.texts.map((text): TextValidationResult => validateJsonText(validator, text, j.options)) : validator.validate(j.input, j.options),
      } satisfies { result: ValidationResult | TextValidationResult[] };
    } catch (err) {
      message = fail(err);
    }
    port.postMessage(message);
  });
  port.postMessage({ ready: true } satisfies WorkerMessage);
}

/** The validator this worker's definitions make (what the main thread's validator loaded). */
export function workerValidator(): Validator {
  return Validator.create((workerData as { definitions?: DefinitionsOptions } | undefined)?.definitions);
}

if (parentPort && (workerData as { serve?: string } | undefined)?.serve === 'validation') serveJobs(parentPort, workerValidator());
