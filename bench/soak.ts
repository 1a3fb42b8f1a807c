/**
 * Soak benchmark: `npm run bench:soak` (tsx bench/soak.ts). Issue 15, "PGlite over time": does
 * throughput hold over minutes of mixed load while the store grows?
 *
 *   1. starts the real server (`src/server.ts` as `npm start` runs it: audit on, the default
 *      store maintenance, auth off through AUTH_DISABLED; bench/api-workers.ts `startRealServer`)
 *      on a fresh store: PGlite in a temp folder by default, `--driver pg` for a new PostgreSQL
 *      database on PEERBRIDGE_BENCH_PG;
 *   2. loads `--resources` generated peer support resources (bench/api-workload.ts, as bench:api
 *      loads them: `POST /fhir` transactions, a few in flight);
 *   3. runs a mixed load from `--connections` loops (one request at a time each, over fetch)
 *      for `--minutes` (or `--seconds`): read by id (Encounter), search by patient, search by
 *      date range (one week), PUT of a stored resource (its narrative changed, so each is a new
 *      version), and `POST /ingest/hl7v2` of `--hl7-batch` HL7 v2 messages
 *      (bench/translate-generate.ts; in feed order, one batch in flight at a time, as a feed
 *      sends), each request's kind drawn by the `--mix` weights;
 *   4. every `--interval` seconds (60: per minute) prints and records req/s (total and per
 *      kind), p50/p99 (all requests and per kind), non-2xx, the server's RSS (VmRSS of its
 *      process and any children, /proc) and the store's rows: on PostgreSQL resources, history
 *      rows and AuditEvents by SQL; on PGlite (one process's embedded store) AuditEvents by
 *      `GET /fhir/AuditEvent?_summary=count`, and all three once the server has stopped;
 *   5. says whether the last interval's req/s holds within 20% of the first's (the issue's
 *      target: at least 80% of it; the lowest interval is printed too) and writes
 *      bench/results/soak-<timestamp>.json.
 *
 * Options: --driver pglite|pg [pglite], --minutes N [10], --seconds S (instead of minutes, for
 * smoke runs), --interval S [60], --resources N [20000], --connections C [8],
 * --mix read=40,patient=20,date=15,put=20,hl7=5 (weights), --hl7-batch M [20 messages],
 * --workers N (PostgreSQL: WORKERS; default the server's own, one per core), --seed S [20261122],
 * --cpu-prof DIR (the server runs with node --cpu-prof; its profile is written to DIR when it
 * stops: whole run, samples timestamped, so intervals can be compared).
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Client } from 'pg';
import type { Resource } from '@medplum/fhirtypes';
import { openStore } from '../src/store';
import { freshStore, quantile, treeRss, type Driver } from './api-measure';
import { startRealServer } from './api-workers';
import { buildWorkload, ingest, type Workload } from './api-workload';
import { fmt, fmtInt, machineInfo, round, table, writeResults } from './stats';
import { hl7Batches } from './translate-generate';
import { Rng } from './workload';

const KINDS = ['read', 'patient', 'date', 'put', 'hl7'] as const;
type Kind = (typeof KINDS)[number];
/** The issue's target: the last interval's req/s within 20% of the first's. */
const HOLD = 0.2;

interface Args {
  driver: Driver;
  seconds: number;
  interval: number;
  resources: number;
  connections: number;
  mix: Record<Kind, number>;
  hl7Batch: number;
  workers?: number;
  seed: number;
  /** Folder for the server's V8 CPU profile (--cpu-prof <dir>), written when it stops. */
  cpuProf?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    driver: 'pglite',
    seconds: 600,
    interval: 60,
    resources: 20_000,
    connections: 8,
    mix: { read: 40, patient: 20, date: 15, put: 20, hl7: 5 },
    hl7Batch: 20,
    seed: 20261122,
  };
  const num = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--minutes') args.seconds = num(i++) * 60;
    else if (a === '--seconds') args.seconds = num(i++);
    else if (a === '--interval') args.interval = num(i++);
    else if (a === '--resources') args.resources = Math.floor(num(i++));
    else if (a === '--connections') args.connections = Math.floor(num(i++));
    else if (a === '--hl7-batch') args.hl7Batch = Math.floor(num(i++));
    else if (a === '--workers') args.workers = Math.floor(num(i++));
    else if (a === '--seed') args.seed = Math.floor(num(i++));
    else if (a === '--cpu-prof') {
      args.cpuProf = argv[++i];
      if (!args.cpuProf) throw new Error('--cpu-prof takes a folder');
    } else if (a === '--driver') {
      const d = argv[++i];
      if (d !== 'pg' && d !== 'pglite') throw new Error('--driver takes pg or pglite');
      args.driver = d;
    } else if (a === '--mix') {
      const mix: Record<string, number> = Object.fromEntries(KINDS.map((k) => [k, 0]));
      for (const part of String(argv[++i] ?? '').split(',')) {
        const [k, v] = part.split('=');
        if (!(KINDS as readonly string[]).includes(k) || !(Number(v) >= 0)) throw new Error(`--mix takes ${KINDS.map((x) => `${x}=N`).join(',')}`);
        mix[k] = Number(v);
      }
      if (Object.values(mix).every((v) => v === 0)) throw new Error('--mix: every weight is 0');
      args.mix = mix;
    } else throw new Error(`Unknown option ${a}`);
  }
  return args;
}

/** One request of each kind, made from the workload and a seeded generator. */
function requests(w: Workload, hl7: string[], rng: Rng): Record<Kind, () => { path: string; init?: RequestInit }> {
  const [min, max] = w.dates;
  const days = Math.max(1, Math.floor((max - min) / 86_400_000));
  const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
  let puts = 0;
  let nextHl7 = 0;
  return {
    read: () => ({ path: `/fhir/Encounter/${rng.pick(w.encounterIds)}` }),
    patient: () => ({ path: `/fhir/Encounter?patient=Patient/${rng.pick(w.patientIds)}` }),
    date: () => {
      const from = min + rng.int(0, days - 1) * 86_400_000;
      return { path: `/fhir/Encounter?date=ge${day(from)}&date=lt${day(from + 7 * 86_400_000)}` };
    },
    put: () => {
      const r: Resource = rng.pick(w.resources);
      const body = {
        ...r,
        text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${r.resourceType} ${r.id}, soak update ${++puts}</p></div>` },
      };
      return {
        path: `/fhir/${r.resourceType}/${r.id}`,
        init: { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) },
      };
    },
    // In feed order, from the start again when done (a re-sent message updates what it stored).
    hl7: () => ({
      path: '/ingest/hl7v2',
      init: { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: hl7[nextHl7++ % hl7.length] },
    }),
  };
}

interface Rows {
  resources?: number;
  history?: number;
  auditEvents?: number;
  /** Time the count took, ms. */
  ms: number;
}

/** The store's rows: by SQL on PostgreSQL; on PGlite only AuditEvents, through the API (the store is the server's). */
async function countRows(driver: Driver, base: string, pg?: Client): Promise<Rows> {
  const t = performance.now();
  if (pg) {
    const r = await pg.query<{ resources: string; history: string; audit: string }>(
      `SELECT (SELECT count(*) FROM fhir_resource WHERE NOT deleted AND resource_type <> 'AuditEvent') AS resources,
              (SELECT count(*) FROM fhir_history) AS history,
              (SELECT count(*) FROM fhir_resource WHERE NOT deleted AND resource_type = 'AuditEvent') AS audit`,
    );
    const row = r.rows[0];
    return { resources: Number(row.resources), history: Number(row.history), auditEvents: Number(row.audit), ms: performance.now() - t };
  }
  const res = await fetch(`${base}/fhir/AuditEvent?_summary=count`);
  const body = (await res.json()) as { total?: number };
  return { auditEvents: res.status === 200 ? body.total : undefined, ms: performance.now() - t };
}

/** Counts in a PGlite folder once its server has stopped (the store is one process's). */
async function countPglite(dir: string): Promise<Rows> {
  const t = performance.now();
  const store = await openStore({ DATA_DIR: dir, STORE_MAINTENANCE: 'off' });
  try {
    const r = await store.driver.query<{ resources: number; history: number; audit: number }>(
      `SELECT (SELECT count(*) FROM fhir_resource WHERE NOT deleted AND resource_type <> 'AuditEvent')::int AS resources,
              (SELECT count(*) FROM fhir_history)::int AS history,
              (SELECT count(*) FROM fhir_resource WHERE NOT deleted AND resource_type = 'AuditEvent')::int AS audit`,
    );
    const row = r.rows[0];
    return { resources: row.resources, history: row.history, auditEvents: row.audit, ms: performance.now() - t };
  } finally {
    await store.close();
  }
}

/** What one interval saw. */
interface Window {
  requests: Record<Kind, number>;
  non2xx: Record<Kind, number>;
  times: Record<Kind, number[]>;
}
const emptyWindow = (): Window => ({
  requests: Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>,
  non2xx: Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>,
  times: Object.fromEntries(KINDS.map((k) => [k, []])) as unknown as Record<Kind, number[]>,
});

interface IntervalResult {
  interval: number;
  fromS: number;
  toS: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  kinds: Record<Kind, { rps: number; p50: number; p99: number; non2xx: number }>;
  rssMb: number;
  rows?: Rows;
}

function summarise(i: number, w: Window, seconds: number, args: Args): Omit<IntervalResult, 'rssMb' | 'rows'> {
  const pct = (xs: number[], q: number): number => round(quantile(xs, q), 1);
  const all = KINDS.flatMap((k) => w.times[k]).sort((a, b) => a - b);
  const kinds = Object.fromEntries(
    KINDS.map((k) => {
      const xs = w.times[k].sort((a, b) => a - b);
      return [k, { rps: round(w.requests[k] / seconds, 1), p50: pct(xs, 0.5), p99: pct(xs, 0.99), non2xx: w.non2xx[k] }];
    }),
  ) as IntervalResult['kinds'];
  const total = KINDS.reduce((a, k) => a + w.requests[k], 0);
  const non2xx = KINDS.reduce((a, k) => a + w.non2xx[k], 0);
  return {
    interval: i + 1,
    fromS: i * args.interval,
    toS: i * args.interval + seconds,
    rps: round(total / seconds, 1),
    p50: pct(all, 0.5),
    p99: pct(all, 0.99),
    non2xx,
    kinds,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const t0 = performance.now();
  const w = buildWorkload({ resources: args.resources, seed: args.seed, batch: 100 });
  // Enough HL7 for the run at a few batches a second; re-sent from the start when used up.
  const hl7 = args.mix.hl7 > 0 ? hl7Batches(args.seed, args.hl7Batch, Math.min(40_000, Math.max(2_000, Math.ceil(args.seconds * 4 * args.hl7Batch)))) : [];
  console.log(
    `workload: ${fmtInt(args.resources)} resources, ${fmtInt(hl7.length)} HL7 batches of ${args.hl7Batch}, built in ${fmt((performance.now() - t0) / 1000)} s`,
  );
  const store = await freshStore(args.driver, 'peerbridge_bench_soak');
  const workers = args.driver === 'pg' ? (args.workers ?? availableParallelism()) : 1;
  const env = { ...store.env, ...(args.driver === 'pg' && args.workers ? { WORKERS: String(args.workers) } : {}) };
  if (args.cpuProf) mkdirSync(args.cpuProf, { recursive: true });
  const server = await startRealServer(env, workers, args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : []);
  const pg = store.env.DATABASE_URL ? new Client({ connectionString: store.env.DATABASE_URL }) : undefined;
  await pg?.connect();
  const intervals: IntervalResult[] = [];
  let finalRows: Rows | undefined;
  const firstErrors: Partial<Record<Kind, string>> = {};
  let load;
  try {
    console.log(
      `[${args.driver}] server ready in ${fmt(server.readyMs / 1000)} s (pid ${server.pid}, ${workers} process(es)), RSS ${fmtInt(treeRss(server.pid))} MB`,
    );
    load = await ingest(server.base, w.bundles, 4);
    console.log(
      `[${args.driver}] loaded ${fmtInt(load.resources)} resources in ${fmt(load.seconds)} s = ${fmtInt(load.rps)}/s, ${load.failures} failed Bundles${load.firstError ? ` (first: ${load.firstError})` : ''}`,
    );
    const rng = new Rng(args.seed);
    const make = requests(w, hl7, rng);
    const weights = KINDS.map((k) => args.mix[k]);
    const sum = weights.reduce((a, b) => a + b, 0);
    const pickKind = (): Kind => {
      let x = rng.next() * sum;
      for (let i = 0; i < KINDS.length; i++) if ((x -= weights[i]) < 0) return KINDS[i];
      return KINDS[KINDS.length - 1];
    };
    const count = Math.ceil(args.seconds / args.interval);
    const windows = Array.from({ length: count }, emptyWindow);
    const start = performance.now();
    const end = start + args.seconds * 1000;
    let hl7Busy = false;
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        // An HL7 v2 feed is one ordered stream (a message may need the one before it): one batch in
        // flight at a time; a loop that draws hl7 while one is out draws again.
        let kind = pickKind();
        while (kind === 'hl7' && hl7Busy) kind = pickKind();
        if (kind === 'hl7') hl7Busy = true;
        const { path, init } = make[kind]();
        const t = performance.now();
        let status = 0;
        let text = '';
        try {
          const res = await fetch(`${server.base}${path}`, init);
          status = res.status;
          text = await res.text();
        } catch (err) {
          text = String(err);
        }
        if (kind === 'hl7') hl7Busy = false;
        const done = performance.now();
        const win = windows[Math.min(count - 1, Math.floor((done - start) / (args.interval * 1000)))];
        win.requests[kind]++;
        win.times[kind].push(done - t);
        if (status < 200 || status >= 300) {
          win.non2xx[kind]++;
          firstErrors[kind] ??= `${status} ${text.slice(0, 1000)}`;
        }
      }
    };
    // At the end of each interval: its figures, the server's RSS, the store's rows.
    const report = async (i: number): Promise<void> => {
      const seconds = Math.min(args.interval, args.seconds - i * args.interval);
      const rssMb = round(treeRss(server.pid), 0);
      const rows = await countRows(args.driver, server.base, pg).catch(() => undefined);
      const r = { ...summarise(i, windows[i], seconds, args), rssMb, rows };
      intervals.push(r);
      const kinds = KINDS.filter((k) => args.mix[k] > 0)
        .map((k) => `${k} ${fmt(r.kinds[k].rps)}/s p99 ${r.kinds[k].p99}`)
        .join(', ');
      const store = rows ? [rows.resources, rows.history, rows.auditEvents].map((x) => (x === undefined ? '-' : fmtInt(x))).join(' / ') : '-';
      console.log(
        `[${args.driver}] ${r.fromS}-${r.toS} s: ${fmt(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.non2xx} non-2xx (${kinds}); RSS ${fmtInt(rssMb)} MB; resources / history / AuditEvents ${store}`,
      );
    };
    const reports: Promise<void>[] = [];
    const timers = Array.from({ length: count - 1 }, (_, i) => setTimeout(() => reports.push(report(i)), (i + 1) * args.interval * 1000));
    await Promise.all(Array.from({ length: args.connections }, loop));
    timers.forEach(clearTimeout);
    await Promise.all(reports);
    await report(count - 1);
  } finally {
    await pg?.end();
    const code = await server.stop();
    if (code !== 0) console.log(`[${args.driver}] server exited with ${code}:\n${server.output().slice(-2000)}`);
    if (args.driver === 'pglite' && intervals.length) finalRows = await countPglite(store.env.DATA_DIR).catch(() => undefined);
    await store.cleanup();
  }
  if (args.driver === 'pglite' && finalRows) intervals[intervals.length - 1].rows = { ...intervals[intervals.length - 1].rows, ...finalRows };
  for (const [kind, error] of Object.entries(firstErrors)) console.log(`first non-2xx of ${kind}: ${error}`);
  const first = intervals[0];
  const last = intervals[intervals.length - 1];
  const ratio = last.rps / first.rps;
  // A floor, as throughput targets are: the last interval at least 80% of the first (a rise is reported, not failed).
  const holds = intervals.length > 1 && ratio >= 1 - HOLD;
  const lowest = intervals.reduce((a, r) => (r.rps < a.rps ? r : a), first);
  const rows = intervals.map((r) => [
    `${r.fromS}-${r.toS}`,
    fmt(r.rps),
    ...KINDS.map((k) => fmt(r.kinds[k].rps)),
    `${r.p50} / ${r.p99}`,
    fmtInt(r.non2xx),
    fmtInt(r.rssMb),
    r.rows ? [r.rows.resources, r.rows.history, r.rows.auditEvents].map((x) => (x === undefined ? '-' : fmtInt(x))).join(' / ') : '-',
  ]);
  const summary = table(
    ['seconds', 'req/s', ...KINDS.map((k) => `${k}/s`), 'p50 / p99 ms', 'non-2xx', 'server RSS MB', 'resources / history / AuditEvents'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const verdict =
    intervals.length < 2
      ? 'one interval only: nothing to compare (use --interval below the run length)'
      : `last interval ${fmt(last.rps)} req/s = ${fmt(100 * ratio, 0)}% of the first (${fmt(first.rps)}): ${holds ? 'holds' : 'does not hold'} within ${HOLD * 100}%` +
        `; lowest ${lowest.fromS}-${lowest.toS} s, ${fmt(lowest.rps)} req/s = ${fmt((100 * lowest.rps) / first.rps, 0)}% of the first` +
        (ratio > 1 + HOLD ? ' (the first interval was the slow one: warm-up, or the store maintenance after the load)' : '');
  console.log(`\n${summary}\n\n${verdict}`);
  const machine = machineInfo();
  const file = writeResults('soak', started, {
    started: started.toISOString(),
    seconds: (performance.now() - t0) / 1000,
    args,
    machine,
    workload: w.byType,
    load,
    intervals,
    firstErrors,
    holds: intervals.length > 1 ? holds : undefined,
    lastOverFirst: ratio,
    lowestOverFirst: lowest.rps / first.rps,
    table: summary,
    verdict,
  });
  console.log(`total ${fmt((performance.now() - t0) / 1000, 0)} s; results in ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
