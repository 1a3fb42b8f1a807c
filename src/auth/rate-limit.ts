/**
 * Per-client rate limits: a token bucket per key (the client id once authenticated, else the IP
 * address), refilled at `rate` per second up to `burst`. Over the limit: 429 with `Retry-After`
 * (seconds until one request fits) and an OperationOutcome (`throttled`).
 *
 * Buckets live in this process's memory: behind a load balancer with N processes a client gets up
 * to N times the rate. Idle buckets (full again) are dropped when the map grows, so memory stays
 * bounded by the number of recently active keys. The IP is Express' `req.ip`: set Express'
 * `trust proxy` behind a proxy, or every client shares the proxy's bucket.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FHIR_JSON } from '../outcomes/fhir-json';
import type { AuthContext } from './access-token';
import { DISABLED_AUTH } from './middleware';

interface Bucket {
  tokens: number;
  at: number;
}

/** How many keys before idle buckets are swept. */
const SWEEP_AT = 10_000;

/** A token bucket per key. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    /** Tokens added per second. */
    readonly rate: number,
    /** Bucket size: requests that may arrive at once. */
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`: 0 when allowed, else the seconds to wait (at least 1). */
  take(key: string): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= SWEEP_AT) {
        this.sweep(now);
      }
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rate));
  }

  /** Number of keys held (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) {
        this.buckets.delete(key);
      }
    }
  }
}

export interface RateLimitOptions {
  /** Requests per second; 0 turns the limit off. */
  rate: number;
  burst: number;
  /** The bucket key; default: `client:<id>` when authenticated, else `ip:<address>`. */
  key?: (req: Request, res: Response) => string;
  /** Answer format: OperationOutcome (default) or an OAuth error (token endpoint). */
  format?: 'fhir' | 'oauth';
  now?: () => number;
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
  const limiter = new RateLimiter(options.rate, options.burst, options.now);
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
