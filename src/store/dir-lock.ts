/**
 * One process per PGlite data directory. PGlite is PostgreSQL in one process with no shared
 * memory or postmaster between processes: two processes on one `DATA_DIR` each write their own
 * WAL and pages over the other's, losing acknowledged writes and leaving indexes that disagree
 * with their tables. PGlite's own `postmaster.pid` holds no pid (always -42), so it cannot tell.
 *
 * The store therefore holds `<DATA_DIR>/peerbridge.lock` for its lifetime: created with O_EXCL
 * (`open(..., 'wx')`, atomic on local file systems), holding the pid, host name and start time.
 * A second opener finds it and is refused, with a message naming the holder, unless the holder is
 * dead: a pid on this host that no longer runs, or this process's own pid while this process does
 * not hold the lock (a container restarted with the same pid). A lock written on another host is
 * refused, since its liveness cannot be checked from here.
 *
 * Taking over a stale lock goes through a second O_EXCL file (`peerbridge.lock.takeover`), so of
 * two processes that both find the same stale lock only one removes it and creates its own.
 * The lock is removed on `release()` and, synchronously, on process exit.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** The lock file's name in the data directory. */
export const LOCK_FILE = 'peerbridge.lock';

/** Who holds a data directory (the lock file's content). */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
}

/** A held lock. */
export interface DirLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file (idempotent; leaves a file another process has since written). */
  release(): void;
}

/** The data directory is held by another process (or unreadably locked). */
export class StoreLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'StoreLockedError';
  }
}

/**
 * Lock files this process holds, by absolute path. Process-wide on purpose: the lock guards the
 * directory for the process, so a second opener in this process must see the first one's lock as
 * live even though the pid in it is its own.
 */
const held = new Map<string, string>();

function describe(holder: LockHolder): string {
  return `process ${holder.pid} on ${holder.hostname} (started ${holder.startedAt})`;
}

function readHolder(path: string): { text: string; holder?: LockHolder } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.hostname === 'string' && typeof v.startedAt === 'string') {
      return { text, holder: { pid: v.pid as number, hostname: v.hostname, startedAt: v.startedAt } };
    }
  } catch {
    // Not JSON: refused below as unreadable.
  }
  return { text };
}

/** Is the holder a live process? Only answerable on this host (`kill(pid, 0)`: ESRCH means gone, EPERM alive). */
function isLive(holder: LockHolder, path: string): boolean | undefined {
  if (holder.hostname !== hostname()) return undefined;
  if (holder.pid === process.pid) return held.has(path);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Creates the lock file with O_EXCL; false when it exists. */
function tryCreate(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeIfSame(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) unlinkSync(path);
  } catch {
    // Already gone, or unreadable: nothing of ours to remove.
  }
}

function refuse(dir: string, path: string, holder: LockHolder | undefined, why: string): never {
  throw new StoreLockedError(
    dir,
    holder,
    `The embedded store in ${dir} is ${why}. PGlite serves one process at a time: a second process would corrupt it. ` +
      (holder
        ? `Stop that process, or manage a running server over HTTP; if ${holder.hostname === hostname() ? 'that pid is not a PeerBridge process' : 'no PeerBridge runs on that host any more'}, remove ${path}.`
        : `If no PeerBridge process uses it, remove ${path}.`),
  );
}

/**
 * Removes a stale lock (the content `stale` read before) and creates ours, under the takeover
 * file so only one of several openers doing the same succeeds. False when the lock changed
 * meanwhile (the caller looks again).
 */
function takeOver(path: string, stale: string, mine: string): boolean {
  const takeover = `${path}.takeover`;
  if (!tryCreate(takeover, mine)) {
    // Another opener is taking over right now (or died doing so: its file is then stale too).
    const other = readHolder(takeover);
    if (other?.holder && isLive(other.holder, takeover) === false) {
      removeIfSame(takeover, other.text);
    }
    return false;
  }
  try {
    if (readHolder(path)?.text !== stale) return false;
    unlinkSync(path);
    return tryCreate(path, mine);
  } finally {
    removeIfSame(takeover, mine);
  }
}

/**
 * Takes the lock of `dataDir` (which must exist) for this process, or throws StoreLockedError
 * naming the holder.
 */
export function lockDataDir(dataDir: string): DirLock {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  const mine = `${JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() } satisfies LockHolder)}\n`;
  let acquired = tryCreate(path, mine);
  for (let attempt = 0; !acquired && attempt < 3; attempt++) {
    const found = readHolder(path);
    if (found === undefined) {
      acquired = tryCreate(path, mine);
      continue;
    }
    if (!found.holder) refuse(dir, path, undefined, `locked by ${path}, which is not a PeerBridge lock file`);
    const live = isLive(found.holder, path);
    if (live === undefined) refuse(dir, path, found.holder, `in use by ${describe(found.holder)}, another host: its liveness cannot be checked from here`);
    if (live) refuse(dir, path, found.holder, `in use by ${describe(found.holder)}${found.holder.pid === process.pid ? ', this process' : ''}`);
    acquired = takeOver(path, found.text, mine);
  }
  if (!acquired) {
    const now = readHolder(path)?.holder;
    refuse(dir, path, now, now ? `in use by ${describe(now)}` : 'being opened by another process');
  }
  held.set(path, mine);
  const onExit = (): void => removeIfSame(path, mine);
  process.on('exit', onExit);
  return {
    path,
    release(): void {
      if (held.get(path) !== mine) return;
      held.delete(path);
      process.removeListener('exit', onExit);
      removeIfSame(path, mine);
    },
  };
}
