/**
 * Express middleware: `authenticate` checks the bearer token (RFC 6750) and puts the caller in
 * `res.locals.auth`; `authorize` checks the caller's scopes against what the request needs
 * (permissions.ts) once the body has been read. Public paths (metadata, SMART configuration,
 * token endpoint) pass both without a token.
 *
 * Failures are OperationOutcomes (application/fhir+json): 401 with `WWW-Authenticate: Bearer`
 * (`error="invalid_token"` when a token was sent but is not valid; RFC 6750 section 3.1 gives no
 * error code when none was sent), 403 `forbidden` for scopes. Neither tokens nor query strings
 * (which may hold PHI) are logged or put in events.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, unauthorized } from '../outcomes';
import { FHIR_JSON } from '../outcomes/fhir-json';
import { InvalidTokenError, type AccessTokenVerifier, type AuthContext, type TokenAudience } from './access-token';
import { checkPermission, isPublic } from './permissions';
import { ADMIN_TYPES, CLIENT_ADMIN_TYPE, parseScopes } from './scopes';

export { checkPermission, checkBundleEntries, requiredPermission, type Requirement } from './permissions';

export type Log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

const REALM = 'peerbridge';
const BEARER_RE = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Something that happened to a request, for audit. Never holds a token or a query string. */
export type AccessEvent =
  | { type: 'invalid-token'; method: string; path: string; reason: string }
  | { type: 'access-denied'; clientId: string; method: string; path: string; reason: string };

/** The caller when auth is disabled: every scope (the admin ones and the client registry too) and every organization. */
const ALL_SCOPES = ['system/*.cruds', ...[...ADMIN_TYPES, CLIENT_ADMIN_TYPE].map((t) => `system/${t}.cruds`)];
export const DISABLED_AUTH: AuthContext = Object.freeze({
  clientId: 'auth-disabled',
  clientName: 'Authentication disabled (AUTH_DISABLED=true)',
  scope: ALL_SCOPES.join(' '),
  scopes: parseScopes(ALL_SCOPES),
  organizations: [],
  allOrganizations: true,
  hiddenTypes: [],
});

export interface AuthenticateOptions {
  verifier: Pick<AccessTokenVerifier, 'verify' | 'verifyCached'>;
  /** The `iss` and `aud` tokens must carry for this request. */
  expected: (req: Request) => TokenAudience;
  /** true: every request passes as DISABLED_AUTH (logs one warning when the middleware is built). */
  disabled?: boolean;
  log?: Log;
  onEvent?: (event: AccessEvent) => void;
}

/** The auth of a request that passed `authenticate`, or undefined (public path). */
export function authOf(res: Response): AuthContext | undefined {
  return res.locals.auth as AuthContext | undefined;
}

/** The path from the app's root, without its query string (which may hold PHI). */
export function pathOnly(req: Request): string {
  return `${req.baseUrl ?? ''}${req.path}`;
}

/**
 * The path from the app's root with its query string, as Express routed it (`req.originalUrl`
 * may be an absolute URL when the request line is in absolute form).
 */
export function requestPath(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const at = url.indexOf('?');
  return at < 0 ? pathOnly(req) : `${pathOnly(req)}${url.slice(at)}`;
}

function sendUnauthorized(res: Response, text: string, error?: 'invalid_token', expired = false): void {
  const challenge = error ? `Bearer realm="${REALM}", error="${error}", error_description="${text.replace(/["\\]/g, '')}"` : `Bearer realm="${REALM}"`;
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: expired ? 'expired' : 'login', details: { text } }],
  };
  res.status(401).set('WWW-Authenticate', challenge).type(FHIR_JSON).send(JSON.stringify(outcome));
}

/** Checks `Authorization: Bearer <token>` and sets `res.locals.auth` (AuthContext). */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  if (options.disabled) {
    options.log?.('warn', 'AUTH_DISABLED=true: every request is served without authentication, with full access; never do this with real records');
  }
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (options.disabled) {
      res.locals.auth = DISABLED_AUTH;
      next();
      return;
    }
    if (isPublic(req.method, requestPath(req))) {
      next();
      return;
    }
    const header = req.headers.authorization;
    if (!header && res.locals.auth) {
      // Signed in to the console (src/users): the session cookie was checked before; a bearer token wins over it.
      next();
      return;
    }
    if (!header) {
      sendUnauthorized(
        res,
        'An access token is required: get one at the token endpoint (see /.well-known/smart-configuration) and send it as Authorization: Bearer <token>',
      );
      return;
    }
    const m = BEARER_RE.exec(header);
    if (!m) {
      options.onEvent?.({ type: 'invalid-token', method: req.method, path: pathOnly(req), reason: 'not a Bearer token' });
      sendUnauthorized(res, 'The Authorization header must be Bearer <token>', 'invalid_token');
      return;
    }
    const expected = options.expected(req);
    const cached = options.verifier.verifyCached(m[1], expected);
    if (cached) {
      res.locals.auth = cached;
      next();
      return;
    }
    try {
      res.locals.auth = await options.verifier.verify(m[1], expected);
    } catch (e) {
      if (e instanceof InvalidTokenError) {
        options.onEvent?.({ type: 'invalid-token', method: req.method, path: pathOnly(req), reason: e.message });
        sendUnauthorized(res, `The access token is not valid: ${e.message}`, 'invalid_token', e.expired);
        return;
      }
      next(e);
      return;
    }
    next();
  };
}

export interface AuthorizeOptions {
  onEvent?: (event: AccessEvent) => void;
}

/**
 * Checks the scopes of `res.locals.auth` against the request (method, path with query, parsed
 * body, headers): 403 OperationOutcome when they do not allow it. Mount it after the body is
 * read (Bundles, form `_search`, `$export` Parameters are checked from the body).
 */
export function authorize(options: AuthorizeOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = requestPath(req);
    const auth = authOf(res);
    if (!auth) {
      if (isPublic(req.method, path)) {
        next();
        return;
      }
      next(unauthorized('An access token is required'));
      return;
    }
    try {
      checkPermission(auth, req.method, path, req.body, req.headers);
    } catch (e) {
      if (e instanceof FhirError) {
        options.onEvent?.({
          type: 'access-denied',
          clientId: auth.clientId,
          method: req.method,
          path: pathOnly(req),
          reason: e.outcome.issue?.[0]?.details?.text ?? 'forbidden',
        });
      }
      next(e);
      return;
    }
    next();
  };
}
