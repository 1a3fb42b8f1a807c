/**
 * `npm run bench:api -- --workers 1,2` (bench/api.ts): read by id against the real server
 * (`src/server.ts`, as `npm start` runs it: audit on, auth off through AUTH_DISABLED) started with
 * each WORKERS count in turn on the loaded PostgreSQL database, one after another in the same
 * run, so the figures compare processes on the same data and the same machine.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { PROJECT_ROOT } from '../src/validation';

export interface WorkersResult {
  workers: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  readyMs: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts the server with `workers` processes, runs `measure` against it, stops it with SIGTERM. */
async function withServer<T>(databaseUrl: string, workers: number, measure: (base: string) => Promise<T>): Promise<{ result: T; readyMs: number }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKERS: String(workers),
    AUTH_DISABLED: 'true',
  };
  // The per-IP limit stays on (shared through the database, as deployed) but high enough not to refuse the load.
  env.RATE_LIMIT_PER_SECOND = '1000000';
  env.RATE_LIMIT_BURST = '1000000';
  delete env.NODE_ENV;
  delete env.BASE_URL;
  delete env.MLLP_PORT;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 180_000;
    while ((output.match(/PeerBridge listening/g) ?? []).length < workers) {
      if (child.exitCode !== null) throw new Error(`server (WORKERS=${workers}) exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`server (WORKERS=${workers}) not ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const readyMs = performance.now() - t0;
    return { result: await measure(`http://127.0.0.1:${port}`), readyMs };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Read by id with each WORKERS count, in turn. */
export async function compareWorkers(
  databaseUrl: string,
  counts: number[],
  read: (base: string) => Promise<{ rps: number; p50: number; p99: number; non2xx: number }>,
  log: (s: string) => void,
): Promise<WorkersResult[]> {
  const out: WorkersResult[] = [];
  for (const workers of counts) {
    const { result, readyMs } = await withServer(databaseUrl, workers, read);
    log(
      `read by id, src/server.ts with WORKERS=${workers} (audit on, auth off): ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.non2xx} non-2xx (ready in ${(readyMs / 1000).toFixed(1)} s)`,
    );
    out.push({ workers, ...result, readyMs });
  }
  return out;
}
