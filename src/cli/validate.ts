/**
 * `peerbridge validate`: FHIR JSON files and directories (recursively) against base R4 and the
 * profiles in meta.profile, with the habits of the HL7 validator's (validator_cli) users:
 * - text output: a line per file with its verdict and a `Success`/`FAILURE` count of errors,
 *   warnings and notes, then one `file:line:col: severity [resource] path: message` line per issue;
 *   `--format json` prints one line per file: {"file","valid","outcome"} (issues carry the
 *   operationoutcome-issue-line/-col extensions);
 * - `--output <file>`: the OperationOutcome (one file) or a Bundle of them (several), each naming
 *   its file in the `operationoutcome-file` extension, as validator_cli writes them;
 * - `--level error|warning|information` hides lesser issues;
 * - directories: files without a resourceType (reports, test tables) are skipped with a note;
 *   their files are validated on every core (`--threads`, the validation pool's workers) with the
 *   same results, in the same order, as in one thread; a progress bar while both stdout and
 *   stderr are a terminal.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, outcome, UNBUDGETED, ValidationPool, Validator } from '../validation';
import { type TextValidationOptions, type TextValidationResult, validateJsonText } from '../validation/json-text';
import { PackageError } from '../validation/packages';
import { issuePosition } from '../validation/positions';
import { progressBar } from './progress';

export { resourceLabel } from '../validation/json-text';

/** Files larger than this are refused with an invalid verdict (override with --max-bytes). */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const SKIPPED_FILES = new Set(['package.json', 'package-lock.json', '.index.json']);
/**
 * Without --threads, workers are used only for this much JSON or more: a worker costs about a
 * quarter of a second of CPU to start (load the validator, warm up; 0.26 s measured, compiled), about
 * what validating 3 MB in one thread costs, so smaller runs are faster in this thread; at 16 MB two
 * free cores should give about 1.4x, eight about 3x.
 */
const AUTO_WORKERS_MIN_BYTES = 16 * 1024 * 1024;
/** The extension validator_cli names each OperationOutcome's file with. */
const OO_FILE_URL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-file';

type Level = 'error' | 'warning' | 'information';
const LEVEL_RANK: Record<string, number> = { fatal: 3, error: 3, warning: 2, information: 1 };

export const VALIDATE_HELP = `Usage: peerbridge validate <file|dir>... [options]

Validates FHIR R4 JSON resources (files, or every .json file below a directory) against the base
specification and the profiles in meta.profile. Exit code: 0 all valid, 1 any invalid, 2 usage or I/O error.
Each issue is shown as file:line:col, and carries its line and column in JSON output.
In directories, JSON files that are not FHIR resources (no resourceType) are skipped with a note.

Options:
  --profile <url>          also validate against this profile (canonical URL; an unknown one is an error)
  --strict-profiles        an unknown profile in meta.profile is an error (default: a warning, and the
                           resource is checked against its base type, as validator_cli does)
  --ig <tgz|folder|name#version>
                           load an implementation guide package (repeatable): a .tgz, a package folder, or
                           name#version from the package cache (PEERBRIDGE_PACKAGE_CACHE, ~/.fhir/packages);
                           its dependencies are loaded when found, a missing one is a warning
  --format text|json       text (default): a verdict line per file and a line per issue;
                           json: one line per file, {"file","valid","outcome"}
  --output <file>          also write the OperationOutcome there (several files: a Bundle of them,
                           each naming its file in the operationoutcome-file extension)
  --level error|warning|information
                           show only issues at this severity or above (default: information, all)
  --threads <n>            worker threads (1: all in this thread). Default: one per core (${availableParallelism()} here)
                           when the files add up to ${AUTO_WORKERS_MIN_BYTES / 1048576} MB or more, else 1.
                           Results and their order do not depend on it.
  --max-bytes <n>          refuse files larger than this (default ${DEFAULT_MAX_BYTES})
  --no-progress            no progress bar (shown for directories when stdout and stderr are a terminal)
  -h, --help               this help
`;

interface FileResult extends TextValidationResult {
  file: string;
}

interface ValidateArgs {
  paths: string[];
  format: 'text' | 'json';
  profile?: string;
  /** An unknown profile in meta.profile is an error (--strict-profiles). */
  strictProfiles: boolean;
  /** Implementation guide packages to load (--ig). */
  igs: string[];
  maxBytes: number;
  output?: string;
  level: Level;
  /** Undefined: chosen by the size of the work (AUTO_WORKERS_MIN_BYTES). */
  threads?: number;
  progress: boolean;
  help: boolean;
}

class UsageError extends Error {}

function parseArgs(args: string[]): ValidateArgs {
  const paths: string[] = [];
  const igs: string[] = [];
  let format: 'text' | 'json' = 'text';
  let profile: string | undefined;
  let maxBytes = DEFAULT_MAX_BYTES;
  let output: string | undefined;
  let level: Level = 'information';
  let threads: number | undefined;
  let progress = true;
  let strictProfiles = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) {
        throw new UsageError(`${a} needs a value`);
      }
      return v;
    };
    if (a === '--format' || a.startsWith('--format=')) {
      const v = value();
      if (v !== 'text' && v !== 'json') {
        throw new UsageError(`--format must be text or json, not '${v}'`);
      }
      format = v;
    } else if (a === '--profile' || a.startsWith('--profile=')) {
      profile = value();
    } else if (a === '--ig' || a.startsWith('--ig=')) {
      igs.push(value());
    } else if (a === '--max-bytes' || a.startsWith('--max-bytes=')) {
      maxBytes = Number(value());
      if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
        throw new UsageError('--max-bytes must be a positive integer');
      }
    } else if (a === '--output' || a.startsWith('--output=')) {
      output = value();
    } else if (a === '--level' || a.startsWith('--level=')) {
      const v = value();
      if (v !== 'error' && v !== 'warning' && v !== 'information') {
        throw new UsageError(`--level must be error, warning or information, not '${v}'`);
      }
      level = v;
    } else if (a === '--threads' || a.startsWith('--threads=')) {
      const n = Number(value());
      threads = n;
      if (!Number.isInteger(n) || n <= 0) {
        throw new UsageError('--threads must be a positive integer');
      }
    } else if (a === '--strict-profiles') {
      strictProfiles = true;
    } else if (a === '--no-progress') {
      progress = false;
    } else if (a === '--help' || a === '-h') {
      return { paths, format, profile, strictProfiles, igs, maxBytes, output, level, threads, progress, help: true };
    } else if (a.startsWith('-')) {
      throw new UsageError(`Unknown option '${a}'`);
    } else {
      paths.push(a);
    }
  }
  if (paths.length === 0) {
    throw new UsageError('Give at least one file or directory to validate');
  }
  return { paths, format, profile, strictProfiles, igs, maxBytes, output, level, threads, progress, help: false };
}


/** One file to validate; `explicit` when named on the command line (not found in a directory). */
interface Input {
  file: string;
  size: number;
  explicit: boolean;
}

/** Expands a path into the JSON files below it (sorted), or itself when it is a file. */
function listInputs(path: string): Input[] {
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
type TextRunner = (texts: string[], options: TextValidationOptions) => Promise<TextValidationResult[]>;

/** Files per worker message at most, and their bytes: a message per small file costs more than validating it. */
const BATCH_FILES = 32;
const BATCH_BYTES = 4 * 1024 * 1024;

/** Consecutive inputs in batches of at most `files` files (and BATCH_BYTES), each all explicit or all not. */
function batches(inputs: Input[], files: number): Input[][] {
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
async function validateBatch(run: TextRunner, batch: Input[], maxBytes: number, options: { profile?: string; strictProfiles: boolean }): Promise<(FileResult | Error)[]> {
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

/** The issues at `level` or above (the "No issues found" placeholder is never an issue). */
function shownIssues(result: FileResult, level: Level): { issue: OperationOutcomeIssue; label: string }[] {
  if (result.skipped) return [];
  return (result.outcome.issue ?? [])
    .map((i, n) => ({ issue: i, label: result.labels[n] ?? '' }))
    .filter(({ issue: i }) => i.code !== 'informational' && LEVEL_RANK[i.severity] >= LEVEL_RANK[level]);
}

function counts(result: FileResult): { errors: number; warnings: number; notes: number } {
  const issues = result.skipped ? [] : (result.outcome.issue ?? []).filter((i) => i.code !== 'informational');
  return {
    errors: issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length,
    warnings: issues.filter((i) => i.severity === 'warning').length,
    notes: issues.filter((i) => i.severity === 'information').length,
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The verdict line (validator_cli's `Success: 0 errors, 1 warning, 0 notes`), then a `file:line:col:` line per issue shown. */
function formatText(result: FileResult, cwd: string, level: Level): string {
  const name = relative(cwd, result.file) || result.file;
  if (result.skipped) {
    return `SKIPPED ${name}  ${result.skipped}\n`;
  }
  const c = counts(result);
  const head = `${result.valid ? 'VALID  ' : 'INVALID'} ${name}  ${result.valid ? 'Success' : 'FAILURE'}: ${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}, ${plural(c.notes, 'note')}`;
  const lines = shownIssues(result, level).map(({ issue: i, label }) => {
    const where = i.expression?.[0] ?? '';
    const pos = issuePosition(i);
    return `  ${name}${pos ? `:${pos.line}:${pos.col}` : ''}: ${i.severity.padEnd(7)} ${label ? `[${label}] ` : ''}${where ? where + ': ' : ''}${i.details?.text ?? i.diagnostics ?? ''}`;
  });
  return [head, ...lines].join('\n') + '\n';
}

/** The file's OperationOutcome with only the issues at `level` or above, naming its file as validator_cli does. */
function shownOutcome(result: FileResult, level: Level, withFile: boolean): OperationOutcome {
  const all = result.outcome.issue ?? [];
  let issues = result.skipped ? all : all.filter((i) => LEVEL_RANK[i.severity] >= LEVEL_RANK[level]);
  if (issues.length === 0) {
    const hidden = all.filter((i) => i.code !== 'informational').length;
    issues = [issue('information', 'informational', hidden ? `No issues at level '${level}' or above (${plural(hidden, 'lesser issue')} not shown: --level)` : 'No issues found')];
  }
  const file: OperationOutcome['extension'] = withFile ? [{ url: OO_FILE_URL, valueString: result.file }] : undefined;
  return { resourceType: 'OperationOutcome', ...(file ? { extension: file } : {}), issue: issues };
}

/** What `--output` holds: one file's OperationOutcome, or a Bundle of every file's. */
function outputResource(results: FileResult[], level: Level): OperationOutcome | Bundle {
  if (results.length === 1) {
    return shownOutcome(results[0], level, true);
  }
  return { resourceType: 'Bundle', type: 'collection', entry: results.map((r) => ({ resource: shownOutcome(r, level, true) })) };
}

/**
 * Validates the batches, at most `window` at a time, and hands each file's result to `emit` in
 * the order of the batches (whatever order they finish in).
 */
async function validateInOrder(
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

/** Runs `validate`; returns the exit code. */
export async function validateCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let opts: ValidateArgs;
  try {
    opts = parseArgs(args);
  } catch (e) {
    err.write(`${(e as Error).message}\n${VALIDATE_HELP}`);
    return 2;
  }
  if (opts.help) {
    out.write(VALIDATE_HELP);
    return 0;
  }
  let ioError = false;
  const inputs: Input[] = [];
  let anyDirectory = false;
  for (const p of opts.paths) {
    try {
      const found = listInputs(p);
      anyDirectory ||= !(found.length === 1 && found[0].explicit);
      inputs.push(...found);
    } catch (e) {
      err.write(`Cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}\n`);
      ioError = true;
    }
  }

  let validator: Validator;
  try {
    validator = Validator.create(opts.igs.length > 0 ? { igPackages: opts.igs } : undefined);
  } catch (e) {
    if (!(e instanceof PackageError)) {
      throw e;
    }
    err.write(`--ig: ${e.message}\n`);
    return 2;
  }
  for (const i of validator.defs.loadIssues) {
    err.write(`${i.severity}: ${i.details?.text ?? ''}\n`);
  }
  const threads = Math.min(opts.threads ?? defaultThreads(inputs), inputs.length);
  const pool = threads > 1 ? new ValidationPool({ size: threads, definitions: validator.defs.options }) : undefined;
  const run: TextRunner = pool
    ? (texts, options) => pool.validateTexts(texts, options, UNBUDGETED)
    : async (texts, options) => texts.map((text) => validateJsonText(validator, text, options));
  // In this thread, a file at a time (its result printed at once); on workers, batches, several per worker.
  const work = pool ? batches(inputs, Math.max(1, Math.min(BATCH_FILES, Math.ceil(inputs.length / (threads * 4))))) : inputs.map((i) => [i]);

  const tty = opts.progress && anyDirectory && (out as NodeJS.WriteStream).isTTY === true && (err as NodeJS.WriteStream).isTTY === true;
  const totalBytes = tty ? inputs.reduce((sum, i) => sum + i.size, 0) : 0;
  const bar = tty ? progressBar(err as NodeJS.WriteStream, totalBytes, Date.now, 'files') : undefined;
  let bytes = 0;

  const cwd = process.cwd();
  const results: FileResult[] = [];
  const tally = { valid: 0, invalid: 0, skipped: 0 };
  try {
    await validateInOrder(
      work,
      pool ? threads * 2 : 1,
      (batch) => validateBatch(run, batch, opts.maxBytes, { profile: opts.profile, strictProfiles: opts.strictProfiles }),
      (input, result) => {
        bytes += input.size;
        bar?.done();
        if (result instanceof Error) {
          err.write(`${result.message}\n`);
          ioError = true;
          return;
        }
        results.push(result);
        tally[result.skipped ? 'skipped' : result.valid ? 'valid' : 'invalid']++;
        out.write(
          opts.format === 'json'
            ? JSON.stringify({ file: result.file, valid: result.valid, ...(result.skipped ? { skipped: true } : {}), outcome: shownOutcome(result, opts.level, false) }) + '\n'
            : formatText(result, cwd, opts.level),
        );
        bar?.update({ bytes, records: results.length }, true);
      },
    );
  } finally {
    bar?.done();
    await pool?.close();
  }

  if (opts.format === 'text' && results.length > 1) {
    const skipped = tally.skipped ? `, ${tally.skipped} skipped (not FHIR resources)` : '';
    out.write(`${results.length} file(s) checked: ${tally.valid} valid, ${tally.invalid} invalid${skipped}\n`);
  }
  if (opts.output && results.length > 0) {
    try {
      writeFileSync(opts.output, JSON.stringify(outputResource(results, opts.level), null, 2) + '\n');
    } catch (e) {
      err.write(`Cannot write ${opts.output}: ${(e as Error).message}\n`);
      ioError = true;
    }
  }
  return ioError ? 2 : tally.invalid > 0 ? 1 : 0;
}

/** One per core when the work is big enough to repay starting workers, else 1. */
function defaultThreads(inputs: Input[]): number {
  const bytes = inputs.reduce((sum, i) => sum + i.size, 0);
  return bytes >= AUTO_WORKERS_MIN_BYTES ? availableParallelism() : 1;
}
