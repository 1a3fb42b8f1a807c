/**
 * Observes every request once its response is finished (or the client went away: status 499):
 * counts it in the metrics (src/ops/metrics.ts) and, with a logger, writes one JSON line on
 * stdout: `time, level, msg:"request", method, route, status, ms, client`. The route is a
 * pattern (src/http/route-pattern.ts); the line never holds the path as sent, a query value, a
 * header, a token or a body. Level: `error` for 5xx, `warn` for 4xx, else `info`; health checks
 * (`/healthz`, `/readyz`) and `/metrics` scrapes log at `debug` only. `debug` adds the body sizes.
 * Mount first.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Level, Logger } from '../ops/logger';
import { recordRequest } from '../ops/metrics';

export interface RequestObserverOptions {
  routeOf: (req: Request) => string;
  log?: Logger;
}

const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

export function requestObserver(options: RequestObserverOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = performance.now();
    let done = false;
    const finish = (completed: boolean): void => {
      if (done) return;
      done = true;
      const ms = performance.now() - start;
      const status = completed ? res.statusCode : 499;
      const route = options.routeOf(req);
      recordRequest(req.method, route, status, ms / 1000);
      const log = options.log;
      if (!log) return;
      const level: Level = QUIET.has(route) ? 'debug' : status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (!log.enabled(level)) return;
      const clientId = (res.locals.auth as { clientId?: string } | undefined)?.clientId;
      const fields: Record<string, unknown> = { method: req.method, route, status, ms: Math.round(ms * 10) / 10, client: clientId ?? null };
      if (log.enabled('debug')) {
        fields.bytesIn = Number(req.headers['content-length'] ?? 0) || 0;
        fields.bytesOut = Number(res.getHeader('content-length') ?? 0) || 0;
      }
      log.request(level, fields);
    };
    res.on('finish', () => finish(true));
    res.on('close', () => finish(res.writableFinished));
    next();
  };
}
