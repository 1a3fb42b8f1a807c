/**
 * A validation worker thread (src/validation/pool.ts): loads the validator once, with the
 * definitions the main thread's validator loaded, then validates one input (or a batch of JSON texts) per message and posts
 * back the result (or the error's stack, for the pool to log). Budgets are the pool's business:
 * it counts elements before posting and terminates a worker that runs too long.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DefinitionsOptions } from './definitions';
import { type TextValidationOptions, type TextValidationResult, validateJsonText } from './json-text';
import { type ValidateOptions, type ValidationResult, Validator } from './validator';

/**
 * A job, as the pool posts it: a parsed body, or JSON texts (files, for the CLI) to parse too, in
 * batches: one message per file cost more than validating a small one.
 */
export type WorkerJob = { input: unknown; options: ValidateOptions } | { texts: string[]; options: TextValidationOptions };

/** What the worker posts: once `ready`, then one `result` or `error` per job. */
export type WorkerMessage = { ready: true } | { result: ValidationResult | TextValidationResult[] } | { error: string };

if (parentPort) {
  const port = parentPort;
  const validator = Validator.create((workerData as { definitions?: DefinitionsOptions } | undefined)?.definitions);
  port.on('message', (job: WorkerJob) => {
    let message: WorkerMessage;
    try {
      message = {
        result: 'texts' in job ? job.texts.map((text) => validateJsonText(validator, text, job.options)) : validator.validate(job.input, job.options),
      };
    } catch (err) {
      message = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    port.postMessage(message);
  });
  port.postMessage({ ready: true } satisfies WorkerMessage);
}
