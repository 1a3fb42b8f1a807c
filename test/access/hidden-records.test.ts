/**
 * Issue 11 items 1, 5, 6 and 7, end to end over HTTP with SMART auth, on both drivers: a record a
 * client may not see does not exist for it in write answers either.
 * - item 1: a Consent written by another tenant grants nothing (its owner is its patient's; a
 *   grant releases only records its grantor owns);
 * - item 5: PUT and DELETE of an id the client cannot read, and references to a patient it cannot
 *   read, answer exactly as an unknown id does; update-as-create is for clients registered for it;
 * - item 6: a client cannot write into another tenant's patient record, whatever tag or
 *   organization it puts on the resource; a record about a patient is the patient's organization's;
 * - item 7: the Part 2 notice is on every search of a client, matched or not.
 */
import request from 'supertest';
import type { Bundle, Consent, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import type { SqlRepository } from '../../src/store';
import { Validator } from '../../src/validation';
import { FHIR_BASE, jwksOf, makeKey, signAssertion, openTestAuth, tokenForm } from '../auth/helpers';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { A, B, caller, canonicalBundle, consent, idsOf, lakesideBundle, outcomeOf } from './fixtures';
import { ALL_ORGANIZATIONS, type Auth } from '../../src/auth';
import { TENANT_TAG_SYSTEM } from '../../src/access';
import { WITHHELD_TEXT } from '../../src/store/access-sql';

const C = 'third-org';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

/** The answer's text, with the ids it names replaced, to compare two answers. */
const shape = (res: request.Response, ...ids: string[]): string =>
  ids.reduce((text, id) => text.split(id).join('<id>'), `${res.status} ${JSON.stringify(res.body)}`);

describe.each(DRIVERS)('records a client may not see, in write answers, on %s', (driver) => {
  let store: TestStore;
  let repo: SqlRepository;
  let auth: Auth;
  let app: ReturnType<typeof createApp>;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    store = await openTestStore(driver);
    repo = store.repo;
    auth = await openTestAuth(repo.driver);
    app = createApp({ validator, store: repo, auth, config: { MAX_BODY_BYTES: 16 * 1024 * 1024, BASE_URL: FHIR_BASE } });
    const call = caller(validator, repo);
    for (const bundle of [canonicalBundle(), lakesideBundle()]) {
      expect((await call(undefined, 'POST', '/', bundle)).status).toBe(200);
    }
    expect((await call(undefined, 'PUT', `/Organization/${C}`, { resourceType: 'Organization', id: C, name: 'Third' })).status).toBe(201);
    const clients: [string, string[], boolean][] = [
      ['a', [A.org], false],
      ['aIds', [A.org], true],
      ['b', [B.org], true],
      ['ab', [A.org, B.org], false],
      // An HIE of the whole deployment that is also the third organization (a consent recipient).
      ['hie', [ALL_ORGANIZATIONS, C], false],
      ['all', [ALL_ORGANIZATIONS], false],
    ];
    for (const [k, organizations, assignIds] of clients) {
      const key = await makeKey('ES384');
      const client = await auth.clients.add({ name: `Client ${k}`, jwks: jwksOf(key), scopes: ['system/*.cruds'], organizations, assignIds });
      const res = await request(app)
        .post('/auth/token')
        .type('form')
        .send(tokenForm(await signAssertion(key, client.id), 'system/*.cruds'));
      expect(res.status).toBe(200);
      tokens[k] = res.body.access_token as string;
    }
  });
  afterAll(() => store?.close());

  const send = (method: 'put' | 'post' | 'delete', path: string, who: string, body?: unknown) => {
    const req = request(app)[method](path).set('Authorization', `Bearer ${tokens[who]}`);
    return body === undefined ? req : req.type('application/fhir+json').send(JSON.stringify(body));
  };
  const get = (path: string, who: string) => request(app).get(path).set('Authorization', `Bearer ${tokens[who]}`);
  const serverRead = async (path: string): Promise<number> => (await caller(validator, repo)(undefined, 'GET', path)).status;

  test("item 1: a Consent of another tenant's Part 2 patient, written by another organization, is refused and releases nothing", async () => {
    const forged: Consent = { ...consent('forged', C), meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: A.org }] } };
    const res = await send('put', '/fhir/Consent/forged', 'a', forged);
    expect(res.status).toBeGreaterThanOrEqual(400);
    // The same from a client of every organization that is not the patient's program by name.
    expect((await send('put', '/fhir/Consent/forged', 'hie', consent('forged', C))).status).toBeGreaterThanOrEqual(400);
    expect((await send('post', '/fhir/Consent', 'hie', consent('x', C))).status).toBeGreaterThanOrEqual(400);
    expect((await repo.driver.query('SELECT * FROM fhir_consent_grant')).rows).toEqual([]);
    expect((await get(`/fhir/Patient/${B.patient}`, 'hie')).status).toBe(404);
    expect((await get(`/fhir/Patient/${B.patient}/$everything`, 'hie')).status).toBe(404);

    // A grant whose grantor is not the records' owner (a Consent stored in another tenant before this fix) releases nothing.
    await repo.driver.query(`INSERT INTO fhir_consent_grant (consent_id, patient_id, organization_id, grantor) VALUES ('legacy', $1, $2, $3)`, [
      B.patient,
      C,
      A.org,
    ]);
    expect((await get(`/fhir/Patient/${B.patient}`, 'hie')).status).toBe(404);
    expect(idsOf((await get(`/fhir/Encounter?patient=${B.patient}`, 'hie')).body as Bundle)).toEqual([]);
    await repo.driver.query(`DELETE FROM fhir_consent_grant WHERE consent_id = 'legacy'`);

    // The program that owns the patient writes it: then the recipient reads the records.
    const own = await send('put', '/fhir/Consent/by-program', 'b', consent('by-program', C));
    expect([own.status, own.status < 300 ? '' : JSON.stringify(own.body)]).toEqual([201, '']);
    expect((await get(`/fhir/Patient/${B.patient}`, 'hie')).status).toBe(200);
    expect(idsOf((await get(`/fhir/Patient/${B.patient}/$everything`, 'hie')).body as Bundle)).toContain(`Encounter/${B.encounter}`);
    expect((await send('delete', '/fhir/Consent/by-program', 'b')).status).toBe(204);
    expect((await get(`/fhir/Patient/${B.patient}`, 'hie')).status).toBe(404);
  });

  test('item 5: PUT and DELETE of an id the client cannot read answer as an unknown id does', async () => {
    const patient = { resourceType: 'Patient', id: B.patient, name: [{ family: 'Taken' }], managingOrganization: { reference: `Organization/${A.org}` } };
    const unknown = { ...patient, id: 'no-such-patient' };
    for (const who of ['a', 'all', 'hie']) {
      const hidden = await send('put', `/fhir/Patient/${B.patient}`, who, patient);
      const free = await send('put', '/fhir/Patient/no-such-patient', who, unknown);
      expect(hidden.status).toBe(404);
      expect(shape(hidden, B.patient)).toEqual(shape(free, 'no-such-patient'));
      const del = await send('delete', `/fhir/Patient/${B.patient}`, who);
      const delFree = await send('delete', '/fhir/Patient/no-such-patient', who);
      expect([del.status, delFree.status]).toEqual([204, 204]);
    }
    // Nothing was deleted, nothing created.
    expect(await serverRead(`/Patient/${B.patient}`)).toBe(200);
    expect(await serverRead('/Patient/no-such-patient')).toBe(404);
  });

  test('item 5: update-as-create is for clients registered for it, and never takes an id that exists in another tenant', async () => {
    const mine = { resourceType: 'Patient' as const, id: 'a-new-patient', managingOrganization: { reference: `Organization/${A.org}` } };
    expect((await send('put', '/fhir/Patient/a-new-patient', 'a', mine)).status).toBe(404);
    expect((await send('put', '/fhir/Patient/a-new-patient', 'aIds', mine)).status).toBe(201);
    // Now readable by A's clients: both may update it.
    expect((await send('put', '/fhir/Patient/a-new-patient', 'a', { ...mine, active: true })).status).toBe(200);
    const taken = await send('put', `/fhir/Patient/${B.patient}`, 'aIds', { ...mine, id: B.patient });
    expect(taken.status).toBe(409);
    const stored = (await caller(validator, repo)(undefined, 'GET', `/Patient/${B.patient}`)).body as Resource;
    expect(stored.meta?.versionId).toBe('1');
    // In a transaction, a POST entry gets a new id without registration; a PUT of a new id needs it.
    const tx = (method: 'POST' | 'PUT'): Bundle => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { ...mine, id: 'a-tx-patient' }, request: { method, url: method === 'POST' ? 'Patient' : 'Patient/a-tx-patient' } }],
    });
    expect((await send('post', '/fhir', 'a', tx('POST'))).status).toBe(200);
    expect((await send('post', '/fhir', 'a', tx('PUT'))).status).toBe(404);
    expect((await send('post', '/fhir', 'aIds', tx('PUT'))).status).toBe(200);
  });

  test('items 5 and 6: writes about a patient the client cannot read answer as for a patient that does not exist', async () => {
    const obs = (subject: string, extra: Record<string, unknown> = {}) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `Patient/${subject}` },
      ...extra,
    });
    const enc = (subject: string) => ({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${subject}` },
      serviceProvider: { reference: `Organization/${A.org}` },
    });
    const before = (await repo.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource')).rows[0].n;
    for (const who of ['a', 'all']) {
      const cases: [string, unknown][] = [
        ['/fhir/Observation', obs(B.patient, { meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: A.org }] } })],
        ['/fhir/Encounter', enc(B.patient)],
      ];
      for (const [path, body] of cases) {
        const hidden = await send('post', path, who, body);
        const missing = await send('post', path, who, JSON.parse(JSON.stringify(body).split(B.patient).join('no-such-patient')));
        expect(hidden.status).toBe(422);
        expect(shape(hidden, B.patient)).toEqual(shape(missing, 'no-such-patient'));
      }
    }
    expect((await repo.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM fhir_resource')).rows[0].n).toBe(before);
    // Through another tenant's Encounter (not a Patient) too.
    const viaEncounter = await send('post', '/fhir/Observation', 'a', { ...obs(A.patient), encounter: { reference: `Encounter/${B.encounter}` } });
    const viaMissing = await send('post', '/fhir/Observation', 'a', { ...obs(A.patient), encounter: { reference: 'Encounter/no-such-encounter' } });
    expect(viaEncounter.status).toBe(422);
    expect(shape(viaEncounter, B.encounter)).toEqual(shape(viaMissing, 'no-such-encounter'));
  });

  test("item 6: a record about a patient belongs to the patient's organization, whatever organization it names", async () => {
    // A client of both organizations writes an Encounter at A about B's patient: it is B's, and labelled Part 2.
    const res = await send('post', '/fhir/Encounter', 'ab', {
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${B.patient}` },
      serviceProvider: { reference: `Organization/${A.org}` },
      meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: A.org }] },
    });
    expect(res.status).toBe(201);
    const row = (
      await repo.driver.query<{ owner: string; part2: boolean }>(`SELECT owner, part2 FROM fhir_resource WHERE resource_type = 'Encounter' AND id = $1`, [
        res.body.id,
      ])
    ).rows[0];
    expect(row).toEqual({ owner: B.org, part2: true });
    // A's own client does not see it anywhere.
    expect((await get(`/fhir/Encounter/${res.body.id}`, 'a')).status).toBe(404);
    expect(idsOf((await get('/fhir/Encounter', 'a')).body as Bundle)).not.toContain(`Encounter/${res.body.id}`);
  });

  test('item 7: every search of a client carries the same Part 2 notice, whether or not a withheld record matched', async () => {
    const withheld = await get('/fhir/Patient?family=Okafor', 'all');
    const nothing = await get('/fhir/Patient?family=Nobody', 'all');
    const visible = await get(`/fhir/Patient?_id=${A.patient}`, 'all');
    for (const res of [withheld, nothing, visible]) {
      expect((outcomeOf(res.body as Bundle) as OperationOutcome).issue).toEqual([
        { severity: 'information', code: 'suppressed', details: { text: WITHHELD_TEXT } },
      ]);
    }
    expect(JSON.stringify((withheld.body as Bundle).entry)).toEqual(JSON.stringify((nothing.body as Bundle).entry));
    expect((withheld.body as Bundle).total).toEqual((nothing.body as Bundle).total);
  });
});
