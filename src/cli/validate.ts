/**
 * `peerbridge validate`: FHIR JSON files and directories (recursively) against base R4 and the
 * profiles in meta.profile. Text output names file, resource, path and message; `--format json`
 * prints one line per file: {"file","valid","outcome"}.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describeJsonError } from '../inbound/json-error';
import { issue, outcome, Validator } from '../validation';
import { PackageError } from '../validation/packages';

/** Files larger than this are refused with an invalid verdict (override with --max-bytes). */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const SKIPPED_FILES = new Set(['package.json', 'package-lock.json', '.index.json']);

interface FileResult {
  file: string;
  valid: boolean;
  outcome: OperationOutcome;
  input?: unknown;
}

class UsageError extends Error {}

function parseArgs(args: string[]): { paths: string[]; format: 'text' | 'json'; profile?: string; maxBytes: number; igs: string[] } {
  const paths: string[] = [];
  const igs: string[] = [];
  let format: 'text' | 'json' = 'text';
  let profile: string | undefined;
  let maxBytes = DEFAULT_MAX_BYTES;
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
    } else if (a.startsWith('-')) {
      throw new UsageError(`Unknown option '${a}'`);
    } else {
      paths.push(a);
    }
  }
  if (paths.length === 0) {
    throw new UsageError('Give at least one file or directory to validate');
  }
  return { paths, format, profile, maxBytes, igs };
}

/** Expands directories into the JSON files below them, sorted. */
function listFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) {
    return [path];
  }
  const out: string[] = [];
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name.startsWith('.') || SKIPPED_FILES.has(name)) {
      continue;
    }
    const full = join(path, name);
    if (statSync(full).isDirectory()) {
      out.push(...listFiles(full));
    } else if (name.endsWith('.json')) {
      out.push(full);
    }
  }
  return out;
}

function validateFile(validator: Validator, file: string, maxBytes: number, profile?: string): FileResult {
  const size = statSync(file).size;
  const invalid = (text: string): FileResult => {
    const issues = [issue('error', 'structure', text)];
    return { file, valid: false, outcome: outcome(issues) };
  };
  if (size > maxBytes) {
    return invalid(`File is ${size} bytes, over the limit of ${maxBytes} bytes (raise it with --max-bytes)`);
  }
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  if (!text.trim()) {
    return invalid('File is empty; expected a FHIR JSON resource');
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    return invalid(`Not valid JSON: ${describeJsonError(e as Error, text)}`);
  }
  const r = validator.validate(input, { profile });
  return { file, valid: r.valid, outcome: r.outcome, input };
}

/** `Bundle.entry[2].resource.type` -> "Encounter/abc" (the resource an issue is about). */
export function resourceLabel(input: unknown, expression: string | undefined): string {
  let current = input as Record<string, unknown> | undefined;
  let label = describe(current);
  if (!expression) {
    return label;
  }
  const re = /\.(entry)\[(\d+)\]\.resource|\.(contained)\[(\d+)\]|\.parameter\[(\d+)\]\.resource/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(expression))) {
    if (!current) {
      break;
    }
    if (m[1]) {
      current = ((current.entry as unknown[])?.[Number(m[2])] as Record<string, unknown> | undefined)?.resource as Record<string, unknown>;
    } else if (m[3]) {
      current = (current.contained as unknown[])?.[Number(m[4])] as Record<string, unknown>;
    } else {
      current = ((current.parameter as unknown[])?.[Number(m[5])] as Record<string, unknown> | undefined)?.resource as Record<string, unknown>;
    }
    label = describe(current) || label;
  }
  return label;
}

function describe(r: Record<string, unknown> | undefined): string {
  if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') {
    return '';
  }
  return typeof r.id === 'string' ? `${r.resourceType}/${r.id}` : r.resourceType;
}

function formatText(result: FileResult, cwd: string): string {
  const name = relative(cwd, result.file) || result.file;
  const issues = (result.outcome.issue ?? []).filter((i) => i.code !== 'informational');
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
  const warnings = issues.filter((i) => i.severity === 'warning').length;
  const head = `${result.valid ? 'VALID  ' : 'INVALID'} ${name}${errors || warnings ? ` (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`;
  const lines = issues.map((i: OperationOutcomeIssue) => {
    const where = i.expression?.[0] ?? '';
    const res = resourceLabel(result.input, where);
    return `  ${i.severity.padEnd(7)} ${res ? `[${res}] ` : ''}${where ? where + ': ' : ''}${i.details?.text ?? i.diagnostics ?? ''}`;
  });
  return [head, ...lines].join('\n') + '\n';
}

/** Runs `validate`; returns the exit code. */
export async function validateCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(args);
  } catch (e) {
    err.write(`${(e as Error).message}\nUsage: peerbridge validate <file|dir>... [--format text|json] [--profile <url>] [--ig <tgz|folder|name#version>]...\n`);
    return 2;
  }
  let validator: Validator;
  try {
    validator = Validator.create(opts.igs.length > 0 ? { igPackages: opts.igs } : undefined);
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    err.write(`--ig: ${e.message}\n`);
    return 2;
  }
  for (const i of validator.defs.loadIssues) {
    err.write(`${i.severity}: ${i.details?.text ?? ''}\n`);
  }
  let ioError = false;
  let anyInvalid = false;
  let count = 0;
  const cwd = process.cwd();
  for (const p of opts.paths) {
    let files: string[];
    try {
      files = listFiles(p);
    } catch (e) {
      err.write(`Cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}\n`);
      ioError = true;
      continue;
    }
    for (const file of files) {
      let result: FileResult;
      try {
        result = validateFile(validator, file, opts.maxBytes, opts.profile);
      } catch (e) {
        err.write(`Cannot read ${file}: ${(e as Error).message}\n`);
        ioError = true;
        continue;
      }
      count++;
      anyInvalid ||= !result.valid;
      out.write(
        opts.format === 'json'
          ? JSON.stringify({ file: result.file, valid: result.valid, outcome: result.outcome }) + '\n'
          : formatText(result, cwd),
      );
    }
  }
  if (opts.format === 'text' && count > 1) {
    out.write(`${count} file(s) checked\n`);
  }
  return ioError ? 2 : anyInvalid ? 1 : 0;
}
