/**
 * Background ANALYZE (and VACUUM on PGlite) after bulk writes (issue 15 item 4,
 * src/store/maintenance.ts): a freshly loaded store gets planner statistics without waiting for
 * autovacuum (PGlite has none), so a `:missing` search does not nest loops over a side table
 * the planner believes empty. Both drivers.
 */
import type { Observation } from '@medplum/fhirtypes';
import { parseSearchRequest } from '@medplum/core';
import { openStore } from '../../src/store';
import type { MaintainedDriver } from '../../src/store/maintenance';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const observations = (n: number, from = 0): Observation[] =>
  Array.from({ length: n }, (_, i) => ({
    resourceType: 'Observation',
    id: `m${from + i}`,
    status: 'final',
    code: { text: 'x' },
    ...(i % 100 === 0 ? {} : { subject: { reference: `Patient/p${i % 40}` } }),
  }));

const reltuples = async (store: { driver: { query: TestStore['repo']['driver']['query'] } }): Promise<number> =>
  Number((await store.driver.query<{ n: number | string }>(`SELECT reltuples AS n FROM pg_class WHERE relname = 'fhir_reference'`)).rows[0].n);

describe.each(DRIVERS)('store maintenance on %s', (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
  });
  afterAll(() => store.close());

  test('1,500 rows written: the tables are analyzed in the background, and searches see it', async () => {
    const d = store.repo.driver as MaintainedDriver;
    expect(d.maintenances).toBe(0);
    await store.repo.updateMany(observations(700));
    await d.maintenanceIdle();
    expect(d.maintenances).toBe(0); // under the 1,000-row floor
    await store.repo.updateMany(observations(800, 700));
    await d.maintenanceIdle();
    expect(d.maintenances).toBe(1);
    // The planner now knows the side table's size (before: -1 or 0, "never analyzed").
    expect(await reltuples(store.repo)).toBeGreaterThan(1000);
    const missing = await store.repo.search(parseSearchRequest('Observation?subject:missing=true&_count=100'));
    expect(missing.resources.map((r) => r.id).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `m${i * 100}`).sort());
  });

  test('schema 5: no GIN index over whole resources (no query used it; every write and VACUUM paid for it)', async () => {
    const indexes = await store.repo.driver.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'fhir_resource'`);
    const names = indexes.rows.map((r) => r.indexname);
    expect(names).toContain('fhir_resource_pkey');
    expect(names).not.toContain('fhir_resource_content');
  });
});

test('STORE_MAINTENANCE=off: nothing runs (PGlite)', async () => {
  const repo = await openStore({ memory: true, STORE_MAINTENANCE: 'off' });
  try {
    expect('maintenanceIdle' in repo.driver).toBe(false);
    await repo.updateMany(observations(1200));
    await new Promise((r) => setTimeout(r, 50));
    expect(await reltuples(repo)).toBeLessThanOrEqual(0);
  } finally {
    await repo.close();
  }
});
