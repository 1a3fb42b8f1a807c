/**
 * The FHIR REST API over HTTP, on both store drivers: headers, bad input answered with
 * OperationOutcomes, the CapabilityStatement, and a real FHIR client (fhir-kit-client) talking to
 * the server on an ephemeral port.
 */
import type { Bundle, CapabilityStatement, Encounter, Patient } from '@medplum/fhirtypes';
import { Client, type FhirResource } from 'fhir-kit-client';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { episodeBundle, readExample } from '../support/examples';

const FHIR = 'application/fhir+json';
const MAX_BODY_BYTES = 16 * 1024 * 1024;
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('FHIR REST over HTTP on %s', (driver) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES } });
  });
  afterAll(() => store?.close());

  const post = (path: string, body: unknown, type = FHIR) =>
    request(app)
      .post(path)
      .set('Content-Type', type)
      .send(typeof body === 'string' ? body : JSON.stringify(body));
  const put = (path: string, body: unknown) => request(app).put(path).set('Content-Type', FHIR).send(JSON.stringify(body));
  function expectOutcome(res: request.Response, status: number, text?: RegExp): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(res.body.resourceType).toBe('OperationOutcome');
    if (text) {
      expect(res.body.issue.map((i: { details?: { text?: string } }) => i.details?.text).join(' | ')).toMatch(text);
    }
  }

  test('create: 201 with Location, ETag and Last-Modified; read and vread', async () => {
    const created = await post('/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Rivera' }] });
    expect(created.status).toBe(201);
    // The public base: BASE_URL, else http://localhost:<PORT>/fhir (PORT 8080 by default), never the request's Host.
    expect(created.headers.location).toMatch(/^http:\/\/localhost:8080\/fhir\/Patient\/[0-9a-f-]{36}\/_history\/1$/);
    expect(created.headers.etag).toBe('W/"1"');
    expect(created.headers['last-modified']).toMatch(/GMT$/);
    const read = await request(app).get(`/fhir/Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(read.body.name[0].family).toBe('Rivera');
    const mismatch = await request(app)
      .put(`/fhir/Patient/${created.body.id}`)
      .set('Content-Type', FHIR)
      .set('If-Match', 'W/"5"')
      .send(JSON.stringify(read.body));
    expectOutcome(mismatch, 412, /expected version 5/);
  });

  test('POST /fhir/{type}/_search with a form body', async () => {
    await put('/fhir/Patient/form-search', { resourceType: 'Patient', id: 'form-search', name: [{ family: 'Formsworth' }] });
    const res = await request(app).post('/fhir/Patient/_search').type('form').send('family=formsw');
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: { resource: Patient }) => e.resource.id)).toEqual(['form-search']);
  });

  test.each<[string, () => request.Test, number, RegExp]>([
    ['malformed JSON', () => post('/fhir/Patient', '{"resourceType": "Patient",'), 400, /Malformed JSON/],
    ['wrong Content-Type', () => post('/fhir/Patient', '{}', 'text/plain'), 415, /Content-Type/],
    ['XML body', () => post('/fhir/Patient', '<Patient/>', 'application/fhir+xml'), 415, /Content-Type/],
    ['id mismatch', () => put('/fhir/Patient/a', { resourceType: 'Patient', id: 'b' }), 400, /URL says Patient\/a/],
    ['type mismatch', () => put('/fhir/Patient/a', { resourceType: 'Encounter', id: 'a' }), 400, /body is a Encounter/],
    ['unknown type', () => request(app).get('/fhir/Nope'), 404, /Unknown resource type 'Nope'/],
    ['unknown type on write', () => post('/fhir/Nope', { resourceType: 'Nope' }), 404, /Unknown resource type 'Nope'/],
    ['invalid id', () => request(app).get('/fhir/Patient/a%20b'), 400, /not a valid FHIR id/],
    ['date=notadate', () => request(app).get('/fhir/Encounter?date=notadate'), 400, /date/],
    ['_count=-1', () => request(app).get('/fhir/Encounter?_count=-1'), 400, /_count/],
    ['_count=1e9', () => request(app).get('/fhir/Encounter?_count=1e9'), 400, /_count/],
    [
      'strict handling of an unknown parameter',
      () => request(app).get('/fhir/Encounter?foo=1').set('Prefer', 'handling=strict'),
      400,
      /Unknown search parameter 'foo'/,
    ],
    ['_format=xml', () => request(app).get('/fhir/Patient?_format=xml'), 406, /_format=xml/],
    ['Accept: XML only', () => request(app).get('/fhir/Patient').set('Accept', 'application/fhir+xml'), 406, /Accept/],
    ['an invalid resource', () => post('/fhir/Patient', { resourceType: 'Patient', gender: 'x' }), 422, /gender/],
    ['a Bundle that is neither transaction nor batch', () => post('/fhir', { resourceType: 'Bundle', type: 'collection' }), 400, /transaction or batch/],
    ['DELETE on a type', () => request(app).delete('/fhir/Patient'), 405, /not supported/],
  ])('%s: 4xx OperationOutcome', async (_name, send, status, text) => {
    expectOutcome(await send(), status, text);
  });

  test('a 50 MB body: 413, nothing stored', async () => {
    const big = JSON.stringify({
      resourceType: 'Patient',
      id: 'big',
      text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(50 * 1024 * 1024)}</div>` },
    });
    const res = await put('/fhir/Patient/big', JSON.parse(big)).catch((e: { response?: request.Response }) => e.response as request.Response);
    expectOutcome(res, 413, /over the limit/);
    expect((await request(app).get('/fhir/Patient/big')).status).toBe(404);
  });

  test('a transaction with one broken entry stores nothing', async () => {
    const bundle = episodeBundle();
    (bundle.entry?.[16].resource as Encounter).status = 'bogus' as Encounter['status'];
    const res = await post('/fhir', bundle);
    expectOutcome(res, 422);
    expect(JSON.stringify(res.body)).toMatch(/Bundle\.entry\[16\]/);
    expect((await request(app).get('/fhir/Patient/dana-whitfield')).status).toBe(404);
    expect((await request(app).get('/fhir/Encounter?_summary=count')).body.total).toBe(0);
  });

  test('the CapabilityStatement lists interactions, search parameters and operations from the route table', async () => {
    const res = await request(app).get('/fhir/metadata');
    const cs = res.body as CapabilityStatement;
    const enc = cs.rest?.[0].resource?.find((r) => r.type === 'Encounter');
    expect(enc?.interaction?.map((i) => i.code).sort()).toEqual([
      'create',
      'delete',
      'history-instance',
      'history-type',
      'read',
      'search-type',
      'update',
      'vread',
    ]);
    expect(enc?.searchParam?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['_id', '_lastUpdated', 'patient', 'date', 'status', 'type', 'episode-of-care', 'based-on', 'identifier']),
    );
    expect(enc?.searchInclude).toEqual(expect.arrayContaining(['Encounter:patient', 'Encounter:episode-of-care']));
    expect(cs.rest?.[0].resource?.find((r) => r.type === 'Patient')?.operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['everything', 'validate']));
    expect(cs.rest?.[0].interaction?.map((i) => i.code).sort()).toEqual(['batch', 'history-system', 'transaction']);
  });

  describe('through fhir-kit-client', () => {
    let server: Server;
    let client: Client;
    beforeAll(async () => {
      // Listening first, so the app's public base (which its paging links follow) names the port.
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
      server.on('request', createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES, BASE_URL: baseUrl } }));
      client = new Client({ baseUrl });
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    test('transaction, read, search with paging, update, history, $everything, delete', async () => {
      const tx = (await client.transaction({ body: episodeBundle() as unknown as FhirResource })) as unknown as Bundle;
      expect(tx.type).toBe('transaction-response');
      expect(tx.entry).toHaveLength(26);

      const patient = (await client.read({ resourceType: 'Patient', id: 'dana-whitfield' })) as unknown as Patient;
      expect(patient.name?.[0].family).toBe('Whitfield');

      let page = (await client.search({
        resourceType: 'Encounter',
        searchParams: { patient: 'dana-whitfield', _count: 1, _sort: 'date' },
      })) as unknown as Bundle;
      const dates: string[] = [];
      for (;;) {
        dates.push(...(page.entry ?? []).map((e) => (e.resource as Encounter).period?.start as string));
        const next = client.nextPage({ bundle: page as unknown as Parameters<Client['nextPage']>[0]['bundle'] });
        if (!next) {
          break;
        }
        page = (await next) as unknown as Bundle;
      }
      expect(dates).toEqual(['2026-09-15T10:00:00-05:00', '2026-09-22T14:00:00-05:00', '2026-09-29T18:00:00-05:00']);

      const enc = readExample<Encounter>('Encounter-dana-whitfield-contact-2026-09-22.json');
      const updated = (await client.update({ resourceType: 'Encounter', id: enc.id, body: { ...enc, status: 'entered-in-error' } })) as unknown as Encounter;
      expect(updated.meta?.versionId).toBe('2');
      const history = (await client.history({ resourceType: 'Encounter', id: enc.id as string })) as unknown as Bundle;
      expect(history.entry).toHaveLength(2);

      const everything = (await client.operation({ name: '$everything', resourceType: 'Patient', id: 'dana-whitfield', method: 'GET' })) as unknown as Bundle;
      expect(everything.entry?.some((e) => e.resource?.resourceType === 'QuestionnaireResponse')).toBe(true);

      await client.delete({ resourceType: 'Goal', id: 'dana-whitfield-goal-wrap' });
      await expect(client.read({ resourceType: 'Goal', id: 'dana-whitfield-goal-wrap' })).rejects.toMatchObject({ response: { status: 410 } });
    });
  });
});

/** Reference URLs, modifiers and NUL bytes over HTTP (issue 11, items 10 to 12): never a 500. */
describe.each(DRIVERS)('search edges over HTTP on %s', (driver) => {
  const BASE_URL = 'http://localhost:8080/fhir';
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver, { BASE_URL });
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES, BASE_URL } });
    const put = (r: { resourceType: string; id: string }) =>
      request(app).put(`/fhir/${r.resourceType}/${r.id}`).set('Content-Type', FHIR).send(JSON.stringify(r));
    const code = { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' }] };
    for (const r of [
      { resourceType: 'Patient', id: 'p1' },
      { resourceType: 'Patient', id: 'p2' },
      { resourceType: 'Observation', id: 'o1', status: 'final', code, subject: { reference: 'Patient/p1' } },
      { resourceType: 'Observation', id: 'o2', status: 'final', code, subject: { reference: `${BASE_URL}/Patient/p2` } },
      {
        resourceType: 'Encounter',
        id: 'e1',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/p1' },
      },
    ]) {
      expect((await put(r)).status).toBe(201);
    }
  });
  afterAll(() => store?.close());

  const count = async (query: string): Promise<number> => {
    const res = await request(app).get(`/fhir/${query}&_summary=count`);
    expect(res.status).toBe(200);
    return res.body.total as number;
  };

  test('item 10: an absolute reference URL is the local reference on this base only', async () => {
    expect(await count(`Observation?subject=${BASE_URL}/Patient/p1`)).toBe(1);
    expect(await count('Observation?subject=http://127.0.0.1:8080/fhir/Patient/p2')).toBe(1);
    expect(await count('Observation?patient=p2')).toBe(1);
    expect(await count('Observation?subject=http://evil.example/fhir/Patient/p1')).toBe(0);
    expect(await count(`Encounter?patient=${BASE_URL}/Patient/p1/_history/1`)).toBe(1);
    expect(await count('Encounter?patient=http://evil.example/fhir/Patient/p1')).toBe(0);
  });

  test.each([
    'code:text',
    'code:in',
    'code:not-in',
    'code:above',
    'code:below',
    'identifier:of-type',
    'subject:identifier',
    'code:contains',
    'subject:below',
    'family:text',
  ])('item 11: %s is answered without a 500 (400 under strict handling when unsupported)', async (param) => {
    const type = param === 'family:text' ? 'Patient' : 'Observation';
    const value = param === 'identifier:of-type' ? 'a|b|c' : 'x';
    const lenient = await request(app).get(`/fhir/${type}?${param}=${value}`);
    expect(lenient.status).toBe(200);
    const strict = await request(app).get(`/fhir/${type}?${param}=${value}`).set('Prefer', 'handling=strict');
    expect([200, 400]).toContain(strict.status);
    if (strict.status === 400) {
      expect(strict.body.resourceType).toBe('OperationOutcome');
      expect(lenient.body.entry.at(-1).resource.issue[0].details.text).toMatch(/not supported|not held|needs system\|code/);
    }
  });

  test('item 11: code:text matches the display', async () => {
    expect(await count('Observation?code:text=systolic')).toBe(2);
    expect(await count('Observation?code:text=diastolic')).toBe(0);
  });

  test.each([
    '/fhir/Patient?family=%00',
    '/fhir/Patient?_id=%00',
    '/fhir/Observation?subject=Patient/%00',
    '/fhir/Observation?code=http://loinc.org|%00',
    '/fhir/Observation?subject:Patient.family=%00',
    '/fhir/Observation?date=%00',
    '/fhir/Observation?_sort=%00',
    '/fhir/Observation?_include=Observation:%00',
    '/fhir/Observation?_cursor=%00',
    `/fhir/Observation?_cursor=${Buffer.from(JSON.stringify({ k: '\0' })).toString('base64url')}`,
    '/fhir/Observation?_count=%00',
    '/fhir/Observation?fam%00ily=x',
    '/fhir/Patient/%00',
    '/fhir/Patient/p1/_history/%00',
    '/fhir/Patient/%00/_history',
    '/fhir/Patient/_history?_since=%00',
    '/fhir/_history?_count=%00',
    '/fhir/Patient/%00/$everything',
  ])('item 12: GET %s is a 4xx OperationOutcome', async (path) => {
    for (const prefer of ['handling=lenient', 'handling=strict']) {
      const res = await request(app).get(path).set('Prefer', prefer);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  test('item 12: a NUL byte names its parameter; a form search and If-None-Exist too', async () => {
    const res = await request(app).get('/fhir/Patient?family=%00');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/'family'.*NUL/);
    expect((await request(app).post('/fhir/Patient/_search').type('form').send('family=%00')).status).toBe(400);
    const create = await request(app)
      .post('/fhir/Patient')
      .set('Content-Type', FHIR)
      .set('If-None-Exist', 'identifier=%00')
      .send(JSON.stringify({ resourceType: 'Patient' }));
    expect(create.status).toBe(400);
  });
});
