/**
 * `peerbridge audit archive --older-than-days <n> [--out <dir>]`: archives the AuditEvents older
 * than n days of the configured store (DATABASE_URL, else PGlite in DATA_DIR) to an NDJSON file
 * and deletes them, as the server does hourly with AUDIT_RETENTION_DAYS (src/audit/retention.ts).
 * Exit 0 done, 1 the store failed, 2 usage or I/O error (an embedded store held by a running
 * server included: set AUDIT_RETENTION_DAYS on the server instead).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { archiveAuditEvents } from '../audit/retention';
import { loadConfig } from '../config';
import { openDriver } from '../store';
import { StoreLockedError } from '../store/dir-lock';

const USAGE = `Usage:
  peerbridge audit archive --older-than-days <n> [--out <dir>]
Appends the AuditEvents last updated more than n days ago to <dir>/AuditEvent-<time>.ndjson (default
AUDIT_ARCHIVE_DIR, else <DATA_DIR>/audit-archive; the file is created 0600 and fsynced) and deletes
them from the store, with their history and search rows. A server with AUDIT_RETENTION_DAYS set does
this hourly by itself. Prints how many events were archived and the file.
`;

export async function auditCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
    (sub ? out : err).write(USAGE);
    return sub ? 0 : 2;
  }
  let days: number;
  let dir: string | undefined;
  try {
    if (sub !== 'archive') throw new Error(`Unknown subcommand '${sub}'`);
    const { values } = parseArgs({ args: rest, options: { 'older-than-days': { type: 'string' }, out: { type: 'string' } }, strict: true });
    days = Number(values['older-than-days']);
    if (values['older-than-days'] === undefined || !Number.isFinite(days) || days < 0) {
      throw new Error('--older-than-days needs a number of days (0 or more)');
    }
    dir = values.out;
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    err.write(`${(e as Error).message}\n`);
    return 2;
  }
  let driver;
  try {
    driver = await openDriver(config);
  } catch (e) {
    err.write(`${(e as Error).message}\n`);
    if (e instanceof StoreLockedError) err.write('While the server runs, let it archive: set AUDIT_RETENTION_DAYS (README, "Audit").\n');
    return 2;
  }
  try {
    const r = await archiveAuditEvents(driver, {
      before: new Date(Date.now() - days * 86_400_000),
      dir: dir ?? config.AUDIT_ARCHIVE_DIR ?? join(config.DATA_DIR, 'audit-archive'),
    });
    out.write(r.file ? `${r.archived} AuditEvents archived to ${r.file} and deleted\n` : 'No AuditEvents that old: nothing archived\n');
    return 0;
  } catch (e) {
    err.write(`Archiving failed: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await driver.close();
  }
}
