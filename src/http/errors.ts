/**
 * Where every failure becomes an answer (STYLE.md 4): a FhirError is sent with the status and
 * headers it carries (src/outcomes), an OperationOutcomeError from a library with `statusOf`, a
 * client error of Express or Node (4xx `status`) as a 400-style outcome, anything else as a 500
 * whose details go to the log, never to the client.
 */
import type { NextFunction, Request, Response } from 'express';
import { FhirError, notFound, operationOutcome, OperationOutcomeError, serverError, statusOf } from '../outcomes';
import { sendFhir } from '../outcomes/fhir-json';

export type Log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

/** The last route: nothing answered the request. */
export function noRoute(req: Request, _res: Response, next: NextFunction): void {
  next(notFound(`Not found: ${req.method} ${req.path}`));
}

/** The error middleware, mounted last. */
export function errorHandler(log: Log | undefined) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof FhirError) {
      if (err.headers) res.set(err.headers);
      sendFhir(res, err.status, err.outcome);
      return;
    }
    if (err instanceof OperationOutcomeError) {
      sendFhir(res, statusOf(err.outcome), err.outcome);
      return;
    }
    const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
    if (status && status >= 400 && status < 500) {
      sendFhir(res, status, operationOutcome('invalid', (err as Error).message ?? 'Bad request'));
      return;
    }
    log?.('error', 'unhandled error', { method: req.method, path: req.path, error: err instanceof Error ? err.stack : String(err) });
    sendFhir(res, 500, serverError().outcome);
  };
}
