/**
 * A reject's reasons as FHIR: OperationOutcome issues for `GET /ingest/rejects` and the retry
 * answer, and the issue standing for reasons withheld under 42 CFR Part 2 (see src/store/rejects.ts).
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { RejectError } from './reject-types';

/** Stages whose errors mean the input itself is wrong (`invalid`); the others are `processing`. */
const INPUT_STAGES = new Set(['parse', 'mapping', 'canonical', 'validate']);

/**
 * One OperationOutcome issue per reject error: the reason in `details.text`, the canonical field
 * in `expression`, the source path and stage in `diagnostics` (`source: line 13, column "Minutes";
 * stage: mapping`), after `prefix` when given.
 */
export function rejectIssues(errors: RejectError[], prefix?: string): OperationOutcomeIssue[] {
  const list = errors.length ? errors : [{ reason: 'Rejected (no reason was recorded)', stage: 'unknown' }];
  return list.map((e) => ({
    severity: 'error',
    code: INPUT_STAGES.has(e.stage) ? 'invalid' : 'processing',
    details: { text: e.reason },
    ...(e.field ? { expression: [e.field] } : {}),
    diagnostics: [prefix, e.source !== undefined ? `source: ${e.source}` : undefined, `stage: ${e.stage}`].filter((s) => s !== undefined).join('; '),
  }));
}

/** Why a reject's raw input, record id and reasons are left out of an answer. */
export const REJECT_WITHHELD_TEXT =
  'The raw input, record id and reasons of this reject are withheld under 42 CFR Part 2: no active consent of the patient permits disclosing them to your organization';

/** The issue standing for the reasons of a reject not released to the caller. */
export function withheldIssue(prefix?: string): OperationOutcomeIssue {
  return { severity: 'information', code: 'suppressed', details: { text: REJECT_WITHHELD_TEXT }, ...(prefix ? { diagnostics: prefix } : {}) };
}

/** A reject's errors as an OperationOutcome (one withheld issue when it is not released to the caller). */
export function rejectOutcome(errors: RejectError[], released = true): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: released ? rejectIssues(errors) : [withheldIssue()] };
}
