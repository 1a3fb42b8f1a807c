/**
 * WORKERS (src/cluster.ts): the server started with WORKERS=2 on PostgreSQL answers from two
 * worker processes (the `X-Worker-Pid` header is set in workers under NODE_ENV=test only), a
 * worker killed with SIGKILL is replaced, and SIGTERM to the primary stops every worker cleanly.
 * PGlite always runs one process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { freePort } from '../support/free-port';
import { join } from 'node:path';
import { workerCount } from '../../src/cluster';
import { createTestDatabase, DRIVERS } from '../support/stores';

const PROJECT_ROOT = join(__dirname, '..', '..');

/** One GET on a new connection (no keep-alive: the primary hands each connection to a worker in turn). */
function get(port: number, path: string): Promise<{ status: number; pid?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, pid: res.headers['x-worker-pid'] as string | undefined }));
    });
    req.once('error', reject);
    req.end();
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('workerCount', () => {
  test('one per core on PostgreSQL unless WORKERS says; always one on PGlite, with a warning when more was asked', () => {
    expect(workerCount({ DATABASE_URL: 'postgres://x/y' }, 8)).toEqual({ count: 8 });
    expect(workerCount({ DATABASE_URL: 'postgres://x/y', WORKERS: 3 }, 8)).toEqual({ count: 3 });
    expect(workerCount({}, 8)).toEqual({ count: 1 });
    const pglite = workerCount({ WORKERS: 4 }, 8);
    expect(pglite.count).toBe(1);
    expect(pglite.warning).toMatch(/WORKERS=4 ignored: PGlite/);
  });
});

const describePg = DRIVERS.includes('pg') ? describe : describe.skip;

describePg('WORKERS=2 on PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  let child: ChildProcess | undefined;
  let output = '';
  const workerPids = (): number[] => [...output.matchAll(/ready in \d+ ms, worker (\d+)\)/g)].map((m) => Number(m[1]));

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await db.drop();
  });

  async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 150_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (child?.exitCode !== null) throw new Error(`server exited while waiting for ${what}:\n${output}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('answers from both workers, replaces a killed one, stops every one on SIGTERM', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      AUTH_DISABLED: 'true',
      NODE_ENV: 'test',
      WORKERS: '2',
      VALIDATION_WORKERS: '0',
      STORE_MAINTENANCE: 'off',
    };
    delete env.BASE_URL;
    delete env.MLLP_PORT;
    delete env.AUDIT_RETENTION_DAYS;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
    await until('two workers', () => workerPids().length >= 2);
    const [first, second] = workerPids();
    expect(first).not.toBe(child.pid);
    expect(output).toMatch(/starting 2 worker processes/);

    // Both workers answer (connections go to the workers in turn).
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await get(port, '/fhir/Patient/none');
      expect(r.status).toBe(404);
      if (r.pid) seen.add(r.pid);
    }
    expect([...seen].map(Number).sort()).toEqual([first, second].sort());

    // A killed worker is replaced by a new one, and the server keeps answering.
    process.kill(first, 'SIGKILL');
    await until('a replacement worker', () => workerPids().length >= 3);
    const replacement = workerPids()[2];
    expect(output).toMatch(new RegExp(`Worker ${first} died \\(SIGKILL\\)`));
    expect(alive(first)).toBe(false);
    const after = new Set<string>();
    for (let i = 0; i < 40 && after.size < 2; i++) {
      const r = await get(port, '/fhir/Patient/none');
      expect(r.status).toBe(404);
      if (r.pid) after.add(r.pid);
    }
    expect([...after].map(Number).sort()).toEqual([second, replacement].sort());

    // SIGTERM: every worker finishes and exits, then the primary, with code 0.
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive(second)).toBe(false);
    expect(alive(replacement)).toBe(false);
    expect(output).toMatch(/Stopping 2 worker\(s\) \(SIGTERM\)/);
  }, 300_000);
});
