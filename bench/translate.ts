/**
 * Translation benchmark: `npm run bench:translate` (tsx bench/translate.ts). Issue 5, "Speed".
 *
 * One run, one thread (the pipeline is single threaded; no workers). The pipeline runs compiled
 * (dist/, built first when stale), as `peerbridge translate` runs it; BENCH_CODE=src runs the
 * TypeScript sources through tsx instead (bench/compiled.ts says why that is slower). Steps:
 *   1. generates seeded outside exports (bench/translate-generate.ts) in a temp dir: a Riverbend
 *      nightly CSV export whose contacts.csv has BENCH_CSV_ROWS rows (with the organizations,
 *      staff, clients and episodes files its contacts need: the contacts feed names only the
 *      episode and client, so a contact is accepted only with its episode in the same run), an
 *      HL7 v2 file of BENCH_HL7_MESSAGES messages (ADT^A04/A08, SIU^S12/S14/S15/S26, DFT^P03), and
 *      small warm-up versions of both;
 *   2. warm-up runs over the small files, then a verification pass over the measured ones that
 *      fails unless every source record is accepted (0 rejected, 0 that made no record);
 *   3. measures, median of BENCH_RUNS runs each (parse-only and parse+map after one more warm-up):
 *      a. CSV end to end: translateSource over the export folder (fs streams, inputsFromPath:
 *         the feeds' order) -> canonical (zod, rules) -> FHIR -> validated -> every accepted
 *         resource a PUT entry of one transaction Bundle file (BundleWriter of the ingest bench);
 *         rows/s over every row of the export, and over contacts.csv alone (its own phase);
 *      b. CSV parse only: readCsv over contacts.csv, each of the feed's columns read once per row;
 *      c. CSV parse + map: readCsv + mapRecords over contacts.csv (canonical JSON, no checks after);
 *      d-f. the same three for the HL7 file (readHl7; each message's feed's paths read once, FT1
 *         paths in every FT1; mapRecord with the message's feed);
 *   3b. the CSV and HL7 end-to-end runs again with store lookups on (issue 13 item 1: PipelineDeps
 *      `stored`, the lookup port over an empty in-memory PGlite store, as a first load sees it),
 *      each run beside one of 3a/3d in alternating order, so a drift in the machine's speed falls on
 *      both: their rates, the lookups made and their mean latency, and the cost per lookup (the
 *      difference of the medians over the lookups); BENCH_LOOKUPS [1] (0 skips it);
 *   4. peak RSS (process.resourceUsage().maxRSS) of the end-to-end translation in fresh child
 *      processes (bench/translate-child.ts), one after the other, after the timings: the CSV export
 *      at BENCH_CSV_ROWS and BENCH_BIG_CSV_ROWS contacts, the HL7 file at BENCH_HL7_MESSAGES and
 *      BENCH_BIG_HL7_MESSAGES messages; with the live heap the run keeps across records (its ids
 *      and units state, and the issues of its report) measured by forced GCs before and at the end;
 * and prints tables (targets with pass/miss), writing the figures, machine and load average to
 * bench/results/translate-<timestamp>.json.
 *
 * Environment knobs (defaults in brackets): BENCH_SEED [20261122], BENCH_CSV_ROWS [100000],
 * BENCH_HL7_MESSAGES [20000], BENCH_WARMUP_CSV_ROWS [5000], BENCH_WARMUP_HL7_MESSAGES [2000],
 * BENCH_BIG_CSV_ROWS [1000000], BENCH_BIG_HL7_MESSAGES [300000], BENCH_RUNS [3], BENCH_RSS [1]
 * (0 skips step 4), BENCH_KEEP [0] (1 keeps the temp dir).
 */
// First: the pipeline below runs compiled (dist/), as `peerbridge translate` does, unless BENCH_CODE=src.
import { BENCH_CODE } from './compiled';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import type { PipelineDeps } from '../src/pipeline/canonical';
import { LOOKUP_BATCH } from '../src/pipeline/translate-source';
import type { StoredRecords } from '../src/domain/stored-records';
import { openStore } from '../src/store';
import { storedRecords } from '../src/store/stored-records';
import type { Feed } from '../src/translate';
import { boundHeapGrowth, TRANSLATE_HEAP_GROWING_PERCENT } from '../src/cli/translate';
import { PROJECT_ROOT } from '../src/validation';
import { runJsonChild } from './child';
import { envNumber, fmt, fmtInt, median, mib, perSec, round, table, writeResults } from './stats';
import { generateHl7File, generateRiverbendCsv, type GeneratedCsv, type GeneratedHl7 } from './translate-generate';
import {
  checkAllAccepted,
  CONTACTS_FILE,
  CSV_SOURCE,
  HL7_SOURCE,
  loadBenchSource,
  loadDeps,
  mapCsvOnly,
  mapHl7Only,
  parseCsvOnly,
  parseHl7Only,
  runSource,
  type SourceRun,
} from './translate-pipeline';

const env = envNumber;
const SEED = env('BENCH_SEED', 20261122);
const CSV_ROWS = env('BENCH_CSV_ROWS', 100_000);
const HL7_MESSAGES = env('BENCH_HL7_MESSAGES', 20_000);
const WARMUP_CSV_ROWS = env('BENCH_WARMUP_CSV_ROWS', 5_000);
const WARMUP_HL7_MESSAGES = env('BENCH_WARMUP_HL7_MESSAGES', 2_000);
/** 1,000,000 rows (123 MiB of CSV): the child takes about 4.5 minutes on a 2-core machine; BENCH_BIG_CSV_ROWS for less. */
const BIG_CSV_ROWS = env('BENCH_BIG_CSV_ROWS', 1_000_000);
const BIG_HL7_MESSAGES = env('BENCH_BIG_HL7_MESSAGES', 300_000);
const RUNS = Math.max(1, env('BENCH_RUNS', 3));
const RSS = env('BENCH_RSS', 1) !== 0;
const KEEP = env('BENCH_KEEP', 0) !== 0;
const LOOKUPS = env('BENCH_LOOKUPS', 1) !== 0;

const TARGET_CSV_ROWS_PER_SEC = 3000;
const TARGET_HL7_MESSAGES_PER_SEC = 2000;
const TARGET_PEAK_RSS_MIB = 400;
/** Issue 13: the end-to-end rates of the last report (issue 5's benchmark run), kept with store lookups on. */
const TARGET_LOOKUPS_CSV_ROWS_PER_SEC = 5749;
const TARGET_LOOKUPS_HL7_MESSAGES_PER_SEC = 7598;

const CHILD = join(PROJECT_ROOT, 'bench', 'translate-child.ts');

const MiB = 2 ** 20;
const load = (): number[] => loadavg().map((x) => round(x, 2));

/** Keeps results observable so no measured work can be optimized away. */
let sink = 0;

interface Timed {
  runsMs: number[];
  medianMs: number;
  /** process.cpuUsage (user + system, all threads of the process) per run, ms. */
  cpuMs: number[];
}

async function timeRuns(runs: number, fn: () => Promise<unknown>, warmups = 0): Promise<Timed> {
  for (let i = 0; i < warmups; i++) await fn();
  return (await timePaired(runs, fn))[0];
}

/**
 * Two measurements interleaved run by run (the first of each pair alternating), so a drift in the
 * machine's speed falls on both: `b` is undefined when only `a` is measured.
 */
async function timePaired(runs: number, a: () => Promise<unknown>, b?: () => Promise<unknown>): Promise<[Timed, Timed | undefined]> {
  const measured = [a, b].map((fn) => ({ fn, runsMs: [] as number[], cpuMs: [] as number[] })).filter((m) => m.fn !== undefined);
  for (let i = 0; i < runs; i++) {
    for (const m of i % 2 === 0 ? measured : [...measured].reverse()) {
      const c = process.cpuUsage();
      const t = performance.now();
      await (m.fn as () => Promise<unknown>)();
      m.runsMs.push(performance.now() - t);
      const d = process.cpuUsage(c);
      m.cpuMs.push((d.user + d.system) / 1000);
    }
  }
  const [ta, tb] = measured.map((m): Timed => ({
    runsMs: m.runsMs.map((x) => round(x, 1)),
    medianMs: round(median(m.runsMs), 1),
    cpuMs: m.cpuMs.map((x) => round(x, 1)),
  }));
  return [ta, tb];
}

// ---------------------------------------------------------------------------------------------
// Child processes (peak RSS)

interface ChildResult {
  label: string;
  /** The heap growth bound the child ran with (0: V8's default); only the CLI's counts for the targets. */
  heapGrowingPercent: number;
  source: string;
  records: number;
  inputBytes: number;
  depsMs: number;
  ms: number;
  phaseStartMs: number;
  read: number;
  rejected: number;
  skipped: number;
  canonical: number;
  resources: number;
  issues: number;
  rssAfterDepsKb: number;
  maxRssKb: number;
  heapBeforeKb: number;
  heapAtLastKb: number;
  withReportKb: number;
  withoutReportKb: number;
  wallMs: number;
}

async function runChild(
  label: string,
  source: string,
  path: string,
  records: number,
  inputBytes: number,
  out: string,
  heapGrowing = TRANSLATE_HEAP_GROWING_PERCENT,
): Promise<ChildResult> {
  const env = { ...process.env, BENCH_HEAP_GROWING: String(heapGrowing) };
  const { result: r, wallMs } = await runJsonChild<Omit<ChildResult, 'label' | 'records' | 'inputBytes' | 'wallMs'>>(
    label,
    ['--expose-gc', '--import', 'tsx', CHILD, source, path, out, String(records)],
    out,
    env,
  );
  if (r.rejected !== 0 || r.skipped !== 0 || r.read !== records) {
    throw new Error(`child ${label}: expected ${records} source records accepted, got read ${r.read}, rejected ${r.rejected}, skipped ${r.skipped}`);
  }
  return { ...r, label, records, inputBytes, wallMs };
}

/** Live heap the run held at its last record beyond what stays after it (lazy caches), KiB. */
const stateKb = (c: ChildResult): number => c.heapAtLastKb - c.withoutReportKb;

/** The lookup port, counting its calls and the time they took (the latency a run waits for). */
function countingPort(port: StoredRecords): { port: StoredRecords; calls: number; ms: number; reset(): void } {
  const c = {
    calls: 0,
    ms: 0,
    reset() {
      c.calls = 0;
      c.ms = 0;
    },
    port: {} as StoredRecords,
  };
  const timed =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      c.calls++;
      const t = performance.now();
      try {
        return await fn(...a);
      } finally {
        c.ms += performance.now() - t;
      }
    };
  c.port = {
    find: timed(port.find.bind(port)),
    episode: timed(port.episode.bind(port)),
    anyUnitsBilled: timed(port.anyUnitsBilled.bind(port)),
    unitsBilled: timed(port.unitsBilled.bind(port)),
    findMany: timed(port.findMany.bind(port)),
    episodes: timed(port.episodes.bind(port)),
    billedAmong: timed(port.billedAmong.bind(port)),
    openEpisodes: timed(port.openEpisodes.bind(port)),
  };
  return c;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // As `peerbridge translate` does, so the timings below are the CLI's.
  boundHeapGrowth();
  const startedAt = new Date();
  const cpu = cpus()[0]?.model ?? 'unknown';
  const loadStart = load();
  console.log('PeerBridge translation benchmark (outside exports -> canonical -> FHIR -> validated transaction Bundle)');
  console.log(`  date      ${startedAt.toISOString()}`);
  console.log(
    `  node      ${process.version} (${process.platform}/${process.arch}), single thread, --heap-growing-percent=${TRANSLATE_HEAP_GROWING_PERCENT} as in peerbridge translate`,
  );
  console.log(`  code      ${BENCH_CODE === 'dist' ? 'compiled dist/ (tsc), as peerbridge translate runs it' : 'src/ through tsx (BENCH_CODE=src)'}`);
  console.log(`  cpu       ${cpu} (${cpus().length} logical cores visible), ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM`);
  console.log(`  load avg  ${loadStart.join(' ')} (1/5/15 min) at start`);
  console.log(`  seed      ${SEED}; ${fmtInt(CSV_ROWS)} CSV contact rows and ${fmtInt(HL7_MESSAGES)} HL7 messages measured, median of ${RUNS} runs`);
  console.log(
    `  peak RSS  ${RSS ? `CSV at ${fmtInt(CSV_ROWS)} and ${fmtInt(BIG_CSV_ROWS)} rows, HL7 at ${fmtInt(HL7_MESSAGES)} and ${fmtInt(BIG_HL7_MESSAGES)} messages` : 'skipped'}`,
  );
  console.log('');

  const tmp = mkdtempSync(join(tmpdir(), 'peerbridge-translate-'));
  try {
    // 1. Files ---------------------------------------------------------------------------------
    console.log('[1/5] generating the CSV exports and HL7 files ...');
    let t = performance.now();
    const warmCsv = generateRiverbendCsv(join(tmp, 'csv-warm'), { seed: SEED + 1, contacts: WARMUP_CSV_ROWS });
    const csv = generateRiverbendCsv(join(tmp, 'csv'), { seed: SEED, contacts: CSV_ROWS });
    const warmHl7 = generateHl7File(join(tmp, 'warm.hl7'), { seed: SEED + 1, messages: WARMUP_HL7_MESSAGES });
    const hl7 = generateHl7File(join(tmp, 'feed.hl7'), { seed: SEED, messages: HL7_MESSAGES });
    const generateMs = performance.now() - t;
    const out = join(tmp, 'bundle.json');
    const contactsFile = csv.files.contacts.file;

    // 2. Deps, warm-up, verification -------------------------------------------------------------
    console.log('[2/5] loading mappings and the validator; warm-up; verification pass (every record must be accepted) ...');
    t = performance.now();
    const csvSource = loadBenchSource(CSV_SOURCE);
    const hl7Source = loadBenchSource(HL7_SOURCE);
    const contactsFeed = csvSource.feeds.find((f) => f.name === 'contacts') as Feed;
    const deps: PipelineDeps = loadDeps();
    const depsMs = performance.now() - t;
    const csvRun = (g: GeneratedCsv, d = deps): Promise<SourceRun> => runSource(csvSource, g.dir, out, d, { phaseInput: CONTACTS_FILE });
    const hl7Run = (g: GeneratedHl7, d = deps): Promise<SourceRun> => runSource(hl7Source, g.file, out, d);
    checkAllAccepted('CSV warm-up export', await csvRun(warmCsv), warmCsv.rows);
    checkAllAccepted('HL7 warm-up file', await hl7Run(warmHl7), warmHl7.messages);
    const mix = { csv: new Map<string, number>(), hl7: new Map<string, number>() };
    const count = (m: Map<string, number>) => (resources: { resourceType: string }[]) => {
      for (const r of resources) m.set(r.resourceType, (m.get(r.resourceType) ?? 0) + 1);
    };
    const verifyCsv = await runSource(csvSource, csv.dir, out, deps, { phaseInput: CONTACTS_FILE, onRecord: count(mix.csv) });
    checkAllAccepted('CSV export (verification pass)', verifyCsv, csv.rows);
    const verifyHl7 = await runSource(hl7Source, hl7.file, out, deps, { onRecord: count(mix.hl7) });
    checkAllAccepted('HL7 file (verification pass)', verifyHl7, hl7.messages);
    const issuesOf = (r: SourceRun) => {
      const by: Record<string, number> = {};
      for (const i of r.report.outcome.issue) by[i.severity] = (by[i.severity] ?? 0) + 1;
      return by;
    };

    // 3. Timings -------------------------------------------------------------------------------
    // With lookups (3b), each end-to-end run without them is paired with one with them, interleaved.
    const repo = LOOKUPS ? await openStore({ memory: true }) : undefined;
    const counting = repo ? countingPort(storedRecords(repo)) : undefined;
    const withLookups: PipelineDeps | undefined = counting ? { ...deps, stored: counting.port } : undefined;
    if (withLookups) {
      checkAllAccepted('CSV warm-up export, lookups on', await csvRun(warmCsv, withLookups), warmCsv.rows);
      checkAllAccepted('HL7 warm-up file, lookups on', await hl7Run(warmHl7, withLookups), warmHl7.messages);
      counting?.reset();
    }
    const on = LOOKUPS ? ' and with store lookups on (empty PGlite store), interleaved' : '';
    console.log(`[3/5] CSV end to end${on}, ${RUNS} runs ...`);
    const csvPhases: number[] = [];
    const [csvE2e, csvOn] = await timePaired(
      RUNS,
      async () => {
        const r = await csvRun(csv);
        checkAllAccepted('CSV run', r, csv.rows);
        csvPhases.push(r.ms - r.phaseStartMs);
      },
      withLookups && (async () => checkAllAccepted('CSV run, lookups on', await csvRun(csv, withLookups), csv.rows)),
    );
    const csvCalls = (counting?.calls ?? 0) / RUNS;
    const csvCallMs = (counting?.ms ?? 0) / RUNS;
    counting?.reset();
    console.log(`[3/5] CSV parse only and parse + map, ${RUNS} runs each ...`);
    const csvParse = await timeRuns(
      RUNS,
      async () => {
        const r = await parseCsvOnly(contactsFile, contactsFeed);
        if (r.records !== CSV_ROWS) throw new Error(`parse only: ${r.records} rows, expected ${CSV_ROWS}`);
        sink += r.checksum;
      },
      1,
    );
    const csvMap = await timeRuns(
      RUNS,
      async () => {
        const r = await mapCsvOnly(contactsFile, csvSource, contactsFeed);
        if (r.records !== CSV_ROWS || r.mapped !== CSV_ROWS || r.errors)
          throw new Error(`parse + map: ${r.records} rows, ${r.mapped} mapped, ${r.errors} errors`);
        sink += r.checksum;
      },
      1,
    );
    console.log(`[3/5] HL7 end to end${on}, parse only and parse + map, ${RUNS} runs each ...`);
    const [hl7E2e, hl7On] = await timePaired(
      RUNS,
      async () => checkAllAccepted('HL7 run', await hl7Run(hl7), hl7.messages),
      withLookups && (async () => checkAllAccepted('HL7 run, lookups on', await hl7Run(hl7, withLookups), hl7.messages)),
    );
    const hl7Calls = (counting?.calls ?? 0) / RUNS;
    const hl7CallMs = (counting?.ms ?? 0) / RUNS;
    await repo?.close();
    const hl7Parse = await timeRuns(
      RUNS,
      async () => {
        const r = await parseHl7Only(hl7.file, hl7Source);
        if (r.records !== hl7.messages) throw new Error(`parse only: ${r.records} messages, expected ${hl7.messages}`);
        sink += r.checksum;
      },
      1,
    );
    const hl7Map = await timeRuns(
      RUNS,
      async () => {
        const r = await mapHl7Only(hl7.file, hl7Source);
        if (r.records !== hl7.messages || r.errors) throw new Error(`parse + map: ${r.records} messages, ${r.errors} errors`);
        sink += r.checksum;
      },
      1,
    );

    // 3b. Lookups on (measured above, each run beside one without) -------------------------------
    const lookups: { csv: Timed; hl7: Timed; csvCalls: number; csvCallMs: number; hl7Calls: number; hl7CallMs: number } | undefined =
      csvOn && hl7On ? { csv: csvOn, hl7: hl7On, csvCalls, csvCallMs, hl7Calls, hl7CallMs } : undefined;
    const loadAfterTimings = load();

    // 4. Peak RSS in child processes -----------------------------------------------------------
    const children: ChildResult[] = [];
    let bigCsv: GeneratedCsv | undefined;
    let bigHl7: GeneratedHl7 | undefined;
    if (RSS) {
      const child = (label: string, source: string, path: string, records: number, bytes: number, heapGrowing?: number): Promise<ChildResult> => {
        console.log(`[4/5] peak RSS: ${label} ...`);
        return runChild(label, source, path, records, bytes, join(tmp, 'child-bundle.json'), heapGrowing);
      };
      children.push(await child(`CSV, ${fmtInt(CSV_ROWS)} contact rows`, CSV_SOURCE, csv.dir, csv.rows, csv.bytes));
      children.push(await child(`HL7, ${fmtInt(HL7_MESSAGES)} messages`, HL7_SOURCE, hl7.file, hl7.messages, hl7.bytes));
      console.log(`[4/5] generating HL7 ${fmtInt(BIG_HL7_MESSAGES)} messages ...`);
      bigHl7 = generateHl7File(join(tmp, 'big.hl7'), { seed: SEED + 2, messages: BIG_HL7_MESSAGES });
      children.push(await child(`HL7, ${fmtInt(BIG_HL7_MESSAGES)} messages`, HL7_SOURCE, bigHl7.file, bigHl7.messages, bigHl7.bytes));
      // The same run with V8's default heap growth (up to 4x the live heap): what the CLI's bound saves.
      children.push(
        await child(`HL7, ${fmtInt(BIG_HL7_MESSAGES)} messages, V8 default heap growth`, HL7_SOURCE, bigHl7.file, bigHl7.messages, bigHl7.bytes, 0),
      );
      rmSync(bigHl7.file, { force: true });
      console.log(`[4/5] generating CSV ${fmtInt(BIG_CSV_ROWS)} contact rows ...`);
      bigCsv = generateRiverbendCsv(join(tmp, 'csv-big'), { seed: SEED + 2, contacts: BIG_CSV_ROWS });
      children.push(await child(`CSV, ${fmtInt(BIG_CSV_ROWS)} contact rows`, CSV_SOURCE, bigCsv.dir, bigCsv.rows, bigCsv.bytes));
      rmSync(bigCsv.dir, { recursive: true, force: true });
    }

    // 5. Report --------------------------------------------------------------------------------
    console.log('[5/5] done\n');
    const loadEnd = load();
    const csvResources = verifyCsv.report.summary.resources;
    const contactsResources = (mix.csv.get('Encounter') ?? 0) + (mix.csv.get('ChargeItem') ?? 0);
    const hl7Resources = verifyHl7.report.summary.resources;
    const csvPhase = { runsMs: csvPhases.map((x) => round(x, 1)), medianMs: round(median(csvPhases), 1), cpuMs: [] as number[] };
    const rows: { name: string; what: string; n: number; unit: string; resources?: number; ms: Timed; base: Timed }[] = [
      {
        name: 'CSV end to end, whole export',
        what: `5 files, ${fmtInt(csv.rows)} rows -> Bundle file`,
        n: csv.rows,
        unit: 'rows',
        resources: csvResources,
        ms: csvE2e,
        base: csvParse,
      },
      {
        name: '  of which contacts.csv',
        what: `${fmtInt(CSV_ROWS)} rows (its phase of the same runs)`,
        n: CSV_ROWS,
        unit: 'rows',
        resources: contactsResources,
        ms: csvPhase,
        base: csvParse,
      },
      { name: 'CSV parse + map', what: 'contacts.csv: readCsv + mapRecords', n: CSV_ROWS, unit: 'rows', ms: csvMap, base: csvParse },
      { name: 'CSV parse only', what: 'contacts.csv: readCsv + scope.get of each column', n: CSV_ROWS, unit: 'rows', ms: csvParse, base: csvParse },
      {
        name: 'HL7 end to end',
        what: `${fmtInt(hl7.messages)} messages -> Bundle file`,
        n: hl7.messages,
        unit: 'messages',
        resources: hl7Resources,
        ms: hl7E2e,
        base: hl7Parse,
      },
      ...(lookups
        ? [
            {
              name: 'CSV end to end, lookups on',
              what: `as above, ${fmtInt(lookups.csvCalls)} lookups a run`,
              n: csv.rows,
              unit: 'rows',
              resources: csvResources,
              ms: lookups.csv,
              base: csvParse,
            },
            {
              name: 'HL7 end to end, lookups on',
              what: `as above, ${fmtInt(lookups.hl7Calls)} lookups a run`,
              n: hl7.messages,
              unit: 'messages',
              resources: hl7Resources,
              ms: lookups.hl7,
              base: hl7Parse,
            },
          ]
        : []),
      { name: 'HL7 parse + map', what: 'readHl7 + mapRecord (feed by MSH-9)', n: hl7.messages, unit: 'messages', ms: hl7Map, base: hl7Parse },
      { name: 'HL7 parse only', what: "readHl7 + scope.get of the feed's paths", n: hl7.messages, unit: 'messages', ms: hl7Parse, base: hl7Parse },
    ];
    console.log(
      `Throughput: single thread, median of ${RUNS}; CSV ${fmt(csv.bytes / MiB, 1)} MiB (contacts.csv ${fmt(csv.files.contacts.bytes / MiB, 1)} MiB), HL7 ${fmt(hl7.bytes / MiB, 1)} MiB`,
    );
    console.log(
      table(
        ['measure', 'input', 'median s', 'records/s', 'resources/s', 'x parse-only', 'CPU s', 'records/CPU s', 'runs s'],
        rows.map((r) => [
          r.name,
          r.what,
          fmt(r.ms.medianMs / 1000, 2),
          `${fmtInt(perSec(r.n, r.ms.medianMs))} ${r.unit}/s`,
          r.resources ? fmtInt(perSec(r.resources, r.ms.medianMs)) : '-',
          fmt(r.ms.medianMs / r.base.medianMs, 1),
          r.ms.cpuMs.length ? fmt(median(r.ms.cpuMs) / 1000, 2) : '-',
          r.ms.cpuMs.length ? fmtInt(perSec(r.n, median(r.ms.cpuMs))) : '-',
          r.ms.runsMs.map((x) => fmt(x / 1000, 2)).join(' / '),
        ]),
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    );
    const hl7Types = Object.entries(hl7.byType)
      .map(([k, v]) => `${k} ${fmtInt(v)}`)
      .join(', ');
    console.log(
      `  CSV export: ${Object.entries(csv.files)
        .map(([k, f]) => `${k} ${fmtInt(f.rows)}`)
        .join(', ')} rows; contacts by status ${Object.entries(csv.contactsByStatus)
        .map(([k, v]) => `${k} ${fmtInt(v)}`)
        .join(', ')}; ${fmtInt(csv.quotedNotes)} quoted notes.`,
    );
    console.log(
      `  CSV resources: ${[...mix.csv].map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}; issues ${JSON.stringify(issuesOf(verifyCsv))}; rejected 0 of ${fmtInt(csv.rows)}.`,
    );
    console.log(
      `  HL7 messages: ${hl7Types}; FT1 H0038 ${fmtInt(hl7.ft1.h0038)} (+${fmtInt(hl7.ft1.h0038NoAppointment)} without appointment), other FT1 ${fmtInt(hl7.ft1.other)} (skipped by the feed).`,
    );
    console.log(
      `  HL7 records: ${Object.entries(verifyHl7.report.summary.byKind)
        .map(([k, c]) => `${k} ${fmtInt(c?.read ?? 0)}`)
        .join(
          ', ',
        )}; resources ${[...mix.hl7].map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}; issues ${JSON.stringify(issuesOf(verifyHl7))}; rejected 0 of ${fmtInt(hl7.messages)}.`,
    );
    console.log('  median s and records/s are wall clock. "of which contacts.csv": from the last record of the files before it (episodes.csv, ...) to the');
    console.log(
      "  end of the run. CPU s: median process.cpuUsage (user + system, V8's GC helper threads included) of the runs; records/CPU s = records / CPU s,",
    );
    console.log('  what one core would do with no other load (wall time on a shared machine includes time the process waited for a core). Every accepted');
    console.log('  resource is written (a later HL7 event for the same appointment or person writes it again; the CLI keeps only the last version of each).');
    if (lookups) {
      const cost = (on: Timed, off: Timed, calls: number): string =>
        `${calls > 0 ? `${fmt((on.medianMs - off.medianMs) / calls, 3)} ms a lookup by the medians` : 'no lookups'}, the rate ${fmt((100 * off.medianMs) / on.medianMs, 1)}% of the one without lookups`;
      console.log(
        `  Lookups on: the lookup port over an empty in-memory PGlite store (what a first load meets: the references of each batch of ${LOOKUP_BATCH} source records not in`,
      );
      console.log(
        `  the run are asked together, one question per kind, then cached for the run). CSV ${fmtInt(lookups.csvCalls)} lookups a run, mean latency ${fmt(lookups.csvCallMs / Math.max(1, lookups.csvCalls), 3)} ms, ${cost(lookups.csv, csvE2e, lookups.csvCalls)};`,
      );
      console.log(
        `  HL7 ${fmtInt(lookups.hl7Calls)} lookups a run, mean latency ${fmt(lookups.hl7CallMs / Math.max(1, lookups.hl7Calls), 3)} ms, ${cost(lookups.hl7, hl7E2e, lookups.hl7Calls)}.`,
      );
    }
    console.log(`  Generated in ${fmt(generateMs, 0)} ms; mappings + Validator.create + rules + terms ${fmt(depsMs, 0)} ms (not timed above).\n`);

    if (children.length) {
      console.log(
        'Peak RSS (process.resourceUsage().maxRSS of a fresh `node --expose-gc --import tsx bench/translate-child.ts` per row, run one after the other)',
      );
      console.log(
        table(
          ['run', 'input MiB', 'RSS after deps', 'peak RSS', 'live heap at end', 'run state', 'per record', 'report issues', 'run s', 'records/s'],
          children.map((c) => [
            c.label,
            fmt(c.inputBytes / MiB, 1),
            mib(c.rssAfterDepsKb),
            mib(c.maxRssKb),
            mib(c.heapAtLastKb),
            mib(stateKb(c)),
            `${fmtInt((stateKb(c) * 1024) / c.records)} B`,
            `${fmtInt(c.issues)} (${fmt((c.withReportKb - c.withoutReportKb) / 1024, 1)} MiB)`,
            fmt(c.ms / 1000, 1),
            fmtInt(perSec(c.records, c.ms)),
          ]),
          ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        ),
      );
      console.log(
        '  RSS after deps: node + tsx + mappings + Validator.create() + rules + terms, before the input is read. Live heap at end: heap used after a',
      );
      console.log('  full GC while the last record is handled. Run state: that minus the live heap after the run (deps still held): what the run keeps across');
      console.log("  records (episode links, the daily-cap ledger of at most 100,000 contacts, Part 2 people, the report's issues); per record: divided by");
      console.log('  the source records. Report issues: issues kept in the OperationOutcome (the first 1,000 and a line counting the rest), and');
      console.log("  their live heap. Peak RSS also holds V8's headroom: garbage between collections, young generation, code. Every child runs with the");
      console.log(
        `  heap growth \`peerbridge translate\` sets (--heap-growing-percent=${TRANSLATE_HEAP_GROWING_PERCENT}) but the "V8 default heap growth" row, there for comparison (not a target).`,
      );
      for (const source of [CSV_SOURCE, HL7_SOURCE]) {
        const [small, big] = children.filter((c) => c.source === source && c.heapGrowingPercent > 0).sort((a, b) => a.records - b.records);
        if (!small || !big || big.records === small.records) continue;
        const slopeKb = (big.maxRssKb - small.maxRssKb) / (big.records - small.records);
        const limitKb = (TARGET_PEAK_RSS_MIB * 1e6) / 1024;
        const reach = slopeKb > 0 ? small.records + (limitKb - small.maxRssKb) / slopeKb : Infinity;
        console.log(
          `  ${source}: ${fmtInt(small.records)} -> ${fmtInt(big.records)} records: peak RSS ${mib(small.maxRssKb)} -> ${mib(big.maxRssKb)} (${fmt((slopeKb * 1e5) / 1024, 0)} MiB per 100,000 records), ` +
            `run state ${fmtInt((stateKb(big) * 1024) / big.records)} B per record${Number.isFinite(reach) ? `; at that slope peak RSS reaches ${TARGET_PEAK_RSS_MIB} MB at about ${fmtInt(Math.round(reach / 1000) * 1000)} records` : ''}.`,
        );
      }
      console.log('');
    }

    const csvRate = perSec(csv.rows, csvE2e.medianMs);
    const csvCpuRate = perSec(csv.rows, median(csvE2e.cpuMs));
    const contactsRate = perSec(CSV_ROWS, csvPhase.medianMs);
    const hl7Rate = perSec(hl7.messages, hl7E2e.medianMs);
    const hl7CpuRate = perSec(hl7.messages, median(hl7E2e.cpuMs));
    const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
    const targets = [
      {
        name: `CSV end to end >= ${fmtInt(TARGET_CSV_ROWS_PER_SEC)} rows/s (one core)`,
        value: `${fmtInt(csvRate)} rows/s (contacts.csv alone ${fmtInt(contactsRate)})`,
        pass: csvRate >= TARGET_CSV_ROWS_PER_SEC,
        cpu: `${fmtInt(csvCpuRate)} rows/CPU s`,
        cpuPass: csvCpuRate >= TARGET_CSV_ROWS_PER_SEC,
      },
      {
        name: `HL7 end to end >= ${fmtInt(TARGET_HL7_MESSAGES_PER_SEC)} messages/s (one core)`,
        value: `${fmtInt(hl7Rate)} messages/s`,
        pass: hl7Rate >= TARGET_HL7_MESSAGES_PER_SEC,
        cpu: `${fmtInt(hl7CpuRate)} messages/CPU s`,
        cpuPass: hl7CpuRate >= TARGET_HL7_MESSAGES_PER_SEC,
      },
      ...children
        .filter((c) => c.heapGrowingPercent > 0)
        .map((c) => ({
          name: `peak RSS < ${TARGET_PEAK_RSS_MIB} MB: ${c.label}`,
          value: `${mib(c.maxRssKb)} (${fmt((c.maxRssKb * 1024) / 1e6, 0)} MB)`,
          pass: c.maxRssKb * 1024 < TARGET_PEAK_RSS_MIB * 1e6,
          cpu: '',
          cpuPass: undefined,
        })),
      ...(lookups
        ? [
            {
              name: `CSV end to end, lookups on >= ${fmtInt(TARGET_LOOKUPS_CSV_ROWS_PER_SEC)} rows/s (issue 13)`,
              value: `${fmtInt(perSec(csv.rows, lookups.csv.medianMs))} rows/s`,
              pass: perSec(csv.rows, lookups.csv.medianMs) >= TARGET_LOOKUPS_CSV_ROWS_PER_SEC,
              cpu: `${fmtInt(perSec(csv.rows, median(lookups.csv.cpuMs)))} rows/CPU s`,
              cpuPass: perSec(csv.rows, median(lookups.csv.cpuMs)) >= TARGET_LOOKUPS_CSV_ROWS_PER_SEC,
            },
            {
              name: `HL7 end to end, lookups on >= ${fmtInt(TARGET_LOOKUPS_HL7_MESSAGES_PER_SEC)} messages/s (issue 13)`,
              value: `${fmtInt(perSec(hl7.messages, lookups.hl7.medianMs))} messages/s`,
              pass: perSec(hl7.messages, lookups.hl7.medianMs) >= TARGET_LOOKUPS_HL7_MESSAGES_PER_SEC,
              cpu: `${fmtInt(perSec(hl7.messages, median(lookups.hl7.cpuMs)))} messages/CPU s`,
              cpuPass: perSec(hl7.messages, median(lookups.hl7.cpuMs)) >= TARGET_LOOKUPS_HL7_MESSAGES_PER_SEC,
            },
          ]
        : []),
      { name: 'generated records rejected = 0 (every run checked)', value: '0', pass: true, cpu: '', cpuPass: undefined },
    ];
    console.log('Targets (issues 5 and 13)');
    console.log(
      table(
        ['target', 'measured (wall clock)', 'result', 'per CPU second', 'result'],
        targets.map((x) => [x.name, x.value, verdict(x.pass), x.cpu, x.cpuPass === undefined ? '' : verdict(x.cpuPass)]),
        ['l', 'r', 'l', 'r', 'l'],
      ),
    );
    console.log(
      `\n  Node ${process.version}; CPU ${cpu}; ${cpus().length} cores; load avg at start ${loadStart.join('/')}, after timings ${loadAfterTimings.join('/')}, at end ${loadEnd.join('/')}`,
    );

    // JSON -------------------------------------------------------------------------------------
    const row = (r: (typeof rows)[number]) => ({
      measure: r.name.trim(),
      input: r.what,
      records: r.n,
      runsMs: r.ms.runsMs,
      medianMs: r.ms.medianMs,
      cpuMs: r.ms.cpuMs,
      recordsPerSec: round(perSec(r.n, r.ms.medianMs), 0),
      ...(r.resources ? { resources: r.resources, resourcesPerSec: round(perSec(r.resources, r.ms.medianMs), 0) } : {}),
    });
    const result = {
      date: startedAt.toISOString(),
      node: process.version,
      code: BENCH_CODE,
      cpu,
      cores: cpus().length,
      totalMemGiB: round(totalmem() / 2 ** 30, 1),
      platform: `${process.platform}/${process.arch}`,
      loadavgStart: loadStart,
      loadavgAfterTimings: loadAfterTimings,
      loadavgEnd: loadEnd,
      lookups: lookups
        ? {
            csvLookupsPerRun: lookups.csvCalls,
            csvLookupMsPerRun: round(lookups.csvCallMs, 1),
            hl7LookupsPerRun: lookups.hl7Calls,
            hl7LookupMsPerRun: round(lookups.hl7CallMs, 1),
          }
        : null,
      config: {
        seed: SEED,
        csvRows: CSV_ROWS,
        hl7Messages: HL7_MESSAGES,
        warmupCsvRows: WARMUP_CSV_ROWS,
        warmupHl7Messages: WARMUP_HL7_MESSAGES,
        bigCsvRows: BIG_CSV_ROWS,
        bigHl7Messages: BIG_HL7_MESSAGES,
        runs: RUNS,
        rss: RSS,
      },
      input: { csv, hl7, warmCsv, warmHl7, bigCsv: bigCsv ?? null, bigHl7: bigHl7 ?? null, generateMs: round(generateMs, 1) },
      counts: {
        csv: {
          records: verifyCsv.report.records,
          byKind: verifyCsv.report.summary.byKind,
          resources: Object.fromEntries(mix.csv),
          issues: issuesOf(verifyCsv),
        },
        hl7: {
          records: verifyHl7.report.records,
          byKind: verifyHl7.report.summary.byKind,
          resources: Object.fromEntries(mix.hl7),
          issues: issuesOf(verifyHl7),
        },
      },
      depsMs: round(depsMs, 1),
      throughput: rows.map(row),
      rss: children.map((c) => ({
        ...c,
        maxRssMiB: round(c.maxRssKb / 1024, 1),
        stateMiB: round(stateKb(c) / 1024, 1),
        stateBytesPerRecord: round((stateKb(c) * 1024) / c.records, 0),
      })),
      targets: targets.map((x) => ({
        target: x.name,
        measured: x.value,
        pass: x.pass,
        ...(x.cpuPass !== undefined ? { perCpuSecond: x.cpu, passPerCpuSecond: x.cpuPass } : {}),
      })),
    };
    const file = writeResults('translate', startedAt, result);
    console.log(`\nWrote ${relative(PROJECT_ROOT, file)} (sink ${sink % 1000})`);
    if (KEEP) console.log(`Kept ${tmp}`);
  } finally {
    if (!KEEP) rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
