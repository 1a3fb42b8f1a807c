/**
 * Ingest benchmark: `npm run bench:ingest` (tsx bench/ingest.ts). Issue 3, "Speed".
 *
 * One run, one thread (the pipeline is single threaded; no workers). Steps:
 *   1. generates seeded canonical files (bench/ingest-generate.ts) in a temp dir: a warm-up file,
 *      the measured file (10,000 contacts across 500 episodes) and the 100,000-contact file;
 *   2. runs the pipeline once over the measured file collecting what the validator saw and what
 *      the sink got, and checks every record is accepted (0 rejected);
 *   3. measures, median of BENCH_RUNS runs each, after one warm-up run over the small file:
 *      a. pipeline end to end: fs read stream -> scanTopLevel -> translateCanonical (zod, rules,
 *         mapping, validation) -> every resource written as a PUT entry of one transaction Bundle
 *         to a temp file (back-pressure honoured);
 *      b. the same pipeline with validation stubbed out (validate() returns valid): the cost of
 *         everything but the validator;
 *      c. validator alone: validate() over the very resources the pipeline validated;
 *      d. JSON floor: readFileSync + JSON.parse of the whole input, then JSON.stringify of every
 *         output Bundle entry written through the same Bundle writer (no scan, zod, mapping, or
 *         validation: the least any canonical -> Bundle translation must spend on JSON and I/O);
 *      e. scan floor: fs read stream -> scanTopLevel alone (records cut out and JSON.parse'd);
 *   4. peak RSS (process.resourceUsage().maxRSS) of the pipeline in fresh child processes
 *      (bench/ingest-child.ts): warm-up size, 10k and 100k contacts streamed, and 10k and 100k
 *      with the input JSON.parse'd whole first (documentEvents). Children run side by side (the
 *      small ones together, then the two 100k ones) after all timings, so they do not disturb
 *      them; their own contacts/s is indicative only;
 * and prints a table, writing the figures to bench/results/ingest-<timestamp>.json.
 *
 * Environment knobs (defaults in brackets): BENCH_SEED [20261122], BENCH_CONTACTS [10000],
 * BENCH_BIG_CONTACTS [100000], BENCH_WARMUP_CONTACTS [400], BENCH_RUNS [3], BENCH_RSS [1]
 * (0 skips step 4), BENCH_KEEP [0] (1 keeps the temp dir with the generated files and Bundles).
 */
// First: the pipeline below runs compiled (dist/), as the CLI and the server run it, unless BENCH_CODE=src.
import { BENCH_CODE } from './compiled';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { scanTopLevel } from '../src/inbound/json-records';
import type { PipelineDeps, RunSummary } from '../src/pipeline/canonical';
import { PROJECT_ROOT, type ValidationResult, type Validator } from '../src/validation';
import { generateCanonicalFile, type GeneratedStats } from './ingest-generate';
import { BundleWriter, loadDeps, runPipeline, type PipelineRun } from './ingest-pipeline';
import { runJsonChild } from './child';
import { envNumber, fmt, fmtInt, median, mib, perSec, round, table, writeResults } from './stats';

const env = envNumber;
const SEED = env('BENCH_SEED', 20261122);
const CONTACTS = env('BENCH_CONTACTS', 10_000);
const BIG_CONTACTS = env('BENCH_BIG_CONTACTS', 100_000);
const WARMUP_CONTACTS = env('BENCH_WARMUP_CONTACTS', 400);
const RUNS = Math.max(1, env('BENCH_RUNS', 3));
const RSS = env('BENCH_RSS', 1) !== 0;
const KEEP = env('BENCH_KEEP', 0) !== 0;

const TARGET_CONTACTS_PER_SEC = 3000;
/** "Memory flat": peak RSS of the 100k streamed run at most this much above the 10k one. */
const FLAT_RSS_RATIO = 1.25;

const CHILD = join(PROJECT_ROOT, 'bench', 'ingest-child.ts');

// ---------------------------------------------------------------------------------------------
// Helpers

const signedMib = (kb: number): string => `${kb < 0 ? '-' : '+'}${mib(Math.abs(kb))}`;

/** Keeps results observable so no measured work can be optimized away. */
let sink = 0;

interface Timed {
  name: string;
  runsMs: number[];
  medianMs: number;
}

async function timeRuns(name: string, runs: number, fn: () => unknown): Promise<Timed> {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    runsMs.push(performance.now() - t);
  }
  return { name, runsMs: runsMs.map((x) => round(x, 1)), medianMs: round(median(runsMs), 1) };
}

function checkAllAccepted(what: string, summary: RunSummary, expected: GeneratedStats): void {
  if (summary.rejected !== 0 || summary.read !== expected.records) {
    throw new Error(
      `${what}: expected all ${expected.records} records accepted, got read ${summary.read}, accepted ${summary.accepted}, rejected ${summary.rejected}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes (peak RSS)

interface ChildResult {
  label: string;
  contacts: number;
  fileBytes: number;
  mode: 'stream' | 'whole';
  depsMs: number;
  ms: number;
  read: number;
  rejected: number;
  resources: number;
  rssAfterDepsKb: number;
  maxRssKb: number;
  heapUsedEndKb: number;
  wallMs: number;
}

async function runChild(label: string, file: string, mode: 'stream' | 'whole', out: string, contacts: number): Promise<ChildResult> {
  const { result: r, wallMs } = await runJsonChild<Omit<ChildResult, 'label' | 'contacts' | 'fileBytes' | 'wallMs'>>(
    label,
    ['--import', 'tsx', CHILD, file, mode, out],
    out,
  );
  return { ...r, label, contacts, fileBytes: statSync(file).size, wallMs };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const cpu = cpus()[0]?.model ?? 'unknown';
  const loadBefore = loadavg().map((x) => round(x, 2));
  console.log('PeerBridge ingest benchmark (canonical -> validated FHIR transaction Bundle)');
  console.log(`  date      ${startedAt.toISOString()}`);
  console.log(`  node      ${process.version} (${process.platform}/${process.arch}), single thread`);
  console.log(`  code      ${BENCH_CODE === 'dist' ? 'compiled dist/ (tsc), as the CLI and the server run it' : 'src/ through tsx (BENCH_CODE=src)'}`);
  console.log(`  cpu       ${cpu} (${cpus().length} logical cores visible), ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM`);
  console.log(`  load avg  ${loadBefore.join(' ')} (1/5/15 min) at start`);
  console.log(
    `  seed      ${SEED}; ${fmtInt(CONTACTS)} contacts measured, median of ${RUNS} runs; peak RSS ${RSS ? `at ${fmtInt(CONTACTS)} and ${fmtInt(BIG_CONTACTS)} contacts` : 'skipped'}`,
  );
  console.log('');

  const tmp = mkdtempSync(join(tmpdir(), 'peerbridge-ingest-'));
  try {
    // 1. Files -----------------------------------------------------------------------------------
    console.log('[1/5] generating canonical files ...');
    let t = performance.now();
    const warm = generateCanonicalFile(join(tmp, `canonical-${WARMUP_CONTACTS}.json`), { seed: SEED + 1, contacts: WARMUP_CONTACTS });
    const measured = generateCanonicalFile(join(tmp, `canonical-${CONTACTS}.json`), { seed: SEED, contacts: CONTACTS });
    const generateMs = performance.now() - t;
    const out = join(tmp, 'bundle.json');

    // 2. Deps, warm-up, collection run -------------------------------------------------------------
    console.log('[2/5] loading the validator, rules and package terms; warm-up; collection run ...');
    t = performance.now();
    const deps = loadDeps();
    const depsMs = performance.now() - t;
    const warmRun = await runPipeline(warm.file, out, deps);
    checkAllAccepted('warm-up file', warmRun.report.summary, warm);

    // What the validator saw (before references were rewritten to urn:uuid) and what the sink got.
    const validated: Resource[] = [];
    const output: Resource[] = [];
    const real = deps.validator;
    const collecting = Object.create(real) as Validator;
    collecting.validate = (input: unknown, options?: Parameters<Validator['validate']>[1]): ValidationResult => {
      validated.push(structuredClone(input) as Resource);
      return real.validate(input, options);
    };
    const collectRun = await runPipeline(measured.file, out, { ...deps, validator: collecting }, 'stream', (resources) => output.push(...resources));
    const summary = collectRun.report.summary;
    checkAllAccepted('measured file', summary, measured);
    const contacts = summary.byKind.contact?.accepted ?? 0;
    const records = summary.read;
    const resources = summary.resources;
    if (validated.length !== resources || output.length !== resources) {
      throw new Error(`resource counts disagree: summary ${resources}, validated ${validated.length}, sink ${output.length}`);
    }
    const warnings = (collectRun.report.outcome.issue ?? []).filter((i) => i.severity === 'warning');
    const resourceMix = new Map<string, number>();
    for (const r of output) resourceMix.set(r.resourceType, (resourceMix.get(r.resourceType) ?? 0) + 1);

    // 3. Timings ---------------------------------------------------------------------------------
    console.log(`[3/5] pipeline end to end, ${RUNS} runs ...`);
    const pipelineRuns: PipelineRun[] = [];
    const pipeline = await timeRuns('pipeline', RUNS, async () => {
      const run = await runPipeline(measured.file, out, deps);
      checkAllAccepted('pipeline run', run.report.summary, measured);
      pipelineRuns.push(run);
    });

    console.log(`[3/5] pipeline with validation stubbed out, ${RUNS} runs ...`);
    const okResult: ValidationResult = { valid: true, outcome: { resourceType: 'OperationOutcome', issue: [] }, issues: [] };
    const stub = Object.create(real) as Validator;
    stub.validate = (): ValidationResult => okResult;
    const stubDeps: PipelineDeps = { ...deps, validator: stub };
    await runPipeline(warm.file, out, stubDeps);
    const noValidation = await timeRuns('pipeline, validation stubbed', RUNS, async () => {
      const run = await runPipeline(measured.file, out, stubDeps);
      checkAllAccepted('stubbed run', run.report.summary, measured);
    });

    console.log(`[3/5] validator alone over the ${fmtInt(validated.length)} resources, ${RUNS} passes ...`);
    let invalidAlone = 0;
    for (const r of validated.slice(0, 2000)) sink += real.validate(r).issues.length; // warm-up
    const validatorAlone = await timeRuns('validator alone', RUNS, () => {
      invalidAlone = 0;
      for (const r of validated) {
        const res = real.validate(r);
        if (!res.valid) invalidAlone++;
        sink += res.issues.length;
      }
    });
    if (invalidAlone) {
      throw new Error(`validator alone: ${invalidAlone} of ${validated.length} resources invalid (the pipeline accepted them all)`);
    }

    console.log(`[3/5] JSON floor and scan floor, ${RUNS} runs each ...`);
    const jsonFloor = await timeRuns('JSON floor', RUNS + 1, async () => {
      const doc = JSON.parse(readFileSync(measured.file, 'utf8')) as { episodes: unknown[] };
      sink += doc.episodes.length;
      const writer = new BundleWriter(out);
      for (const r of output) {
        const wait = writer.add([r]);
        if (wait) await wait;
      }
      await writer.close();
    });
    jsonFloor.runsMs.shift(); // the first run warms up
    jsonFloor.medianMs = round(median(jsonFloor.runsMs), 1);
    const scanFloor = await timeRuns('scan floor', RUNS + 1, async () => {
      let n = 0;
      for await (const ev of scanTopLevel(createReadStream(measured.file, { encoding: 'utf8', highWaterMark: 1 << 16 }))) {
        if (ev.type === 'item') n++;
      }
      sink += n;
    });
    scanFloor.runsMs.shift();
    scanFloor.medianMs = round(median(scanFloor.runsMs), 1);
    const loadAfterTimings = loadavg().map((x) => round(x, 2));

    // 4. Peak RSS in child processes ---------------------------------------------------------------
    const children: ChildResult[] = [];
    let big: GeneratedStats | undefined;
    let bigGenerateMs = 0;
    if (RSS) {
      console.log(`[4/5] peak RSS: child processes side by side (${fmtInt(WARMUP_CONTACTS)} streamed; ${fmtInt(CONTACTS)} streamed and parsed whole) ...`);
      children.push(
        ...(await Promise.all([
          runChild(`${fmtInt(WARMUP_CONTACTS)} contacts, streamed`, warm.file, 'stream', join(tmp, 'child-0.json'), WARMUP_CONTACTS),
          runChild(`${fmtInt(CONTACTS)} contacts, streamed`, measured.file, 'stream', join(tmp, 'child-1.json'), CONTACTS),
          runChild(`${fmtInt(CONTACTS)} contacts, parsed whole`, measured.file, 'whole', join(tmp, 'child-2.json'), CONTACTS),
        ])),
      );
      console.log(`[4/5] peak RSS: generating ${fmtInt(BIG_CONTACTS)} contacts; streamed and parsed-whole children side by side ...`);
      t = performance.now();
      big = generateCanonicalFile(join(tmp, `canonical-${BIG_CONTACTS}.json`), { seed: SEED + 2, contacts: BIG_CONTACTS });
      bigGenerateMs = performance.now() - t;
      const bigFile = big.file;
      children.push(
        ...(await Promise.all([
          runChild(`${fmtInt(BIG_CONTACTS)} contacts, streamed`, bigFile, 'stream', join(tmp, 'child-3.json'), BIG_CONTACTS),
          runChild(`${fmtInt(BIG_CONTACTS)} contacts, parsed whole`, bigFile, 'whole', join(tmp, 'child-4.json'), BIG_CONTACTS),
        ])),
      );
      for (const c of children) {
        if (c.rejected !== 0) {
          throw new Error(`child ${c.label}: ${c.rejected} records rejected`);
        }
      }
    }

    // 5. Report ------------------------------------------------------------------------------------
    console.log('[5/5] done\n');
    const loadAfter = loadavg().map((x) => round(x, 2));
    const pipeContactsPerSec = perSec(contacts, pipeline.medianMs);
    const rows: { name: string; what: string; ms: Timed; note: string }[] = [
      { name: 'pipeline end to end (streamed)', what: 'scan + zod + rules + map + validate + Bundle file', ms: pipeline, note: 'the measured figure' },
      { name: 'pipeline, validation stubbed', what: 'same, validate() returns valid', ms: noValidation, note: 'all but the validator' },
      {
        name: 'validator alone',
        what: `validate() x ${fmtInt(validated.length)} (resources the pipeline validated)`,
        ms: validatorAlone,
        note: 'contacts/s = equivalent',
      },
      { name: 'JSON floor', what: 'readFile + JSON.parse input; JSON.stringify + write every output entry', ms: jsonFloor, note: 'no scan/zod/map/validate' },
      { name: 'scan floor', what: 'read stream + scanTopLevel (cut + JSON.parse per record)', ms: scanFloor, note: 'streaming input only' },
    ];
    console.log(
      `Throughput: ${fmtInt(contacts)} contacts = ${fmtInt(records)} records = ${fmtInt(resources)} resources; ${fmt(measured.bytes / 2 ** 20, 1)} MiB in; single thread; median of ${RUNS}`,
    );
    console.log(
      table(
        ['measure', 'what is timed', 'median s', 'contacts/s', 'records/s', 'resources/s', 'share of pipeline', 'runs s'],
        rows.map((r) => [
          r.name,
          r.what,
          fmt(r.ms.medianMs / 1000, 2),
          fmtInt(perSec(contacts, r.ms.medianMs)),
          fmtInt(perSec(records, r.ms.medianMs)),
          fmtInt(perSec(resources, r.ms.medianMs)),
          `${fmt((100 * r.ms.medianMs) / pipeline.medianMs, 0)}%`,
          r.ms.runsMs.map((x) => fmt(x / 1000, 2)).join(' / '),
        ]),
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    );
    console.log('  records = every canonical record (organization, practitioner, person, episode, review, contact, plan, administration, assessment).');
    console.log('  validator alone: contacts/s = contacts / (time to validate every resource of the file). Share = median / pipeline median.');
    console.log(
      `  resources: ${[...resourceMix].map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}; warnings ${warnings.length}; rejected 0 of ${fmtInt(records)}.`,
    );
    console.log(
      `  Bundle out: ${fmtInt(pipelineRuns[0]?.entries ?? 0)} entries; generated in ${fmt(generateMs, 0)} ms; deps (Validator.create, rules, terms) ${fmt(depsMs, 0)} ms (not timed above).\n`,
    );

    const c10s = children.find((c) => c.contacts === CONTACTS && c.mode === 'stream');
    const c100s = children.find((c) => c.contacts === BIG_CONTACTS && c.mode === 'stream');
    const c100w = children.find((c) => c.contacts === BIG_CONTACTS && c.mode === 'whole');
    if (children.length) {
      console.log('Peak RSS (process.resourceUsage().maxRSS of a fresh `node --import tsx bench/ingest-child.ts` per row)');
      console.log(
        table(
          ['run', 'input MiB', 'RSS after deps', 'peak RSS', 'heap used at end', 'pipeline s', 'contacts/s'],
          children.map((c) => [
            c.label,
            fmt(c.fileBytes / 2 ** 20, 1),
            mib(c.rssAfterDepsKb),
            mib(c.maxRssKb),
            mib(c.heapUsedEndKb),
            fmt(c.ms / 1000, 1),
            fmtInt(perSec(c.contacts, c.ms)),
          ]),
          ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
        ),
      );
      console.log('  RSS after deps: node + tsx + Validator.create() + rules + package terms, before the file is read. Peak RSS depends on when V8 collects');
      console.log('  (it varies by tens of MiB between runs on a busy machine); the streamed run also keeps cross-record state that grows with the file');
      console.log('  (ids emitted, for urn:uuid references; ids seen, for duplicates; billed units per person and day).');
      console.log(
        `  streamed: fs read stream (64 KiB) -> scanTopLevel; parsed whole: readFileSync + JSON.parse -> documentEvents. Children ran side by side (small ones together, then the two ${fmtInt(BIG_CONTACTS)} ones), so their contacts/s is indicative only.`,
      );
      if (c10s && c100s && c100w) {
        console.log(
          `  ${fmtInt(CONTACTS)} -> ${fmtInt(BIG_CONTACTS)} contacts: peak RSS streamed ${signedMib(c100s.maxRssKb - c10s.maxRssKb)}, parsed whole ${signedMib(c100w.maxRssKb - c10s.maxRssKb)} ` +
            `(parsed whole minus streamed at ${fmtInt(BIG_CONTACTS)}: ${signedMib(c100w.maxRssKb - c100s.maxRssKb)}).`,
        );
      }
      console.log('');
    }

    const targets = [
      {
        name: `pipeline >= ${fmtInt(TARGET_CONTACTS_PER_SEC)} contacts/s (one core)`,
        value: `${fmtInt(pipeContactsPerSec)}/s`,
        pass: pipeContactsPerSec >= TARGET_CONTACTS_PER_SEC,
      },
      ...(c10s && c100s
        ? [
            {
              name: `memory flat: peak RSS ${fmtInt(BIG_CONTACTS)} streamed <= ${FLAT_RSS_RATIO}x ${fmtInt(CONTACTS)} streamed`,
              value: `${mib(c100s.maxRssKb)} vs ${mib(c10s.maxRssKb)} (${fmt(c100s.maxRssKb / c10s.maxRssKb, 2)}x)`,
              pass: c100s.maxRssKb <= FLAT_RSS_RATIO * c10s.maxRssKb,
            },
          ]
        : []),
      { name: 'generated records rejected = 0', value: '0', pass: true },
    ];
    console.log('Targets (issue 3)');
    console.log(
      table(
        ['target', 'measured', 'result'],
        targets.map((x) => [x.name, x.value, x.pass ? 'PASS' : 'FAIL']),
        ['l', 'r', 'l'],
      ),
    );
    console.log(
      `\n  Node ${process.version}; CPU ${cpu}; load avg at start ${loadBefore.join('/')}, after timings ${loadAfterTimings.join('/')}, at end ${loadAfter.join('/')}`,
    );

    // JSON -----------------------------------------------------------------------------------------
    const row = (r: Timed) => ({
      runsMs: r.runsMs,
      medianMs: r.medianMs,
      contactsPerSec: round(perSec(contacts, r.medianMs), 0),
      recordsPerSec: round(perSec(records, r.medianMs), 0),
      resourcesPerSec: round(perSec(resources, r.medianMs), 0),
    });
    const result = {
      date: startedAt.toISOString(),
      node: process.version,
      cpu,
      cores: cpus().length,
      platform: `${process.platform}/${process.arch}`,
      loadavgStart: loadBefore,
      loadavgAfterTimings: loadAfterTimings,
      loadavgEnd: loadAfter,
      config: { seed: SEED, contacts: CONTACTS, bigContacts: BIG_CONTACTS, warmupContacts: WARMUP_CONTACTS, runs: RUNS, rss: RSS },
      input: { measured, warmup: warm, big: big ?? null, generateMs: round(generateMs, 1), bigGenerateMs: round(bigGenerateMs, 1) },
      counts: { contacts, records, resources, resourceMix: Object.fromEntries(resourceMix), warnings: warnings.length, byKind: summary.byKind },
      depsMs: round(depsMs, 1),
      definitions: {
        pipeline:
          'fs.createReadStream(64 KiB) -> scanTopLevel -> translateCanonical (zod, rules, mapping, validator) -> putEntry + JSON.stringify -> transaction Bundle file',
        pipelineNoValidation: 'the same with validator.validate stubbed to return valid',
        validatorAlone: 'validator.validate over the resources the pipeline validated (cloned before reference rewriting); contacts/s = contacts / time',
        jsonFloor:
          'readFileSync + JSON.parse of the whole input, then JSON.stringify(putEntry(r)) of every output resource written through the same Bundle writer',
        scanFloor: 'fs.createReadStream(64 KiB) -> scanTopLevel, counting items',
      },
      throughput: {
        pipeline: row(pipeline),
        pipelineNoValidation: row(noValidation),
        validatorAlone: row(validatorAlone),
        jsonFloor: row(jsonFloor),
        scanFloor: row(scanFloor),
      },
      rss: children.map((c) => ({ ...c, maxRssMiB: round(c.maxRssKb / 1024, 1) })),
      targets: targets.map((x) => ({ target: x.name, measured: x.value, pass: x.pass })),
    };
    const file = writeResults('ingest', startedAt, result);
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
