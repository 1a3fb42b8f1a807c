/** Shared helpers for the rule tests: a validator built once, and the errors/issues at a path. */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { Validator } from '../../../src/validation';
import type { Report } from '../../../src/validation/rules/types';

let shared: Validator | undefined;

export function validator(): Validator {
  shared ??= Validator.create();
  return shared;
}

/** Issues other than the dom-6 'no narrative' warning every bare test resource draws. */
export function issuesOf(resource: unknown): OperationOutcomeIssue[] {
  return validator()
    .validate(resource)
    .issues.filter((i) => !(i.details?.text ?? '').includes('(dom-6)'));
}

export function errorsOf(resource: unknown): OperationOutcomeIssue[] {
  return issuesOf(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** "path: message" lines, for readable assertions. */
export function lines(issues: OperationOutcomeIssue[]): string[] {
  return issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.details?.text}`);
}

/** A report callback that records what a rule reports. */
export function recorder(): { report: Report; got: string[] } {
  const got: string[] = [];
  return { got, report: (severity, code, message, path) => got.push(`${severity} ${code} ${path}: ${message}`) };
}
