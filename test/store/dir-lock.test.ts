/**
 * One process per PGlite data directory (issue 11, item 14): two processes on one DATA_DIR
 * corrupt it, so the store holds `<DATA_DIR>/peerbridge.lock` for its lifetime. A second opener,
 * in this process or another, is refused at start with a message naming the holder; a lock left
 * by a dead process is taken over; the lock is released on close and on exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDriver, openStore } from '../../src/store';
import { LOCK_FILE, StoreLockedError } from '../../src/store/dir-lock';

const ROOT = join(__dirname, '..', '..');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'peerbridge-dir-lock-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const freshDir = (): string => join(root, `data-${++n}`);

/** A pid no process has: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function writeLock(dir: string, holder: { pid: number; hostname: string; startedAt: string }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify(holder)}\n`);
}

function withoutDatabaseUrl(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, ...env } = process.env;
  return env;
}

/** Runs the CLI in a child process (tsx) with DATA_DIR set; resolves when it exits. */
function cliChild(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const script = `require('./src/cli').main(${JSON.stringify(args)}).then((c) => { process.exitCode = c; }, (e) => { console.error(e.message); process.exitCode = 2; })`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      env: { ...withoutDatabaseUrl(), DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('PGlite data directory lock', () => {
  test('a second open in this process is refused while the first is open, and succeeds after it closes', async () => {
    const dir = freshDir();
    const first = await openStore({ DATA_DIR: dir });
    try {
      const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
      expect(lock).toMatchObject({ pid: process.pid, hostname: hostname(), startedAt: expect.any(String) });
      const second = openStore({ DATA_DIR: dir });
      await expect(second).rejects.toThrow(StoreLockedError);
      await expect(second).rejects.toThrow(new RegExp(`in use by process ${process.pid} on ${hostname()}.*started`, 's'));
      // The driver alone (the CLI's path) is refused the same way.
      await expect(openDriver({ DATA_DIR: dir })).rejects.toThrow(StoreLockedError);
    } finally {
      await first.close();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await openStore({ DATA_DIR: dir });
    await again.close();
  });

  test('a lock left by a dead process is taken over', async () => {
    const dir = freshDir();
    const pid = deadPid();
    writeLock(dir, { pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    const store = await openStore({ DATA_DIR: dir });
    try {
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    } finally {
      await store.close();
    }
  });

  test('a lock naming this pid that this process does not hold (a restarted container) is taken over', async () => {
    const dir = freshDir();
    writeLock(dir, { pid: process.pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    const driver = await openDriver({ DATA_DIR: dir });
    await driver.close();
  });

  test('a lock held on another host is refused, naming the host and the file to remove', async () => {
    const dir = freshDir();
    writeLock(dir, { pid: 4242, hostname: 'other-host.example', startedAt: '2026-01-01T00:00:00.000Z' });
    await expect(openStore({ DATA_DIR: dir })).rejects.toThrow(/process 4242 on other-host\.example.*started 2026-01-01T00:00:00\.000Z.*peerbridge\.lock/s);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  test('an unreadable lock file is refused, not overwritten', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    await expect(openStore({ DATA_DIR: dir })).rejects.toThrow(StoreLockedError);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('garbage');
  });

  test('a memory store takes no lock', async () => {
    const dir = freshDir();
    const a = await openDriver({ memory: true, DATA_DIR: dir });
    const b = await openDriver({ memory: true, DATA_DIR: dir });
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await a.close();
    await b.close();
  });

  test('a second process is refused with the holder named and a non-zero exit; a killed holder is taken over', async () => {
    const dir = freshDir();
    const store = await openStore({ DATA_DIR: dir });
    try {
      const res = await cliChild(dir, ['clients', 'list']);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(new RegExp(`in use by process ${process.pid} on ${hostname()}`));
      expect(res.stderr).toMatch(/--server/);
    } finally {
      await store.close();
    }
    // The other way round: a child holds the directory and is killed; its lock is then stale.
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `require('./src/store').openDriver({ DATA_DIR: ${JSON.stringify(dir)} }).then(() => console.log('ready'))`],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
        holder.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      await expect(openStore({ DATA_DIR: dir })).rejects.toThrow(new RegExp(`in use by process ${holder.pid}`));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('close', resolve));
    }
    const after = await openStore({ DATA_DIR: dir });
    await after.close();
  }, 60_000);
});
