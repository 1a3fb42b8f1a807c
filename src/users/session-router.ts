/**
 * The console's session endpoints (issue 14 item 4; the contract with the web client is in
 * README, "Console sign-in"):
 *
 * - `POST /console/session` `{"username","password"}`: 200 `{user, csrfToken}` and the
 *   `pb_session` cookie; 401 (the same answer for an unknown name and a wrong password); 429 with
 *   `Retry-After` while the name is locked out (CONSOLE_LOCKOUT_FAILURES failures within
 *   CONSOLE_LOCKOUT_MINUTES; a success forgets them); per IP address at most
 *   AUTH_TOKEN_RATE_PER_MINUTE sign-ins a minute, like the token endpoint (429). JSON only, so a
 *   cross-site form cannot sign anyone in (login CSRF).
 * - `GET /console/session`: the signed-in user and the session's CSRF token; 401 when not signed
 *   in; `{"user":null,"authDisabled":true,"csrfToken"}` with AUTH_DISABLED=true.
 * - `DELETE /console/session` (with `X-CSRF-Token`): 204, the session deleted and the cookie cleared.
 *
 * Sign-in, refusals, lock-outs and sign-out are audited (never the password or the session id).
 */
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { badRequest, FhirError, forbidden, operationOutcome, unauthorized, unsupportedMediaType } from '../outcomes';
import { contentType } from '../outcomes/fhir-json';
import { actorOrganization } from '../audit/writer';
import { rateLimit } from '../auth/rate-limit';
import type { UserLoginOutcome } from '../audit/event';
import { cookieOptions, csrfMatches, readCookie, SESSION_COOKIE, sessionUser } from './session-auth';
import type { Session, SessionStore } from './sessions';
import { MAX_PASSWORD_CHARS, nameProblems, normalName, type UserStore } from './users';

export interface SessionRouterDeps {
  users: UserStore;
  sessions: SessionStore;
  /** AUTH_DISABLED=true: nobody signs in, the console works without a session. */
  authDisabled: boolean;
  /** `Secure` on the cookie (the public base URL is https). */
  secureCookie: boolean;
  /** Records a sign-in event (`actor`: the user's organization when they have one). */
  onLogin?: (event: UserLoginOutcome, actor?: string) => void;
  /** `GET /console/api/config`'s body. */
  consoleConfig: () => unknown;
  /** Sign-in requests per minute per IP address, whatever the name (0: no limit); the lock-out is per name. */
  signInRatePerMinute?: number;
}

const BAD_CREDENTIALS = 'Wrong user name or password';
/** Without a session the console asks for a sign-in. */
const SIGN_IN = 'Not signed in to the console: sign in with POST /console/session';

/** Wraps an async handler so its rejection reaches the error handler. */
const handle =
  (fn: (req: Request, res: Response) => Promise<void>) =>
  (req: Request, res: Response, next: NextFunction): void => {
    fn(req, res).catch(next);
  };

export function sessionRouter(deps: SessionRouterDeps): Router {
  const router = express.Router();
  // With AUTH_DISABLED there is no session: one token for the process, which the console sends back as it would a session's.
  const disabledCsrf = randomBytes(32).toString('base64url');
  const address = (req: Request): string | undefined => req.ip ?? req.socket?.remoteAddress;
  const body = (session: Session): Record<string, unknown> => ({ user: sessionUser(session), authDisabled: false, csrfToken: session.csrfToken });
  const current = (req: Request): Promise<Session | undefined> => deps.sessions.get(readCookie(req, SESSION_COOKIE));

  const perIp = rateLimit({
    rate: (deps.signInRatePerMinute ?? 0) / 60,
    burst: Math.max(1, Math.ceil((deps.signInRatePerMinute ?? 0) / 6)),
    key: (req) => `console-sign-in:${req.ip ?? 'unknown'}`,
  });
  router.post(
    '/console/session',
    perIp,
    (req, _res, next) => {
      // Checked before the body is read: a form or text/plain body (what a cross-site page can send without asking) is never parsed.
      next(
        contentType(req) === 'application/json'
          ? undefined
          : unsupportedMediaType('Sign in with a JSON body {"username": ..., "password": ...} (Content-Type: application/json)'),
      );
    },
    express.json({ limit: '16kb', type: () => true }),
    handle(async (req, res) => {
      if (deps.authDisabled) {
        throw new FhirError(operationOutcome('not-supported', 'AUTH_DISABLED=true: the console works without signing in'), 409);
      }
      const input = req.body as Record<string, unknown> | undefined;
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('The body must be a JSON object {"username": ..., "password": ...}');
      if (typeof input.username !== 'string' || input.username.trim() === '') throw badRequest('username is required (a string)', 'username');
      if (typeof input.password !== 'string' || input.password === '') throw badRequest('password is required (a string)', 'password');
      if (input.password.length > MAX_PASSWORD_CHARS) throw badRequest(`password is longer than ${MAX_PASSWORD_CHARS} characters`, 'password');
      const name = normalName(input.username);
      // A name no user could have is refused as a wrong password would be (and audited without the name).
      const claimed = nameProblems(name).length === 0 ? name : undefined;
      const locked = claimed ? await deps.sessions.lockedFor(claimed) : 0;
      if (locked > 0) {
        deps.onLogin?.({ kind: 'locked', userName: claimed, address: address(req) });
        throw new FhirError(operationOutcome('lock-error', `Too many failed sign-ins for this user name: try again in ${locked} seconds`), 429, {
          'Retry-After': String(locked),
        });
      }
      const user = claimed ? await deps.users.verify(claimed, input.password) : await deps.users.verify('', input.password);
      if (!user) {
        if (claimed) await deps.sessions.recordFailure(claimed);
        deps.onLogin?.({ kind: 'refused', userName: claimed, address: address(req) });
        throw unauthorized(BAD_CREDENTIALS);
      }
      await deps.sessions.clearFailures(user.name);
      // A session cookie the browser already had is replaced (and its session ended): no fixation.
      await deps.sessions.delete(readCookie(req, SESSION_COOKIE));
      const { id, session } = await deps.sessions.create(user.name);
      deps.onLogin?.({ kind: 'login', userName: user.name, address: address(req) }, actorOrganization({ organizations: user.organizations }));
      res.cookie(SESSION_COOKIE, id, cookieOptions(deps.secureCookie));
      res.status(200).json(body(session));
    }),
  );

  router.get(
    '/console/session',
    handle(async (req, res) => {
      if (deps.authDisabled) {
        res.status(200).json({ user: null, authDisabled: true, csrfToken: disabledCsrf });
        return;
      }
      const session = await current(req);
      if (!session) throw unauthorized(SIGN_IN);
      res.status(200).json(body(session));
    }),
  );

  router.delete(
    '/console/session',
    handle(async (req, res) => {
      const id = readCookie(req, SESSION_COOKIE);
      const session = deps.authDisabled ? undefined : await deps.sessions.get(id, false);
      if (!session) {
        res.clearCookie(SESSION_COOKIE, cookieOptions(deps.secureCookie));
        throw unauthorized(deps.authDisabled ? 'AUTH_DISABLED=true: there is no session to end' : SIGN_IN);
      }
      if (!csrfMatches(req, session.csrfToken)) throw forbidden("Sign-out needs the session's X-CSRF-Token header", 'X-CSRF-Token');
      await deps.sessions.delete(id);
      deps.onLogin?.({ kind: 'logout', userName: session.userName, address: address(req) }, actorOrganization({ organizations: session.organizations }));
      res.clearCookie(SESSION_COOKIE, cookieOptions(deps.secureCookie));
      res.status(204).end();
    }),
  );

  router.get(
    '/console/api/config',
    handle(async (req, res) => {
      if (!deps.authDisabled && !(await current(req))) throw unauthorized(SIGN_IN);
      res.status(200).json(deps.consoleConfig());
    }),
  );
  return router;
}
