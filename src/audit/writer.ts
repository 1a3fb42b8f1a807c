/**
 * The audit trail's writer: events are queued in memory and written in batches with
 * `repo.updateMany` (one statement per table per batch, ids assigned here as UUIDs), every
 * `flushMs` or as soon as `batchSize` are waiting, so a request never waits for its audit write.
 *
 * Bounded: when the store cannot take them, failed batches go back to the head of the queue and
 * are retried with a growing delay. From `highWater` queued events on, `room()` makes new
 * requests wait until the writer has caught up (back-pressure, src/audit/middleware.ts), so the
 * queue stays near the bound however fast requests come; beyond `maxQueued` (reached only by
 * requests already in flight) new events are dropped and counted, and the count (never an
 * event's content) is logged. `close()` writes what is left.
 *
 * What a crash can lose: a request's event is queued when its response has been sent, and written
 * within `flushMs` (200 ms) or as soon as a batch is full. A `kill -9` or power loss loses the
 * events queued and not yet committed: those of the responses sent in the last `flushMs` plus the
 * one batch being written (test/audit/crash.test.ts measures it). A clean stop (SIGTERM, SIGINT)
 * writes them all.
 *
 * Each event goes with the organization of the client it records (when it has exactly one): the
 * store makes it the event's owner when the event is about no record an organization owns
 * (src/store/audit-owners.ts), so auditors find only their organizations' events.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Repository } from '../store/repository';
import { ALL_ORGANIZATIONS } from '../auth/clients';

/** A queued event and its actor's organization. */
interface Queued {
  event: AuditEvent;
  actor?: string;
}

export type Log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

export interface AuditWriterOptions {
  /** Longest wait before a queued event is written (ms). */
  flushMs?: number;
  /** Events per write; a full batch is written at once. */
  batchSize?: number;
  /** Events kept while the store is failing; more are dropped (and counted). */
  maxQueued?: number;
  /** Longest delay between retries while the store is failing (ms). */
  maxRetryMs?: number;
  /** Queued events from which `room()` asks new requests to wait (default half of maxQueued). */
  highWater?: number;
  log?: Log;
}

/** Counters, for tests and monitoring. */
export interface AuditStats {
  written: number;
  dropped: number;
  failedWrites: number;
  queued: number;
}

/** The organization of a client registered for exactly one (not for every one): an event's owner when it is about no owned record. */
export function actorOrganization(caller: { organizations: readonly string[]; allOrganizations?: boolean } | undefined): string | undefined {
  if (!caller || caller.allOrganizations || caller.organizations.includes(ALL_ORGANIZATIONS)) return undefined;
  return caller.organizations.length === 1 ? caller.organizations[0] : undefined;
}

export class AuditWriter {
  private queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private retryMs = 0;
  private closed = false;
  private droppedSinceLog = 0;
  private readonly stats_ = { written: 0, dropped: 0, failedWrites: 0 };
  private readonly flushMs: number;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly maxRetryMs: number;
  private readonly highWater: number;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly repo: Pick<Repository, 'updateMany'>,
    private readonly options: AuditWriterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 200;
    this.batchSize = options.batchSize ?? 100;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.maxRetryMs = options.maxRetryMs ?? 5_000;
    this.highWater = Math.min(options.highWater ?? Math.floor(this.maxQueued / 2), this.maxQueued);
  }

  /**
   * Back-pressure: undefined while the queue is under `highWater`, else a promise that resolves
   * when it is back under it (after a write), or with false after `timeoutMs`.
   */
  room(timeoutMs: number): Promise<boolean> | undefined {
    if (this.queue.length < this.highWater || this.closed) {
      return undefined;
    }
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(ok);
      };
      const wake = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.push(wake);
    });
  }

  private wakeWaiters(): void {
    if (this.waiters.length > 0 && this.queue.length < this.highWater) {
      for (const w of [...this.waiters]) w();
    }
  }

  get stats(): AuditStats {
    return { ...this.stats_, queued: this.queue.length };
  }

  /**
   * Queues one event (never throws, never waits). `actor`: the organization of the client the
   * event records, when it is registered for exactly one (`actorOrganization`).
   */
  record(event: AuditEvent, actor?: string): void {
    if (this.queue.length >= this.maxQueued) {
      this.stats_.dropped++;
      this.droppedSinceLog++;
      return;
    }
    this.queue.push(actor ? { event, actor } : { event });
    if (this.closed) {
      // After close() an event is written on its own rather than lost.
      void this.flush();
      return;
    }
    if (this.queue.length >= this.batchSize && this.retryMs === 0 && !this.inFlight) {
      this.schedule(0);
    } else {
      this.schedule(this.retryMs || this.flushMs);
    }
  }

  private schedule(ms: number): void {
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  /** Writes queued events (one batch after another) until the queue is empty or a write fails. */
  flush(): Promise<void> {
    if (this.inFlight) return this.inFlight.then(() => (this.queue.length > 0 && this.retryMs === 0 ? this.flush() : undefined));
    this.inFlight = this.drain().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        await this.repo.updateMany(
          batch.map((q) => q.event),
          { auditActors: batch.map((q) => q.actor) },
        );
        this.stats_.written += batch.length;
        this.retryMs = 0;
        this.wakeWaiters();
      } catch (err) {
        this.stats_.failedWrites++;
        // Back to the head, oldest first; what does not fit under the bound is dropped.
        const room = Math.max(0, this.maxQueued - this.queue.length);
        const kept = batch.slice(0, room);
        const lost = batch.length - kept.length;
        this.queue.unshift(...kept);
        this.stats_.dropped += lost;
        this.droppedSinceLog += lost;
        this.retryMs = Math.min(this.maxRetryMs, Math.max(this.flushMs, this.retryMs * 2));
        this.options.log?.('error', 'audit: writing AuditEvents failed; they stay queued and are retried', {
          events: batch.length,
          queued: this.queue.length,
          retryMs: this.retryMs,
          // The error's name and SQLSTATE only: a driver's message may quote values.
          error: err instanceof Error ? err.name : 'unknown',
          code: typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined,
        });
        this.logDropped();
        if (!this.closed) this.schedule(this.retryMs);
        return;
      }
    }
    this.logDropped();
  }

  private logDropped(): void {
    if (this.droppedSinceLog > 0) {
      this.options.log?.('error', 'audit: AuditEvents dropped (queue full while the store was failing)', {
        dropped: this.droppedSinceLog,
        droppedTotal: this.stats_.dropped,
      });
      this.droppedSinceLog = 0;
    }
  }

  /** Stops the timer and writes what is queued (one attempt per batch; failures are logged and counted). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.waiters]) w();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight) await this.inFlight;
    this.retryMs = 0;
    await this.flush();
    if (this.queue.length > 0) {
      this.stats_.dropped += this.queue.length;
      this.droppedSinceLog += this.queue.length;
      this.queue = [];
      this.logDropped();
    }
  }
}
