/**
 * The repository's behaviour, the same on both drivers: versions, history, deletes, conditional
 * writes, transactions, concurrency, streaming.
 */
import type { Encounter, Patient, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../src/outcomes';
import { openStore, type SqlRepository } from '../../src/store';
import { parseSearchRequest } from '@medplum/core';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { validResources } from '../support/examples';

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof FhirError) {
      return e.status;
    }
    throw e;
  }
}

async function collect(it: AsyncIterable<Resource[]>): Promise<Resource[][]> {
  const out: Resource[][] = [];
  for await (const batch of it) {
    out.push(batch);
  }
  return out;
}

describe.each(DRIVERS)('repository on %s', (driver) => {
  let store: TestStore;
  let repo: SqlRepository;
  beforeAll(async () => {
    store = await openTestStore(driver);
    repo = store.repo;
  });
  afterAll(() => store?.close());

  test('create assigns an id and version 1; read returns it', async () => {
    const p = await repo.create<Patient>({ resourceType: 'Patient', gender: 'female' });
    expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.meta?.versionId).toBe('1');
    expect(Date.parse(p.meta?.lastUpdated ?? '')).not.toBeNaN();
    expect(await repo.read('Patient', p.id as string)).toEqual(p);
  });

  test('update creates with the client id, then makes new versions; vread and history see them all', async () => {
    const first = await repo.update<Patient>({ resourceType: 'Patient', id: 'v-test', gender: 'male' });
    expect(first.created).toBe(true);
    const second = await repo.update<Patient>({ resourceType: 'Patient', id: 'v-test', gender: 'female' });
    expect(second.created).toBe(false);
    expect(second.resource.meta?.versionId).toBe('2');
    expect((await repo.readVersion<Patient>('Patient', 'v-test', '1')).gender).toBe('male');
    const history = await repo.history('Patient', 'v-test');
    expect(history.type).toBe('history');
    expect(history.total).toBe(2);
    expect(history.entry?.map((e) => e.response?.etag)).toEqual(['W/"2"', 'W/"1"']);
    expect(await statusOf(repo.readVersion('Patient', 'v-test', '9'))).toBe(404);
  });

  test('If-Match: a stale version is a 412 and writes nothing', async () => {
    await repo.update<Patient>({ resourceType: 'Patient', id: 'if-match', gender: 'male' });
    expect(await statusOf(repo.update({ resourceType: 'Patient', id: 'if-match' }, { ifMatch: '7' }))).toBe(412);
    const ok = await repo.update<Patient>({ resourceType: 'Patient', id: 'if-match', gender: 'other' }, { ifMatch: '1' });
    expect(ok.resource.meta?.versionId).toBe('2');
    expect(await statusOf(repo.delete('Patient', 'if-match', { ifMatch: '1' }))).toBe(412);
  });

  test('delete leaves a tombstone: read is 410, history keeps it, a new update revives the id', async () => {
    await repo.update<Patient>({ resourceType: 'Patient', id: 'to-delete' });
    await repo.delete('Patient', 'to-delete');
    await repo.delete('Patient', 'to-delete');
    await repo.delete('Patient', 'never-existed');
    expect(await statusOf(repo.read('Patient', 'to-delete'))).toBe(410);
    expect(await statusOf(repo.read('Patient', 'never-existed'))).toBe(404);
    expect(await statusOf(repo.readVersion('Patient', 'to-delete', '2'))).toBe(410);
    const history = await repo.history('Patient', 'to-delete');
    expect(history.entry?.map((e) => e.request?.method)).toEqual(['DELETE', 'POST']);
    const revived = await repo.update<Patient>({ resourceType: 'Patient', id: 'to-delete' });
    expect(revived.created).toBe(true);
    expect(revived.resource.meta?.versionId).toBe('3');
  });

  test('a transaction that throws stores nothing', async () => {
    await expect(
      repo.withTransaction(async (tx) => {
        await tx.update<Patient>({ resourceType: 'Patient', id: 'tx-1' });
        await tx.create<Patient>({ resourceType: 'Patient', id: 'ignored' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await statusOf(repo.read('Patient', 'tx-1'))).toBe(404);
    await repo.withTransaction(async (tx) => {
      await tx.update<Patient>({ resourceType: 'Patient', id: 'tx-2' });
    });
    expect((await repo.read('Patient', 'tx-2')).id).toBe('tx-2');
  });

  test('parallel updates of one id get distinct, consecutive versions', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => repo.update<Patient>({ resourceType: 'Patient', id: 'race', birthDate: `20${10 + i}-01-01` })),
    );
    const versions = results.map((r) => Number(r.resource.meta?.versionId)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await repo.history('Patient', 'race')).total).toBe(12);
  });

  test('conditional create: one resource however often it is sent', async () => {
    const identifier = [{ system: 'urn:test:mrn', value: 'cond-1' }];
    const search = parseSearchRequest('Patient', { identifier: 'urn:test:mrn|cond-1' });
    const results = await Promise.all([1, 2, 3].map(() => repo.conditionalCreate<Patient>({ resourceType: 'Patient', identifier }, search)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.resource.id)).size).toBe(1);
    const updated = await repo.conditionalUpdate<Patient>({ resourceType: 'Patient', identifier, gender: 'female' }, search);
    expect(updated.created).toBe(false);
    expect(updated.resource.id).toBe(results[0].resource.id);
  });

  test('updateMany writes a batch: new, existing, tombstoned and repeated ids', async () => {
    await repo.update<Patient>({ resourceType: 'Patient', id: 'many-1', gender: 'male' });
    await repo.update<Patient>({ resourceType: 'Patient', id: 'many-gone' });
    await repo.delete('Patient', 'many-gone');
    const results = await repo.updateMany<Patient>([
      { resourceType: 'Patient', id: 'many-1', gender: 'female' },
      { resourceType: 'Patient', id: 'many-2', identifier: [{ system: 'urn:test:many', value: '2' }] },
      { resourceType: 'Patient', id: 'many-gone' },
      { resourceType: 'Patient', id: 'many-2', identifier: [{ system: 'urn:test:many', value: '2b' }] },
    ]);
    expect(results.map((r) => [r.resource.id, r.resource.meta?.versionId, r.created])).toEqual([
      ['many-1', '2', false],
      ['many-2', '1', true],
      ['many-gone', '3', true],
      ['many-2', '2', false],
    ]);
    expect((await repo.read<Patient>('Patient', 'many-1')).gender).toBe('female');
    const found = await repo.search({ resourceType: 'Patient', filters: [{ code: 'identifier', operator: 'eq', value: 'urn:test:many|2b' }] });
    expect(found.resources.map((r) => r.id)).toEqual(['many-2']);
    const old = await repo.search({ resourceType: 'Patient', filters: [{ code: 'identifier', operator: 'eq', value: 'urn:test:many|2' }] });
    expect(old.resources).toHaveLength(0);
    expect((await repo.history('Patient', 'many-2')).total).toBe(2);
  });

  test('parallel batches over the same ids keep versions consecutive', async () => {
    const batch = (n: number): Patient[] => ['pb-a', 'pb-b', 'pb-c'].map((id) => ({ resourceType: 'Patient', id, birthDate: `200${n}-01-01` }));
    await Promise.all([1, 2, 3, 4].map((n) => repo.withTransaction((tx) => tx.updateMany(batch(n)))));
    for (const id of ['pb-a', 'pb-b', 'pb-c']) {
      const history = await repo.history('Patient', id);
      expect(history.entry?.map((e) => e.response?.etag)).toEqual(['W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']);
    }
  });

  describe('stream', () => {
    let start: Date;
    let examples: Resource[];
    beforeAll(async () => {
      start = new Date();
      examples = validResources();
      await repo.withTransaction(async (tx) => {
        for (const r of examples) {
          await tx.update(r);
        }
      });
    });

    test('batches by type and patient compartment', async () => {
      const batches = await collect(repo.stream({ types: ['Encounter', 'Patient'] }, 2));
      expect(batches.every((b) => b.length <= 2)).toBe(true);
      const all = batches.flat();
      expect(all.filter((r) => r.resourceType === 'Encounter')).toHaveLength(3);
      const dana = (await collect(repo.stream({ patientIds: ['dana-whitfield'] }, 100))).flat();
      const types = new Set(dana.map((r) => r.resourceType));
      expect(types).toEqual(
        new Set(['Patient', 'Encounter', 'EpisodeOfCare', 'Observation', 'QuestionnaireResponse', 'CarePlan', 'Goal', 'ServiceRequest', 'ChargeItem']),
      );
      expect(dana.some((r) => r.resourceType === 'Practitioner')).toBe(false);
    });

    test('since and asOf', async () => {
      const since = (await collect(repo.stream({ since: start, types: ['Goal'] }))).flat();
      expect(since).toHaveLength(3);
      const asOf = new Date();
      await new Promise((r) => setTimeout(r, 5));
      await repo.update<Encounter>({ ...(examples.find((r) => r.resourceType === 'Encounter') as Encounter), status: 'cancelled' });
      await repo.delete('Goal', 'dana-whitfield-goal-wrap');
      const snapshot = (await collect(repo.stream({ asOf, types: ['Encounter', 'Goal'] }))).flat();
      expect(snapshot.filter((r) => r.resourceType === 'Goal')).toHaveLength(3);
      expect(snapshot.filter((r) => r.resourceType === 'Encounter').every((e) => e.status === 'finished')).toBe(true);
      const now = (await collect(repo.stream({ types: ['Goal'] }))).flat();
      expect(now).toHaveLength(2);
    });

    test('compartment pages for $everything', async () => {
      const first = await repo.compartment('dana-whitfield', { count: 5 });
      expect(first.resources).toHaveLength(5);
      expect(first.total).toBeGreaterThan(15);
      let n = first.resources.length;
      let next = first.next;
      while (next) {
        const page = await repo.compartment('dana-whitfield', { count: 5, cursor: next });
        n += page.resources.length;
        next = page.next;
      }
      expect(n).toBe(first.total);
    });
  });

  test('driver cursor streams a query in batches', async () => {
    const batches: number[] = [];
    for await (const rows of repo.driver.cursor<{ n: number }>('SELECT generate_series(1, $1::int) AS n', [25], 10)) {
      batches.push(rows.length);
    }
    expect(batches).toEqual([10, 10, 5]);
  });
});

if (DRIVERS.includes('pg')) {
  describe('several processes on one PostgreSQL', () => {
    let store: TestStore;
    let other: SqlRepository;
    beforeAll(async () => {
      store = await openTestStore('pg');
      // A second store (as another process would open) migrating at the same time as a third.
      const [a, b] = await Promise.all([openStore({ DATABASE_URL: store.url }), openStore({ DATABASE_URL: store.url })]);
      other = a;
      await b.close();
    });
    afterAll(async () => {
      await other?.close();
      await store?.close();
    });

    test('updates through two pools get distinct versions', async () => {
      const writes = Array.from({ length: 10 }, (_, i) => (i % 2 ? store.repo : other).update<Patient>({ resourceType: 'Patient', id: 'shared' }));
      const versions = (await Promise.all(writes)).map((r) => Number(r.resource.meta?.versionId)).sort((a, b) => a - b);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });
}
