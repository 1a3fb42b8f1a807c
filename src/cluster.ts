/**
 * Every core (`WORKERS`, issue 15 item 2): the primary process forks N workers (node:cluster) that
 * each run the whole server (`serve()` in src/server.ts) and share the listening ports; the
 * primary opens no store and answers nothing.
 *
 * The workers share nothing but the database: migrations run under advisory locks, the auth
 * tables (signing key, `jti` replay checks), Bulk Data export leases and the rate limits
 * (src/auth/shared-rate-limit.ts) live there. PGlite is one process's embedded store, so it always
 * runs one process (`workerCount`).
 *
 * A worker that dies without being asked to is forked again after a backoff (0.5 s, doubling up to
 * 30 s); more than `limit` (5) deaths within `windowMs` stop the whole server (exit 1) rather than fork
 * forever (a worker that cannot start, e.g. the database is gone). SIGTERM or SIGINT to the primary
 * is passed to every worker, which finishes its requests and closes its store; the primary exits
 * when all have (0 when every one exited cleanly), or kills what is left after `stopTimeoutMs`.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

export type ClusterLog = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

/** The number of server processes: `WORKERS`, default one per core on PostgreSQL; always 1 on PGlite (with a warning when WORKERS asked for more). */
export function workerCount(config: { WORKERS?: number; DATABASE_URL?: string }, cores = availableParallelism()): { count: number; warning?: string } {
  if (!config.DATABASE_URL) {
    return config.WORKERS !== undefined && config.WORKERS > 1
      ? { count: 1, warning: `WORKERS=${config.WORKERS} ignored: PGlite (no DATABASE_URL) is one process's store, so the server runs one process` }
      : { count: 1 };
  }
  return { count: config.WORKERS ?? Math.max(1, cores) };
}

export interface PrimaryOptions {
  workers: number;
  log: ClusterLog;
  /** First restart delay (ms), doubled per recent death up to `maxDelayMs`. */
  delayMs?: number;
  maxDelayMs?: number;
  /** Deaths within `windowMs` beyond which the server stops instead of forking again. */
  limit?: number;
  windowMs?: number;
  /** How long the workers get to finish after SIGTERM before they are killed (ms). */
  stopTimeoutMs?: number;
}

/** Runs the primary until it is stopped; resolves to the exit code (the caller exits with it). */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { workers, log } = options;
  const delayMs = options.delayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const limit = options.limit ?? 5;
  const windowMs = options.windowMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const live = new Set<Worker>();
  const pending = new Set<NodeJS.Timeout>();
  let deaths: number[] = [];
  let stopping = false;
  let failed = false;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const fork = (): void => {
    const worker = cluster.fork();
    live.add(worker);
  };

  const stop = (signal: NodeJS.Signals, code = 0): void => {
    if (stopping) return;
    stopping = true;
    failed ||= code !== 0;
    for (const t of pending) clearTimeout(t);
    pending.clear();
    log('info', `Stopping ${live.size} worker(s) (${signal})`);
    if (live.size === 0) {
      finish(failed ? 1 : 0);
      return;
    }
    for (const w of live) w.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of live) {
        log('warn', `Worker ${w.process.pid} did not stop within ${stopTimeoutMs} ms: killed`);
        w.process.kill('SIGKILL');
      }
    }, stopTimeoutMs).unref();
  };

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      failed ||= code !== 0 && code !== null;
      if (signal === 'SIGKILL') failed = true;
      if (live.size === 0) finish(failed ? 1 : 0);
      return;
    }
    const now = Date.now();
    deaths = [...deaths.filter((t) => now - t < windowMs), now];
    if (deaths.length > limit) {
      log('error', `Worker ${worker.process.pid} died (${signal ?? `code ${code}`}); ${deaths.length} deaths within ${windowMs / 1000} s: stopping the server`);
      stop('SIGTERM', 1);
      return;
    }
    const wait = Math.min(maxDelayMs, delayMs * 2 ** (deaths.length - 1));
    log('warn', `Worker ${worker.process.pid} died (${signal ?? `code ${code}`}): another starts in ${wait} ms`);
    const t = setTimeout(() => {
      pending.delete(t);
      if (!stopping) fork();
    }, wait);
    pending.add(t);
  });

  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  log('info', `PeerBridge primary ${process.pid}: starting ${workers} worker processes (WORKERS)`);
  for (let i = 0; i < workers; i++) fork();
  return done;
}
