/**
 * HTTP: SDC $extract on the example responses, and POST /ingest/canonical?dryRun=true.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle, Observation, Parameters, QuestionnaireResponse } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';

const FHIR = 'application/fhir+json';
const example = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', name), 'utf8'));
let app: ReturnType<typeof createApp>;
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
  app = createApp({ validator, config: { MAX_BODY_BYTES: 1024 * 1024 } });
});

const post = (path: string, body: unknown) => request(app).post(path).set('Content-Type', FHIR).send(JSON.stringify(body));
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

describe('POST /fhir/QuestionnaireResponse/$extract', () => {
  test('is listed in the CapabilityStatement', async () => {
    const res = await request(app).get('/fhir/metadata');
    const qr = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'QuestionnaireResponse');
    expect(qr.operation).toEqual(
      expect.arrayContaining([{ name: 'extract', definition: 'http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract' }]),
    );
  });

  test.each([
    ['QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json', 'Observation-dana-whitfield-irc-total-2026-09-15.json'],
    ['QuestionnaireResponse-dana-whitfield-irc-2026-10-27.json', 'Observation-dana-whitfield-irc-total-2026-10-27.json'],
    ['QuestionnaireResponse-dana-whitfield-admission-review.json', 'Observation-dana-whitfield-admission-determination.json'],
  ])('%s gives the Observation of %s', async (qrFile, obsFile) => {
    const res = await post('/fhir/QuestionnaireResponse/$extract', example(`valid/${qrFile}`));
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('transaction');
    expect(validator.validate(bundle).valid).toBe(true);
    const obs = bundle.entry?.[0]?.resource as Observation;
    const expected = example(`valid/${obsFile}`) as Observation;
    expect(obs.valueInteger).toEqual(expected.valueInteger);
    expect(obs.valueCodeableConcept).toEqual(expected.valueCodeableConcept);
    expect(obs.component).toEqual(expected.component);
    expect(obs.derivedFrom).toEqual([{ reference: `QuestionnaireResponse/${(example(`valid/${qrFile}`) as QuestionnaireResponse).id}` }]);
    expect(obs.subject).toEqual(expected.subject);
    // Same response, same Observation id: a second $extract updates.
    const again = await post('/fhir/QuestionnaireResponse/$extract', example(`valid/${qrFile}`));
    expect(again.body.entry[0].request).toEqual(bundle.entry?.[0]?.request);
  });

  test('Parameters input, and a response without an id travels in the Bundle', async () => {
    const qr = example('valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json');
    delete qr.id;
    const res = await post('/fhir/QuestionnaireResponse/$extract', {
      resourceType: 'Parameters',
      parameter: [{ name: 'questionnaire-response', resource: qr }],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: { request: { method: string; url: string } }) => `${e.request.method} ${e.request.url}`)).toEqual([
      'POST QuestionnaireResponse',
      'POST Observation',
    ]);
    expect(res.body.entry[1].resource.derivedFrom[0].reference).toBe(res.body.entry[0].fullUrl);
  });

  test('an unanswered item: 422 naming it; a wrong total: 422', async () => {
    const qr = example('valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json');
    qr.item = qr.item.filter((i: { linkId: string }) => i.linkId !== 'irc-7' && i.linkId !== 'total');
    qr.status = 'in-progress';
    const res = await post('/fhir/QuestionnaireResponse/$extract', qr);
    expect(res.status).toBe(422);
    expect(res.body.issue[0].details.text).toMatch(/irc-7 not answered/);
    const wrong = example('valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json');
    wrong.item.find((i: { linkId: string }) => i.linkId === 'total').answer[0].valueInteger = 99;
    const res2 = await post('/fhir/QuestionnaireResponse/$extract', wrong);
    expect(res2.status).toBe(422);
    expect(res2.body.issue[0].details.text).toMatch(/item 'total' says 99, but its calculatedExpression gives 52/);
  });

  test('response status: entered-in-error is refused, in-progress gives a preliminary result', async () => {
    const qr = example('valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json');
    qr.status = 'entered-in-error';
    expect((await post('/fhir/QuestionnaireResponse/$extract', qr)).status).toBe(422);
    qr.status = 'in-progress';
    const res = await post('/fhir/QuestionnaireResponse/$extract', qr);
    expect(res.status).toBe(200);
    expect(res.body.entry[0].resource.status).toBe('preliminary');
  });

  test('$extract of a response the ingest made gives the same Observation id (an update, not a second total)', async () => {
    const ingested = await post('/ingest/canonical?dryRun=true', example('canonical/riverbend-dana-whitfield.json'));
    const entries = (param(ingested.body, 'bundle')?.resource as Bundle).entry ?? [];
    const qr = entries
      .map((e) => e.resource)
      .find((r) => r?.resourceType === 'QuestionnaireResponse' && r.questionnaire?.includes('idaho')) as QuestionnaireResponse;
    const total = entries.map((e) => e.resource).find((r) => r?.resourceType === 'Observation' && r.valueInteger !== undefined) as Observation;
    // Taken out of the dry-run transaction, the response's urn:uuid references name nothing: point
    // them at the ids the transaction gives (a urn that names no entry of the $extract Bundle is an error).
    const ids = new Map(entries.map((e) => [e.fullUrl, `${e.resource?.resourceType}/${e.resource?.id}`]));
    const resolved = JSON.parse(JSON.stringify(qr), (k: string, v: unknown) =>
      k === 'reference' && typeof v === 'string' && ids.has(v) ? ids.get(v) : v,
    ) as QuestionnaireResponse;
    const extracted = await post('/fhir/QuestionnaireResponse/$extract', resolved);
    expect(extracted.status).toBe(200);
    expect(extracted.body.entry[0].resource.id).toBe(total.id);
  });

  test('other questionnaires, other resources, invalid responses: 4xx OperationOutcomes', async () => {
    const sup = await post('/fhir/QuestionnaireResponse/$extract', example('valid/QuestionnaireResponse-ana-ortiz-supervisor-self-assessment-2026-10.json'));
    expect(sup.status).toBe(422);
    expect(sup.body.issue[0].details.text).toMatch(/marks no item for observation-based extraction/);
    const patient = await post('/fhir/QuestionnaireResponse/$extract', example('valid/Patient-dana-whitfield.json'));
    expect(patient.status).toBe(400);
    const broken = example('valid/QuestionnaireResponse-dana-whitfield-admission-review.json');
    broken.status = 'not-a-status';
    const invalid = await post('/fhir/QuestionnaireResponse/$extract', broken);
    expect(invalid.status).toBe(422);
    expect(invalid.body.resourceType).toBe('OperationOutcome');
  });
});

describe('POST /ingest/canonical?dryRun=true', () => {
  test('returns the transaction Bundle and the report', async () => {
    const res = await post('/ingest/canonical?dryRun=true', example('canonical/riverbend-dana-whitfield.json'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    const p = res.body as Parameters;
    const bundle = param(p, 'bundle')?.resource as Bundle;
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry).toHaveLength(27);
    expect(bundle.entry?.every((e) => e.request?.method === 'PUT')).toBe(true);
    expect(validator.validate(bundle).valid).toBe(true);
    expect(param(p, 'accepted')?.valueInteger).toBe(15);
    expect(param(p, 'rejected')?.valueInteger).toBe(0);
  });

  test('a bad record is reported with its path and the others still go through', async () => {
    const doc = example('canonical/riverbend-dana-whitfield.json');
    doc.episodes[0].contacts[1].durationMinutes = 2000;
    const res = await post('/ingest/canonical?dryRun=true', doc);
    expect(res.status).toBe(200);
    const outcome = param(res.body, 'outcome')?.resource as { issue: { severity: string; expression: string[] }[] };
    expect(outcome.issue.filter((i) => i.severity === 'error').map((i) => i.expression[0])).toEqual(['$.episodes[0].contacts[1].durationMinutes']);
    expect(param(res.body, 'rejected')?.valueInteger).toBe(1);
    expect(param(res.body, 'accepted')?.valueInteger).toBe(14);
  });

  test('nothing accepted: 422; unknown source: 404; bad JSON: 400; wrong type: 415; no store: 501', async () => {
    const none = await post('/ingest/canonical?dryRun=true', { source: 'urn:x', people: [{ id: 'p' }] });
    expect(none.status).toBe(422);
    expect((await post('/ingest/nosuch?dryRun=true', {})).status).toBe(404);
    const bad = await request(app).post('/ingest/canonical').set('Content-Type', FHIR).send('{"source": ');
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].details.text).toMatch(/line 1/);
    const text = await request(app).post('/ingest/canonical').set('Content-Type', 'text/csv').send('a,b');
    expect(text.status).toBe(415);
    const array = await post('/ingest/canonical?dryRun=true', [1, 2]);
    expect(array.status).toBe(400);
    expect(array.body.issue[0].details.text).toMatch(/JSON object/);
    const store = await post('/ingest/canonical', example('canonical/riverbend-dana-whitfield.json'));
    expect(store.status).toBe(501);
    const maybe = await post('/ingest/canonical?dryRun=maybe', example('canonical/riverbend-dana-whitfield.json'));
    expect(maybe.status).toBe(400);
    const twice = await request(app).post('/ingest/canonical?dryRun=true').set('Content-Type', FHIR).send('{"source": "urn:x", "people": [], "people": []}');
    expect(twice.status).toBe(400);
    expect(twice.body.issue[0].details.text).toMatch(/"people" appears twice/);
  });
});
