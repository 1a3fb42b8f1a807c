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
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, UNBUDGETED, ValidationPool, Validator } from '../validation';
import { validateJsonText } from '../validation/json-text';
import { PackageError } from '../validation/packages';
import { issuePosition } from '../validation/positions';
import { progressBar } from './progress';
import { type Level, parseArgs, VALIDATE_HELP, type ValidateArgs } from './validate/args';
import { batches, BATCH_FILES, defaultThreads, type FileResult, type Input, listInputs, type TextRunner, validateBatch, validateInOrder } from './validate/run';

export { resourceLabel } from '../validation/json-text';
export { VALIDATE_HELP } from './validate/args';

/** The extension validator_cli names each OperationOutcome's file with. */
const OO_FILE_URL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-file';

const LEVEL_RANK: Record<string, number> = { fatal: 3, error: 3, warning: 2, information: 1 };

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
