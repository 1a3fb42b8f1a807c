/**
 * Measuring a server for the API benchmarks (`npm run bench:api`, its `--grow` mode, `npm run
 * bench:soak`): a fresh store per run (a PostgreSQL database on PEERBRIDGE_BENCH_PG, or PGlite in
 * a temp folder), the server child of bench/api-server.ts, autocannon load runs, a full Bulk Data
 * export, and a process's RSS from /proc.
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PROJECT_ROOT } from '../src/validation';

export type Driver = 'pg' | 'pglite';
export const ADMIN_URL = process.env.PEERBRIDGE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// --- stores -----------------------------------------------------------------------------------

/** An empty store: a new PostgreSQL database (`prefix_<pid>_<random>`) or a PGlite temp folder; `cleanup` drops or removes it. */
export async function freshStore(driver: Driver, prefix = 'peerbridge_bench'): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  if (driver === 'pg') {
    const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return { env: { DATABASE_URL: url.toString() }, cleanup: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'peerbridge-bench-'));
  return { env: { DATA_DIR: dir, DATABASE_URL: '' }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

// --- the server child (bench/api-server.ts) -----------------------------------------------------

export interface ServerChild {
  child: ChildProcess;
  base: string;
  /** The same store behind SMART auth, and behind auth + audit (when the bench client's key was given). */
  authBase?: string;
  auditBase?: string;
  clientId?: string;
  /** The token URL the auth apps expect in assertions (`aud`). */
  tokenUrl?: string;
  command(cmd: string, name?: string): Promise<void>;
}

export function startServer(env: Record<string, string>, cpuProf?: string): Promise<ServerChild> {
  const child = fork(join(PROJECT_ROOT, 'bench', 'api-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, ...(cpuProf ? { BENCH_CPU_PROF: cpuProf } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const command = (cmd: string, name?: string): Promise<void> =>
    new Promise((resolve) => {
      const on = (m: { done?: string }): void => {
        if (m.done === cmd) {
          child.off('message', on);
          resolve();
        }
      };
      child.on('message', on);
      child.send({ cmd, name });
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.on('message', (m: { ready?: number; authPort?: number; auditPort?: number; clientId?: string; tokenUrl?: string }) => {
      const url = (port?: number): string | undefined => (port ? `http://127.0.0.1:${port}` : undefined);
      if (m.ready)
        resolve({
          child,
          base: `http://127.0.0.1:${m.ready}`,
          authBase: url(m.authPort),
          auditBase: url(m.auditPort),
          clientId: m.clientId,
          tokenUrl: m.tokenUrl,
          command,
        });
    });
  });
}

/** Stops the server child (`stop` over IPC, SIGKILL after 10 s). */
export async function stopServer(s: ServerChild): Promise<void> {
  await Promise.race([s.command('stop'), new Promise((r) => setTimeout(r, 10_000))]);
  if (s.child.exitCode === null) s.child.kill('SIGKILL');
}

// --- measurements ----------------------------------------------------------------------------

/** Peak and current RSS of a process in MB (Linux /proc). */
export function rss(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false when the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** RSS in MB of a process and every process below it (a cluster primary and its workers), from /proc. */
export function treeRss(pid: number): number {
  let total = 0;
  const visit = (p: number): void => {
    try {
      total += rss(p).now;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child));
      }
    } catch {
      // The process ended between the listing and the read.
    }
  };
  visit(pid);
  return total;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** The q-quantile of sorted values. */
export const quantile = (sorted: number[], q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/** Connections and seconds of a load run. */
export interface LoadOptions {
  connections: number;
  duration: number;
}

/**
 * A load run after a 2 s warm-up. p50/p99 come from autocannon's histogram (1 ms steps) unless
 * `exact`, which takes them from every response's own time (to 0.01 ms).
 */
export async function load(base: string, args: LoadOptions, path: () => string, headers: Record<string, string> = {}, exact = false): Promise<LoadResult> {
  const run = (duration: number, times?: number[]) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      const tracker = autocannon(
        {
          url: base,
          connections: args.connections,
          duration,
          headers,
          requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path() }) }],
        },
        (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
      );
      if (times) tracker.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => status < 300 && times.push(ms));
    });
  await run(2);
  const times: number[] | undefined = exact ? [] : undefined;
  const r = await run(args.duration, times);
  if (times) {
    times.sort((a, b) => a - b);
    const round = (x: number): number => Math.round(x * 100) / 100;
    return {
      rps: r.requests.average,
      p50: round(quantile(times, 0.5)),
      p99: round(quantile(times, 0.99)),
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
    };
  }
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors };
}

/** Counts the lines of a streamed download without keeping it. */
export async function countLines(url: string): Promise<number> {
  const res = await fetch(url, { headers: { accept: 'application/fhir+ndjson' } });
  if (res.status !== 200 || !res.body) throw new Error(`download ${url}: ${res.status}`);
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
  }
  return lines;
}

export async function bulkExport(
  base: string,
  pid: number,
): Promise<{ resources: number; files: number; seconds: number; rps: number; peakRssMb: number; rssBeforeMb: number; peakReset: boolean }> {
  const peakReset = resetPeak(pid);
  const rssBeforeMb = rss(pid).now;
  let sampled = rssBeforeMb;
  const sampler = setInterval(() => (sampled = Math.max(sampled, rss(pid).now)), 20);
  const t0 = performance.now();
  const kick = await fetch(`${base}/fhir/$export`, { headers: { prefer: 'respond-async', accept: 'application/fhir+json' } });
  await kick.text();
  const status = kick.headers.get('content-location');
  if (kick.status !== 202 || !status) throw new Error(`kick-off: ${kick.status}`);
  let manifest: { output: { url: string; count: number }[] } | undefined;
  while (!manifest) {
    const res = await fetch(status);
    if (res.status === 200) manifest = (await res.json()) as typeof manifest;
    else if (res.status === 202) await new Promise((r) => setTimeout(r, 50));
    else throw new Error(`status: ${res.status} ${await res.text()}`);
  }
  const files = [...(manifest?.output ?? [])];
  let resources = 0;
  const worker = async (): Promise<void> => {
    for (let f = files.shift(); f; f = files.shift()) {
      const n = await countLines(f.url);
      if (n !== f.count) throw new Error(`${f.url}: ${n} lines, manifest says ${f.count}`);
      resources += n;
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const peak = peakReset ? rss(pid).peak : Math.max(sampled, rss(pid).now);
  await fetch(status, { method: 'DELETE' });
  return { resources, files: manifest?.output.length ?? 0, seconds, rps: resources / seconds, peakRssMb: peak, rssBeforeMb, peakReset };
}

/** One request's time, five times (the median), for searches measured one at a time. */
export async function timed(base: string, path: string): Promise<{ median: number; runs: number; status: number }> {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    status = res.status;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[2], runs: times.length, status };
}

export async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
