/**
 * `peerbridge validate`'s run (src/cli/validate.ts): the files named or found below directories,
 * read and validated in batches, in this thread or on the validation pool's workers, their results
 * handed on in the order of the files whatever order the workers finish in.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { issue, outcome } from '../../validation';
import type { TextValidationOptions, TextValidationResult } from '../../validation/json-text';
import { AUTO_WORKERS_MIN_BYTES } from './args';

const SKIPPED_FILES = new Set(['package.json', 'package-lock.json', '.index.json']);

/** A file's validation result, naming the file. */
export interface FileResult extends TextValidationResult {
  file: string;
}

/** One file to validate; `explicit` when named on the command line (not found in a directory). */
export interface Input {
  file: string;
  size: number;
  explicit: boolean;
}

/** Expands a path into the JSON files below it (sorted), or itself when it is a file. */
export function listInputs(path: string): Input[] {
  const st = statSync(path);
  return st.isDirectory() ? listFiles(path) : [{ file: path, size: st.size, explicit: true }];
}

function listFiles(dir: string): Input[] {
  const out: Input[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.') || SKIPPED_FILES.has(name)) {
      continue;
    }
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) {
      out.push(...listFiles(full));
    } else if (name.endsWith('.json')) {
      out.push({ file: full, size: st.size, explicit: false });
    }
  }
  return out;
}

/** Validates files' texts, here or in a worker: the same function either way (src/validation/json-text.ts). */
export type TextRunner = (texts: string[], options: TextValidationOptions) => Promise<TextValidationResult[]>;

/** Files per worker message at most, and their bytes: a message per small file costs more than validating it. */
export const BATCH_FILES = 32;
const BATCH_BYTES = 4 * 1024 * 1024;

/** Consecutive inputs in batches of at most `files` files (and BATCH_BYTES), each all explicit or all not. */
export function batches(inputs: Input[], files: number): Input[][] {
  const out: Input[][] = [];
  let current: Input[] = [];
  let bytes = 0;
  for (const input of inputs) {
    if (current.length > 0 && (current.length >= files || bytes + input.size > BATCH_BYTES || current[0].explicit !== input.explicit)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(input);
    bytes += input.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Reads and validates a batch of files; per file, its result or an Error saying what failed. */
export async function validateBatch(
  run: TextRunner,
  batch: Input[],
  maxBytes: number,
  options: { profile?: string; strictProfiles: boolean },
): Promise<(FileResult | Error)[]> {
  const out = new Array<FileResult | Error>(batch.length);
  const texts: string[] = [];
  const read: number[] = [];
  batch.forEach(({ file, size }, n) => {
    if (size > maxBytes) {
      const found = issue('error', 'structure', `File is ${size} bytes, over the limit of ${maxBytes} bytes (raise it with --max-bytes)`);
      out[n] = { file, valid: false, outcome: outcome([found]), labels: [''] };
      return;
    }
    try {
      texts.push(readFileSync(file, 'utf8'));
      read.push(n);
    } catch (e) {
      out[n] = new Error(`Cannot read ${file}: ${(e as Error).message}`);
    }
  });
  if (texts.length > 0) {
    try {
      const results = await run(texts, { ...options, skipNonResources: !batch[0].explicit });
      read.forEach((n, k) => (out[n] = { file: batch[n].file, ...results[k] }));
    } catch (e) {
      for (const n of read) out[n] = new Error(`Cannot validate ${batch[n].file}: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * Validates the batches, at most `window` at a time, and hands each file's result to `emit` in
 * the order of the batches (whatever order they finish in).
 */
export async function validateInOrder(
  work: Input[][],
  window: number,
  validateOne: (batch: Input[]) => Promise<(FileResult | Error)[]>,
  emit: (input: Input, result: FileResult | Error) => void,
): Promise<void> {
  const pending = new Map<number, Promise<(FileResult | Error)[]>>();
  let next = 0;
  for (let i = 0; i < work.length; i++) {
    for (; next < work.length && next < i + window; next++) {
      pending.set(next, validateOne(work[next]));
    }
    const results = await (pending.get(i) as Promise<(FileResult | Error)[]>);
    pending.delete(i);
    work[i].forEach((input, n) => emit(input, results[n]));
  }
}

/** One per core when the work is big enough to repay starting workers, else 1. */
export function defaultThreads(inputs: Input[]): number {
  const bytes = inputs.reduce((sum, i) => sum + i.size, 0);
  return bytes >= AUTO_WORKERS_MIN_BYTES ? availableParallelism() : 1;
}
