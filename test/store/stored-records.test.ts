/**
 * The lookup port over a repository (src/store/stored-records.ts) on both drivers: the batch forms
 * (findMany, episodes, billedAmong: one search per kind for many ids) answer exactly as the single
 * forms do for every id, stored or not, Part 2 or not; and a caller's view of the store answers
 * what it may not read as missing.
 */
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { putEntry } from '../../src/fhir/bundle';
import { loadPackageTerms } from '../../src/fhir/context';
import { fhirRouter } from '../../src/fhir-api';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { documentEvents, translateCanonical } from '../../src/pipeline/translate-canonical';
import { storedRecords } from '../../src/store/stored-records';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const SOURCE = 'https://ehr.lookups.example.org/peer';

const DOC = {
  source: SOURCE,
  organizations: [
    { id: 'ORG-1', name: 'Lookups CCBHC' },
    { id: 'ORG-SUD', name: 'Lookups Recovery Services', part2Program: true },
  ],
  people: [
    { id: 'P-1', name: { family: 'Alvarez', given: ['Marisol'] }, organizationId: 'ORG-1' },
    { id: 'P-2', name: { family: 'Kowalczyk', given: ['Peter'] }, organizationId: 'ORG-1' },
    { id: 'P-3', name: { family: 'Nguyen', given: ['Thao'] }, organizationId: 'ORG-1' },
  ],
  episodes: [
    {
      id: 'E-1',
      personId: 'P-1',
      organizationId: 'ORG-1',
      status: 'active',
      start: '2026-01-05',
      contacts: [{ id: 'C-1', start: '2026-02-03T10:00:00-06:00', durationMinutes: 60, status: 'finished', mode: 'in-person', specialistId: 'S-1' }],
    },
    { id: 'E-2', personId: 'P-2', organizationId: 'ORG-SUD', status: 'active', start: '2026-01-06' },
  ],
};

let validator: Validator;
let pipeline: PipelineDeps;
beforeAll(() => {
  validator = Validator.create();
  pipeline = { validator, rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-12-01T00:00:00Z') };
});

describe.each(DRIVERS)('the lookup port on %s', (driver) => {
  let store: TestStore;
  const router = fhirRouter();

  beforeAll(async () => {
    store = await openTestStore(driver);
    const resources: Resource[] = [];
    const report = await translateCanonical(documentEvents(DOC), pipeline, (made) => {
      resources.push(...made);
    });
    expect(report.summary.rejected).toBe(0);
    const res = await router.handle(
      {
        method: 'POST',
        path: '/',
        query: {},
        headers: {},
        body: { resourceType: 'Bundle', type: 'transaction', entry: resources.map(putEntry) },
        baseUrl: 'http://test.local/fhir',
      },
      { repo: store.repo, validator },
    );
    expect(res.status).toBe(200);
  });
  afterAll(() => store?.close());

  test('findMany answers as find does, for each id (missing ones left out), with the Part 2 status', async () => {
    const port = storedRecords(store.repo);
    const orgs = await port.findMany(SOURCE, 'organization', ['ORG-1', 'ORG-SUD', 'ORG-NONE']);
    expect(Object.fromEntries(orgs)).toEqual({ 'ORG-1': { part2: false }, 'ORG-SUD': { part2: true } });
    for (const id of ['ORG-1', 'ORG-SUD', 'ORG-NONE']) expect(await port.find(SOURCE, 'organization', id)).toEqual(orgs.get(id));
    const people = await port.findMany(SOURCE, 'person', ['P-1', 'P-2', 'P-3', 'P-9']);
    expect([...people.keys()].sort()).toEqual(['P-1', 'P-2', 'P-3']);
    // P-2's episode is at a Part 2 program: the Patient is labelled.
    expect(people.get('P-2')).toEqual({ part2: true });
    expect(await port.findMany(SOURCE, 'practitioner', ['S-1'])).toEqual(new Map());
    // Another source's ids are other resources.
    expect(await port.findMany('https://other.example.org', 'person', ['P-1'])).toEqual(new Map());
  });

  test('episodes answers as episode does: its person and organization by source id, Part 2, missing ones left out', async () => {
    const port = storedRecords(store.repo);
    const found = await port.episodes(SOURCE, [{ id: 'E-1' }, { id: 'E-2', claims: { personId: 'P-2' } }, { id: 'E-9' }]);
    expect(Object.fromEntries(found)).toEqual({
      'E-1': { id: 'E-1', personId: 'P-1', organizationId: 'ORG-1', part2: false },
      'E-2': { id: 'E-2', personId: 'P-2', organizationId: 'ORG-SUD', part2: true },
    });
    expect(await port.episode(SOURCE, 'E-1')).toEqual(found.get('E-1'));
    expect(await port.episode(SOURCE, 'E-9')).toBeUndefined();
  });

  test('billedAmong: the people with units billed, one question for all', async () => {
    const port = storedRecords(store.repo);
    expect([...(await port.billedAmong(SOURCE, ['P-1', 'P-2', 'P-9']))]).toEqual(['P-1']);
    expect(await port.anyUnitsBilled(SOURCE, 'P-1')).toBe(true);
    expect(await port.anyUnitsBilled(SOURCE, 'P-2')).toBe(false);
    expect(await port.unitsBilled(SOURCE, 'P-1', '2026-02-03')).toEqual([{ contactId: 'C-1', units: 4 }]);
  });

  test('a view of the store that may not read a record answers it as missing', async () => {
    const view = store.repo.withAccess({ clientId: 'client-none', organizations: ['Organization/none'], allOrganizations: false });
    const port = storedRecords(view);
    expect(await port.findMany(SOURCE, 'person', ['P-1', 'P-2'])).toEqual(new Map());
    expect(await port.episodes(SOURCE, [{ id: 'E-1' }])).toEqual(new Map());
    expect(await port.billedAmong(SOURCE, ['P-1'])).toEqual(new Set());
  });
});
