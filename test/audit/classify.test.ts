/**
 * Request -> AuditEvent parts, case by case (method, path, parameter names -> interaction, action,
 * entities), and the rule behind them: only resource types, FHIR ids, operation names and
 * parameter NAMES are kept; free text of a path and every value are left out. Each built event
 * validates against base R4.
 */
import { classify, purposeOf, requestEvent, splitTarget, tokenEvent, type Classified } from '../../src/audit';
import { Validator } from '../../src/validation';

let validator: Validator;
let isType: (t: string) => boolean;
beforeAll(() => {
  validator = Validator.create();
  isType = (t) => validator.defs.isResourceType(t);
});

const c = (
  method: string,
  path: string,
  paramNames: string[] = [],
  extra: { status?: number; body?: unknown; contentLocation?: string } = {},
): Classified | undefined =>
  classify({ method, path, paramNames, status: extra.status ?? 200, body: extra.body, contentLocation: extra.contentLocation }, isType);
const refs = (x?: Classified) => x?.entities.map((e) => e.reference ?? e.identifier?.value ?? e.resourceType ?? '-');

const CASES: [string, string, string[], string | undefined, string, string[]][] = [
  // method, path, parameter names, interaction, action, entities
  ['GET', '/fhir/Encounter/e1', [], 'read', 'R', ['Encounter/e1']],
  ['HEAD', '/fhir/Encounter/e1', [], 'read', 'R', ['Encounter/e1']],
  ['GET', '/fhir/Encounter/e1/_history/2', [], 'vread', 'R', ['Encounter/e1/_history/2']],
  ['GET', '/fhir/Encounter/e1/_history', [], 'history-instance', 'R', ['Encounter/e1']],
  ['GET', '/fhir/Encounter/_history', [], 'history-type', 'R', ['Encounter']],
  ['GET', '/fhir/_history', [], 'history-system', 'R', ['-']],
  ['GET', '/fhir/Encounter', ['patient', 'date'], 'search-type', 'E', ['Encounter']],
  ['POST', '/fhir/Encounter/_search', ['patient'], 'search-type', 'E', ['Encounter']],
  ['GET', '/fhir', ['_type'], 'search-system', 'E', ['-']],
  ['POST', '/fhir/Encounter', [], 'create', 'C', ['Encounter']],
  ['PUT', '/fhir/Encounter/e1', [], 'update', 'U', ['Encounter/e1']],
  ['DELETE', '/fhir/Encounter/e1', [], 'delete', 'D', ['Encounter/e1']],
  ['PUT', '/fhir/Encounter', ['identifier'], 'update', 'U', ['Encounter']],
  ['GET', '/fhir/Patient/p1/$everything', ['_type'], 'operation', 'E', ['Patient/p1']],
  ['POST', '/fhir/Encounter/$validate', [], 'operation', 'E', ['Encounter']],
  ['POST', '/fhir/$validate', [], 'operation', 'E', []],
  ['GET', '/fhir/$export', ['_type'], 'operation', 'E', ['-']],
  ['GET', '/fhir/Group/g1/$export', [], 'operation', 'E', ['Group/g1', '-']],
  ['GET', '/fhir/bulkstatus/j1', [], 'operation', 'R', ['j1']],
  ['DELETE', '/fhir/bulkstatus/j1', [], 'operation', 'D', ['j1']],
  ['GET', '/fhir/bulkfiles/j1/Encounter-1.ndjson', [], 'operation', 'R', ['j1']],
  ['POST', '/ingest/riverbend-csv', ['feed'], 'operation', 'C', ['riverbend-csv']],
  ['GET', '/ingest/rejects', ['source'], 'search-type', 'R', ['rejects']],
  ['POST', '/ingest/rejects/$retry', [], 'operation', 'C', ['rejects']],
  // the client registry (src/auth/admin-router.ts): the client touched, by its id
  ['GET', '/admin/clients', [], 'search-type', 'E', ['-']],
  ['GET', '/admin/clients/Ab_c-9', [], 'read', 'R', ['Ab_c-9']],
  ['DELETE', '/admin/clients/Ab_c-9', [], 'delete', 'D', ['Ab_c-9']],
  ['DELETE', '/admin/clients/not%20an%20id', [], 'delete', 'D', ['-']],
  // Unknown paths: the method only, no path text.
  ['GET', '/fhir/Dana Whitfield', [], undefined, 'R', []],
  ['GET', '/etc/passwd', [], undefined, 'R', []],
  ['PATCH', '/fhir/Encounter/Dana Whitfield', [], 'patch', 'U', ['Encounter']],
];

test.each(CASES)('%s %s %j: %s %s %j', (method, path, names, interaction, action, entities) => {
  const got = c(method, path, names);
  expect(got?.interaction).toBe(interaction);
  expect(got?.action).toBe(action);
  expect(refs(got)).toEqual(entities);
  const event = requestEvent(
    got as Classified,
    { clientId: 'c1', clientName: 'HIE', address: '10.0.0.1', purposeOfUse: 'TREAT' },
    { site: 'x', uri: 'urn:x' },
    200,
    new Date(),
    new Date(),
  );
  const errors = validator.validate(event).outcome.issue.filter((i) => i.severity === 'error');
  expect(errors).toEqual([]);
});

test('public paths are not audited; the update that created is action C', () => {
  expect(c('GET', '/fhir/metadata')).toBeUndefined();
  expect(c('GET', '/')).toBeUndefined();
  expect(c('GET', '/.well-known/smart-configuration')).toBeUndefined();
  expect(c('PUT', '/fhir/Encounter/e1', [], { status: 201 })?.action).toBe('C');
});

test('parameter names only, when they look like names; never values', () => {
  const got = c('GET', '/fhir/Patient', ['name', 'birthdate', 'name', 'Dana Whitfield', '', '<script>']);
  expect(got?.entities[0].details).toEqual([
    ['parameter', 'name'],
    ['parameter', 'birthdate'],
  ]);
});

test('transactions: one entity per entry from method and URL path, never the query', () => {
  const body = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { request: { method: 'PUT', url: 'Patient/p1' } },
      { request: { method: 'POST', url: 'Encounter' } },
      { request: { method: 'PUT', url: 'Patient?identifier=123-45-6789' } },
      { request: { method: 'GET', url: 'https://elsewhere.example/fhir/Observation/o1?x=1' } },
      { request: { method: 'DELETE', url: 'Dana Whitfield/1' } },
      { request: 'nonsense' },
    ],
  };
  const got = c('POST', '/fhir', [], { body });
  expect(got?.interaction).toBe('transaction');
  expect(refs(got)).toEqual(['Bundle', 'Patient/p1', 'Encounter', 'Patient', 'Observation/o1']);
  expect(JSON.stringify(got)).not.toMatch(/123-45|Whitfield|x=1/);
  expect(c('POST', '/fhir', [], { body: { ...body, type: 'batch' } })?.interaction).toBe('batch');
});

test('a client registration records the new client from Content-Location', () => {
  expect(refs(c('POST', '/admin/clients', [], { status: 201, contentLocation: '/admin/clients/Xy_z-1' }))).toEqual(['Xy_z-1']);
  expect(refs(c('POST', '/admin/clients', [], { status: 403 }))).toEqual(['-']);
});

test('a kick-off records its job from Content-Location', () => {
  const got = c('POST', '/fhir/Patient/$export', [], { status: 202, contentLocation: 'https://x/fhir/bulkstatus/abc-1' });
  expect(got?.entities[0].identifier?.value).toBe('abc-1');
});

test('purpose of use: a known v3 code, bare or with its system; anything else is ignored', () => {
  expect(purposeOf('TREAT')).toBe('TREAT');
  expect(purposeOf('http://terminology.hl7.org/CodeSystem/v3-ActReason|HPAYMT')).toBe('HPAYMT');
  expect(purposeOf(['etreat', 'TREAT'])).toBe('ETREAT');
  expect(purposeOf('Dana Whitfield asked')).toBeUndefined();
  expect(purposeOf(undefined)).toBeUndefined();
});

test('request targets: origin and absolute form', () => {
  expect(splitTarget('/fhir/Patient?name=x')).toEqual({ path: '/fhir/Patient', query: 'name=x' });
  expect(splitTarget('http://host:8080/fhir/Patient/1')).toEqual({ path: '/fhir/Patient/1', query: '' });
});

test('token events validate; a refused one keeps a claimed id only when it looks like one', () => {
  const issued = tokenEvent(
    { issued: true, clientId: 'c1', clientName: 'HIE', scope: 'system/*.read', tokenId: 'j1' },
    { site: 'x', uri: 'urn:x' },
    new Date(),
  );
  const refused = tokenEvent({ issued: false, clientId: 'Dana Whitfield', error: 'invalid_client' }, { site: 'x', uri: 'urn:x' }, new Date());
  for (const e of [issued, refused]) expect(validator.validate(e).outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
  expect(refused.agent[0].who?.identifier).toBeUndefined();
  expect(JSON.stringify(refused)).not.toMatch(/Whitfield/);
});
