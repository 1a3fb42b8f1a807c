/**
 * The session cookie on every other route: a request with a live `pb_session` cookie and no
 * `Authorization` header is made by the signed-in user (`res.locals.auth`, session-auth.ts), so
 * `/fhir/*`, `/ingest/*`, the rejects and `$export` apply their access rules to the user as they
 * do to a client. A bearer token wins over the cookie (the cookie is then ignored). A
 * state-changing request (anything but GET, HEAD, OPTIONS) made with the cookie must carry the
 * session's `X-CSRF-Token`, else 403. Mount before `authenticate` (src/auth), which lets a
 * request through that already has its caller; a cookie of no live session leaves the request to
 * it (401 without a token).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { forbidden } from '../outcomes';
import { csrfMatches, readCookie, SAFE_METHODS, SESSION_COOKIE, sessionAuth } from './session-auth';
import type { SessionStore } from './sessions';

export function cookieAuth(sessions: SessionStore, options: { authDisabled: boolean }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (options.authDisabled || req.headers.authorization !== undefined) {
      next();
      return;
    }
    const id = readCookie(req, SESSION_COOKIE);
    if (id === undefined) {
      next();
      return;
    }
    sessions.get(id).then((session) => {
      if (!session) {
        next();
        return;
      }
      if (!SAFE_METHODS.has(req.method.toUpperCase()) && !csrfMatches(req, session.csrfToken)) {
        next(forbidden(`${req.method} with the console session needs the session's X-CSRF-Token header (GET /console/session gives it)`, 'X-CSRF-Token'));
        return;
      }
      res.locals.auth = sessionAuth(session);
      next();
    }, next);
  };
}
