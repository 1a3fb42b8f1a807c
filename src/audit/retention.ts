/**
 * Audit retention (issue 15): AuditEvents older than a configured age are archived to NDJSON
 * files and deleted from the store, so the store does not grow by one row per request forever.
 *
 * One batch at a time, in one transaction: the batch's rows are locked (`FOR UPDATE SKIP LOCKED`,
 * so several server processes can sweep at once without archiving an event twice), appended to
 * the archive file and fsynced, then deleted with their history and search rows, and committed.
 * The file is written before the delete commits: a crash between the two leaves the batch both in
 * the file and in the store, and the next sweep archives it again (at least once, never lost;
 * an event's `id` tells duplicates apart). Archive files are created 0600 and never overwritten.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlDriver } from '../store/repository';
import { SEARCH_VALUE_TABLES } from '../store/schema';

export interface ArchiveOptions {
  /** Events last updated before this instant are archived. */
  before: Date;
  /** Folder of the archive files (created when missing). */
  dir: string;
  /** Events per transaction. */
  batchSize?: number;
  /** The archive file's name (default `AuditEvent-<now, compact ISO>.ndjson`). */
  fileName?: string;
}

export interface ArchiveResult {
  archived: number;
  /** The file written, when any event was archived. */
  file?: string;
}

/** Archives and deletes the AuditEvents older than `before`; returns how many and where. */
export async function archiveAuditEvents(driver: SqlDriver, options: ArchiveOptions): Promise<ArchiveResult> {
  const batchSize = options.batchSize ?? 1000;
  const file = join(
    options.dir,
    options.fileName ??
      `AuditEvent-${new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}.ndjson`,
  );
  let fd: number | undefined;
  let archived = 0;
  try {
    for (;;) {
      const n = await driver.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string; content: string }>(
          `SELECT id, content::text AS content FROM fhir_resource
            WHERE resource_type = 'AuditEvent' AND last_updated < $1
            ORDER BY last_updated, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [options.before.toISOString(), batchSize],
        );
        if (rows.length === 0) {
          return 0;
        }
        if (fd === undefined) {
          mkdirSync(options.dir, { recursive: true, mode: 0o700 });
          fd = openSync(file, 'a', 0o600);
        }
        writeSync(fd, rows.map((r) => r.content).join('\n') + '\n');
        fsyncSync(fd);
        const ids = rows.map((r) => r.id);
        for (const table of ['fhir_resource', 'fhir_history', ...SEARCH_VALUE_TABLES]) {
          await tx.query(`DELETE FROM ${table} WHERE resource_type = 'AuditEvent' AND id = ANY($1)`, [ids]);
        }
        return rows.length;
      });
      archived += n;
      if (n < batchSize) {
        break;
      }
    }
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
    }
  }
  return archived > 0 ? { archived, file } : { archived };
}

export interface RetentionOptions {
  driver: SqlDriver;
  /** Events older than this many days are archived. */
  days: number;
  dir: string;
  /** Time between sweeps (ms); the first runs at once. */
  everyMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

/** Sweeps now and then every `everyMs` until stopped; a failed sweep is logged and tried at the next. */
export function scheduleRetention(options: RetentionOptions): { stop(): Promise<void>; sweep(): Promise<ArchiveResult> } {
  let running: Promise<ArchiveResult> | undefined;
  const sweep = (): Promise<ArchiveResult> => {
    running ??= archiveAuditEvents(options.driver, { before: new Date(Date.now() - options.days * 86_400_000), dir: options.dir })
      .then((r) => {
        if (r.archived > 0) options.log?.('info', 'audit: AuditEvents archived and deleted', { archived: r.archived, file: r.file });
        return r;
      })
      .catch((err: unknown) => {
        options.log?.('error', 'audit: archiving AuditEvents failed; tried again at the next sweep', { error: err instanceof Error ? err.name : 'unknown' });
        return { archived: 0 };
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), options.everyMs ?? 3_600_000);
  timer.unref();
  void sweep();
  return {
    sweep,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
