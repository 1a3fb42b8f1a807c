/**
 * BundleSplitter: dependencies before dependents whatever the input order, reference cycles in
 * one Bundle, both limits, the last version of a resource kept, forward urn:uuid references.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { BundleSizeError, BundleSplitter, DEFAULT_BUNDLE_LIMITS, type BundleLimits } from '../../src/outbound/split';
import { readSeries, seriesProblems } from '../support/bundle-series';
import { countElements } from '../../src/validation/budget';

let tmp: string;
let n = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-split-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const id = (k: number): string => `00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
const patient = (k: number, link?: number): Resource => ({
  resourceType: 'Patient',
  id: id(k),
  ...(link !== undefined ? { link: [{ other: { reference: `Patient/${id(link)}` }, type: 'seealso' }] } : {}),
});
const encounter = (k: number, subject: string): Resource => ({
  resourceType: 'Encounter',
  id: id(k),
  status: 'finished',
  class: { code: 'AMB' },
  subject: { reference: subject },
});

async function split(resources: Resource[], limits: Partial<BundleLimits>): Promise<string> {
  const dir = join(tmp, `s${n++}`);
  const splitter = new BundleSplitter(join(tmp, `spool${n}`), { ...DEFAULT_BUNDLE_LIMITS, ...limits });
  for (const r of resources) await splitter.add(structuredClone(r));
  await splitter.finish();
  splitter.write(dir, splitter.plan());
  return dir;
}

test('dependents given first still come after what they refer to', async () => {
  const resources = [encounter(10, `Patient/${id(1)}`), encounter(11, `Patient/${id(2)}`), encounter(12, `urn:uuid:${id(1)}`), patient(1), patient(2)];
  const dir = await split(resources, { entries: 2, bytes: 1 << 20 });
  expect(seriesProblems(dir)).toEqual([]);
  const { keys } = readSeries(dir);
  expect(keys.indexOf(`Patient/${id(1)}`)).toBeLessThan(keys.indexOf(`Encounter/${id(10)}`));
  expect(keys).toHaveLength(5);
});

test('a reference cycle stays in one Bundle; a cycle over the limit is an error naming it', async () => {
  const resources = [patient(1, 2), patient(2, 3), patient(3, 1), encounter(10, `Patient/${id(1)}`)];
  const dir = await split(resources, { entries: 3, bytes: 1 << 20 });
  const { bundles } = readSeries(dir);
  expect(bundles.map((b) => b.entry!.length)).toEqual([3, 1]);
  expect(seriesProblems(dir)).toEqual([]);
  await expect(split(resources, { entries: 2, bytes: 1 << 20 })).rejects.toThrow(BundleSizeError);
  await expect(split(resources, { entries: 2, bytes: 1 << 20 })).rejects.toThrow(/the reference cycle of 3 resources Patient\//);
});

test('the byte limit holds to the byte', async () => {
  const resources = Array.from({ length: 40 }, (_, k) => patient(k));
  const dir = await split(resources, { entries: 1000, bytes: 2000 });
  const { manifest } = readSeries(dir);
  expect(manifest.bundles.length).toBeGreaterThan(3);
  expect(Math.max(...manifest.bundles.map((b) => b.bytes))).toBeLessThanOrEqual(2000);
  expect(manifest.totals.entries).toBe(40);
  expect(seriesProblems(dir)).toEqual([]);
});

test('the JSON values limit holds as the server counts them', async () => {
  const resources = Array.from({ length: 40 }, (_, k) => encounter(k, `Patient/${id(1000 + k)}`));
  const dir = await split(resources, { values: 100 });
  const { manifest, bundles } = readSeries(dir);
  expect(manifest.bundles.length).toBeGreaterThan(5);
  expect(Math.max(...bundles.map((b) => countElements(b, Infinity)))).toBeLessThanOrEqual(100);
  // Packed tight: one entry more would not have fitted.
  const perEntry = countElements(bundles[0].entry![0], Infinity);
  expect(countElements(bundles[0], Infinity) + perEntry).toBeGreaterThan(100);
  expect(seriesProblems(dir)).toEqual([]);
});

test('a resource sent twice is written once, as its last version; outside references are counted', async () => {
  const dir = await split(
    [encounter(10, `Patient/${id(1)}`), { ...encounter(10, `Patient/${id(1)}`), status: 'cancelled' } as Resource, encounter(11, `Practitioner/${id(99)}`)],
    { entries: 10, bytes: 1 << 20 },
  );
  const { bundles, manifest } = readSeries(dir);
  expect(bundles[0].entry!.map((e) => (e.resource as { status: string }).status)).toEqual(['cancelled', 'finished']);
  expect(manifest.outsideReferences).toEqual({ count: 2, first: [`Patient/${id(1)}`, `Practitioner/${id(99)}`] });
});

test('a forward urn:uuid reference becomes Type/id, its size counted', async () => {
  const dir = await split([encounter(10, `urn:uuid:${id(1)}`), patient(1)], { entries: 1, bytes: 1 << 20 });
  const { bundles } = readSeries(dir);
  expect(bundles[1].entry![0].resource).toMatchObject({ subject: { reference: `Patient/${id(1)}` } });
  expect(seriesProblems(dir)).toEqual([]);
});

test('writing again into the same folder leaves no numbered file of the earlier run', async () => {
  const resources = Array.from({ length: 6 }, (_, k) => patient(k));
  const dir = join(tmp, 'again');
  for (const entries of [1, 3]) {
    const splitter = new BundleSplitter(join(tmp, `spool-again-${entries}`), { ...DEFAULT_BUNDLE_LIMITS, entries });
    for (const r of resources) await splitter.add(structuredClone(r));
    await splitter.finish();
    splitter.write(dir, splitter.plan());
  }
  expect(readdirSync(dir).sort()).toEqual(['0001.json', '0002.json', 'manifest.json']);
});
