/**
 * Owners of ingest rejects (src/store/rejects.ts `add`, issue 11 item 2) on both drivers: the
 * record's organization, else the owner of a stored resource it is about, else the source's,
 * else the posting client's; a client places rejects only in its own organizations; what each
 * caller lists and gets; the raw input of a Part 2 reject released as the records are; rows kept
 * before owners existed seen only by the unfiltered views.
 */
import type { Resource } from '@medplum/fhirtypes';
import { cs } from '../../src/fhir/codes';
import type { RepositoryAccess } from '../../src/store';
import { RejectStore, type RejectRecord } from '../../src/store/rejects';
import { consent } from '../access/fixtures';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const reject = (n: number, over: Partial<RejectRecord> = {}): RejectRecord => ({
  source: 'owners',
  feed: 'contacts',
  record: n,
  input: 'contacts.csv',
  where: `line ${n + 1}`,
  kind: 'contact',
  id: `C-${n}`,
  errors: [{ reason: 'bad', stage: 'mapping' }],
  raw: `C-${n},row`,
  ...over,
});
const client = (clientId: string, ...organizations: string[]): RepositoryAccess => ({ clientId, organizations, allOrganizations: false });
const ALL: RepositoryAccess = { clientId: 'all', organizations: [], allOrganizations: true };
const about = (type: string, id: string) => ({ about: { refs: [{ type, id }] } });

describe.each(DRIVERS)('reject owners on %s', (driver) => {
  let store: TestStore;
  let rejects: RejectStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
    rejects = await RejectStore.open(store.repo.driver);
    const resources: Resource[] = [
      { resourceType: 'Organization', id: 'org-x', name: 'X' },
      { resourceType: 'Organization', id: 'org-p2', name: 'P2', type: [{ coding: [{ system: cs('peerbridge-codes'), code: 'part2-program' }] }] },
      { resourceType: 'Patient', id: 'pat-x', managingOrganization: { reference: 'Organization/org-x' } },
      { resourceType: 'Patient', id: 'pat-p2', managingOrganization: { reference: 'Organization/org-p2' } },
    ];
    for (const r of resources) await store.repo.update(r);
  });
  afterAll(() => store?.close());

  test('owner: the record, a stored resource it is about, the source, the posting client; never an organization the client is not registered for', async () => {
    const [named] = await rejects.add([reject(1, { about: { organization: 'org-a', refs: [] } })]);
    const [stored] = await rejects.add([reject(2, about('Patient', 'pat-x'))]);
    const [bySource] = await rejects.add([reject(3)], { organization: 'org-src' });
    const [byClient] = await rejects.add([reject(4)], { access: client('c', 'org-c') });
    const [foreign] = await rejects.add([reject(5, { about: { organization: 'org-a', refs: [{ type: 'Patient', id: 'pat-x' }] } })], {
      organization: 'org-a',
      access: client('c', 'org-c'),
    });
    const [nobody] = await rejects.add([reject(6)], { access: client('cd', 'org-c', 'org-d') });
    expect([named, stored, bySource, byClient, foreign, nobody].map((r) => r.owner ?? null)).toEqual(['org-a', 'org-x', 'org-src', 'org-c', 'org-c', null]);

    const ids = (list: { id: string }[]) => list.map((r) => r.id).sort();
    expect(ids((await rejects.list({ source: 'owners', access: client('a', 'org-a') })).items)).toEqual([named.id]);
    expect(ids((await rejects.list({ source: 'owners', access: client('c2', 'org-c') })).items)).toEqual(ids([byClient, foreign]));
    // The client that posted an ownerless reject still sees it; nobody else but the unfiltered views.
    expect(ids((await rejects.list({ source: 'owners', access: client('cd', 'org-c', 'org-d') })).items)).toEqual(ids([byClient, foreign, nobody]));
    expect((await rejects.list({ source: 'owners', access: ALL })).total).toBe(6);
    expect((await rejects.list({ source: 'owners' })).total).toBe(6);
    expect(await rejects.get([named.id, stored.id], client('c2', 'org-c'))).toEqual([]);
    expect((await rejects.get([named.id], client('a', 'org-a'))).map((r) => r.id)).toEqual([named.id]);
  });

  test("a Part 2 program's reject is released as its records are: to its poster, or with the patient's consent", async () => {
    const [p2] = await rejects.add([reject(1, { source: 'p2', ...about('Patient', 'pat-p2') })]);
    const [declared] = await rejects.add([reject(2, { source: 'p2' })], { organization: 'org-d', part2Organizations: ['org-d'] });
    const [posted] = await rejects.add([reject(3, { source: 'p2', ...about('Patient', 'pat-p2') })], { access: client('poster', 'org-p2') });
    expect([p2, declared, posted].map((r) => [r.owner, r.part2])).toEqual([
      ['org-p2', true],
      ['org-d', true],
      ['org-p2', true],
    ]);
    const seen = async (access: RepositoryAccess) =>
      Object.fromEntries((await rejects.list({ source: 'p2', access })).items.map((r) => [r.record, r.released]));
    expect(await seen(client('other', 'org-p2'))).toEqual({ 1: false, 3: false });
    expect(await seen(client('poster', 'org-p2'))).toEqual({ 1: false, 3: true });
    expect(await seen(ALL)).toEqual({ 1: false, 2: false, 3: false });
    expect(Object.values(await seen(client('d', 'org-d')))).toEqual([false]);
    await store.repo.update(consent('p2-consent', 'org-p2', { patient: { reference: 'Patient/pat-p2' } }));
    expect(await seen(client('other', 'org-p2'))).toEqual({ 1: true, 3: true });
    expect((await rejects.list({ source: 'p2' })).items.every((r) => r.released)).toBe(true);
  });

  test('rows kept before owners existed: the columns are added on open, and such rows are seen only by the unfiltered views', async () => {
    await rejects.add([reject(1, { source: 'legacy' })], { organization: 'org-a' });
    await store.repo.driver.query('ALTER TABLE ingest_reject DROP COLUMN owner, DROP COLUMN part2, DROP COLUMN patient_id, DROP COLUMN client_id');
    const reopened = await RejectStore.open(store.repo.driver);
    expect((await reopened.list({ source: 'legacy', access: client('a', 'org-a') })).total).toBe(0);
    expect((await reopened.list({ source: 'legacy', access: ALL })).total).toBe(1);
    expect((await reopened.list({ source: 'legacy' })).items[0]).toMatchObject({ part2: false, released: true });
  });
});
