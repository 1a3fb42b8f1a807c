/**
 * Tenant isolation (issue 6 item 3) across every read path, and write refusals, through the FHIR
 * route table with each client's view of the store (`repo.withAccess`), on both drivers.
 */
import type { RepositoryAccess } from '../../src/store/repository';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { TENANT_TAG_SYSTEM } from '../../src/access';
import type { SqlRepository } from '../../src/store';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { A, accessA, accessAB, accessB, B, caller, canonicalBundle, idsOf, lakesideBundle, serverResources } from './fixtures';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('tenants on %s', (driver) => {
  let store: TestStore;
  let repo: SqlRepository;
  let call: ReturnType<typeof caller>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    repo = store.repo;
    call = caller(validator, repo);
    // Org A: the canonical pipeline's transaction, committed by the server (no client).
    const a = await call(undefined, 'POST', '/', canonicalBundle());
    expect(a.status).toBe(200);
    // Org B: its own client's transaction.
    const b = await call(accessB, 'POST', '/', lakesideBundle());
    expect([b.status, b.status === 200 ? '' : JSON.stringify(b.body)]).toEqual([200, '']);
    for (const r of serverResources()) {
      await repo.update(r);
    }
  });
  afterAll(() => store?.close());

  const owners = async (): Promise<Map<string, string | null>> => {
    const res = await repo.driver.query<{ resource_type: string; id: string; owner: string | null }>('SELECT resource_type, id, owner FROM fhir_resource');
    return new Map(res.rows.map((r) => [`${r.resource_type}/${r.id}`, r.owner]));
  };

  test('every resource of a transaction gets its owner, Practitioners and a supervisor self-assessment included', async () => {
    const o = await owners();
    const canonical = (canonicalBundle().entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
    expect(canonical.length).toBeGreaterThan(20);
    for (const key of canonical) {
      expect([key, o.get(key)]).toEqual([key, A.org]);
    }
    expect(o.get(`QuestionnaireResponse/${A.supervisorQr}`)).toBe(A.org);
    expect(o.get(`Practitioner/${A.practitioner}`)).toBe(A.org);
    for (const e of lakesideBundle().entry ?? []) {
      expect(o.get(`${e.resource?.resourceType}/${e.resource?.id}`)).toBe(B.org);
    }
    expect(o.get('Questionnaire/shared-q')).toBeNull();
    // Tagged with A's tenant but about B's patient: B's, the patient's organization (issue 11 item 6).
    expect(o.get('Observation/a-obs-about-b')).toBe(B.org);
  });

  test('read and vread: another tenant answers 404 like an unknown id', async () => {
    expect((await call(accessA, 'GET', `/Patient/${A.patient}`)).status).toBe(200);
    const other = await call(accessA, 'GET', `/Organization/${B.org}`);
    const unknown = await call(accessA, 'GET', '/Organization/no-such-org');
    expect(other.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect((other.body as OperationOutcome).issue?.[0].code).toBe((unknown.body as OperationOutcome).issue?.[0].code);
    expect((await call(accessB, 'GET', `/Patient/${A.patient}`)).status).toBe(404);
    expect((await call(accessB, 'GET', `/Patient/${A.patient}/_history/1`)).status).toBe(404);
    expect((await call(accessA, 'GET', `/Patient/${A.patient}/_history/1`)).status).toBe(200);
    expect((await call(accessB, 'GET', `/Organization/${B.org}`)).status).toBe(200);
    expect((await call(accessAB, 'GET', `/Organization/${B.org}`)).status).toBe(200);
    // The server's own view is unfiltered.
    expect((await call(undefined, 'GET', `/Organization/${B.org}`)).status).toBe(200);
  });

  test('history: instance 404, type and system history hold only the tenant', async () => {
    expect((await call(accessA, 'GET', `/Organization/${B.org}/_history`)).status).toBe(404);
    const type = await call(accessA, 'GET', '/Organization/_history');
    expect(idsOf(type.body)).toEqual([`Organization/${A.org}`]);
    const system = await call(accessA, 'GET', '/_history?_count=1000');
    const ids = idsOf(system.body);
    expect(ids).toContain(`Patient/${A.patient}`);
    expect(ids).toContain('Questionnaire/shared-q');
    expect(ids.filter((id) => id.includes('lakeside'))).toEqual([]);
    expect((system.body as Bundle).total).toBe(ids.length);
  });

  test('search matches, _include and _revinclude stay inside the tenant', async () => {
    expect(idsOf((await call(accessA, 'GET', '/Patient')).body)).toEqual([`Patient/${A.patient}`]);
    expect(idsOf((await call(accessB, 'GET', '/Organization')).body)).toEqual([`Organization/${B.org}`]);
    const total = await call(accessA, 'GET', '/Organization?_total=accurate');
    expect((total.body as Bundle).total).toBe(1);
    // An Observation tagged with A's tenant about B's patient is B's: A's client does not find it.
    const inc = await call(accessA, 'GET', '/Observation?_id=a-obs-about-b&_include=Observation:subject');
    expect(idsOf(inc.body)).toEqual([]);
    expect(idsOf(inc.body, 'include')).toEqual([]);
    const unfiltered = await call(undefined, 'GET', '/Observation?_id=a-obs-about-b&_include=Observation:subject');
    expect(idsOf(unfiltered.body, 'include')).toEqual([`Patient/${B.patient}`]);
    // Revinclude from an Organization reaches only the tenant's referrers.
    const rev = await call(accessAB, 'GET', `/Organization?_id=${A.org}&_revinclude=Patient:organization`);
    expect(idsOf(rev.body, 'include')).toEqual([`Patient/${A.patient}`]);
    const revB = await call(accessA, 'GET', `/Patient?_id=${A.patient}&_revinclude=Observation:subject`);
    expect(idsOf(revB.body, 'include').length).toBeGreaterThan(0);
    expect(idsOf(revB.body, 'include').every((id) => id !== 'Observation/a-obs-about-b')).toBe(true);
  });

  test('chained search does not go through another tenant', async () => {
    const chain = '/Observation?subject:Patient.name=Okafor';
    expect(idsOf((await call(undefined, 'GET', chain)).body)).toContain('Observation/a-obs-about-b');
    expect(idsOf((await call(accessA, 'GET', chain)).body)).toEqual([]);
    const own = await call(accessA, 'GET', '/Encounter?subject:Patient.name=Whitfield');
    expect(idsOf(own.body).length).toBeGreaterThan(0);
    expect(idsOf((await call(accessB, 'GET', '/Encounter?subject:Patient.name=Whitfield')).body)).toEqual([]);
  });

  test('$everything: another tenant 404, own compartment without foreign resources', async () => {
    expect((await call(accessB, 'GET', `/Patient/${A.patient}/$everything`)).status).toBe(404);
    const own = await call(accessA, 'GET', `/Patient/${A.patient}/$everything?_count=1000`);
    const all = await call(undefined, 'GET', `/Patient/${A.patient}/$everything?_count=1000`);
    expect(idsOf(own.body).sort()).toEqual(idsOf(all.body).sort());
    expect(idsOf(own.body)).toContain(`Encounter/${A.encounter}`);
    expect((own.body as Bundle).total).toBe(idsOf(own.body).length);
  });

  test('shared definitions are visible to every client', async () => {
    for (const access of [accessA, accessB]) {
      expect((await call(access, 'GET', '/Questionnaire/shared-q')).status).toBe(200);
      expect(idsOf((await call(access, 'GET', '/Questionnaire?name=SharedQ')).body)).toEqual(['Questionnaire/shared-q']);
    }
  });

  describe('writes', () => {
    const obs = (subject: string, extra: Partial<Resource> = {}): Resource =>
      ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: subject }, ...extra }) as Resource;

    test("a client may not update, delete or write into another tenant's records, and is answered as for an unknown id", async () => {
      const patient = (await call(undefined, 'GET', `/Patient/${B.patient}`)).body as Resource;
      expect((await call(accessA, 'PUT', `/Patient/${B.patient}`, patient)).status).toBe(404);
      expect((await call(accessA, 'DELETE', `/Patient/${B.patient}`)).status).toBe(204);
      expect((await call(accessA, 'POST', '/Observation', obs(`Patient/${B.patient}`))).status).toBe(422);
      // Moving a record of its own into another tenant is refused too.
      const mine = (await call(accessA, 'GET', `/Patient/${A.patient}`)).body as Resource & { managingOrganization?: unknown };
      expect((await call(accessA, 'PUT', `/Patient/${A.patient}`, { ...mine, managingOrganization: { reference: `Organization/${B.org}` } })).status).toBe(403);
      // In a transaction nothing is written.
      const tx: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: obs(`Patient/${A.patient}`), request: { method: 'POST', url: 'Observation' } },
          { resource: obs(`Patient/${B.patient}`), request: { method: 'POST', url: 'Observation' } },
        ],
      };
      const before = (await owners()).size;
      expect((await call(accessA, 'POST', '/', tx)).status).toBe(422);
      expect((await owners()).size).toBe(before);
      expect((await call(undefined, 'GET', `/Patient/${B.patient}`)).status).toBe(200);
    });

    test('own records are written; an owner no rule decides is the single organization, else 422; shared definitions need every organization', async () => {
      const created = await call(accessA, 'POST', '/Observation', obs(`Patient/${A.patient}`));
      expect(created.status).toBe(201);
      const basic = { resourceType: 'Basic', code: { text: 'note' } };
      const one = await call(accessA, 'POST', '/Basic', basic);
      expect(one.status).toBe(201);
      expect((await owners()).get(`Basic/${one.body?.id}`)).toBe(A.org);
      const two = await call(accessAB, 'POST', '/Basic', basic);
      expect(two.status).toBe(422);
      expect(JSON.stringify(two.body)).toContain(TENANT_TAG_SYSTEM);
      const tagged = await call(accessAB, 'POST', '/Basic', { ...basic, meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: B.org }] } });
      expect(tagged.status).toBe(201);
      expect((await owners()).get(`Basic/${tagged.body?.id}`)).toBe(B.org);
      expect((await call(accessA, 'POST', '/Basic', { ...basic, meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: B.org }] } })).status).toBe(403);
      expect((await call(accessA, 'POST', '/Questionnaire', { resourceType: 'Questionnaire', status: 'draft' })).status).toBe(403);
      expect((await call(accessA, 'PUT', '/Questionnaire/shared-q', { resourceType: 'Questionnaire', id: 'shared-q', status: 'retired' })).status).toBe(403);
      expect((await call({ ...accessA, allOrganizations: true }, 'POST', '/Questionnaire', { resourceType: 'Questionnaire', status: 'draft' })).status).toBe(
        201,
      );
    });

    test("a client of every organization ('*') names the owner a rule cannot decide; a tenant tag must name an Organization id", async () => {
      const every: RepositoryAccess = { clientId: 'client-all', organizations: [], allOrganizations: true };
      const basic = { resourceType: 'Basic', code: { text: 'note' } };
      const untold = await call(every, 'POST', '/Basic', basic);
      expect(untold.status).toBe(422);
      expect(JSON.stringify(untold.body)).toContain(TENANT_TAG_SYSTEM);
      expect((await call({ ...every, organizations: [A.org] }, 'POST', '/Basic', basic)).status).toBe(422);
      const tagged = await call(every, 'POST', '/Basic', { ...basic, meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: B.org }] } });
      expect(tagged.status).toBe(201);
      expect((await owners()).get(`Basic/${tagged.body?.id}`)).toBe(B.org);
      const star = await call(every, 'POST', '/Basic', { ...basic, meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: '*' }] } });
      expect(star.status).toBe(422);
      expect(JSON.stringify(star.body)).toContain('must name an Organization id');
      // B's patient is a Part 2 record this client has no consent for: it may not write about it.
      expect((await call(every, 'POST', '/Observation', obs(`Patient/${B.patient}`))).status).toBe(422);
      expect((await call(every, 'POST', '/Observation', obs(`Patient/${A.patient}`))).status).toBe(201);
    });
  });
});
