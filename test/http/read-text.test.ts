/**
 * Read by id sends the stored JSON text as the database gives it (issue 15 item 3): no parse and
 * serialise on the way. The body is parse-equal to the resource `read` gives, the headers are the
 * ones the parsed resource gives, 404 and 410 are unchanged, and a batch's GET entry still carries
 * the resource. Tenant and Part 2 rules on read: test/access.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { versionHeaders } from '../../src/fhir-api/http-rules';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { episodeBundle } from '../support/examples';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const FHIR = 'application/fhir+json';
const BASE = 'http://localhost:8080/fhir';
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('read by id as stored text on %s', (driver) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  let written: { type: string; id: string }[];
  beforeAll(async () => {
    store = await openTestStore(driver);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 } });
    const tx = await request(app).post('/fhir').set('Content-Type', FHIR).send(JSON.stringify(episodeBundle()));
    expect(tx.status).toBe(200);
    written = (tx.body as Bundle).entry!.map((e) => {
      const [, type, id] = /([A-Za-z]+)\/([^/]+)\/_history\/\d+$/.exec(e.response!.location!)!;
      return { type, id };
    });
    expect(written.length).toBeGreaterThan(3);
  });
  afterAll(() => store?.close());

  test('the body is the stored text byte for byte, parse-equal to read, with the same ETag, Last-Modified and Content-Type', async () => {
    for (const { type, id } of written) {
      const res = await request(app).get(`/fhir/${type}/${id}`);
      expect(res.status).toBe(200);
      const resource = await store.repo.read<Resource>(type as Resource['resourceType'], id);
      const { rows } = await store.repo.driver.query<{ t: string }>('SELECT content::text AS t FROM fhir_resource WHERE resource_type = $1 AND id = $2', [
        type,
        id,
      ]);
      // Byte for byte what the database holds (a re-serialised body would lose jsonb's spacing).
      expect(res.text).toBe(rows[0].t);
      expect(JSON.parse(res.text)).toEqual(JSON.parse(JSON.stringify(resource)));
      const expected = versionHeaders(resource, BASE);
      expect(res.headers.etag).toBe(expected.etag);
      expect(res.headers['last-modified']).toBe(expected['last-modified']);
      expect(res.headers['content-type']).toBe(`${FHIR}; charset=utf-8`);
    }
  });

  test('unknown id 404, deleted 410, each an OperationOutcome', async () => {
    const unknown = await request(app).get('/fhir/Patient/no-such-patient');
    expect(unknown.status).toBe(404);
    expect(unknown.body.resourceType).toBe('OperationOutcome');
    const goal = written.find((w) => w.type === 'Goal') ?? written[written.length - 1];
    expect((await request(app).delete(`/fhir/${goal.type}/${goal.id}`)).status).toBeLessThan(300);
    const deleted = await request(app).get(`/fhir/${goal.type}/${goal.id}`);
    expect(deleted.status).toBe(410);
    expect(deleted.body.resourceType).toBe('OperationOutcome');
  });

  test("a batch's GET entry still carries the resource", async () => {
    const patient = written.find((w) => w.type === 'Patient')!;
    const batch: Bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${patient.id}` } }] };
    const res = await request(app).post('/fhir').set('Content-Type', FHIR).send(JSON.stringify(batch));
    expect(res.status).toBe(200);
    const entry = (res.body as Bundle).entry![0];
    expect(entry.response?.status).toMatch(/^200/);
    expect(entry.resource).toEqual(await store.repo.read('Patient', patient.id));
  });
});
