/**
 * The snapshot reader behind export files, on both drivers: counts, key-range splits and batched
 * reads agree with each other and with the store as it was at `transactionTime`, whatever was
 * written afterwards.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { countByType, readRange, splitType, type SnapshotFilter } from '../../src/export/snapshot';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

async function lines(it: AsyncIterable<string[]>, sizes: number[] = []): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const batch of it) {
    sizes.push(batch.length);
    out.push(...batch.map((l) => JSON.parse(l) as Resource));
  }
  return out;
}

describe.each(DRIVERS)('export snapshot on %s', (driver) => {
  let store: TestStore;
  let at: Date;
  beforeAll(async () => {
    store = await openTestStore(driver);
    for (let i = 0; i < 7; i++) {
      await store.repo.update<Patient>({ resourceType: 'Patient', id: `p${i}`, gender: 'female' });
    }
    await store.repo.update({ resourceType: 'Organization', id: 'org', name: 'Riverbend' });
    await new Promise((r) => setTimeout(r, 5));
    at = new Date();
    await new Promise((r) => setTimeout(r, 5));
    // After the snapshot: an update, a delete, an update then a delete, a create.
    await store.repo.update<Patient>({ resourceType: 'Patient', id: 'p1', gender: 'male' });
    await store.repo.delete('Patient', 'p2');
    await store.repo.update<Patient>({ resourceType: 'Patient', id: 'p3', gender: 'other' });
    await store.repo.delete('Patient', 'p3');
    await store.repo.update<Patient>({ resourceType: 'Patient', id: 'p9', gender: 'male' });
  });
  afterAll(() => store?.close());

  const snap = (): SnapshotFilter => ({ transactionTime: at });

  test('counts are those at transactionTime', async () => {
    expect(Object.fromEntries(await countByType(store.repo.driver, snap()))).toEqual({ Organization: 1, Patient: 7 });
    expect(Object.fromEntries(await countByType(store.repo.driver, { transactionTime: new Date() }))).toEqual({ Organization: 1, Patient: 6 });
  });

  test('a range read in small batches yields every resource of the snapshot once, in its version at transactionTime', async () => {
    const sizes: number[] = [];
    const patients = (await lines(readRange(store.repo.driver, snap(), { type: 'Patient' }, 2), sizes)) as Patient[];
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    expect(patients.map((p) => p.id).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(patients.every((p) => p.gender === 'female' && p.meta?.versionId === '1')).toBe(true);
  });

  test('splits cover the type exactly, with the sizes they announce', async () => {
    const ranges = await splitType(store.repo.driver, snap(), 'Patient', 7, 3);
    expect(ranges.map((r) => r.count)).toEqual([3, 3, 1]);
    const seen: string[] = [];
    for (const r of ranges) {
      const part = await lines(readRange(store.repo.driver, snap(), r, 2));
      expect(part).toHaveLength(r.count);
      seen.push(...part.map((p) => p.id as string));
    }
    expect(seen.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });

  test('_since and patient filters apply to the version at transactionTime', async () => {
    const since = { transactionTime: new Date(), since: at };
    const changed = (await lines(readRange(store.repo.driver, since, { type: 'Patient' }))) as Patient[];
    expect(changed.map((p) => `${p.id}:${p.gender}`).sort()).toEqual(['p1:male', 'p9:male']);
    const some = await lines(readRange(store.repo.driver, { ...snap(), patientIds: ['p2', 'p9'] }, { type: 'Patient' }));
    expect(some.map((p) => p.id)).toEqual(['p2']);
    expect(Object.fromEntries(await countByType(store.repo.driver, { ...snap(), compartment: true }))).toEqual({ Patient: 7 });
  });
});
