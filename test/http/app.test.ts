/**
 * HTTP: metadata and $validate, with the bad-input cases answered as OperationOutcomes.
 */
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';

const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };
const FHIR = 'application/fhir+json';
let app: ReturnType<typeof createApp>;
beforeAll(() => {
  app = createApp({ validator: Validator.create(), config: { MAX_BODY_BYTES: 1024 * 1024 } });
});

function expectOutcome(body: { resourceType?: string; issue?: { details?: { text?: string } }[] }, text: RegExp): void {
  expect(body.resourceType).toBe('OperationOutcome');
  expect(body.issue?.some((i) => text.test(i.details?.text ?? ''))).toBe(true);
}

test('GET /fhir/metadata lists the profiles', async () => {
  const res = await request(app).get('/fhir/metadata');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
  expect(res.body.resourceType).toBe('CapabilityStatement');
  expect(res.body.fhirVersion).toBe('4.0.1');
  const enc = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Encounter');
  expect(enc.supportedProfile).toContain('http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter');
});

test('POST /fhir/$validate: 200 with the verdict in the OperationOutcome', async () => {
  const ok = await request(app)
    .post('/fhir/$validate')
    .set('Content-Type', FHIR)
    .send(JSON.stringify({ resourceType: 'Patient', id: 'p1', text: narrative }));
  expect(ok.status).toBe(200);
  expect(ok.body.issue.every((i: { severity: string }) => i.severity === 'information')).toBe(true);
  const bad = await request(app)
    .post('/fhir/$validate')
    .set('Content-Type', FHIR)
    .send(JSON.stringify({ resourceType: 'Patient', id: 'p1', gender: 'x' }));
  expect(bad.status).toBe(200);
  expect(bad.body.issue.find((i: { severity: string }) => i.severity === 'error').expression).toEqual(['Patient.gender']);
});

test('POST /fhir/{type}/$validate with Parameters and a profile', async () => {
  const params = {
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'resource',
        resource: {
          resourceType: 'Encounter',
          id: 'e1',
          text: narrative,
          status: 'planned',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        },
      },
      { name: 'profile', valueUri: 'http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter' },
    ],
  };
  const res = await request(app).post('/fhir/Encounter/$validate').set('Content-Type', FHIR).send(JSON.stringify(params));
  expect(res.status).toBe(200);
  expectOutcome(res.body, /Missing required element 'episodeOfCare'/);
});

test('type in the URL must match the body', async () => {
  const res = await request(app)
    .post('/fhir/Encounter/$validate')
    .set('Content-Type', FHIR)
    .send(JSON.stringify({ resourceType: 'Patient' }));
  expect(res.status).toBe(400);
  expectOutcome(res.body, /URL says Encounter/);
});

test('unknown type in the URL: 404', async () => {
  const res = await request(app).post('/fhir/Nope/$validate').set('Content-Type', FHIR).send('{}');
  expect(res.status).toBe(404);
  expectOutcome(res.body, /Unknown resource type 'Nope'/);
});

test.each([
  ['malformed JSON', FHIR, '{"resourceType": "Patient",', 400, /Malformed JSON/],
  ['empty body', FHIR, '', 400, /empty/],
  ['wrong content type', 'text/plain', '{}', 415, /Content-Type must be application\/fhir\+json/],
  ['XML', 'application/fhir+xml', '<Patient/>', 415, /Content-Type/],
  ['deep nesting', FHIR, '{"resourceType":"Patient","extension":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}', 400, /nested more than/],
])('%s is answered with an OperationOutcome', async (_name, type, body, status, text) => {
  const res = await request(app).post('/fhir/$validate').set('Content-Type', type).send(body);
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
  expectOutcome(res.body, text);
});

test('a JSON array or unknown resourceType: 200 with an invalid verdict', async () => {
  for (const body of ['[1,2]', '{"resourceType":"PeerThing"}']) {
    const res = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(body);
    expect(res.status).toBe(200);
    expect(res.body.issue[0].severity).toBe('error');
  }
});

test('a body over the limit: 413', async () => {
  const res = await request(app)
    .post('/fhir/$validate')
    .set('Content-Type', FHIR)
    .send(' '.repeat(2 * 1024 * 1024));
  expect(res.status).toBe(413);
  expectOutcome(res.body, /over the limit/);
});

test('unknown routes: 404 OperationOutcome', async () => {
  const res = await request(app).get('/fhir/Patient/123/nothing-here');
  expect(res.status).toBe(404);
  expect(res.body.resourceType).toBe('OperationOutcome');
});

test('without a store the REST interactions answer 501', async () => {
  const res = await request(app).get('/fhir/Patient/123');
  expect(res.status).toBe(501);
  expect(res.body.resourceType).toBe('OperationOutcome');
});

// Issue 11 item 12: Parameters whose `parameter` is not an array of objects were a 500 (`params.find is not a function`).
describe.each(['/fhir/$validate', '/fhir/Patient/$validate', '/fhir/QuestionnaireResponse/$extract'])('%s with a malformed Parameters body: 400', (path) => {
  test.each([
    ['a string', 'x'],
    ['a number', 1],
    ['an object', { name: 'resource' }],
    ['null', null],
    ['an array of non-objects', ['x', 1, null, true, []]],
    ['an entry whose name is not a string', [{ name: 1, resource: { resourceType: 'Patient' } }]],
    [
      'an entry whose resource is not an object',
      [
        { name: 'resource', resource: 'x' },
        { name: 'questionnaire-response', resource: [1] },
      ],
    ],
  ])('parameter is %s', async (_what, parameter) => {
    const res = await request(app)
      .post(path)
      .set('Content-Type', FHIR)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter }));
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});
