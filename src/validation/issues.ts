import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type Severity = 'fatal' | 'error' | 'warning' | 'information';
/** Codes from http://hl7.org/fhir/issue-type used by the validator. */
export type IssueCode =
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'code-invalid'
  | 'extension'
  | 'not-found'
  | 'invalid'
  | 'business-rule'
  | 'duplicate'
  | 'security'
  | 'too-long'
  | 'processing'
  | 'informational';

/** One validation issue: plain-words message, FHIRPath expression of where. */
export function issue(severity: Severity, code: IssueCode, text: string, expression?: string): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression) {
    out.expression = [expression];
  }
  return out;
}

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.length > 0 ? issues : [issue('information', 'informational', 'No issues found')],
  };
}

/**
 * A value as a message shows it: String(v), '' for null and undefined. String()'s text (even
 * '[object Object]' for a broken input) is in the equivalence test's recorded messages: change it
 * with a re-record.
 */
export function shown(v: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
  return String(v ?? '');
}

export function hasErrors(issues: OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}
