/**
 * `$validate` over HTTP: each issue carries its line and column in the request body (the standard
 * operationoutcome-issue-line/-col extensions), for a bare resource and for one inside Parameters.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { ISSUE_COL_URL, ISSUE_LINE_URL, issuePosition } from '../../src/validation/positions';

const FHIR = 'application/fhir+json';
let app: ReturnType<typeof createApp>;
beforeAll(() => {
  app = createApp({ validator: Validator.create(), config: { MAX_BODY_BYTES: 1024 * 1024 } });
});

const issueAt = (oo: OperationOutcome, expression: string) => oo.issue.find((i) => i.expression?.[0] === expression);

test('a resource body: the issue is located in the text as sent (CRLF line ends)', async () => {
  const body = '{\r\n  "resourceType": "Patient",\r\n  "id": "p1",\r\n  "gender": "x"\r\n}';
  const res = await request(app).post('/fhir/$validate').set('Content-Type', FHIR).send(body);
  expect(res.status).toBe(200);
  const gender = issueAt(res.body as OperationOutcome, 'Patient.gender');
  expect(gender?.severity).toBe('error');
  expect(gender?.extension).toEqual([
    { url: ISSUE_LINE_URL, valueInteger: 4 },
    { url: ISSUE_COL_URL, valueInteger: 3 },
  ]);
  // The whole-resource dom-6 warning: at the resource.
  expect(issuePosition(issueAt(res.body as OperationOutcome, 'Patient') ?? { severity: 'error', code: 'invalid' })).toEqual({ line: 1, col: 1 });
});

test('a Parameters body: issues are located inside the resource parameter', async () => {
  const params = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'profile', valueUri: 'http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter' },
      {
        name: 'resource',
        resource: {
          resourceType: 'Encounter',
          id: 'e 1',
          status: 'planned',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        },
      },
    ],
  };
  const text = JSON.stringify(params, null, 2);
  const res = await request(app).post('/fhir/Encounter/$validate').set('Content-Type', FHIR).send(text);
  expect(res.status).toBe(200);
  const lines = text.split('\n');
  const idLine = lines.findIndex((l) => l.includes('"id": "e 1"')) + 1;
  expect(issuePosition(issueAt(res.body as OperationOutcome, 'Encounter.id') ?? { severity: 'error', code: 'invalid' })).toEqual({
    line: idLine,
    col: lines[idLine - 1].indexOf('"id"') + 1,
  });
  // A missing required element: at its parent, the resource parameter.
  const missing = (res.body as OperationOutcome).issue.find((i) => /episodeOfCare/.test(i.details?.text ?? ''));
  const resourceLine = lines.findIndex((l) => l.includes('"resource": {')) + 1;
  expect(issuePosition(missing ?? { severity: 'error', code: 'invalid' })).toEqual({
    line: resourceLine,
    col: lines[resourceLine - 1].indexOf('"resource"') + 1,
  });
});

test('a valid body answers with no positions (nothing to locate)', async () => {
  const res = await request(app)
    .post('/fhir/$validate')
    .set('Content-Type', FHIR)
    .send(JSON.stringify({ resourceType: 'Patient', id: 'p1', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } }));
  expect((res.body as OperationOutcome).issue.every((i) => !i.extension)).toBe(true);
});
