/**
 * A date range on one single-valued parameter is one condition on one row
 * (src/store/search-date-ranges.ts): same answers as the filters one by one, and a multi-valued
 * parameter keeps FHIR's rule (each filter may match a different value). Both drivers.
 */
import type { Encounter } from '@medplum/fhirtypes';
import { parseSearchRequest, type SearchRequest } from '@medplum/core';
import { Validator } from '../../src/validation';
import { paramsOf } from '../../src/store/search-params';
import { oneDateRow } from '../../src/store/search-date-ranges';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

beforeAll(() => {
  Validator.create(); // the definitions load the schemas the cardinality check reads
});

test('which parameters hold one date row per resource', () => {
  const one = (type: string, code: string) => oneDateRow(type, paramsOf(type).get(code)!);
  expect(one('Encounter', 'date')).toBe(true); // Encounter.period, 0..1 Period
  expect(one('AuditEvent', 'date')).toBe(true); // AuditEvent.recorded
  expect(one('Patient', 'birthdate')).toBe(true);
  expect(one('Observation', 'date')).toBe(false); // effective[x] may be a Timing: several rows
  expect(one('Encounter', 'location-period')).toBe(false); // Encounter.location.period: one per location
});

const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}`;

describe.each(DRIVERS)('date ranges on %s', (driver) => {
  let store: TestStore;
  const encounters: Encounter[] = Array.from({ length: 30 }, (_, i) => ({
    resourceType: 'Encounter',
    id: `dr${i}`,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    period: { start: `${day(1 + (i % 28))}T10:00:00Z`, end: `${day(1 + (i % 28))}T11:00:00Z` },
    location: [
      { location: { display: 'a' }, period: { start: '2026-01-10T00:00:00Z', end: '2026-01-11T00:00:00Z' } },
      { location: { display: 'b' }, period: { start: '2026-05-10T00:00:00Z', end: '2026-05-11T00:00:00Z' } },
    ],
  }));

  beforeAll(async () => {
    store = await openTestStore(driver);
    await store.repo.updateMany(encounters);
  });
  afterAll(() => store.close());

  const ids = async (q: string) => (await store.repo.search(parseSearchRequest(`${q}&_count=100`))).resources.map((r) => r.id).sort();

  test.each([
    ['ge2026-03-05', 'lt2026-03-09'],
    ['gt2026-03-05T10:30:00Z', 'le2026-03-09'],
    ['sa2026-03-04', 'eb2026-03-07'],
    ['ge2026-03-27', 'lt2026-04-01'],
    ['ge2026-04-01', 'lt2026-03-01'],
  ])('date=%s&date=%s: the encounters whose period is in the range', async (a, b) => {
    const merged = await ids(`Encounter?date=${a}&date=${b}`);
    // The same filters one at a time, intersected: what FHIR's rule gives for a single-valued parameter.
    const first = new Set(await ids(`Encounter?date=${a}`));
    const expected = (await ids(`Encounter?date=${b}`)).filter((id) => first.has(id));
    expect(merged).toEqual(expected);
  });

  test('a bad date in a merged range is still a 400 naming the parameter', async () => {
    const filters = [
      { code: 'date', operator: 'ge', value: '2026-03-01' },
      { code: 'date', operator: 'lt', value: '2026-13-45' },
    ] as SearchRequest['filters'];
    await expect(store.repo.search({ resourceType: 'Encounter', filters })).rejects.toThrow(/Invalid date '2026-13-45' for search parameter 'date'/);
  });

  test('a multi-valued parameter is not merged: each filter may match a different location period', async () => {
    // No one location period is both after March and before February, but one is each.
    expect(await ids('Encounter?location-period=ge2026-03-01&location-period=lt2026-02-01')).toHaveLength(30);
  });

  test('a range alone is read from the dates (sql-search.ts drivenByDates): page by page in id order, nothing lost, nothing deleted, nothing of another tenant', async () => {
    const inRange = (e: Encounter) => e.period!.start! >= '2026-03-03' && e.period!.start! < '2026-03-20';
    const owned = (org: string): Encounter[] =>
      Array.from({ length: 24 }, (_, i) => ({
        resourceType: 'Encounter',
        id: `${org}-${String(i).padStart(2, '0')}`,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        serviceProvider: { reference: `Organization/${org}` },
        period: { start: `${day(1 + ((i * 5) % 28))}T10:00:00Z`, end: `${day(1 + ((i * 5) % 28))}T11:00:00Z` },
      }));
    const a = owned('tenant-a');
    const b = owned('tenant-b');
    await store.repo.updateMany([...a, ...b]);
    await store.repo.delete('Encounter', 'tenant-a-03');
    const pages = async (repo: TestStore['repo'], count: number, also = ''): Promise<string[]> => {
      const request = parseSearchRequest(`Encounter?date=ge2026-03-03&date=lt2026-03-20&_count=${count}${also}`);
      const out: string[] = [];
      let page = await repo.search(request);
      out.push(...page.resources.map((r) => r.id as string));
      while (page.next) {
        page = await repo.search(request, { cursor: page.next });
        out.push(...page.resources.map((r) => r.id as string));
      }
      return out;
    };
    const everyone = [...encounters, ...a, ...b].filter((e) => inRange(e) && e.id !== 'tenant-a-03').map((e) => e.id as string);
    expect(everyone.length).toBeGreaterThan(20);
    for (const count of [1, 4, 100]) {
      expect(await pages(store.repo, count)).toEqual([...everyone].sort());
    }
    // A client of tenant A: the same page as the planner's own plan gives (another filter, true of
    // every one, turns the reading from the dates off), and none of tenant B's.
    const view = store.repo.withAccess({ clientId: 'client-a', organizations: ['Organization/tenant-a'], allOrganizations: false });
    const seenByA = await pages(view, 3);
    expect(seenByA).toEqual(await pages(view, 3, '&status=finished'));
    expect(seenByA.some((id) => id.startsWith('tenant-b'))).toBe(false);
    expect(await pages(store.repo, 3, '&status=finished')).toEqual([...everyone].sort());
  });
});
