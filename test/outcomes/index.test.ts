/**
 * Errors carry their status: each helper of src/outcomes raises one kind of error, with the status
 * and issue code decided there once.
 */
import { badRequest as medplumBadRequest, forbidden as medplumForbidden, notFound as medplumNotFound, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import {
  badRequest,
  conflict,
  FhirError,
  forbidden,
  gone,
  methodNotAllowed,
  notAcceptable,
  notFound,
  notImplemented,
  preconditionFailed,
  serverError,
  serviceUnavailable,
  statusOf,
  tooCostly,
  tookTooLong,
  tooLarge,
  unauthorized,
  unprocessable,
  unsupportedMediaType,
  type ErrorKind,
} from '../../src/outcomes';

const KINDS: [string, number, string, ErrorKind][] = [
  ['badRequest', 400, 'invalid', badRequest],
  ['unauthorized', 401, 'login', unauthorized],
  ['forbidden', 403, 'forbidden', forbidden],
  ['notFound', 404, 'not-found', notFound],
  ['notAcceptable', 406, 'not-supported', notAcceptable],
  ['conflict', 409, 'conflict', conflict],
  ['gone', 410, 'deleted', gone],
  ['preconditionFailed', 412, 'conflict', preconditionFailed],
  ['tooLarge', 413, 'too-long', tooLarge],
  ['tooCostly', 413, 'too-costly', tooCostly],
  ['unsupportedMediaType', 415, 'not-supported', unsupportedMediaType],
  ['unprocessable', 422, 'processing', unprocessable],
  ['tookTooLong', 422, 'too-costly', tookTooLong],
  ['notImplemented', 501, 'not-supported', notImplemented],
];

describe('error helpers', () => {
  test.each(KINDS)('%s: status %i, issue code %s, the text and where it is', (_name, status, code, kind) => {
    const err = kind('what went wrong', 'Patient.name');
    expect(err).toBeInstanceOf(FhirError);
    expect(err.status).toBe(status);
    expect(err.headers).toBeUndefined();
    expect(err.outcome).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code, details: { text: 'what went wrong' }, expression: ['Patient.name'] }],
    });
  });

  test.each(KINDS)('%s: an outcome given whole is kept as is', (_name, status, _code, kind) => {
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'value' },
        { severity: 'warning', code: 'informational' },
      ],
    };
    const err = kind(outcome);
    expect(err.status).toBe(status);
    expect(err.outcome).toBe(outcome);
  });

  test('405 names the allowed methods in Allow when given', () => {
    expect(methodNotAllowed('PATCH is not supported', ['GET', 'PUT'])).toMatchObject({ status: 405, headers: { allow: 'GET, PUT' } });
    expect(methodNotAllowed('PATCH is not supported').headers).toBeUndefined();
  });

  test('503 says when to ask again', () => {
    expect(serviceUnavailable('The validation queue is full', 2)).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '2' },
      outcome: { issue: [{ code: 'too-costly' }] },
    });
  });

  test('500 hides the details unless given an outcome safe to show', () => {
    expect(serverError()).toMatchObject({ status: 500, outcome: { issue: [{ code: 'exception', details: { text: 'Internal server error' } }] } });
    const failed: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', details: { text: 'the export job failed' } }],
    };
    expect(serverError(failed).outcome).toBe(failed);
  });
});

describe('statusOf: OperationOutcomeErrors thrown by libraries', () => {
  test('Medplum outcomes by their ids', () => {
    expect(statusOf(medplumNotFound)).toBe(404);
    expect(statusOf(medplumForbidden)).toBe(403);
    expect(statusOf(new OperationOutcomeError(medplumBadRequest('Unknown search parameter')).outcome)).toBe(400);
  });

  test('any other: 500 for an exception, else 400 (no guess from the issue code)', () => {
    const of = (code: string): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: code as 'invalid' }] });
    expect(statusOf(of('exception'))).toBe(500);
    expect(statusOf(of('not-supported'))).toBe(400);
    expect(statusOf(of('invalid'))).toBe(400);
  });
});
