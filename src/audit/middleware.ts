/**
 * Express middleware that records an AuditEvent for every request once its response is finished
 * (`res.on('finish')`, or `close` when the client went away first), so no handler has to know
 * about audit. Mount it first, before authentication: 401s and 403s are recorded too.
 *
 * What it reads: the method, the path, the NAMES of query (and form `_search`) parameters, the
 * request Bundle's entry methods and URLs (paths only), the status, the `Content-Location` of a
 * Bulk Data kick-off, `res.locals.auth` (the client), the caller's address and the
 * `X-Purpose-Of-Use` header (a v3 PurposeOfUse code; anything else is ignored). Never a value.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuthContext } from '../auth/access-token';
import { classify } from './classify';
import { requestEvent, tokenEvent, type SourceInfo } from './event';
import { actorOrganization } from './writer';
import { serviceUnavailable } from '../outcomes';

/** The request header a client may state its purpose of use in (one v3 PurposeOfUse code). */
export const PURPOSE_HEADER = 'x-purpose-of-use';

/** v3 PurposeOfUse (https://terminology.hl7.org/ValueSet-v3-PurposeOfUse.html) codes accepted in the header. */
const PURPOSES = new Set(
  (
    'PurposeOfUse HMARKT HOPERAT CAREMGT DONAT FRAUD GOV HACCRED HCOMPL HDECD HDIRECT HDM HLEGAL HOUTCOMS HPRGRP HQUALIMP HSYSADMIN ' +
    'LABELING METAMGT MEMADMIN MILCDM PATADMIN PATSFTY PERFMSR RECORDMGT SYSDEV HTEST TRAIN HPAYMT CLMATTCH COVAUTH COVERAGE ELIGDTRM ' +
    'ELIGVER ENROLLM MILDCRG REMITADV HRESCH BIORCH CLINTRCH CLINTRCHNPC CLINTRCHPC PRECLINTRCH DSRCH POARCH TRANSRCH PATRQT FAMRQT ' +
    'PWATRNY SUPNWK PUBHLTH DISASTER THREAT TREAT CLINTRL COC ETREAT BTG ERTREAT POPHLTH'
  ).split(' '),
);
PURPOSES.delete('PurposeOfUse');

/** The stated purpose of use: `TREAT`, or `<system>|TREAT`; undefined when absent or not a known code. */
export function purposeOf(header: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
  if (!first || first.length > 200) return undefined;
  const code = first
    .slice(first.lastIndexOf('|') + 1)
    .trim()
    .toUpperCase();
  return PURPOSES.has(code) ? code : undefined;
}

/** Splits a request target (origin or absolute form) into its path and query string. */
export function splitTarget(url: string): { path: string; query: string } {
  const at = url.indexOf('?');
  let path = at < 0 ? url : url.slice(0, at);
  const query = at < 0 ? '' : url.slice(at + 1);
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (abs) path = path.slice(abs[0].length) || '/';
  return { path: path.split('#')[0], query };
}

export interface AuditMiddlewareDeps {
  /** Queues an event with the organization of the client it records (`actorOrganization`). */
  record(event: AuditEvent, actor?: string): void;
  isResourceType: (type: string) => boolean;
  source: SourceInfo;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
  /**
   * Back-pressure (AuditWriter.room): undefined when the audit queue has room, else a promise of
   * room (true) or of the wait running out (false: the request is answered 503, unserved).
   */
  room?: () => Promise<boolean> | undefined;
}

const FORM = 'application/x-www-form-urlencoded';

/** Token requests the token endpoint itself reported (onEvent): this middleware leaves them out. */
function tokenEndpointReported(req: Request, status: number): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return req.method === 'POST' && type === FORM && (status === 200 || status === 400 || status === 401);
}

/** The middleware (mount with `app.use` before anything else). */
export function auditMiddleware(deps: AuditMiddlewareDeps): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = new Date();
    const target = req.url;
    let done = false;
    const finish = (completed: boolean): void => {
      if (done) return;
      done = true;
      try {
        const status = completed ? res.statusCode : 499;
        const { path, query } = splitTarget(target);
        const address = req.ip ?? req.socket?.remoteAddress;
        if (path.replace(/\/+$/, '').toLowerCase() === '/auth/token') {
          if (!tokenEndpointReported(req, status)) {
            deps.record(tokenEvent({ issued: false, error: `HTTP ${status}`, address }, deps.source, new Date()));
          }
          return;
        }
        const names: string[] = [];
        if (query) for (const k of new URLSearchParams(query).keys()) names.push(k);
        if (req.body instanceof URLSearchParams) for (const k of req.body.keys()) names.push(k);
        const location = res.getHeader('content-location');
        const classified = classify(
          { method: req.method, path, paramNames: names, body: req.body, status, contentLocation: typeof location === 'string' ? location : undefined },
          deps.isResourceType,
        );
        if (!classified) return;
        const auth = res.locals.auth as AuthContext | undefined;
        const agent = {
          clientId: auth?.clientId,
          clientName: auth?.clientName,
          userName: auth?.userName,
          address,
          purposeOfUse: purposeOf(req.headers[PURPOSE_HEADER]),
        };
        deps.record(requestEvent(classified, agent, deps.source, status, start, new Date()), actorOrganization(auth));
      } catch (err) {
        deps.log?.('error', 'audit: could not build the AuditEvent of a request', { method: req.method, error: err instanceof Error ? err.name : 'unknown' });
      }
    };
    res.once('finish', () => finish(true));
    // `close` without `finish`: the client went away before the whole response was sent.
    res.once('close', () => finish(res.writableFinished));
    const wait = deps.room?.();
    if (!wait) {
      next();
      return;
    }
    // The audit trail is behind (the store is slow or down): the request waits rather than the queue growing without bound.
    void wait.then((ok) => {
      if (ok) {
        next();
        return;
      }
      next(serviceUnavailable('The audit trail is behind (the store is slow or unreachable); the request was not served: retry later', 5));
    });
  };
}
