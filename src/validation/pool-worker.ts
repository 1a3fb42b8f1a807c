/**
 * A validation worker thread (src/validation/pool.ts): loads the validator once, with the
 * definitions the main thread's validator loaded, then validates one input per message and posts
 * back the result (or the error's stack, for the pool to log). Budgets are the pool's business:
 * it counts elements before posting and terminates a worker that runs too long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DefinitionsOptions } from './definitions';
import { type ValidateOptions, Validator } from './validator';

/** A job, as the pool posts it. */
export interface WorkerJob {
  input: unknown;
  options: ValidateOptions;
}

/** What the worker posts: once `ready`, then one `result` or `error` per job. */
export type WorkerMessage = { ready: true } | { result: ReturnType<Validator['validate']> } | { error: string };

if (parentPort) {
  const port = parentPort;
  const validator = Validator.create((workerData as { definitions?: DefinitionsOptions } | undefined)?.definitions);
  port.on('message', (job: WorkerJob) => {
    let message: WorkerMessage;
    try {
      message = { result: validator.validate(job.input, job.options) };
    } catch (err) {
      message = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    port.postMessage(message);
  });
  port.postMessage({ ready: true } satisfies WorkerMessage);
}
