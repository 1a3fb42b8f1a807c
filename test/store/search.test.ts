/**
 * Search over the examples, on both drivers: the parameters HIEs use, prefixes, token forms,
 * chaining, _include/_revinclude, sorting, paging, totals, and bad values.
 */
import { parseSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../src/outcomes';
import type { SearchResult } from '../../src/store';
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
    const iterate = await search('Encounter', { _id: 'dana-whitfield-contact-2026-09-15', _include: 'Encounter:episode-of-care', '_include:iterate': 'EpisodeOfCare:patient' });
    expect(iterate.included.map((r) => r.resourceType).sort()).toEqual(['EpisodeOfCare', 'Patient']);
  });

  test('_sort by date, both ways, with offset paging', async () => {
    const asc = await search('Encounter', { _sort: 'date' });
    expect(asc.resources.map((r) => r.id)).toEqual(['dana-whitfield-contact-2026-09-15', 'dana-whitfield-contact-2026-09-22', 'dana-whitfield-contact-2026-09-29']);
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
    await store.repo.update({ resourceType: 'Goal', id: 'to-go', lifecycleStatus: 'active', subject: { reference: 'Patient/dana-whitfield' }, description: { text: 'x' } });
    expect(await search('Goal', { _id: 'to-go' })).toMatchObject({ resources: [expect.anything()] });
    await store.repo.delete('Goal', 'to-go');
    expect((await search('Goal', { _id: 'to-go' })).resources).toHaveLength(0);
    expect((await search('Goal', { patient: 'dana-whitfield' })).resources).toHaveLength(3);
  });
});
