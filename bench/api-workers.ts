/**
 * `npm run bench:api -- --workers 1,2` (bench/api.ts): read by id against the real server
 * (`src/server.ts`, as `npm start` runs it: audit on, auth off through AUTH_DISABLED) started with
 * each WORKERS count in turn on the loaded PostgreSQL database, one after another in the same
 * run, so the figures compare processes on the same data and the same machine. `startRealServer`
 * also starts it for `npm run bench:soak` (bench/soak.ts).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { PROJECT_ROOT } from '../src/validation';
import { BENCH_CODE, buildIfStale } from './code';

export interface WorkersResult {
  workers: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  readyMs: number;
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A running `src/server.ts` (bench/api-workers.ts `startRealServer`). */
export interface RealServer {
  base: string;
  /** The process spawned: the server itself, or the cluster primary when WORKERS > 1. */
  pid: number;
  readyMs: number;
  /** The last 64 KiB of its stdout and stderr. */
  output(): string;
  /** SIGTERM (the server finishes its requests and closes its store), SIGKILL after 30 s; its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the server as `npm start` runs it (`node dist/server.js`) (audit on; auth off through AUTH_DISABLED) with
 * `env` over this process's environment (a store: DATABASE_URL, or DATA_DIR with DATABASE_URL
 * empty), on a free port of 127.0.0.1, and waits for `workers` "PeerBridge listening" lines.
 * `nodeArgs` go to node before the entry (`--cpu-prof`, ...).
 */
export async function startRealServer(env: Record<string, string>, workers = 1, nodeArgs: string[] = []): Promise<RealServer> {
  const port = await freePort();
  const full: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', AUTH_DISABLED: 'true' };
  // The per-IP limit stays on (shared through the database, as deployed) but high enough not to refuse the load.
  full.RATE_LIMIT_PER_SECOND = '1000000';
  full.RATE_LIMIT_BURST = '1000000';
  delete full.NODE_ENV;
  delete full.BASE_URL;
  delete full.MLLP_PORT;
  if (!full.DATABASE_URL) delete full.DATABASE_URL;
  // `node dist/server.js` as `npm start` runs it (dist/ built when stale); BENCH_CODE=src: the sources through tsx.
  const entry = BENCH_CODE === 'src' ? ['--import', 'tsx', 'src/server.ts'] : ['dist/server.js'];
  if (BENCH_CODE !== 'src') buildIfStale();
  // Ready time from the spawn: a rebuild of a stale dist/ (tens of seconds) is not the server's.
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, ...entry], { cwd: PROJECT_ROOT, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  // Only the tail is kept: at LOG_LEVEL=info the server logs a line per request, for as long as it runs.
  let output = '';
  let listening = 0;
  const take = (d: string): void => {
    listening += (d.match(/PeerBridge listening/g) ?? []).length;
    output = (output + d).slice(-65_536);
  };
  child.stdout.setEncoding('utf8').on('data', take);
  child.stderr.setEncoding('utf8').on('data', take);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const deadline = Date.now() + 180_000;
  while (listening < workers) {
    if (child.exitCode !== null) throw new Error(`server (WORKERS=${workers}) exited:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server (WORKERS=${workers}) not ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base: `http://127.0.0.1:${port}`, pid: child.pid as number, readyMs: performance.now() - t0, output: () => output, stop };
}

/** Starts the server with `workers` processes, runs `measure` against it, stops it. */
async function withServer<T>(databaseUrl: string, workers: number, measure: (base: string) => Promise<T>): Promise<{ result: T; readyMs: number }> {
  const server = await startRealServer({ DATABASE_URL: databaseUrl, WORKERS: String(workers) }, workers);
  try {
    return { result: await measure(server.base), readyMs: server.readyMs };
  } finally {
    await server.stop();
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
      `read by id, ${BENCH_CODE === 'src' ? 'src/server.ts' : 'dist/server.js'} with WORKERS=${workers} (audit on, auth off): ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.non2xx} non-2xx (ready in ${(readyMs / 1000).toFixed(1)} s)`,
    );
    out.push({ workers, ...result, readyMs });
  }
  return out;
}
