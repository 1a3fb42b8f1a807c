/**
 * The validation worker pool (src/validation/pool.ts, issue 11 item 8): the same verdicts as the
 * Validator in this thread, and a budget per request (elements 413, time 422 with the worker
 * replaced, a full queue 503 with Retry-After). The workers run pool-worker.ts through tsx here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FhirError } from '../../src/outcomes';
import { countElements, inThreadValidation, PROJECT_ROOT, ValidationPool, Validator } from '../../src/validation';

const validator = Validator.create();
const example = (name: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', 'valid', name), 'utf8'));
const manyNames = (n: number): unknown => ({ resourceType: 'Patient', name: Array.from({ length: n }, () => ({})) });

async function refusal(p: Promise<unknown>): Promise<FhirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FhirError);
  return err as FhirError;
}

describe('ValidationPool', () => {
  let pool: ValidationPool | undefined;
  afterEach(() => pool?.close());

  test('gives the verdicts the Validator gives in this thread', async () => {
    pool = new ValidationPool({ size: 2, definitions: validator.defs.options });
    const inputs = [example('Bundle-peer-support-episode.json'), example('Patient-dana-whitfield.json'), { resourceType: 'Patient', gender: 'x' }, [1], null];
    const results = await Promise.all(inputs.map((input) => pool!.validate(input)));
    expect(results).toEqual(inputs.map((input) => validator.validate(input)));
    expect(results[0].valid).toBe(true);
    expect(results[2].valid).toBe(false);
    // A profile asked for travels to the worker.
    const profile = 'http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter';
    const encounter = { resourceType: 'Encounter', status: 'planned', class: { code: 'AMB' } };
    expect(await pool.validate(encounter, { profile })).toEqual(validator.validate(encounter, { profile }));
  }, 60_000);

  test('warmAtStart false: no worker until the first request, then one stays loaded', async () => {
    pool = new ValidationPool({ size: 2, warmAtStart: false, definitions: validator.defs.options });
    expect(pool.stats()).toEqual({ workers: 0, busy: 0, queued: 0 });
    const patient = example('Patient-dana-whitfield.json');
    expect(await pool.validate(patient)).toEqual(validator.validate(patient));
    expect(pool.stats()).toEqual({ workers: 1, busy: 0, queued: 0 });
  }, 60_000);

  test('more elements than the budget: 413 before any worker sees it', async () => {
    pool = new ValidationPool({ size: 1, budget: { maxElements: 1000 }, definitions: validator.defs.options });
    const err = await refusal(pool.validate(manyNames(1_000_000)));
    expect(err.status).toBe(413);
    expect(err.outcome.issue?.[0]?.details?.text).toMatch(/more than 1000 elements \(VALIDATION_MAX_ELEMENTS\)/);
    expect(pool.stats().busy).toBe(0);
    expect((await pool.validate(manyNames(10))).valid).toBe(false);
  }, 60_000);

  test('a validation over its time budget is stopped with 422; the worker is replaced', async () => {
    pool = new ValidationPool({ size: 1, budget: { maxElements: Infinity, timeoutMs: 300 }, definitions: validator.defs.options });
    await pool.validate({ resourceType: 'Patient' }); // the worker is loaded
    const err = await refusal(pool.validate(manyNames(1_000_000)));
    expect(err.status).toBe(422);
    expect(err.outcome.issue?.[0]?.details?.text).toMatch(/longer than 300 ms \(VALIDATION_TIMEOUT_MS\)/);
    // Budgets differ per caller: the same workers, more time.
    const patient = example('Patient-dana-whitfield.json');
    expect(await pool.withBudget({ maxElements: 1000, timeoutMs: 60_000 }).validate(patient)).toEqual(validator.validate(patient));
    expect(pool.stats()).toEqual({ workers: 1, busy: 0, queued: 0 });
  }, 60_000);

  test('a full queue answers 503 with Retry-After', async () => {
    pool = new ValidationPool({ size: 1, maxQueue: 1, budget: { maxElements: Infinity, timeoutMs: 60_000 }, definitions: validator.defs.options });
    await pool.validate({ resourceType: 'Patient' });
    const running = pool.validate(manyNames(50_000));
    const waiting = pool.validate(manyNames(10));
    const err = await refusal(pool.validate(manyNames(10)));
    expect(err.status).toBe(503);
    expect(err.headers).toEqual({ 'Retry-After': expect.stringMatching(/^\d+$/) });
    expect((await running).valid).toBe(false);
    expect((await waiting).valid).toBe(false);
    // Closing refuses what still waits.
    const late = [pool.validate(manyNames(50_000)), pool.validate(manyNames(10))].map(refusal);
    await pool.close();
    expect((await Promise.all(late)).map((e) => e.status)).toEqual([503, 503]);
  }, 60_000);
});

test('countElements stops at its limit', () => {
  expect(countElements({ a: [1, { b: null }], c: 'x' }, 100)).toBe(6);
  expect(countElements(manyNames(1_000_000), 10)).toBe(11);
});

test('in-thread validation keeps the element budget', async () => {
  const err = await refusal(inThreadValidation(validator, { maxElements: 5 }).validate(manyNames(10)));
  expect(err.status).toBe(413);
  expect(await inThreadValidation(validator).validate(manyNames(10))).toEqual(validator.validate(manyNames(10)));
});
