/**
 * The validator's verdicts, pinned: a fixed, varied corpus (resources the pipeline makes, the
 * examples, a sample of the official R4 examples, and seeded mutants of all of them that break one
 * to three things each) is validated and every outcome (valid, and a digest of the full issue
 * list: severity, code, expression, text, in order) is compared with the recorded one in
 * fixtures/equivalence-outcomes.json.
 *
 * Why: the validator is tuned for speed (precomputed per-profile plans, native invariants); a
 * speed change must not change a single verdict. A legitimate change of verdicts (a new rule)
 * re-records the outcomes: `UPDATE_VALIDATION_OUTCOMES=1 npx jest test/validation/equivalence`,
 * and the commit says which cases changed and why.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Validator } from '../../src/validation';
import { buildPool, mutate, Rng } from './support/mutate';

const FIXTURES = join(__dirname, 'fixtures');
const OUTCOMES = join(FIXTURES, 'equivalence-outcomes.json');
const SEED = 20261122;
const R4_SAMPLE = 200;
const MUTANTS = 4000;

interface Case {
  id: string;
  resource: unknown;
}

/** Base resources (frozen copies, so changes elsewhere do not move the corpus) and R4 examples. */
function corpus(): Case[] {
  const rng = new Rng(SEED);
  const base = JSON.parse(readFileSync(join(FIXTURES, 'equivalence-base.json'), 'utf8')) as unknown[];
  const r4dir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
  const r4files = readdirSync(r4dir)
    .filter((f) => f.endsWith('.json') && f !== 'package.json' && !f.startsWith('.'))
    .sort()
    .filter((f) => statSync(join(r4dir, f)).size < 30_000);
  // One example of each resource type (the type is the file name's prefix), then random ones.
  const byType = new Map<string, string[]>();
  for (const f of r4files) {
    const t = f.slice(0, f.indexOf('-'));
    byType.set(t, [...(byType.get(t) ?? []), f]);
  }
  const picks = [...byType.values()].map((fs) => rng.pick(fs));
  while (picks.length < R4_SAMPLE) {
    picks.push(rng.pick(r4files));
  }
  const r4 = picks.map((f, i) => ({ id: `r4/${i}/${f}`, resource: JSON.parse(readFileSync(join(r4dir, f), 'utf8')) as unknown }));
  const cases: Case[] = [...base.map((resource, i) => ({ id: `base/${i}`, resource })), ...r4];
  const seeds = cases.map((c) => c.resource);
  const pool = buildPool(seeds, rng);
  for (let i = 0; i < MUTANTS; i++) {
    cases.push({ id: `mutant/${i}`, resource: mutate(rng.pick(seeds), rng, pool) });
  }
  return cases;
}

function outcomeOf(validator: Validator, resource: unknown): string {
  try {
    const r = validator.validate(resource);
    const digest = createHash('sha256').update(JSON.stringify(r.issues)).digest('hex').slice(0, 20);
    return `${r.valid ? 'valid' : 'invalid'} ${r.issues.length} ${digest}`;
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

test('every verdict on the pinned corpus is the recorded one', () => {
  const validator = Validator.create();
  const actual: Record<string, string> = {};
  for (const c of corpus()) {
    actual[c.id] = outcomeOf(validator, c.resource);
  }
  if (process.env.UPDATE_VALIDATION_OUTCOMES === '1') {
    writeFileSync(OUTCOMES, JSON.stringify(actual, null, 0).replace(/","/g, '",\n"') + '\n');
    return;
  }
  const expected = JSON.parse(readFileSync(OUTCOMES, 'utf8')) as Record<string, string>;
  expect(Object.keys(actual).length).toBe(Object.keys(expected).length);
  const differing = Object.keys(expected).filter((id) => actual[id] !== expected[id]);
  expect(differing.map((id) => `${id}: expected ${expected[id]}, got ${actual[id]}`)).toEqual([]);
  // The corpus must keep exercising the error paths, not only valid resources.
  const invalid = Object.values(actual).filter((o) => o.startsWith('invalid')).length;
  expect(invalid).toBeGreaterThan(MUTANTS / 2);
}, 120_000);
