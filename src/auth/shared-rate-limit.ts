/**
 * Rate limits shared by every process on one PostgreSQL (`WORKERS` > 1, or several hosts), with
 * no database round trip on a request's path.
 *
 * Each process keeps its local token buckets (src/auth/token-bucket.ts) and answers from them.
 * Every `intervalMs` (default 150 ms) one statement reports, for every key this process used or
 * asked about in the last second, the tokens it took since the last report; the row of
 * `auth_rate_limit` (one per scope and key) is refilled at `rate` by the database's clock, the
 * reported tokens are taken from it (it may go below zero: a debt), and the balance comes back and
 * replaces the local bucket (minus what was taken while the statement ran).
 *
 * Tolerance: the rate over time holds across processes, since every token taken anywhere is
 * charged to the shared row and a debt must be refilled before anyone is let through again. What
 * a process cannot see is what the others took since their last report, so over one interval N
 * processes may together let through up to (N - 1) x (the balance they last saw + rate x interval)
 * more than one process would: at most once a burst (about N x RATE_LIMIT_BURST when a client
 * starts with a full bucket hitting every worker at once), after which the debt holds the client
 * back for as long as it takes the rate to refill it. When the database cannot be reached the
 * buckets stay local (a warning is logged, at most once a minute).
 */
import type { SqlDriver } from '../store/repository';
import { RateLimiter, type Bucket } from './token-bucket';

export type SharedLog = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

/** Keys asked about this recently (ms) are reported even when no token was taken, to learn what other processes took. */
const RECENT_MS = 1000;

/** Rows untouched this long (s) are deleted (a full bucket is the same as no row). */
const STALE_SECONDS = 3600;

/**
 * One statement for every reported key: a new row starts full less what was taken; an existing
 * one is refilled by the database's clock (capped at the burst), then charged. Keys are sorted so
 * two processes lock rows in the same order (no deadlock).
 */
const RECONCILE = `INSERT INTO auth_rate_limit AS r (key, tokens, at)
  SELECT k, $3::float8 - u, clock_timestamp() FROM unnest($1::text[], $2::float8[]) AS t(k, u) ORDER BY k
  ON CONFLICT (key) DO UPDATE
    SET tokens = LEAST($3::float8, r.tokens + GREATEST(0, extract(epoch FROM clock_timestamp() - r.at))::float8 * $4::float8) - ($3::float8 - excluded.tokens),
        at = clock_timestamp()
  RETURNING key, tokens`;

export class SharedRateLimiter extends RateLimiter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastWarn = 0;
  private lastPrune = 0;
  private readonly prefix: string;
  private readonly intervalMs: number;
  private readonly log?: SharedLog;

  constructor(
    rate: number,
    burst: number,
    private readonly driver: SqlDriver,
    scope: string,
    options: { intervalMs?: number; log?: SharedLog; now?: () => number } = {},
  ) {
    super(rate, burst, options.now);
    this.prefix = `${scope}:`;
    this.intervalMs = options.intervalMs ?? 150;
    this.log = options.log;
  }

  protected override pinned(b: Bucket): boolean {
    return b.used > 0;
  }

  /** Reconciles every `intervalMs` in the background (the timer does not keep the process alive). */
  start(): void {
    if (!this.timer) {
      this.timer = setInterval(() => void this.sync(), this.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reconciliation (the timer's; tests call it directly). Never throws. */
  sync(): Promise<void> {
    this.running ??= this.reconcile().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reconcile(): Promise<void> {
    const now = this.now();
    const keys: string[] = [];
    const used: number[] = [];
    for (const [key, b] of this.buckets) {
      if (b.used > 0 || now - b.seen < RECENT_MS) {
        keys.push(key);
        used.push(b.used);
      }
    }
    if (keys.length === 0) {
      return;
    }
    // What is reported is no longer local; what is taken while the statement runs stays in `used`.
    for (const key of keys) {
      this.buckets.get(key)!.used = 0;
    }
    try {
      const { rows } = await this.driver.query<{ key: string; tokens: number }>(RECONCILE, [keys.map((k) => this.prefix + k), used, this.burst, this.rate]);
      const at = this.now();
      for (const row of rows) {
        const b = this.buckets.get(row.key.slice(this.prefix.length));
        if (b) {
          b.tokens = Math.min(this.burst, Number(row.tokens)) - b.used;
          b.at = at;
        }
      }
      if (at - this.lastPrune > 60_000) {
        this.lastPrune = at;
        await this.driver.query(`DELETE FROM auth_rate_limit WHERE at < now() - make_interval(secs => ${STALE_SECONDS})`);
      }
    } catch (e) {
      // Not reported: put the tokens back in `used`, to be charged next time.
      keys.forEach((k, i) => {
        const b = this.buckets.get(k);
        if (b) b.used += used[i];
      });
      if (now - this.lastWarn > 60_000) {
        this.lastWarn = now;
        this.log?.('warn', 'Rate limit: the shared buckets could not be reconciled; limiting per process until they can', {
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }
}
