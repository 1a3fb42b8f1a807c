/**
 * Errors are OperationOutcomes (https://hl7.org/fhir/R4/operationoutcome.html) that carry their
 * HTTP status, as HAPI's exception classes do (a `ResourceNotFoundException` is a 404): code raises
 * one with the helper named for what went wrong, `throw notFound('Patient/1 not found')`, and the
 * status and issue code of each kind are decided here, once. The HTTP layer sends `err.status` and
 * `err.outcome` (`errorHandler` in src/http/errors.ts); FHIR handlers and batch entries read the
 * same two fields.
 */
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export { OperationOutcomeError };

type IssueType = OperationOutcomeIssue['code'];

/** An outcome of one issue (a success note, a warning, an issue of an error built by hand). */
export function operationOutcome(code: IssueType, text: string, expression?: string, severity: OperationOutcomeIssue['severity'] = 'error'): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression) {
    issue.expression = [expression];
  }
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

/**
 * An OperationOutcomeError with its HTTP status (and any headers the answer needs: a 405's `Allow`,
 * a 503's `Retry-After`). Raise new errors with the helpers below, which pick the status; the
 * constructor is for a status already decided elsewhere (a handler's error answer turned back into
 * an error, an error whose outcome is rewritten).
 */
export class FhirError extends OperationOutcomeError {
  constructor(
    outcome: OperationOutcome,
    readonly status: number,
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(outcome);
  }
}

/**
 * A helper raising one kind of error: from a text (and the FHIRPath of where, when known), an
 * outcome of one issue with the kind's issue code; or a whole outcome used as is (a validator's
 * verdict, a report of several issues, an issue code other than the kind's).
 */
export interface ErrorKind {
  (text: string, expression?: string): FhirError;
  (outcome: OperationOutcome): FhirError;
}

function kind(status: number, code: IssueType): ErrorKind {
  return (detail: string | OperationOutcome, expression?: string): FhirError =>
    new FhirError(typeof detail === 'string' ? operationOutcome(code, detail, expression) : detail, status);
}

/** 400: the request itself is wrong (malformed JSON, bad parameter). */
export const badRequest = kind(400, 'invalid');
/** 401: no access token where one is needed (issue code `login`). */
export const unauthorized = kind(401, 'login');
/** 403: the caller's scopes or registration do not allow the request (issue code `forbidden`). */
export const forbidden = kind(403, 'forbidden');
/** 404: no such resource, route, source or job. */
export const notFound = kind(404, 'not-found');
/** 406: an answer format we cannot produce (`_format=xml`). */
export const notAcceptable = kind(406, 'not-supported');
/** 409: a version conflict or a duplicate the request must not create. */
export const conflict = kind(409, 'conflict');
/** 410: the resource was deleted. */
export const gone = kind(410, 'deleted');
/** 412: `If-Match` or a conditional request's match count does not hold. */
export const preconditionFailed = kind(412, 'conflict');
/** 413: a body over the byte limit (`MAX_BODY_BYTES`). */
export const tooLarge = kind(413, 'too-long');
/** 413: a body over the element budget (`VALIDATION_MAX_ELEMENTS`): refused before it is read or validated. */
export const tooCostly = kind(413, 'too-costly');
/** 415: a body in a media type the route does not take. */
export const unsupportedMediaType = kind(415, 'not-supported');
/** 422: a well-formed resource that fails validation, or a request that cannot be carried out on it. */
export const unprocessable = kind(422, 'processing');
/** 422: work stopped at its time budget (`VALIDATION_TIMEOUT_MS`). */
export const tookTooLong = kind(422, 'too-costly');
/** 500: details stay in the log, never in the response (an outcome given is one already safe to show, such as a failed job's). */
export const serverError = (outcome?: OperationOutcome): FhirError => new FhirError(outcome ?? operationOutcome('exception', 'Internal server error'), 500);
/** 501: an interaction this server was started without (no store). */
export const notImplemented = kind(501, 'not-supported');

/** 405: the method is not allowed on the path; `allowed`, when given, is sent as the `Allow` header. */
export function methodNotAllowed(text: string, allowed?: readonly string[]): FhirError {
  return new FhirError(operationOutcome('not-supported', text), 405, allowed ? { allow: allowed.join(', ') } : undefined);
}

/** 503: work refused to protect the server (a full validation queue); ask again after `retryAfterSeconds`. */
export function serviceUnavailable(text: string, retryAfterSeconds: number): FhirError {
  return new FhirError(operationOutcome('too-costly', text), 503, { 'Retry-After': String(retryAfterSeconds) });
}

/** A success outcome (`Prefer: return=OperationOutcome`, batch entries, accepted jobs). */
export const allOk = (text: string): OperationOutcome => operationOutcome('informational', text, undefined, 'information');

/**
 * The status of an OperationOutcomeError that is not a FhirError: one thrown by a library
 * (@medplum/core's search parser and FHIRPath), since PeerBridge raises FhirErrors only. Medplum
 * marks its outcomes with ids (`not-found`, `forbidden`, ...) and `getStatus` reads them; any other
 * is a 400, or a 500 when its issue code is `exception`.
 */
export function statusOf(outcome: OperationOutcome): number {
  return getStatus(outcome);
}
