/**
 * Tenants end to end over HTTP (issue 6 item 3): createApp with SMART auth (openAuth), two
 * registered clients with real key pairs and tokens from `POST /auth/token`. A client of org A
 * cannot read org B's records; its own and shared ones it can. Both drivers.
 */
import request from 'supertest';
import { createApp } from '../../src/http/app';
import type { SqlRepository } from '../../src/store';
import { Validator } from '../../src/validation';
import { FHIR_BASE, jwksOf, makeKey, openTestAuth, signAssertion, tokenForm } from '../auth/helpers';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { A, B, caller, canonicalBundle, idsOf, lakesideBundle, serverResources } from './fixtures';
import { ALL_ORGANIZATIONS, type Auth } from '../../src/auth';
import type { Bundle } from '@medplum/fhirtypes';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('tenants over HTTP on %s', (driver) => {
  let store: TestStore;
  let repo: SqlRepository;
  let auth: Auth;
  let app: ReturnType<typeof createApp>;
  const tokens: Record<'a' | 'b' | 'all', string> = { a: '', b: '', all: '' };

  beforeAll(async () => {
    store = await openTestStore(driver);
    repo = store.repo;
    auth = await openTestAuth(repo.driver);
    app = createApp({ validator, store: repo, auth, config: { MAX_BODY_BYTES: 16 * 1024 * 1024, BASE_URL: FHIR_BASE } });
    // Both tenants' transactions, committed by the server itself (as the ingest pipeline does).
    const call = caller(validator, repo);
    for (const bundle of [canonicalBundle(), lakesideBundle()]) {
      expect((await call(undefined, 'POST', '/', bundle)).status).toBe(200);
    }
    for (const r of serverResources()) {
      await repo.update(r);
    }
    for (const [k, org] of [
      ['a', A.org],
      ['b', B.org],
      ['all', ALL_ORGANIZATIONS],
    ] as const) {
      const key = await makeKey('ES384');
      const client = await auth.clients.add({ name: `Client ${k}`, jwks: jwksOf(key), scopes: ['system/*.cruds'], organizations: [org] });
      const res = await request(app)
        .post('/auth/token')
        .type('form')
        .send(tokenForm(await signAssertion(key, client.id), 'system/*.cruds'));
      expect(res.status).toBe(200);
      tokens[k] = res.body.access_token as string;
    }
  });
  afterAll(() => store?.close());

  const get = (path: string, who: keyof typeof tokens) => request(app).get(path).set('Authorization', `Bearer ${tokens[who]}`);

  test("a client of org A cannot read org B's Patient; each reads its own", async () => {
    expect((await get(`/fhir/Patient/${B.patient}`, 'a')).status).toBe(404);
    expect((await get(`/fhir/Organization/${B.org}`, 'a')).status).toBe(404);
    expect((await get(`/fhir/Patient/${A.patient}`, 'a')).status).toBe(200);
    expect((await get(`/fhir/Patient/${A.patient}`, 'b')).status).toBe(404);
    expect((await get(`/fhir/Organization/${B.org}`, 'b')).status).toBe(200);
    expect((await get('/fhir/Questionnaire/shared-q', 'b')).status).toBe(200);
  });

  test('searches and writes over HTTP are limited to the tenant', async () => {
    const patients = await get('/fhir/Patient', 'a');
    expect(idsOf(patients.body as Bundle)).toEqual([`Patient/${A.patient}`]);
    const write = await request(app)
      .post('/fhir/Observation')
      .set('Authorization', `Bearer ${tokens.a}`)
      .type('application/fhir+json')
      .send(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${B.patient}` } }));
    // Writing about a patient the client cannot read is answered as for a patient that does not exist.
    expect(write.status).toBe(422);
  });

  test("a client registered for '*' sees every tenant, but Part 2 records only with a consent naming one of its organizations", async () => {
    expect((await get(`/fhir/Patient/${A.patient}`, 'all')).status).toBe(200);
    expect((await get(`/fhir/Organization/${B.org}`, 'all')).status).toBe(200);
    // Lakeside is a Part 2 program: no Consent can name '*' as a recipient.
    expect((await get(`/fhir/Patient/${B.patient}`, 'all')).status).toBe(404);
    const patients = await get('/fhir/Patient', 'all');
    expect(idsOf(patients.body as Bundle)).toEqual([`Patient/${A.patient}`]);
    expect(JSON.stringify(patients.body)).toContain('42 CFR Part 2');
    const organizations = idsOf((await get('/fhir/Organization', 'all')).body as Bundle);
    expect(organizations).toEqual(expect.arrayContaining([`Organization/${A.org}`, `Organization/${B.org}`]));
    const shared = await request(app)
      .post('/fhir/Questionnaire')
      .set('Authorization', `Bearer ${tokens.all}`)
      .type('application/fhir+json')
      .send(JSON.stringify({ resourceType: 'Questionnaire', status: 'draft' }));
    expect(shared.status).toBe(201);
  });
});
