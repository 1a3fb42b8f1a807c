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
 * This is the wiring; the options and help text are validate/args.ts, listing and validating the
 * files in batches validate/run.ts, the text lines and OperationOutcomes written validate/report.ts.
 */
import { writeFileSync } from 'node:fs';
import { UNBUDGETED, ValidationPool, Validator } from '../validation';
import { validateJsonText } from '../validation/json-text';
import { PackageError } from '../validation/packages';
import { progressBar } from './progress';
import { parseArgs, VALIDATE_HELP, type ValidateArgs } from './validate/args';
import { formatText, outputResource, shownOutcome } from './validate/report';
import { batches, BATCH_FILES, defaultThreads, type FileResult, type Input, listInputs, type TextRunner, validateBatch, validateInOrder } from './validate/run';

export { resourceLabel } from '../validation/json-text';
export { VALIDATE_HELP } from './validate/args';

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
            ? JSON.stringify({
                file: result.file,
                valid: result.valid,
                ...(result.skipped ? { skipped: true } : {}),
                outcome: shownOutcome(result, opts.level, false),
              }) + '\n'
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
