/**
 * Search over the examples, on both drivers: the parameters HIEs use, prefixes, token forms,
 * chaining, _include/_revinclude, sorting, paging, totals, and bad values.
 */
import { parseSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../src/outcomes';
import { migrate, SqlRepository, type SearchResult } from '../../src/store';
import { serverBase } from '../../src/store/local-refs';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { validResources } from '../support/examples';

const HCPCS = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets';
const MRN = 'http://riverbend-ccbhc.example.org/fhir/sid/mrn';

describe.each(DRIVERS)('search on %s', (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
    await store.repo.withTransaction(async (tx) => {
      for (const r of validResources()) {
        await tx.update(r);
      }
    });
  });
  afterAll(() => store?.close());

  const search = async (type: string, query: Record<string, string | string[]>, options: { strict?: boolean; cursor?: string } = {}): Promise<SearchResult> =>
    store.repo.search(parseSearchRequest(type as 'Patient', query), options);
  const ids = (r: SearchResult | Resource[]): string[] => (Array.isArray(r) ? r : r.resources).map((x) => x.id as string).sort();

  test.each<[string, string, Record<string, string | string[]>, number]>([
    ['patient by id', 'Encounter', { patient: 'dana-whitfield' }, 3],
    ['patient by reference', 'Encounter', { patient: 'Patient/dana-whitfield' }, 3],
    ['subject with a type modifier', 'Encounter', { 'subject:Patient': 'dana-whitfield' }, 3],
    ['an unknown patient', 'Encounter', { patient: 'nobody' }, 0],
    ['date ge', 'Encounter', { date: 'ge2026-09-20' }, 2],
    ['date range', 'Encounter', { date: ['ge2026-09-20', 'lt2026-09-25'] }, 1],
    ['date by day (eq)', 'Encounter', { date: '2026-09-22' }, 1],
    ['date by month', 'Encounter', { date: '2026-09' }, 3],
    ['date sa', 'Encounter', { date: 'sa2026-09-22' }, 1],
    ['date eb', 'Encounter', { date: 'eb2026-09-22' }, 1],
    ['date ne', 'Encounter', { date: 'ne2026-09-22' }, 2],
    ['date ap (10% of the distance from now)', 'Encounter', { date: 'ap2026-09-25' }, 2],
    ['open period (EpisodeOfCare)', 'EpisodeOfCare', { date: 'ge2030-01-01' }, 1],
    ['status', 'Encounter', { status: 'finished' }, 3],
    ['status, comma is OR', 'Encounter', { status: 'planned,finished' }, 3],
    ['status:not', 'Encounter', { 'status:not': 'finished' }, 0],
    ['type system|code', 'Encounter', { type: `${HCPCS}|H0038` }, 3],
    ['type code only', 'Encounter', { type: 'H0038' }, 3],
    ['type system|', 'Encounter', { type: `${HCPCS}|` }, 3],
    ['type |code (no system) does not match a coded value', 'Encounter', { type: '|H0038' }, 0],
    ['code', 'ChargeItem', { code: `${HCPCS}|H0038` }, 3],
    ['category', 'Observation', { category: 'survey' }, 3],
    ['episode-of-care', 'Encounter', { 'episode-of-care': 'EpisodeOfCare/dana-whitfield-peer-episode' }, 3],
    ['based-on', 'Encounter', { 'based-on': 'ServiceRequest/dana-whitfield-peer-referral' }, 3],
    ['encounter', 'QuestionnaireResponse', { encounter: 'dana-whitfield-contact-2026-09-15' }, 1],
    ['questionnaire (canonical)', 'QuestionnaireResponse', { questionnaire: 'http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale' }, 2],
    ['subject of a QuestionnaireResponse', 'QuestionnaireResponse', { subject: 'Patient/dana-whitfield' }, 3],
    ['identifier system|value', 'Patient', { identifier: `${MRN}|RB-204117` }, 1],
    ['identifier value only', 'Patient', { identifier: 'RB-204117' }, 1],
    ['chained patient.identifier', 'Encounter', { 'patient.identifier': `${MRN}|RB-204117` }, 3],
    ['chained subject:Patient.identifier', 'QuestionnaireResponse', { 'subject:Patient.identifier': `${MRN}|RB-204117` }, 3],
    ['chained, no match', 'Encounter', { 'patient.identifier': `${MRN}|nope` }, 0],
    ['string (starts with, any case)', 'Patient', { family: 'whit' }, 1],
    ['string :exact', 'Patient', { 'family:exact': 'whit' }, 0],
    ['string :contains', 'Patient', { 'name:contains': 'ITFI' }, 1],
    ['quantity', 'Encounter', { length: 'gt60' }, 1],
    ['_id', 'Encounter', { _id: 'dana-whitfield-contact-2026-09-15,dana-whitfield-contact-2026-09-22' }, 2],
    ['_lastUpdated', 'Encounter', { _lastUpdated: 'gt2000-01-01' }, 3],
    ['_lastUpdated in the future', 'Encounter', { _lastUpdated: 'gt2100-01-01' }, 0],
    [':missing', 'Encounter', { 'location:missing': 'true' }, 1],
    ['_profile', 'Encounter', { _profile: 'http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter' }, 3],
  ])('%s', async (_name, type, query, expected) => {
    const res = await search(type, query);
    expect(res.resources).toHaveLength(expected);
    expect(res.resources.every((r) => r.resourceType === type)).toBe(true);
  });

  test('_include and _revinclude', async () => {
    const res = await search('Encounter', {
      _id: 'dana-whitfield-contact-2026-09-15',
      _include: ['Encounter:patient', 'Encounter:episode-of-care'],
      _revinclude: 'QuestionnaireResponse:encounter',
    });
    expect(res.resources).toHaveLength(1);
    expect(res.included.map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual([
      'EpisodeOfCare/dana-whitfield-peer-episode',
      'Patient/dana-whitfield',
      'QuestionnaireResponse/dana-whitfield-irc-2026-09-15',
    ]);
    const qr = await search('QuestionnaireResponse', { _id: 'dana-whitfield-irc-2026-09-15', _include: ['QuestionnaireResponse:subject'] });
    expect(qr.included.map((r) => r.id)).toEqual(['dana-whitfield']);
    const iterate = await search('Encounter', {
      _id: 'dana-whitfield-contact-2026-09-15',
      _include: 'Encounter:episode-of-care',
      '_include:iterate': 'EpisodeOfCare:patient',
    });
    expect(iterate.included.map((r) => r.resourceType).sort()).toEqual(['EpisodeOfCare', 'Patient']);
  });

  test('_sort by date, both ways, with offset paging', async () => {
    const asc = await search('Encounter', { _sort: 'date' });
    expect(asc.resources.map((r) => r.id)).toEqual([
      'dana-whitfield-contact-2026-09-15',
      'dana-whitfield-contact-2026-09-22',
      'dana-whitfield-contact-2026-09-29',
    ]);
    const desc = await search('Encounter', { _sort: '-date', _count: '2' });
    expect(desc.resources.map((r) => r.id)).toEqual(['dana-whitfield-contact-2026-09-29', 'dana-whitfield-contact-2026-09-22']);
    const page2 = await search('Encounter', { _sort: '-date', _count: '2' }, { cursor: desc.next });
    expect(page2.resources.map((r) => r.id)).toEqual(['dana-whitfield-contact-2026-09-15']);
    expect(page2.next).toBeUndefined();
  });

  test('keyset paging visits every match once', async () => {
    const seen: string[] = [];
    let res = await search('QuestionnaireResponse', { _count: '1', _total: 'accurate' });
    expect(res.total).toBe(4);
    seen.push(...ids(res));
    while (res.next) {
      res = await search('QuestionnaireResponse', { _count: '1' }, { cursor: res.next });
      seen.push(...ids(res));
    }
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
  });

  test('_summary=count gives the total only', async () => {
    const res = await search('Observation', { _summary: 'count' });
    expect(res.total).toBe(3);
    expect(res.resources).toHaveLength(0);
  });

  test('unknown parameters: a warning when lenient, 400 when strict', async () => {
    const lenient = await search('Encounter', { nonsense: 'x', status: 'finished' });
    expect(lenient.resources).toHaveLength(3);
    expect(lenient.warnings.join()).toMatch(/Unknown search parameter 'nonsense'/);
    await expect(search('Encounter', { nonsense: 'x' }, { strict: true })).rejects.toMatchObject({ status: 400 });
  });

  test('date=notadate is a 400', async () => {
    const err = await store.repo.search({ resourceType: 'Encounter', filters: [{ code: 'date', operator: 'eq', value: 'notadate' }] }).catch((e: unknown) => e);
    expect((err as FhirError).status).toBe(400);
    expect((err as FhirError).outcome.issue?.[0].details?.text).toMatch(/Invalid date 'notadate'/);
  });

  test.each<[string, Record<string, string>]>([
    ['a bad number', { length: 'gtabc' }],
    ['a negative _count', { _count: '-1' }],
    ['a bad cursor', { _cursor: '!!' }],
  ])('%s is a 400', async (_name, query) => {
    const err = await search('Encounter', query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
  });

  test('a huge _count is clamped with a warning', async () => {
    const res = await store.repo.search({ resourceType: 'Encounter', count: 1e9 });
    expect(res.resources).toHaveLength(3);
    expect(res.warnings.join()).toMatch(/pages hold 1000/);
  });

  test('deleted resources no longer match', async () => {
    await store.repo.update({
      resourceType: 'Goal',
      id: 'to-go',
      lifecycleStatus: 'active',
      subject: { reference: 'Patient/dana-whitfield' },
      description: { text: 'x' },
    });
    expect(await search('Goal', { _id: 'to-go' })).toMatchObject({ resources: [expect.anything()] });
    await store.repo.delete('Goal', 'to-go');
    expect((await search('Goal', { _id: 'to-go' })).resources).toHaveLength(0);
    expect((await search('Goal', { patient: 'dana-whitfield' })).resources).toHaveLength(3);
  });
});

/** Reference searches by absolute URL, modifiers, and NUL bytes (issue 11, items 10 to 12). */
describe.each(DRIVERS)('search edges on %s', (driver) => {
  const BASE = 'http://localhost:8080/fhir';
  const CS = 'http://example.org/fhir/CodeSystem/bp';
  const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
  const obs = (id: string, subject: Record<string, unknown>, code: string, extra: Record<string, unknown> = {}): Resource =>
    ({ resourceType: 'Observation', id, status: 'final', subject, code: { coding: [{ system: CS, code }] }, ...extra }) as unknown as Resource;
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(driver, { BASE_URL: BASE });
    const resources: Resource[] = [
      { resourceType: 'Patient', id: 'p1', name: [{ family: 'One' }] },
      { resourceType: 'Patient', id: 'p2', name: [{ family: 'Two' }] },
      obs('o-local', { reference: 'Patient/p1' }, 'a1', {
        code: { coding: [{ system: CS, code: 'a1', display: 'Systolic Blöod pressure' }], text: 'BP sys' },
        identifier: [{ type: { coding: [{ system: V2, code: 'MR' }] }, system: 'urn:x', value: '123' }],
      }),
      obs('o-absolute', { reference: `${BASE}/Patient/p2` }, 'a11'),
      obs('o-foreign', { reference: 'http://other.example/fhir/Patient/p1' }, 'b2'),
      obs('o-identifier', { identifier: { system: 'urn:mrn', value: 'M-1' } }, 'a'),
      { resourceType: 'Encounter', id: 'e-foreign', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'https://evil.example/Patient/p1' } },
      { resourceType: 'Encounter', id: 'e-local', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
      {
        resourceType: 'CodeSystem',
        id: 'bp',
        url: CS,
        status: 'active',
        content: 'complete',
        concept: [
          { code: 'a', concept: [{ code: 'a1', concept: [{ code: 'a11' }] }] },
          { code: 'b2', property: [{ code: 'parent', valueCode: 'a' }] },
          { code: 'c' },
        ],
      },
      { resourceType: 'Questionnaire', id: 'q1', status: 'active', url: 'http://acme.org/fhir/Questionnaire/q1' },
      { resourceType: 'Questionnaire', id: 'q2', status: 'active', url: 'http://other.org/Questionnaire/q2' },
    ];
    for (const r of resources) {
      await store.repo.update(r);
    }
  });
  afterAll(() => store?.close());

  const search = (type: string, query: Record<string, string | string[]>, options: { strict?: boolean; cursor?: string } = {}): Promise<SearchResult> =>
    store.repo.search(parseSearchRequest(type as 'Patient', query), options);
  const ids = (r: SearchResult): string[] => r.resources.map((x) => x.id as string).sort();

  test.each<[string, string, Record<string, string>, string[]]>([
    ['an absolute URL on this server is the local reference', 'Observation', { subject: `${BASE}/Patient/p1` }, ['o-local']],
    ['127.0.0.1 is the same host as localhost', 'Observation', { subject: 'http://127.0.0.1:8080/fhir/Patient/p2' }, ['o-absolute']],
    ['a _history suffix names the resource', 'Observation', { patient: `${BASE}/Patient/p1/_history/3` }, ['o-local']],
    ['a stored absolute URL on this server is local', 'Observation', { patient: 'p2' }, ['o-absolute']],
    ['a foreign base matches only that stored URL', 'Observation', { subject: 'http://other.example/fhir/Patient/p1' }, ['o-foreign']],
    ['an unknown base matches nothing', 'Observation', { subject: 'http://nowhere.example/fhir/Patient/p1' }, []],
    ['another port is another server', 'Observation', { subject: 'http://localhost:9999/fhir/Patient/p1' }, []],
    ['a relative reference does not match a foreign URL', 'Observation', { subject: 'Patient/p1' }, ['o-local']],
    ['Encounter, patient=', 'Encounter', { patient: `${BASE}/Patient/p1` }, ['e-local']],
    ['Encounter, foreign subject= matches the stored URL', 'Encounter', { subject: 'https://evil.example/Patient/p1' }, ['e-foreign']],
    ['Encounter, a foreign URL is no patient of this server', 'Encounter', { patient: 'https://evil.example/Patient/p1' }, []],
    ['chained through a local reference only', 'Observation', { 'subject:Patient.family': 'one' }, ['o-local']],
  ])('item 10: %s', async (_name, type, query, expected) => {
    expect(ids(await search(type, query))).toEqual(expected);
    expect((await search(type, { ...query, _summary: 'count', _total: 'accurate' })).total).toBe(expected.length);
  });

  test('item 10: _include and _revinclude follow local references only', async () => {
    expect((await search('Observation', { _id: 'o-foreign', _include: 'Observation:subject' })).included).toEqual([]);
    const abs = await search('Observation', { _id: 'o-absolute', _include: 'Observation:subject' });
    expect(abs.included.map((r) => r.id)).toEqual(['p2']);
    const rev = await search('Patient', { _id: 'p1', _revinclude: ['Observation:subject', 'Encounter:subject'] });
    expect(rev.included.map((r) => r.id).sort()).toEqual(['e-local', 'o-local']);
  });

  test.each<[string, string, Record<string, string>, string[]]>([
    ['token :text, accent- and case-insensitive starts-with on display', 'Observation', { 'code:text': 'systolic blood' }, ['o-local']],
    ['token :text on CodeableConcept.text', 'Observation', { 'code:text': 'bp' }, ['o-local']],
    ['token :text is not contains', 'Observation', { 'code:text': 'pressure' }, []],
    ['identifier :of-type', 'Observation', { 'identifier:of-type': `${V2}|MR|123` }, ['o-local']],
    ['identifier :of-type, other value', 'Observation', { 'identifier:of-type': `${V2}|MR|999` }, []],
    ['reference :identifier', 'Observation', { 'subject:identifier': 'urn:mrn|M-1' }, ['o-identifier']],
    ['reference :identifier, value only', 'Observation', { 'subject:identifier': 'M-1' }, ['o-identifier']],
    [
      'code :below through nested concepts and parent properties',
      'Observation',
      { 'code:below': `${CS}|a` },
      ['o-absolute', 'o-foreign', 'o-identifier', 'o-local'],
    ],
    ['code :below of a leaf', 'Observation', { 'code:below': `${CS}|a1` }, ['o-absolute', 'o-local']],
    ['code :above', 'Observation', { 'code:above': `${CS}|a11` }, ['o-absolute', 'o-identifier', 'o-local']],
    ['uri :below', 'Questionnaire', { 'url:below': 'http://acme.org/fhir' }, ['q1']],
    ['uri :above', 'Questionnaire', { 'url:above': 'http://acme.org/fhir/Questionnaire/q1/_history/2' }, ['q1']],
  ])('item 11: %s', async (_name, type, query, expected) => {
    const res = await search(type, query, { strict: true });
    expect(ids(res)).toEqual(expected);
  });

  test.each<[string, string, Record<string, string>]>([
    ['token :in', 'Observation', { 'code:in': 'http://example.org/ValueSet/x' }],
    ['token :not-in', 'Observation', { 'code:not-in': 'http://example.org/ValueSet/x' }],
    ['token :contains', 'Observation', { 'code:contains': 'a' }],
    ['token :below of a code system the server does not hold', 'Observation', { 'code:below': 'http://nowhere.example/cs|a' }],
    ['token :below without a system', 'Observation', { 'code:below': 'a' }],
    ['string :text', 'Patient', { 'family:text': 'one' }],
    ['chained string :text', 'Observation', { 'subject:Patient.family:text': 'one' }],
    ['reference :below', 'Observation', { 'subject:below': 'Patient/p1' }],
  ])('item 11: %s is a warning when lenient, 400 when strict, never a 500', async (_name, type, query) => {
    const lenient = await search(type, query);
    expect(lenient.resources.length).toBeGreaterThan(0);
    expect(lenient.warnings.join()).toMatch(/not supported|not held|ignored/);
    const err = await search(type, query, { strict: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
  });

  test.each<[string, string, Record<string, string>, string]>([
    ['a string', 'Patient', { family: '\0' }, 'family'],
    ['_id', 'Patient', { _id: 'p1\0' }, '_id'],
    ['a reference', 'Observation', { subject: 'Patient/\0' }, 'subject'],
    ['a token', 'Observation', { code: `${CS}|\0` }, 'code'],
    ['a chained value', 'Observation', { 'subject:Patient.family': 'o\0' }, 'subject:Patient.family'],
    ['_sort', 'Observation', { _sort: 'da\0te' }, '_sort'],
    ['_include', 'Observation', { _include: 'Observation:sub\0ject' }, '_include'],
  ])('item 12: a NUL byte in %s is a 400 naming the parameter', async (_name, type, query, param) => {
    for (const strict of [false, true]) {
      const err = await search(type, query, { strict }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FhirError);
      expect((err as FhirError).status).toBe(400);
      expect((err as FhirError).outcome.issue?.[0].details?.text).toContain(`'${param}'`);
    }
  });

  test('item 12: a NUL byte in a paging cursor is a 400', async () => {
    const cursor = Buffer.from(JSON.stringify({ k: 'p\0' })).toString('base64url');
    const err = await search('Patient', {}, { cursor }).catch((e: unknown) => e);
    expect((err as FhirError).status).toBe(400);
    expect((err as FhirError).outcome.issue?.[0].details?.text).toMatch(/cursor/);
  });
});

describe.each(DRIVERS)('reindex on %s', (driver) => {
  test('a store indexed before the modifier rows, or for another BASE_URL, is reindexed at start', async () => {
    const store = await openTestStore(driver, { BASE_URL: 'http://old.example/fhir' });
    try {
      const old = store.repo;
      await old.update({ resourceType: 'Patient', id: 'p1' });
      await old.update({
        resourceType: 'Observation',
        id: 'o1',
        status: 'final',
        code: { coding: [{ code: 'x', display: 'Heart rate' }] },
        subject: { reference: 'http://old.example/fhir/Patient/p1' },
      });
      expect((await old.search(parseSearchRequest('Observation', { patient: 'p1' }))).resources).toHaveLength(1);
      // As a store from before schema step 3 was: no modifier rows, no recorded base.
      await old.driver.query(`DELETE FROM fhir_string WHERE code LIKE '%:%'`);
      await old.driver.query('DELETE FROM fhir_index_base');
      await old.driver.query('DELETE FROM fhir_schema WHERE version = 3');

      // What openStore does at the next start, with another BASE_URL.
      const NEW = 'http://new.example/fhir';
      await migrate(old.driver, NEW);
      const repo = new SqlRepository(old.driver, false, undefined, serverBase(NEW));
      const count = async (query: Record<string, string>): Promise<number> => (await repo.search(parseSearchRequest('Observation', query))).resources.length;
      expect(await count({ 'code:text': 'heart' })).toBe(1);
      expect(await count({ patient: 'p1' })).toBe(0);
      expect(await count({ subject: 'http://old.example/fhir/Patient/p1' })).toBe(1);
      const compartment = await repo.compartment('p1', { count: 10 });
      expect(compartment.resources.map((r) => r.resourceType)).toEqual(['Patient']);
    } finally {
      await store.close();
    }
  });
});
