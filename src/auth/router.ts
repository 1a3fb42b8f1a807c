/**
 * The Express side of the token endpoint and the SMART configuration (the logic is in token.ts):
 * - `POST /auth/token` (application/x-www-form-urlencoded, at most 64 KB), rate-limited per IP;
 *   answers and errors are OAuth JSON (RFC 6749 section 5), never OperationOutcomes;
 * - `GET /.well-known/smart-configuration`, and the same under `/fhir` (SMART puts it at
 *   `[base]/.well-known/smart-configuration`).
 * Mount it at the app's root, before authentication.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { RequestUrls } from './config';
import type { Log } from './middleware';
import type { SqlDriver } from '../store/repository';
import { rateLimit } from './rate-limit';
import { smartConfiguration, tokenRequest, type TokenDeps } from './token';

const FORM = 'application/x-www-form-urlencoded';
const MAX_FORM_BYTES = 64 * 1024;

export interface AuthRouterDeps {
  token: TokenDeps;
  /** The server's URLs (from the public base, never from a request's Host). */
  urls: RequestUrls;
  /** Token requests per minute per IP address; 0 turns the limit off. */
  tokenRatePerMinute: number;
  /** Shares the token endpoint's limit through this database (PostgreSQL: every worker and host). */
  driver?: SqlDriver;
  log?: Log;
}

function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({ error, error_description: description });
}

/** The router to mount at the app's root (`app.use(router)`). */
export function authRouter(deps: AuthRouterDeps): express.Router {
  const router = express.Router();
  const wellKnown = (_req: Request, res: Response): void => {
    res.set('Cache-Control', 'public, max-age=300').json(smartConfiguration(deps.urls.tokenUrl));
  };
  router.get('/.well-known/smart-configuration', wellKnown);
  router.get('/fhir/.well-known/smart-configuration', wellKnown);

  const limit = rateLimit({
    rate: deps.tokenRatePerMinute / 60,
    burst: Math.max(1, Math.ceil(deps.tokenRatePerMinute / 6)),
    key: (req) => `ip:${req.ip ?? 'unknown'}`,
    format: 'oauth',
    shared: deps.driver ? { driver: deps.driver, scope: 'token', log: deps.log } : undefined,
  });
  router.post(
    '/auth/token',
    limit,
    (req: Request, res: Response, next: NextFunction) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== FORM) {
        req.resume();
        oauthError(res, 400, 'invalid_request', `Content-Type must be ${FORM}`);
        return;
      }
      next();
    },
    express.text({ type: FORM, limit: MAX_FORM_BYTES }),
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
        const answer = await tokenRequest(form, deps.urls, deps.token);
        res.status(answer.status).set(answer.headers).json(answer.body);
      } catch (e) {
        next(e);
      }
    },
  );
  router.all('/auth/token', (_req: Request, res: Response) => {
    res.set('Allow', 'POST');
    oauthError(res, 405, 'invalid_request', 'The token endpoint takes POST only');
  });
  // Errors of the token endpoint (body too large, unreadable, or a server fault) stay OAuth JSON.
  router.use('/auth/token', (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number })?.status ?? 500;
    if (status === 413) {
      oauthError(res, 413, 'invalid_request', `The request body is over ${MAX_FORM_BYTES} bytes`);
    } else if (status >= 400 && status < 500) {
      oauthError(res, 400, 'invalid_request', 'The request body could not be read');
    } else {
      deps.log?.('error', 'token endpoint error', { error: err instanceof Error ? err.stack : String(err) });
      oauthError(res, 500, 'server_error', 'Internal server error');
    }
  });
  return router;
}
