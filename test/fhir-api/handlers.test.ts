/**
 * The FHIR REST handlers without HTTP, through the route table, on both store drivers.
 */
import type { Bundle, Encounter, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { fhirRouter, type FhirDeps, type FhirRequest, type FhirResponse } from '../../src/fhir-api';
import { FhirError } from '../../src/outcomes';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { episodeBundle, readExample } from '../support/examples';

const BASE = 'http://test.local/fhir';
const router = fhirRouter();
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('FHIR handlers on %s', (driver) => {
  let store: TestStore;
  let deps: FhirDeps;
  beforeAll(async () => {
    store = await openTestStore(driver);
    deps = { repo: store.repo, validator };
  });
  afterAll(() => store?.close());

  /** Runs a request; FhirErrors become their status and outcome, as the HTTP layer would send them. */
  async function call(method: FhirRequest['method'], url: string, body?: unknown, headers: FhirRequest['headers'] = {}): Promise<FhirResponse> {
    const [path, qs] = url.split('?');
    const query: FhirRequest['query'] = {};
    for (const [k, v] of new URLSearchParams(qs ?? '')) {
      const prev = query[k];
      query[k] = prev === undefined ? v : [...[prev].flat(), v];
    }
    try {
      return await router.handle({ method, path, query, headers, body, baseUrl: BASE }, deps);
    } catch (e) {
      if (e instanceof FhirError) {
        return { status: e.status, body: e.outcome };
      }
      throw e;
    }
  }
  const text = (r: FhirResponse): string => ((r.body as OperationOutcome).issue ?? []).map((i) => i.details?.text).join(' | ');

  test('create, read, update, vread, history, delete', async () => {
    const { id: _id, ...patient } = readExample<Patient>('Patient-dana-whitfield.json');
    const created = await call('POST', '/Patient', patient);
    expect(created.status).toBe(201);
    const id = created.body?.id as string;
    expect(created.headers?.location).toBe(`${BASE}/Patient/${id}/_history/1`);
    expect(created.headers?.etag).toBe('W/"1"');
    expect(created.headers?.['last-modified']).toMatch(/GMT$/);

    const read = await call('GET', `/Patient/${id}`);
    expect(read.status).toBe(200);
    expect(read.headers?.etag).toBe('W/"1"');

    const updated = await call('PUT', `/Patient/${id}`, { ...read.body, gender: 'male' }, { 'if-match': 'W/"1"' });
    expect(updated.status).toBe(200);
    expect(updated.headers?.etag).toBe('W/"2"');
    const stale = await call('PUT', `/Patient/${id}`, { ...read.body, gender: 'other' }, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);

    expect(((await call('GET', `/Patient/${id}/_history/1`)).body as Patient).gender).toBe('female');
    const history = await call('GET', `/Patient/${id}/_history`);
    expect((history.body as Bundle).entry?.map((e) => e.fullUrl)).toEqual([`${BASE}/Patient/${id}`, `${BASE}/Patient/${id}`]);

    expect((await call('DELETE', `/Patient/${id}`)).status).toBe(204);
    expect((await call('GET', `/Patient/${id}`)).status).toBe(410);
    expect((await call('GET', '/Patient/nobody-here')).status).toBe(404);
    expect((await call('GET', '/_history?_count=1')).body).toMatchObject({
      type: 'history',
      link: expect.arrayContaining([expect.objectContaining({ relation: 'next' })]),
    });
    expect(((await call('GET', '/Patient/_history')).body as Bundle).total).toBeGreaterThanOrEqual(3);
  });

  test('update-as-create, id mismatch, invalid resources (422, nothing stored)', async () => {
    const enc = readExample<Encounter>('Encounter-dana-whitfield-contact-2026-09-15.json');
    expect((await call('PUT', `/Encounter/${enc.id}`, enc)).status).toBe(201);
    expect((await call('PUT', `/Encounter/${enc.id}`, enc)).status).toBe(200);
    const mismatch = await call('PUT', '/Encounter/other-id', enc);
    expect(mismatch.status).toBe(400);
    expect(text(mismatch)).toMatch(/URL says Encounter\/other-id/);
    expect((await call('PUT', '/Patient/x', enc)).status).toBe(400);
    const invalid = await call('PUT', '/Patient/bad-gender', { resourceType: 'Patient', id: 'bad-gender', gender: 'x' });
    expect(invalid.status).toBe(422);
    expect((invalid.body as OperationOutcome).issue?.some((i) => i.expression?.includes('Patient.gender'))).toBe(true);
    expect((await call('GET', '/Patient/bad-gender')).status).toBe(404);
    const { period: _p, ...noPeriod } = enc;
    expect((await call('PUT', `/Encounter/${enc.id}`, { ...noPeriod, episodeOfCare: undefined })).status).toBe(422);
    expect((await call('GET', '/Nope/1')).status).toBe(404);
    expect((await call('PATCH', '/Patient/1', {})).status).toBe(405);
  });

  test('Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await call('POST', '/Patient', { resourceType: 'Patient' }, { prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toBeUndefined();
    expect(minimal.headers?.location).toMatch(/\/Patient\/.+\/_history\/1$/);
    const oo = await call('POST', '/Patient', { resourceType: 'Patient' }, { prefer: 'return=OperationOutcome' });
    expect(oo.body?.resourceType).toBe('OperationOutcome');
  });

  test('conditional create (If-None-Exist) and conditional update by identifier', async () => {
    const patient: Patient = { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value: 'C-1' }] };
    const first = await call('POST', '/Patient', patient, { 'if-none-exist': 'identifier=urn:test:mrn|C-1' });
    const second = await call('POST', '/Patient', patient, { 'if-none-exist': 'Patient?identifier=urn:test:mrn|C-1' });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body?.id).toBe(first.body?.id);
    const upd = await call('PUT', '/Patient?identifier=urn:test:mrn|C-1', { ...patient, gender: 'female' });
    expect(upd.status).toBe(200);
    expect(upd.body?.id).toBe(first.body?.id);
    const fresh = await call('PUT', '/Patient?identifier=urn:test:mrn|C-2', {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:test:mrn', value: 'C-2' }],
    });
    expect(fresh.status).toBe(201);
  });

  describe('with the episode transaction loaded', () => {
    let response: FhirResponse;
    beforeAll(async () => {
      response = await call('POST', '/', episodeBundle());
    });

    test('the 26-entry transaction commits and answers a transaction-response', async () => {
      expect(response.status).toBe(200);
      const bundle = response.body as Bundle;
      expect(bundle.type).toBe('transaction-response');
      expect(bundle.entry).toHaveLength(26);
      expect(bundle.entry?.every((e) => e.response?.status === '201 Created' || e.response?.status === '200 OK')).toBe(true);
      expect(bundle.entry?.[0].response?.location).toMatch(/\/Patient\/dana-whitfield\/_history\/\d+$/);
      const again = await call('POST', '/', episodeBundle());
      expect((again.body as Bundle).entry?.every((e) => e.response?.status === '200 OK')).toBe(true);
    });

    test('search answers a searchset with links, includes and warnings', async () => {
      const res = await call('GET', '/Encounter?patient=dana-whitfield&_count=2&_include=Encounter:patient&foo=bar');
      const bundle = res.body as Bundle;
      expect(bundle.type).toBe('searchset');
      expect(bundle.entry?.filter((e) => e.search?.mode === 'match')).toHaveLength(2);
      expect(bundle.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id)).toEqual(['dana-whitfield']);
      expect(bundle.entry?.find((e) => e.search?.mode === 'outcome')?.resource).toMatchObject({ resourceType: 'OperationOutcome' });
      const next = bundle.link?.find((l) => l.relation === 'next')?.url as string;
      expect(next).toMatch(/_cursor=/);
      const page2 = await call('GET', next.slice(BASE.length));
      expect((page2.body as Bundle).entry?.filter((e) => e.search?.mode === 'match')).toHaveLength(1);
      expect((page2.body as Bundle).link?.some((l) => l.relation === 'next')).toBe(false);
    });

    test('_summary=count, _total, _elements, chained search, strict handling', async () => {
      expect((await call('GET', '/QuestionnaireResponse?_summary=count')).body).toMatchObject({ total: 3 });
      const els = (await call('GET', '/Encounter?_elements=status&_total=accurate')).body as Bundle;
      expect(els.total).toBe(3);
      const e = els.entry?.[0].resource as Encounter;
      expect(Object.keys(e).sort()).toEqual(['id', 'meta', 'resourceType', 'status']);
      expect(e.meta?.tag?.[0].code).toBe('SUBSETTED');
      const chained = await call('GET', '/Encounter?patient.identifier=http://riverbend-ccbhc.example.org/fhir/sid/mrn|RB-204117');
      expect((chained.body as Bundle).entry).toHaveLength(3);
      expect((await call('GET', '/Encounter?foo=bar', undefined, { prefer: 'handling=strict' })).status).toBe(400);
    });

    test.each([
      ['date=notadate', /Invalid format for date|Invalid date/],
      ['_count=-1', /_count must be a whole number/],
      ['_count=1e9', /_count must be a whole number/],
      ['_lastUpdated=gtbad', /Invalid/],
      ['_offset=abc&_sort=date', /_offset/],
    ])('search %s is a 400', async (qs, message) => {
      const res = await call('GET', `/Encounter?${qs}`);
      expect(res.status).toBe(400);
      expect(text(res)).toMatch(message);
    });

    test('a large _count is clamped to 1000 with a warning', async () => {
      const res = await call('GET', '/Encounter?_count=1000000');
      const outcome = (res.body as Bundle).entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
      expect(outcome.issue?.[0].details?.text).toMatch(/pages hold 1000/);
    });

    test('Patient/$everything pages through the compartment', async () => {
      const first = (await call('GET', '/Patient/dana-whitfield/$everything?_count=10')).body as Bundle;
      expect(first.total).toBeGreaterThan(15);
      let n = first.entry?.length ?? 0;
      let next = first.link?.find((l) => l.relation === 'next')?.url;
      while (next) {
        const page = (await call('GET', next.slice(BASE.length))).body as Bundle;
        n += page.entry?.length ?? 0;
        next = page.link?.find((l) => l.relation === 'next')?.url;
      }
      expect(n).toBe(first.total);
      const encounters = (await call('GET', '/Patient/dana-whitfield/$everything?_type=Encounter')).body as Bundle;
      expect(encounters.entry).toHaveLength(3);
      const since = (await call('GET', '/Patient/dana-whitfield/$everything?_since=2100-01-01T00:00:00Z')).body as Bundle;
      expect(since.total).toBe(0);
      expect(since).not.toHaveProperty('entry');
      expect((await call('GET', '/Patient/nobody/$everything')).status).toBe(404);
      expect((await call('GET', '/Patient/dana-whitfield/$everything?_type=Nope')).status).toBe(400);
    });
  });

  test('transaction: urn:uuid references rewritten everywhere, conditional create inside', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a',
          resource: {
            resourceType: 'Encounter',
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject: { reference: 'urn:uuid:88f151c0-a954-468a-88ff-2c7b1e3c8e6b' },
            participant: [{ individual: { reference: 'urn:uuid:0f1cb4c2-2c2a-4d3c-9d6e-1d3f4a5b6c7d' } }],
          },
          request: { method: 'POST', url: 'Encounter' },
        },
        {
          fullUrl: 'urn:uuid:88f151c0-a954-468a-88ff-2c7b1e3c8e6b',
          resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:tx', value: 'T-1' }] },
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test:tx|T-1' },
        },
        {
          fullUrl: 'urn:uuid:0f1cb4c2-2c2a-4d3c-9d6e-1d3f4a5b6c7d',
          resource: { resourceType: 'Practitioner', id: 'tx-practitioner' },
          request: { method: 'PUT', url: 'Practitioner/tx-practitioner' },
        },
        { request: { method: 'GET', url: 'Patient?identifier=urn:test:tx|T-1' } },
      ],
    };
    const res = await call('POST', '/', bundle);
    expect(res.status).toBe(200);
    const out = res.body as Bundle;
    const patientLocation = out.entry?.[1].response?.location as string;
    const patientId = patientLocation.split('/')[5];
    const encounterId = (out.entry?.[0].response?.location as string).split('/')[5];
    const enc = (await call('GET', `/Encounter/${encounterId}`)).body as Encounter;
    expect(enc.subject?.reference).toBe(`Patient/${patientId}`);
    expect(enc.participant?.[0].individual?.reference).toBe('Practitioner/tx-practitioner');
    // The GET ran last, after the POSTs, inside the transaction.
    expect((out.entry?.[3].resource as Bundle).entry).toHaveLength(1);
    // Sent again: the conditional create finds the patient, the new Encounter points at it.
    const again = (await call('POST', '/', bundle)).body as Bundle;
    expect(again.entry?.[1].response?.status).toBe('200 OK');
    expect(again.entry?.[1].response?.location).toBe(patientLocation);
  });

  test('transaction with one broken entry stores nothing', async () => {
    const bundle = episodeBundle();
    for (const e of bundle.entry ?? []) {
      e.request!.url = e.request!.url.replace('dana-whitfield', 'tx-broken');
      (e.resource as { id: string }).id = (e.resource as { id: string }).id.replace('dana-whitfield', 'tx-broken');
      e.fullUrl = undefined;
    }
    (bundle.entry![5].resource as { status?: string }).status = 'not-a-status';
    (bundle.entry![0].resource as Patient).gender = 'x' as Patient['gender'];
    const res = await call('POST', '/', bundle);
    expect(res.status).toBe(422);
    expect((await call('GET', '/Patient/tx-broken')).status).toBe(404);
    // Valid content, but one entry fails while running (a stale If-Match): rolled back too.
    const stale: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'tx-stale-1' }, request: { method: 'PUT', url: 'Patient/tx-stale-1' } },
        { resource: { resourceType: 'Patient', id: 'tx-stale-2' }, request: { method: 'PUT', url: 'Patient/tx-stale-2', ifMatch: 'W/"9"' } },
      ],
    };
    const failed = await call('POST', '/', stale);
    expect(failed.status).toBe(412);
    expect(text(failed)).toMatch(/Bundle.entry\[1\]/);
    expect((await call('GET', '/Patient/tx-stale-1')).status).toBe(404);
  });

  test('batch: entries succeed or fail one by one', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient', id: 'batch-ok' }, request: { method: 'PUT', url: 'Patient/batch-ok' } },
        { resource: { resourceType: 'Patient', id: 'batch-bad', gender: 'x' } as unknown as Patient, request: { method: 'PUT', url: 'Patient/batch-bad' } },
        { request: { method: 'GET', url: 'Patient/batch-missing' } },
        { request: { method: 'GET', url: 'Patient/batch-ok' } },
        { request: { method: 'DELETE', url: 'Patient/batch-ok' } },
      ],
    };
    const res = await call('POST', '/', bundle);
    const out = res.body as Bundle;
    expect(out.type).toBe('batch-response');
    expect(out.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '422', '404', '200 OK', '204 No Content']);
    expect(out.entry?.[1].response?.outcome?.resourceType).toBe('OperationOutcome');
    expect((await call('POST', '/', { resourceType: 'Bundle', type: 'collection' })).status).toBe(400);
    expect((await call('POST', '/', { resourceType: 'Patient' })).status).toBe(400);
  });
});
