/**
 * Per-client rate limits: a token bucket per key (the client id once authenticated, else the IP
 * address), refilled at `rate` per second up to `burst`. Over the limit: 429 with `Retry-After`
 * (seconds until one request fits) and an OperationOutcome (`throttled`).
 *
 * Buckets live in this process's memory; with `shared` (PostgreSQL, several workers or hosts) each
 * process reconciles its buckets with one row per key in the database every ~150 ms, in the
 * background (src/auth/shared-rate-limit.ts): no request waits for the database. Idle buckets
 * (full again) are dropped when the map grows, so memory stays bounded by the number of recently
 * active keys. The IP is Express' `req.ip`: set Express'
 * `trust proxy` behind a proxy, or every client shares the proxy's bucket.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FHIR_JSON } from '../outcomes/fhir-json';
import type { AuthContext } from './access-token';
import { DISABLED_AUTH } from './middleware';
import type { SqlDriver } from '../store/repository';
import { SharedRateLimiter, type SharedLog } from './shared-rate-limit';
import { RateLimiter } from './token-bucket';

export { RateLimiter } from './token-bucket';

export interface RateLimitOptions {
  /** Requests per second; 0 turns the limit off. */
  rate: number;
  burst: number;
  /** The bucket key; default: `client:<id>` when authenticated, else `ip:<address>`. */
  key?: (req: Request, res: Response) => string;
  /** Answer format: OperationOutcome (default) or an OAuth error (token endpoint). */
  format?: 'fhir' | 'oauth';
  now?: () => number;
  /**
   * Share the buckets through this database (PostgreSQL; ignored on PGlite, one process's store):
   * `scope` names the limit (`fhir`, `token`) so two limits never share a row.
   */
  shared?: { driver: SqlDriver; scope: string; intervalMs?: number; log?: SharedLog };
}

/** The default key: the authenticated client (one with a token: not the AUTH_DISABLED caller), else the IP address. */
export function clientOrIp(req: Request, res: Response): string {
  const auth = res.locals.auth as AuthContext | undefined;
  return auth && auth.clientId !== DISABLED_AUTH.clientId ? `client:${auth.clientId}` : `ip:${req.ip ?? req.socket?.remoteAddress ?? 'unknown'}`;
}

/** Express middleware answering 429 with Retry-After over the limit. */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  if (options.rate <= 0) {
    return (_req, _res, next) => next();
  }
  const shared = options.shared;
  const limiter =
    shared && shared.driver.name === 'pg'
      ? new SharedRateLimiter(options.rate, options.burst, shared.driver, shared.scope, { intervalMs: shared.intervalMs, log: shared.log, now: options.now })
      : new RateLimiter(options.rate, options.burst, options.now);
  if (limiter instanceof SharedRateLimiter) {
    limiter.start();
  }
  return limitWith(limiter, options);
}

/** The middleware over a given limiter (a `SharedRateLimiter` in tests). */
export function limitWith(limiter: RateLimiter, options: Pick<RateLimitOptions, 'key' | 'format'> = {}): RequestHandler {
  const key = options.key ?? clientOrIp;
  return (req: Request, res: Response, next: NextFunction): void => {
    const wait = limiter.take(key(req, res));
    if (wait === 0) {
      next();
      return;
    }
    const text = `Too many requests: try again in ${wait} second${wait === 1 ? '' : 's'}`;
    res.status(429).set('Retry-After', String(wait));
    if (options.format === 'oauth') {
      res.set('Cache-Control', 'no-store').json({ error: 'temporarily_unavailable', error_description: text });
      return;
    }
    const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled', details: { text } }] };
    res.type(FHIR_JSON).send(JSON.stringify(outcome));
  };
}
