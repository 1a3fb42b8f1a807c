/**
 * Idle server benchmark: `npm run bench:idle` (tsx bench/idle.ts). Issue 15, item 4.
 *
 * Starts the server as `npm start` does (`node dist/server.js`, after the same
 * `scripts/build-if-stale.js` that `prestart` runs) in a fresh process, with nothing but the
 * store's settings, a free port and `WORKERS=1` (one process on both drivers, so the figures are
 * one process's), and measures:
 *   - ready: milliseconds from spawn to the first `GET /readyz` answered 200 (polled every 20 ms),
 *     the server's own "ready in N ms" (from the start of `serve()` to listening), and the CPU time
 *     the process had used by then (user + system, all threads: the figure the machine's load
 *     does not stretch);
 *   - idle RSS: VmRSS from /proc/<pid>/status after `--idle-ms` of idling (no request but the
 *     readiness polls), and VmHWM (the peak during start-up);
 *   - the breakdown, from bench/idle-hook.js preloaded into the server (`--require`, with
 *     `--expose-gc`; it changes nothing the server does): V8 heap used, external memory, the size of
 *     every WebAssembly memory still alive (PGlite's heap) and how much of it is resident (its
 *     mapping's Rss in /proc/<pid>/smaps, at idle), and VmRSS again after a forced full GC.
 * Each run starts each driver twice on a fresh empty store: `first` (a new PGlite data directory,
 *  a new PostgreSQL database: initdb and migrations included) then `restart` (the same store,
 * already initialised). With `--pool-variant`, a third start of PGlite with `VALIDATION_WORKERS=0`
 * shows what the warm validation worker thread holds. Medians over `--runs`; results to
 * bench/results/idle-<timestamp>.json.
 *
 * Options: --runs N [3], --drivers pglite,pg [both], --idle-ms MS [3000], --pool-variant,
 * --env KEY=VALUE (repeatable: added to every server start, e.g. to try a setting).
 * PostgreSQL admin URL: PEERBRIDGE_BENCH_PG [postgres://postgres@127.0.0.1:5432/postgres]; each run
 * creates and drops its own database (pglite_mem_idle_*).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/validation';
import { admin, ADMIN_URL } from './api-measure';
import { freePort } from './api-workers';
import { fmtInt, median, round, writeResults } from './stats';

const ENTRY = join(PROJECT_ROOT, 'dist', 'server.js');
const HOOK = join(PROJECT_ROOT, 'bench', 'idle-hook.js');
const READY_TIMEOUT_MS = 120_000;

type Driver = 'pglite' | 'pg';
type Start = 'first' | 'restart' | 'restart-no-pool';

interface Args {
  runs: number;
  drivers: Driver[];
  idleMs: number;
  poolVariant: boolean;
  env: Record<string, string>;
}

/** What bench/idle-hook.js answers. */
interface MemorySnapshot {
  vmRss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  mallocedMemory: number;
  wasmMemories: number[];
}

interface Sample {
  driver: Driver;
  start: Start;
  run: number;
  readyMs: number;
  serverReadyMs?: number;
  cpuMsToReady: number;
  idleRssMiB: number;
  peakRssMiB: number;
  rssAfterGcMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  wasmMiB: number;
  wasmResidentMiB: number;
  wasmMemories: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 3, drivers: ['pglite', 'pg'], idleMs: 3000, poolVariant: false, env: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') args.runs = Math.max(1, Number(next()));
    else if (a === '--drivers') args.drivers = next().split(',') as Driver[];
    else if (a === '--idle-ms') args.idleMs = Number(next());
    else if (a === '--pool-variant') args.poolVariant = true;
    else if (a === '--env') {
      const [k, ...v] = next().split('=');
      args.env[k] = v.join('=');
    } else throw new Error(`unknown option ${a}`);
  }
  const unknown = (args.drivers as string[]).filter((d) => d !== 'pglite' && d !== 'pg');
  if (unknown.length > 0) throw new Error(`--drivers: unknown driver ${unknown.join(', ')}`);
  return args;
}

const mibOf = (bytes: number): number => round(bytes / 1048576, 1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system, every thread) a process has used, in ms (/proc/<pid>/stat, 100 ticks a second). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmRSS and VmHWM of a process, in KiB. */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/**
 * Resident KiB of the mappings whose size is one of `sizes` (bytes): a WebAssembly memory is one
 * anonymous mapping of exactly its size, so this is how much of PGlite's heap is in RAM.
 */
function residentOf(smaps: string, sizes: number[]): number {
  const kib = new Set(sizes.map((b) => b / 1024));
  let total = 0;
  let size = 0;
  for (const line of smaps.split('\n')) {
    const m = /^(Size|Rss):\s+(\d+) kB/.exec(line);
    if (m?.[1] === 'Size') size = Number(m[2]);
    else if (m?.[1] === 'Rss' && kib.has(size)) total += Number(m[2]);
  }
  return total;
}

async function waitReady(port: number, child: ChildProcess, t0: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it was ready`);
    if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch {
      // Not listening yet.
    }
    await sleep(20);
  }
}

function probe(child: ChildProcess): Promise<{ before: MemorySnapshot; afterGc: MemorySnapshot; gcExposed: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer from bench/idle-hook.js')), 10_000);
    child.once('message', (msg: { probe: { before: MemorySnapshot; afterGc: MemorySnapshot; gcExposed: boolean } }) => {
      clearTimeout(timer);
      resolve(msg.probe);
    });
    child.send({ probe: true });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** One server start on `store`: spawn, wait for /readyz, idle, measure, stop. */
async function startOnce(driver: Driver, start: Start, run: number, store: Record<string, string>, args: Args): Promise<Sample> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...store, ...args.env, PORT: String(port), HOST: '127.0.0.1', WORKERS: '1', LOG_LEVEL: 'warn' };
  if (!store.DATABASE_URL) delete env.DATABASE_URL;
  if (start === 'restart-no-pool') env.VALIDATION_WORKERS = '0';
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', '--require', HOOK, ENTRY], { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const readyMs = await waitReady(port, child, t0);
    const cpuMsToReady = cpuMs(child.pid!);
    await sleep(args.idleMs);
    const mem = procMemory(child.pid!);
    const smaps = readFileSync(`/proc/${child.pid}/smaps`, 'utf8');
    const p = await probe(child);
    const serverReady = /ready in (\d+) ms/.exec(out);
    const wasm = p.afterGc.wasmMemories.reduce((a, b) => a + b, 0);
    return {
      driver,
      start,
      run,
      readyMs: Math.round(readyMs),
      serverReadyMs: serverReady ? Number(serverReady[1]) : undefined,
      cpuMsToReady,
      idleRssMiB: round(mem.rss / 1024, 1),
      peakRssMiB: round(mem.hwm / 1024, 1),
      rssAfterGcMiB: mibOf(p.afterGc.vmRss),
      heapUsedMiB: mibOf(p.afterGc.heapUsed),
      externalMiB: mibOf(p.afterGc.external),
      wasmMiB: mibOf(wasm),
      wasmResidentMiB: round(residentOf(smaps, p.before.wasmMemories) / 1024, 1),
      wasmMemories: p.afterGc.wasmMemories.length,
    };
  } catch (e) {
    throw new Error(`${driver} ${start} (run ${run}): ${e instanceof Error ? e.message : String(e)}\n${out.slice(-2000)}`);
  } finally {
    await stop(child);
  }
}

/** A fresh empty store for `driver`, and how to remove it. */
async function freshStore(driver: Driver): Promise<{ env: Record<string, string>; remove: () => Promise<void> }> {
  if (driver === 'pg') {
    const name = `pglite_mem_idle_${process.pid}_${randomBytes(3).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return { env: { DATABASE_URL: url.toString() }, remove: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'peerbridge-idle-'));
  return { env: { DATA_DIR: join(dir, 'data') }, remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

type Summary = { driver: Driver; start: Start; runs: number } & Record<string, number | string | undefined>;

function summarise(samples: Sample[]): Summary[] {
  const keys: (keyof Sample)[] = [
    'readyMs',
    'serverReadyMs',
    'cpuMsToReady',
    'idleRssMiB',
    'peakRssMiB',
    'rssAfterGcMiB',
    'heapUsedMiB',
    'externalMiB',
    'wasmMiB',
    'wasmResidentMiB',
    'wasmMemories',
  ];
  const groups = new Map<string, Sample[]>();
  for (const s of samples) groups.set(`${s.driver}/${s.start}`, [...(groups.get(`${s.driver}/${s.start}`) ?? []), s]);
  return [...groups.values()].map((g) => {
    const medians: Record<string, number | undefined> = {};
    for (const k of keys) {
      const xs = g.map((s) => s[k]).filter((x): x is number => typeof x === 'number');
      medians[k] = xs.length > 0 ? round(median(xs), 1) : undefined;
    }
    return { driver: g[0].driver, start: g[0].start, runs: g.length, ...medians };
  });
}

function table(rows: Summary[]): string {
  const cols: [string, string][] = [
    ['driver', 'driver'],
    ['start', 'start'],
    ['readyMs', 'to /readyz ms'],
    ['serverReadyMs', 'server ms'],
    ['cpuMsToReady', 'CPU ms'],
    ['idleRssMiB', 'idle RSS MiB'],
    ['peakRssMiB', 'peak RSS MiB'],
    ['rssAfterGcMiB', 'RSS after GC'],
    ['heapUsedMiB', 'V8 heap used'],
    ['externalMiB', 'external'],
    ['wasmMiB', 'WASM MiB'],
    ['wasmResidentMiB', 'WASM resident'],
    ['wasmMemories', 'WASM mems'],
  ];
  const cell = (v: number | string | undefined): string => (typeof v === 'number' ? (Number.isInteger(v) ? fmtInt(v) : v.toFixed(1)) : (v ?? '-'));
  const lines = [cols.map(([, h]) => h), ...rows.map((r) => cols.map(([k]) => cell(r[k])))];
  const widths = cols.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  // What `npm start` runs first (prestart): build dist/ when it is older than its sources.
  const build = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-if-stale.js')], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('scripts/build-if-stale.js failed');
  const samples: Sample[] = [];
  for (let run = 1; run <= args.runs; run++) {
    for (const driver of args.drivers) {
      const store = await freshStore(driver);
      try {
        const starts: Start[] = args.poolVariant ? ['first', 'restart', 'restart-no-pool'] : ['first', 'restart'];
        for (const start of starts) {
          const s = await startOnce(driver, start, run, store.env, args);
          samples.push(s);
          console.log(
            `run ${run} ${driver} ${start}: ready ${s.readyMs} ms (server ${s.serverReadyMs ?? '-'} ms, CPU ${s.cpuMsToReady} ms), idle RSS ${s.idleRssMiB} MiB, after GC ${s.rssAfterGcMiB} MiB, WASM ${s.wasmMiB} MiB (${s.wasmResidentMiB} resident)`,
          );
        }
      } finally {
        await store.remove();
      }
    }
  }
  const summary = summarise(samples);
  const report = table(summary);
  console.log(`\nmedians over ${args.runs} run(s), ${args.idleMs} ms idle, entry node dist/server.js:\n${report}`);
  const file = writeResults('idle', startedAt, {
    startedAt: startedAt.toISOString(),
    command: `npm run bench:idle -- ${process.argv.slice(2).join(' ')}`.trim(),
    entry: 'node --expose-gc --require bench/idle-hook.js dist/server.js',
    machine: { cpus: cpus().length, totalMemMiB: Math.round(totalmem() / 1048576), loadavg: loadavg(), node: process.version },
    args,
    summary,
    samples,
  });
  console.log(`results in ${file}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
