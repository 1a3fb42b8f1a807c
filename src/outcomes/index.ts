/**
 * Errors are OperationOutcomes (https://hl7.org/fhir/R4/operationoutcome.html). Code throws
 * `OperationOutcomeError`; the HTTP layer turns it into a status in one place (`statusOf`).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export { OperationOutcomeError };

type IssueType = OperationOutcomeIssue['code'];

function oo(code: IssueType, text: string, expression?: string, severity: OperationOutcomeIssue['severity'] = 'error'): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression) {
    issue.expression = [expression];
  }
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/** 400: the request itself is wrong (malformed JSON, bad parameter). */
export const badRequest = (text: string, expression?: string): OperationOutcome => oo('invalid', text, expression);
/** 403: the caller's scopes or registration do not allow the request (issue code `forbidden`). */
export const forbidden = (text: string, expression?: string): OperationOutcome => oo('forbidden', text, expression);
/** 404 */
export const notFound = (text: string): OperationOutcome => oo('not-found', text);
/** 405 */
export const notSupported = (text: string): OperationOutcome => oo('not-supported', text);
/** 413 */
export const tooLarge = (text: string): OperationOutcome => oo('too-long', text);
/** 415 */
export const unsupportedMediaType = (text: string): OperationOutcome => oo('not-supported', text);
/** 406: an answer format we cannot produce (`_format=xml`). */
export const notAcceptable = (text: string): OperationOutcome => oo('not-supported', text);
/** 409: a version conflict or a duplicate the request must not create. */
export const conflict = (text: string): OperationOutcome => oo('conflict', text);
/** 410: the resource was deleted. */
export const gone = (text: string): OperationOutcome => oo('deleted', text);
/** 412: `If-Match` or a conditional request's match count does not hold. */
export const preconditionFailed = (text: string): OperationOutcome => oo('conflict', text);
/** 422: a well-formed resource that fails validation (the validator's outcome is used as is). */
export const unprocessable = (text: string, expression?: string): OperationOutcome => oo('processing', text, expression);
/** A success outcome (`Prefer: return=OperationOutcome`, batch entries). */
export const allOk = (text: string): OperationOutcome => oo('informational', text, undefined, 'information');
/** 500: details stay in the log, never in the response. */
export const serverError = (): OperationOutcome => oo('exception', 'Internal server error');

/** 413/422/503: work refused or stopped to protect the server (a validation budget, a full queue). */
export const tooCostly = (text: string): OperationOutcome => oo('too-costly', text);

/** An OperationOutcomeError that knows its HTTP status (and any headers the answer needs: a 405's `Allow`, a 503's `Retry-After`). */
export class FhirError extends OperationOutcomeError {
  constructor(
    outcome: OperationOutcome,
    readonly status: number,
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(outcome);
  }
}

/** HTTP status for an outcome without an explicit one, by its first issue code. */
export function statusOf(outcome: OperationOutcome): number {
  switch (outcome.issue?.[0]?.code) {
    case 'not-found':
      return 404;
    case 'deleted':
      return 410;
    case 'conflict':
      return 409;
    case 'too-long':
      return 413;
    case 'not-supported':
      return 415;
    case 'exception':
      return 500;
    case 'informational':
      return 200;
    default:
      return 400;
  }
}

/** Throws a FhirError with the given status. */
export function fail(outcome: OperationOutcome, status: number): never {
  throw new FhirError(outcome, status);
}
