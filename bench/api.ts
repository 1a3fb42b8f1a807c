/**
 * API benchmark: `npm run bench:api` (tsx bench/api.ts). Issue 4, "Speed".
 *
 * For each store driver (PostgreSQL in a fresh database, PGlite in a temp directory):
 *   1. starts the server (bench/api-server.ts) in a child process on an ephemeral port;
 *   2. transaction ingest: loads N generated peer support resources (bench/workload.ts: Patients,
 *      EpisodeOfCare, CarePlans, Goals, Encounters, ChargeItems, QuestionnaireResponses,
 *      Observations, all valid against the profiles) as `POST /fhir` transaction Bundles of PUT
 *      entries (validated on write), a few Bundles in flight: resources/s;
 *   3. refreshes planner statistics (ANALYZE: autovacuum would do it on a PostgreSQL server within
 *      a minute of such a load; PGlite has no autovacuum), unless --no-analyze; then restarts
 *      the server on the loaded store (unless --no-restart), so the measurements below see a
 *      server in its steady state rather than one still holding the load's garbage;
 *   4. with autocannon (this process) against the server: read by id (Encounter/{id}), search by
 *      patient (Encounter?patient=Patient/{id}), search by date range (Encounter?date=ge..&date=lt..,
 *      one week): requests/s, p50, p99 after a 2 s warm-up;
 *   5. Bulk Data export of everything: kick-off, polling, every file downloaded (two at a time)
 *      and its lines counted: resources/s from kick-off to the last byte, and the server
 *      process's peak RSS during the export (VmHWM, reset through /proc/<pid>/clear_refs);
 *   6. the cost of security (issue 6), same process, same store, same data: read by id against
 *      the app without auth, with SMART auth (bearer token from the real token endpoint with a
 *      signed ES384 assertion, scopes, rate limit, and the tenant filter wherever createApp
 *      applies it; the client is registered for the workload's organizations) and with auth plus
 *      the audit trail, interleaved for --auth-rounds rounds; p50/p99 from every response's own
 *      time (autocannon's histogram has 1 ms steps), the median over rounds, and the p50 overhead in %;
 * then prints a table against the targets and writes bench/results/api-<timestamp>.json.
 *
 * Options: --resources N [100000], --drivers pg,pglite [both], --duration S [10] per load run,
 * --connections C [10], --batch B [100] entries per transaction Bundle, --ingest-concurrency K [4],
 * --seed S [20261122], --no-analyze, --no-restart, --auth-rounds R [5], --no-auth, --cpu-prof DIR (V8 CPU
 * profiles of the server child, one per server start), --workers 1,2 (PostgreSQL, last: read by id
 * against src/server.ts itself started with each WORKERS count in turn; bench/api-workers.ts). PostgreSQL admin URL: PEERBRIDGE_BENCH_PG
 * [postgres://postgres@127.0.0.1:5432/postgres].
 *
 * `--grow [--grow-sizes 10000,100000,1000000]`: the growth curve instead (bench/api-grow.ts):
 * one store loaded in steps, measured at each size; PostgreSQL and 5 s load runs unless
 * --drivers or --duration say otherwise.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { PROJECT_ROOT } from '../src/validation';
import { runGrow } from './api-grow';
import { bulkExport, freshStore, load, rss, startServer, stopServer, timed, type Driver, type LoadResult, type ServerChild } from './api-measure';
import { buildWorkload, ingest, type Workload } from './api-workload';
import { compareWorkers } from './api-workers';
import { machineInfo, writeResults } from './stats';

const TARGETS = { readRps: 2000, readP99: 20, patientP99: 50, exportRps: 20_000, exportRssMb: 300, ingestRps: 2000, authOverheadPct: 10 };

export interface Args {
  resources: number;
  drivers: Driver[];
  duration: number;
  connections: number;
  batch: number;
  ingestConcurrency: number;
  seed: number;
  analyze: boolean;
  restart: boolean;
  authRounds: number;
  /** Folder for V8 CPU profiles of the server child (--cpu-prof <dir>), for finding where time goes. */
  cpuProf?: string;
  /** WORKERS counts to compare read by id with (--workers 1,2), PostgreSQL only. */
  workers?: number[];
  /** Store sizes of the growth curve (--grow, --grow-sizes); bench/api-grow.ts. */
  grow?: number[];
}

/** The growth curve's sizes when --grow is given without --grow-sizes. */
const GROW_SIZES = [10_000, 100_000, 1_000_000];

function parseArgs(argv: string[]): Args {
  const args: Args = {
    resources: 100_000,
    drivers: ['pg', 'pglite'],
    duration: 10,
    connections: 10,
    batch: 100,
    ingestConcurrency: 4,
    seed: 20261122,
    analyze: true,
    restart: true,
    authRounds: 5,
  };
  const num = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number`);
    return v;
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    given.add(a);
    if (a === '--resources') args.resources = Math.floor(num(i++));
    else if (a === '--duration') args.duration = num(i++);
    else if (a === '--connections') args.connections = Math.floor(num(i++));
    else if (a === '--batch') args.batch = Math.floor(num(i++));
    else if (a === '--ingest-concurrency') args.ingestConcurrency = Math.floor(num(i++));
    else if (a === '--seed') args.seed = Math.floor(num(i++));
    else if (a === '--no-analyze') args.analyze = false;
    else if (a === '--no-restart') args.restart = false;
    else if (a === '--auth-rounds') args.authRounds = Math.floor(num(i++));
    else if (a === '--no-auth') args.authRounds = 0;
    else if (a === '--cpu-prof') {
      args.cpuProf = argv[++i];
      // The server writes one profile per measured load into it: it must exist.
      mkdirSync(args.cpuProf, { recursive: true });
    } else if (a === '--grow') args.grow ??= GROW_SIZES;
    else if (a === '--grow-sizes') {
      args.grow = String(argv[++i] ?? '')
        .split(',')
        .map(Number)
        .sort((x, y) => x - y);
      if (args.grow.length === 0 || args.grow.some((n) => !Number.isInteger(n) || n < 1))
        throw new Error('--grow-sizes takes resource counts, e.g. 10000,100000');
    } else if (a === '--workers') {
      args.workers = String(argv[++i] ?? '')
        .split(',')
        .map(Number);
      if (args.workers.length === 0 || args.workers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--workers takes counts, e.g. 1,2');
    } else if (a === '--drivers') {
      args.drivers = String(argv[++i] ?? '')
        .split(',')
        .filter(Boolean) as Driver[];
      if (args.drivers.length === 0 || args.drivers.some((d) => d !== 'pg' && d !== 'pglite')) throw new Error('--drivers takes pg, pglite or pg,pglite');
    } else throw new Error(`Unknown option ${a}`);
  }
  // The growth curve: PostgreSQL (a million resources) and short load runs, unless asked otherwise.
  if (args.grow && !given.has('--drivers')) args.drivers = ['pg'];
  if (args.grow && !given.has('--duration')) args.duration = 5;
  return args;
}

// --- measurements --------------------------------------------------------------------------------

/** The bench client's key pair (ES384), registered by the server child for the workload's organizations. */
interface BenchKey {
  privateKey: KeyLike;
  publicJwk: string;
}

async function benchKey(): Promise<BenchKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  return { privateKey, publicJwk: JSON.stringify({ ...(await exportJWK(publicKey)), alg: 'ES384', use: 'sig', kid: 'bench' }) };
}

/** An access token from the token endpoint (client_credentials with a signed assertion). */
async function accessToken(base: string, tokenUrl: string, clientId: string, key: BenchKey): Promise<string> {
  const assertion = await new SignJWT({ jti: randomBytes(12).toString('hex') })
    .setProtectedHeader({ alg: 'ES384', kid: 'bench', typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setExpirationTime('4m')
    .sign(key.privateKey);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope: 'system/*.read',
  });
  const res = await fetch(`${base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`token endpoint: ${res.status} ${body.error_description}`);
  return body.access_token;
}

type SecurityMode = 'none' | 'auth' | 'audit';

/** Read by id without auth, with auth, with auth + audit: `rounds` interleaved rounds on the same server process. */
async function securityCost(server: ServerChild, args: Args, key: BenchKey, path: () => string, log: (s: string) => void) {
  if (!server.authBase || !server.auditBase || !server.clientId || !server.tokenUrl) throw new Error('the server child did not open the auth apps');
  const token = await accessToken(server.authBase, server.tokenUrl, server.clientId, key);
  const bases: Record<SecurityMode, [string, Record<string, string>]> = {
    none: [server.base, {}],
    auth: [server.authBase, { authorization: `Bearer ${token}` }],
    audit: [server.auditBase, { authorization: `Bearer ${token}` }],
  };
  // Each mode must answer a read with 200 before it is measured (a 401 or 404 is fast, and meaningless).
  for (const [mode, [base, headers]] of Object.entries(bases)) {
    const res = await fetch(`${base}${path()}`, { headers });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`read by id, ${mode}: ${res.status} ${text.slice(0, 300)}`);
  }
  const rounds: Record<SecurityMode, LoadResult>[] = [];
  for (let i = 0; i < args.authRounds; i++) {
    const round = {} as Record<SecurityMode, LoadResult>;
    for (const mode of ['none', 'auth', 'audit'] as SecurityMode[]) {
      const [base, headers] = bases[mode];
      if (args.cpuProf) await server.command('profile-start');
      round[mode] = await load(base, args, path, headers, true);
      if (args.cpuProf) await server.command('profile-stop', `read-${mode}-${i + 1}-${process.pid}`);
      log(
        `read by id, ${mode === 'none' ? 'no auth' : mode === 'auth' ? 'auth' : 'auth + audit'} (round ${i + 1}): ${round[mode].rps.toFixed(0)} req/s, p50 ${round[mode].p50} ms, p99 ${round[mode].p99} ms, ${round[mode].non2xx} non-2xx`,
      );
    }
    rounds.push(round);
  }
  // The median over rounds: one round disturbed by the machine (a GC, a checkpoint) moves a mean of 2-3 rounds by more than the cost measured.
  const med = (mode: SecurityMode, k: 'p50' | 'p99' | 'rps'): number => {
    const xs = rounds.map((r) => r[mode][k]).sort((a, b) => a - b);
    const m = xs.length >> 1;
    return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  };
  const summary = (mode: SecurityMode) => ({
    p50: med(mode, 'p50'),
    p99: med(mode, 'p99'),
    rps: med(mode, 'rps'),
    non2xx: rounds.reduce((a, r) => a + r[mode].non2xx, 0),
  });
  const none = summary('none');
  const auth = summary('auth');
  const audit = summary('audit');
  const pct = (x: number): number => Math.round(((x - none.p50) / none.p50) * 1000) / 10;
  return { rounds, none, auth, audit, authOverheadP50Pct: pct(auth.p50), auditOverheadP50Pct: pct(audit.p50) };
}

// --- one driver --------------------------------------------------------------------------------

/** Reads through the floor server (bench/floor-server.ts) on the same database. */
async function floorRead(databaseUrl: string, measure: (base: string) => Promise<LoadResult>): Promise<LoadResult> {
  const child = fork(join(PROJECT_ROOT, 'bench', 'floor-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
    child.on('message', (m: { ready?: number }) => m.ready && resolve(m.ready));
  });
  try {
    return await measure(`http://127.0.0.1:${port}`);
  } finally {
    child.removeAllListeners('exit');
    child.send({ cmd: 'stop' });
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function runDriver(driver: Driver, args: Args, w: Workload, key?: BenchKey) {
  const store = await freshStore(driver);
  let env = store.env;
  const cleanup = store.cleanup;
  if (key) env = { ...env, BENCH_AUTH_JWK: key.publicJwk, BENCH_ORGS: w.organizations.join(',') };
  const log = (s: string): void => console.log(`[${driver}] ${s}`);
  const load1 = loadavg();
  const t0 = performance.now();
  let server = await startServer(env, args.cpuProf);
  const stop = stopServer;
  try {
    log(`server up in ${((performance.now() - t0) / 1000).toFixed(1)} s (pid ${server.child.pid}); ingesting ${args.resources} resources`);
    // With --cpu-prof: one server profile per measured load (ingest, reads, searches), named after it.
    const profiled = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
      if (!args.cpuProf) return f();
      await server.command('profile-start');
      try {
        return await f();
      } finally {
        await server.command('profile-stop', `${name}-${driver}-${process.pid}`);
      }
    };
    const ing = await profiled('ingest', () => ingest(server.base, w.bundles, args.ingestConcurrency));
    log(
      `ingest: ${ing.resources} resources in ${ing.seconds.toFixed(1)} s = ${ing.rps.toFixed(0)}/s, ${ing.failures} failed Bundles${ing.firstError ? ` (first: ${ing.firstError})` : ''}`,
    );
    if (args.analyze) await server.command('analyze');
    if (args.restart) {
      await stop(server);
      server = await startServer(env, args.cpuProf);
      log(`server restarted on the loaded store (pid ${server.child.pid})`);
    }
    const pid = server.child.pid as number;
    let seed = args.seed;
    const rand = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
      return (seed >>> 0) % n;
    };
    const read = await load(server.base, args, () => `/fhir/Encounter/${w.encounterIds[rand(w.encounterIds.length)]}`);
    log(`read by id: ${read.rps.toFixed(0)} req/s, p50 ${read.p50} ms, p99 ${read.p99} ms, ${read.non2xx} non-2xx`);
    // The floor (bench/floor-server.ts): the same reads from a bare node:http + pg server, same autocannon settings.
    const floor =
      driver === 'pg'
        ? await floorRead(env.DATABASE_URL, (base) => load(base, args, () => `/fhir/Encounter/${w.encounterIds[rand(w.encounterIds.length)]}`))
        : undefined;
    if (floor)
      log(
        `floor (node:http + one SELECT through pg): ${floor.rps.toFixed(0)} req/s, p50 ${floor.p50} ms, p99 ${floor.p99} ms; PeerBridge's read is ${((100 * read.rps) / floor.rps).toFixed(0)}% of it`,
      );
    const missing = await timed(server.base, '/fhir/Encounter?subject:missing=true');
    log(`Encounter?subject:missing=true: median ${missing.median.toFixed(1)} ms of ${missing.runs} (${missing.status})`);
    const byPatient = await profiled('search-patient', () =>
      load(server.base, args, () => `/fhir/Encounter?patient=Patient/${w.patientIds[rand(w.patientIds.length)]}`),
    );
    log(`search by patient: ${byPatient.rps.toFixed(0)} req/s, p50 ${byPatient.p50} ms, p99 ${byPatient.p99} ms, ${byPatient.non2xx} non-2xx`);
    const [min, max] = w.dates;
    const week = 7 * 86_400_000;
    const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
    const byDate = await profiled('search-date', () =>
      load(server.base, args, () => {
        const from = min + rand(Math.max(1, Math.floor((max - min) / 86_400_000))) * 86_400_000;
        return `/fhir/Encounter?date=ge${day(from)}&date=lt${day(from + week)}`;
      }),
    );
    log(`search by date range: ${byDate.rps.toFixed(0)} req/s, p50 ${byDate.p50} ms, p99 ${byDate.p99} ms, ${byDate.non2xx} non-2xx`);
    const exp = await bulkExport(server.base, pid);
    log(
      `export: ${exp.resources} resources in ${exp.files} files, ${exp.seconds.toFixed(1)} s = ${exp.rps.toFixed(0)}/s, peak RSS ${exp.peakRssMb.toFixed(0)} MB (${exp.rssBeforeMb.toFixed(0)} MB before)`,
    );
    if (exp.resources !== ing.resources) log(`WARNING: exported ${exp.resources}, stored ${ing.resources}`);
    // Last, so the AuditEvents it writes are not in the export.
    const security = key ? await securityCost(server, args, key, () => `/fhir/Encounter/${w.encounterIds[rand(w.encounterIds.length)]}`, log) : undefined;
    const workers =
      driver === 'pg' && args.workers
        ? await compareWorkers(
            env.DATABASE_URL,
            args.workers,
            (base) => load(base, args, () => `/fhir/Encounter/${w.encounterIds[rand(w.encounterIds.length)]}`),
            log,
          )
        : undefined;
    return { driver, loadavg: load1, ingest: ing, read, floor, missing, byPatient, byDate, export: exp, security, workers, serverPeakRssMb: rss(pid).peak };
  } finally {
    await stop(server);
    await cleanup();
  }
}

// --- report ------------------------------------------------------------------------------------

/** One driver's results (what runDriver returns). */
type R = Awaited<ReturnType<typeof runDriver>>;
type Security = NonNullable<R['security']>;

function table(results: R[]): string {
  const by = (d: Driver): R | undefined => results.find((r) => r.driver === d);
  const rows: [string, string, (r: R) => string][] = [
    ['transaction ingest (resources/s)', `>= ${TARGETS.ingestRps}`, (r) => r.ingest.rps.toFixed(0)],
    ['read by id (req/s)', `>= ${TARGETS.readRps}`, (r) => r.read.rps.toFixed(0)],
    ['read by id p50 / p99 (ms)', `p99 < ${TARGETS.readP99}`, (r) => `${r.read.p50} / ${r.read.p99}`],
    ['floor: node:http + one SELECT (req/s)', '', (r) => (r.floor ? r.floor.rps.toFixed(0) : '-')],
    ['read by id as a share of the floor', '', (r) => (r.floor ? `${((100 * r.read.rps) / r.floor.rps).toFixed(0)}%` : '-')],
    ['Encounter?subject:missing=true, median (ms)', '< 100', (r) => r.missing.median.toFixed(1)],
    ['search by patient (req/s)', '', (r) => r.byPatient.rps.toFixed(0)],
    ['search by patient p50 / p99 (ms)', `p99 < ${TARGETS.patientP99}`, (r) => `${r.byPatient.p50} / ${r.byPatient.p99}`],
    ['search by date range (req/s)', '', (r) => r.byDate.rps.toFixed(0)],
    ['search by date range p50 / p99 (ms)', '', (r) => `${r.byDate.p50} / ${r.byDate.p99}`],
    ['bulk export (resources/s)', `>= ${TARGETS.exportRps}`, (r) => r.export.rps.toFixed(0)],
    ['bulk export peak RSS (MB)', `< ${TARGETS.exportRssMb}`, (r) => r.export.peakRssMb.toFixed(0)],
    ['  server RSS before the export (MB)', '', (r) => r.export.rssBeforeMb.toFixed(0)],
    ['load average when the driver started', '', (r) => r.loadavg.map((x: number) => x.toFixed(1)).join(' ')],
  ];
  if (results.some((r) => r.security)) {
    const s = (f: (x: Security) => string) => (r: R) => (r.security ? f(r.security) : '-');
    const ms = (x: { p50: number; p99: number }) => `${x.p50.toFixed(2)} / ${x.p99.toFixed(2)}`;
    rows.push(
      ['read by id, no auth: p50 / p99 (ms, exact)', '', s((x) => ms(x.none))],
      ['read by id, auth: p50 / p99 (ms, exact)', '', s((x) => ms(x.auth))],
      ['  auth overhead on read p50 (%)', `< ${TARGETS.authOverheadPct}`, s((x) => x.authOverheadP50Pct.toFixed(1))],
      ['read by id, auth + audit: p50 / p99 (ms)', '', s((x) => ms(x.audit))],
      ['  auth + audit overhead on read p50 (%)', '', s((x) => x.auditOverheadP50Pct.toFixed(1))],
      ['read by id req/s: no auth / auth / auth + audit', '', s((x) => `${x.none.rps.toFixed(0)} / ${x.auth.rps.toFixed(0)} / ${x.audit.rps.toFixed(0)}`)],
    );
  }
  for (const n of results.find((r) => r.workers)?.workers?.map((x) => x.workers) ?? []) {
    const one = (r: R) => r.workers?.find((x) => x.workers === n);
    rows.push([
      `read by id, server WORKERS=${n}: req/s, p50 / p99 (ms)`,
      '',
      (r) => (one(r) ? `${one(r)!.rps.toFixed(0)}, ${one(r)!.p50} / ${one(r)!.p99}` : '-'),
    ]);
  }
  const head = ['metric', 'target (PostgreSQL)', 'PostgreSQL', 'PGlite'];
  const body = rows.map(([name, target, f]) => [name, target, by('pg') ? f(by('pg') as R) : '-', by('pglite') ? f(by('pglite') as R) : '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.grow) return runGrow({ ...args, sizes: args.grow });
  const started = new Date();
  const t0 = performance.now();
  const w = buildWorkload(args);
  console.log(
    `workload: ${args.resources} resources (${Object.entries(w.byType)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}) in ${w.bundles.length} Bundles, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const results: R[] = [];
  const key = args.authRounds > 0 ? await benchKey() : undefined;
  for (const driver of args.drivers) {
    results.push(await runDriver(driver, args, w, key));
  }
  const report = table(results);
  console.log(`\n${report}\n`);
  const machine = machineInfo();
  const file = writeResults('api', started, {
    started: started.toISOString(),
    seconds: (performance.now() - t0) / 1000,
    args,
    machine,
    workload: w.byType,
    targets: TARGETS,
    results,
    table: report,
  });
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s; results in ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
