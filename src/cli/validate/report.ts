/**
 * `peerbridge validate`'s output (src/cli/validate.ts): the text lines (a verdict line per file with
 * validator_cli's `Success`/`FAILURE` counts, then a `file:line:col:` line per issue shown), the
 * OperationOutcome of a file with only the issues at `--level` or above, and what `--output` writes.
 */
import { relative } from 'node:path';
import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../validation';
import { issuePosition } from '../../validation/positions';
import type { Level } from './args';
import type { FileResult } from './run';

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
export function formatText(result: FileResult, cwd: string, level: Level): string {
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
export function shownOutcome(result: FileResult, level: Level, withFile: boolean): OperationOutcome {
  const all = result.outcome.issue ?? [];
  let issues = result.skipped ? all : all.filter((i) => LEVEL_RANK[i.severity] >= LEVEL_RANK[level]);
  if (issues.length === 0) {
    const hidden = all.filter((i) => i.code !== 'informational').length;
    issues = [
      issue(
        'information',
        'informational',
        hidden ? `No issues at level '${level}' or above (${plural(hidden, 'lesser issue')} not shown: --level)` : 'No issues found',
      ),
    ];
  }
  const file: OperationOutcome['extension'] = withFile ? [{ url: OO_FILE_URL, valueString: result.file }] : undefined;
  return { resourceType: 'OperationOutcome', ...(file ? { extension: file } : {}), issue: issues };
}

/** What `--output` holds: one file's OperationOutcome, or a Bundle of every file's. */
export function outputResource(results: FileResult[], level: Level): OperationOutcome | Bundle {
  if (results.length === 1) {
    return shownOutcome(results[0], level, true);
  }
  return { resourceType: 'Bundle', type: 'collection', entry: results.map((r) => ({ resource: shownOutcome(r, level, true) })) };
}
