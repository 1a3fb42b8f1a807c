/**
 * The permission every route needs (a data table over the route table, Bulk Data, ingest), and
 * checkPermission's 403 OperationOutcome, including transaction and batch entries.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { checkBundleEntries, checkPermission, isPublic, requiredPermission } from '../../src/auth/permissions';
import { parseScopes } from '../../src/auth/scopes';
import { FhirError } from '../../src/outcomes';
import { exportRoutes } from '../../src/export/routes';
import { extractRoute } from '../../src/fhir-api/extract';
import { standardRoutes } from '../../src/fhir-api/routes';
import { translateRoutes } from '../../src/fhir-api/translate';

/** A requirement written short: 'public', 'token', 'denied', or "Type.x Type.y" needs. */
function short(method: string, path: string, body?: unknown, headers?: Record<string, string>): string {
  const r = requiredPermission(method, path, body, headers);
  // The bearer middleware's shortcut must agree with the full rule on every case of the tables.
  expect(isPublic(method, path)).toBe(r.kind === 'public');
  return r.kind === 'scopes' ? r.needs.map((n) => `${n.type}.${n.interaction}`).join(' ') : r.kind;
}

describe('requiredPermission', () => {
  test.each([
    // public
    ['GET', '/', 'public'],
    ['GET', '/fhir/metadata', 'public'],
    ['GET', '/fhir/metadata?_format=json', 'public'],
    ['GET', '/FHIR/metadata', 'public'],
    ['GET', '/Fhir/Patient/p1', 'Patient.r'],
    ['GET', '/fhir//Patient/p1/', 'Patient.r'],
    ['GET', '/fhir/Patient/..%2F..%2Fmetadata', 'Patient.r'],
    ['GET', '/.well-known/smart-configuration', 'public'],
    ['GET', '/fhir/.well-known/smart-configuration', 'public'],
    ['POST', '/auth/token', 'public'],
    // a valid token only
    ['POST', '/fhir/$validate', 'token'],
    ['POST', '/fhir/Patient/$validate', 'token'],
    ['POST', '/fhir/QuestionnaireResponse/$extract', 'token'],
    ['POST', '/fhir/ConceptMap/$translate', 'token'],
    ['GET', '/fhir/ConceptMap/$translate?system=x&code=y', 'token'],
    ['POST', '/fhir/ConceptMap/cm1/$translate', 'token'],
    ['GET', '/fhir/ConceptMap/cm1/$translate?code=y', 'token'],
    ['GET', '/fhir/bulkstatus/abc', 'token'],
    ['DELETE', '/fhir/bulkstatus/abc', 'token'],
    ['GET', '/fhir/bulkfiles/abc/Patient-1.ndjson', 'token'],
    // instance level: r, u, d
    ['GET', '/fhir/Patient/p1', 'Patient.r'],
    ['HEAD', '/fhir/Patient/p1', 'Patient.r'],
    ['GET', '/fhir/Patient/p1/_history', 'Patient.r'],
    ['GET', '/fhir/Patient/p1/_history/2', 'Patient.r'],
    ['PUT', '/fhir/Encounter/e1', 'Encounter.u'],
    ['PATCH', '/fhir/Encounter/e1', 'Encounter.u'],
    ['DELETE', '/fhir/Encounter/e1', 'Encounter.d'],
    // type level: c, s
    ['POST', '/fhir/Encounter', 'Encounter.c'],
    ['GET', '/fhir/Encounter', 'Encounter.s'],
    ['GET', '/fhir/Encounter?patient=p1&_count=10', 'Encounter.s'],
    ['POST', '/fhir/Encounter/_search', 'Encounter.s'],
    ['GET', '/fhir/Encounter/_history', 'Encounter.s'],
    ['PUT', '/fhir/Patient?identifier=x|1', 'Patient.u Patient.s'],
    ['DELETE', '/fhir/Patient?identifier=x|1', 'Patient.d Patient.s'],
    // system level
    ['GET', '/fhir/_history', '*.s'],
    ['GET', '/fhir', '*.s'],
    // search reaching other types
    ['GET', '/fhir/Encounter?_include=Encounter:subject:Patient', 'Encounter.s Patient.r'],
    ['GET', '/fhir/Encounter?_include=Encounter:subject', 'Encounter.s *.r'],
    ['GET', '/fhir/Encounter?_include:iterate=Encounter:subject:Patient', 'Encounter.s Patient.r'],
    ['GET', '/fhir/Encounter?_include=*', 'Encounter.s *.r'],
    ['GET', '/fhir/Patient?_revinclude=Encounter:subject', 'Patient.s Encounter.r'],
    ['GET', '/fhir/Encounter?subject:Patient.name=Whitfield', 'Encounter.s Patient.s'],
    ['GET', '/fhir/Encounter?subject.name=Whitfield', 'Encounter.s *.s'],
    ['GET', '/fhir/Patient?_has:Observation:patient:code=1234', 'Patient.s Observation.s'],
    // operations
    ['GET', '/fhir/Patient/p1/$everything', 'Patient.r *.r'],
    ['GET', '/fhir/Patient/p1/$everything?_type=Encounter,Observation', 'Patient.r Encounter.r Observation.r'],
    // Without _type the kick-off exports only the types the scopes read (test/export/scopes.test.ts).
    ['GET', '/fhir/$export', ''],
    ['GET', '/fhir/$export?_type=Patient,Encounter', 'Patient.r Encounter.r'],
    ['GET', '/fhir/$export?_type=Patient&_type=Goal', 'Patient.r Goal.r'],
    ['GET', '/fhir/Patient/$export', ''],
    ['GET', '/fhir/Patient/$export?_type=Encounter', 'Encounter.r'],
    ['GET', '/fhir/Group/g1/$export?_type=Encounter', 'Group.r Encounter.r'],
    ['POST', '/fhir/$export', ''],
    ['GET', '/fhir/Group/g1/$export', 'Group.r'],
    // ingest
    ['POST', '/ingest/canonical', '*.c *.u'],
    ['POST', '/ingest/canonical?dryRun=true', '*.c *.u'],
    ['POST', '/ingest/riverbend-csv?feed=contacts', '*.c *.u'],
    ['GET', '/ingest/rejects?source=riverbend-csv', '*.c *.u *.r'],
    ['POST', '/ingest/rejects/$retry', '*.c *.u'],
    ['POST', '/ingest/rejects/%24retry', '*.c *.u'],
    ['DELETE', '/ingest/rejects', '*.c *.r *.u *.d *.s'],
    // the audit trail is written by the server only
    ['POST', '/fhir/AuditEvent', 'denied'],
    ['PUT', '/fhir/AuditEvent/a1', 'denied'],
    ['DELETE', '/fhir/AuditEvent/a1', 'denied'],
    ['GET', '/fhir/AuditEvent?date=gt2024', 'AuditEvent.s'],
    ['POST', '/fhir/AuditEvent/_search', 'AuditEvent.s'],
    // anything unknown fails closed
    ['GET', '/fhir/Patient/p1/extra/segments', '*.c *.r *.u *.d *.s'],
    ['POST', '/fhir/Patient/p1', '*.c *.r *.u *.d *.s'],
    ['GET', '/other', '*.c *.r *.u *.d *.s'],
    // the client registry: only the Client scopes (never given by `*`)
    ['GET', '/admin/clients', 'Client.s'],
    ['POST', '/admin/clients', 'Client.c'],
    ['GET', '/admin/clients/c1', 'Client.r'],
    ['DELETE', '/admin/clients/c1', 'Client.d'],
    ['GET', '/admin', 'Client.c Client.r Client.u Client.d Client.s'],
    ['PUT', '/admin/clients/c1', 'Client.c Client.r Client.u Client.d Client.s'],
    ['OPTIONS', '/fhir/Patient', '*.c *.r *.u *.d *.s'],
    ['GET', '/ingest/canonical', '*.c *.r *.u *.d *.s'],
  ])('%s %s needs %s', (method, path, expected) => {
    expect(short(method, path)).toBe(expected);
  });

  test('conditional create adds search; a form _search and a Parameters $export are read from the body', () => {
    expect(short('POST', '/fhir/Patient', {}, { 'if-none-exist': 'identifier=x|1' })).toBe('Patient.c Patient.s');
    expect(short('POST', '/fhir/Encounter/_search', new URLSearchParams('_include=Encounter:subject:Patient'))).toBe('Encounter.s Patient.r');
    const params = {
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Patient,Encounter' },
        { name: '_since', valueInstant: '2024-01-01T00:00:00Z' },
      ],
    };
    expect(short('POST', '/fhir/$export', params)).toBe('Patient.r Encounter.r');
    // Every value[x] of the body, as the kick-off reads it, and the query beside it (issue 11 item 3).
    const coded = {
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Patient' },
        { name: '_type', valueCode: 'Encounter,Observation' },
        { name: '_type', valueUri: 'Goal' },
      ],
    };
    expect(short('POST', '/fhir/Patient/$export?_type=Group', coded)).toBe('Group.r Patient.r Encounter.r Observation.r Goal.r');
    expect(short('POST', '/fhir/Group/g1/$export', { resourceType: 'Parameters', parameter: [{ name: '_type', valueCanonical: 'Encounter' }] })).toBe(
      'Group.r Encounter.r',
    );
  });

  test('every pattern of the route table has an entry (none falls through to the fail-closed default)', () => {
    const routes = [...standardRoutes(), ...translateRoutes(), extractRoute({} as never), ...exportRoutes({} as never)];
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const path = `/fhir${route.pattern.replace(':type', 'Encounter').replace(':id', 'e1').replace(':vid', '2')}${route.query ? '?identifier=x' : ''}`;
      expect([route.method, path, short(route.method, path)]).not.toEqual([route.method, path, '*.c *.r *.u *.d *.s']);
    }
  });
});

describe('Bundles: every entry is checked', () => {
  const bundle = (type: 'transaction' | 'batch', ...entries: Array<[string, string, Record<string, unknown>?]>): Bundle => ({
    resourceType: 'Bundle',
    type,
    entry: entries.map(([method, url, extra]) => ({
      request: { method: method as 'GET', url, ...extra },
      resource: method === 'POST' || method === 'PUT' ? { resourceType: url.split(/[/?]/)[0] } : undefined,
    })) as Bundle['entry'],
  });

  test.each([
    [bundle('transaction', ['PUT', 'Patient/p1'], ['POST', 'Encounter'], ['DELETE', 'Goal/g1']), 'Patient.u Encounter.c Goal.d'],
    [bundle('batch', ['GET', 'Patient/p1'], ['GET', 'Encounter?patient=p1'], ['GET', 'metadata']), 'Patient.r Encounter.s'],
    [bundle('transaction', ['POST', 'Patient', { ifNoneExist: 'identifier=x|1' }]), 'Patient.c Patient.s'],
    [bundle('batch', ['GET', 'https://peerbridge.example/fhir/Patient/p1'], ['GET', 'http://elsewhere/base/Encounter/e1/_history/1']), 'Patient.r Encounter.r'],
    [bundle('batch', ['POST', 'Patient/$validate']), ''],
    [bundle('transaction', ['POST', 'AuditEvent']), 'denied'],
    [bundle('batch', ['GET', 'Patient/p1/x/y/z']), '*.c *.r *.u *.d *.s'],
    [{ resourceType: 'Patient' }, 'token'],
  ])('%#: needs %s', (body, expected) => {
    expect(short('POST', '/fhir', body)).toBe(expected);
  });

  test('a Bundle inside a Bundle entry is checked too, and refused deeper than two levels', () => {
    const inner = bundle('batch', ['DELETE', 'Patient/p1']);
    const outer: Bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: '' }, resource: inner }] };
    expect(short('POST', '/fhir', outer)).toBe('Patient.d');
    const deepest: Bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: '' }, resource: outer }] };
    expect(short('POST', '/fhir', deepest)).toBe('denied');
  });
});

describe('checkPermission', () => {
  const auth = (scope: string) => ({ scopes: parseScopes(scope) });
  const forbiddenText = (fn: () => void): string => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(FhirError);
      const err = e as FhirError;
      expect(err.status).toBe(403);
      expect(err.outcome.issue[0]).toMatchObject({ severity: 'error', code: 'forbidden' });
      return err.outcome.issue[0].details?.text ?? '';
    }
    throw new Error('expected a 403');
  };

  test('allowed requests pass; others throw 403 naming what is missing', () => {
    expect(() => checkPermission(auth('system/*.read'), 'GET', '/fhir/Encounter/e1')).not.toThrow();
    expect(() => checkPermission(auth('system/Encounter.r'), 'GET', '/fhir/Encounter/e1')).not.toThrow();
    expect(forbiddenText(() => checkPermission(auth('system/Encounter.r'), 'GET', '/fhir/Encounter'))).toMatch(/search on Encounter.*system\/Encounter\.s/);
    expect(forbiddenText(() => checkPermission(auth('system/*.read'), 'POST', '/ingest/canonical'))).toMatch(/create on every resource type/);
    expect(() => checkPermission(auth('system/*.write'), 'POST', '/ingest/canonical')).not.toThrow();
    expect(() => checkPermission(auth('system/*.cu'), 'POST', '/ingest/canonical')).not.toThrow();
    expect(forbiddenText(() => checkPermission(auth('system/*.cruds system/AuditEvent.cruds'), 'POST', '/fhir/AuditEvent'))).toMatch(
      /written by the server only/,
    );
    expect(() => checkPermission(auth('system/Patient.rs'), 'GET', '/fhir/$export?_type=Patient')).not.toThrow();
    expect(forbiddenText(() => checkPermission(auth('system/Patient.rs'), 'GET', '/fhir/$export?_type=Patient,Encounter'))).toMatch(/read on Encounter/);
    expect(() => checkPermission(auth(''), 'POST', '/fhir/$validate')).not.toThrow();
  });

  test('transaction entries: the first entry not allowed is named', () => {
    const tx: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'PUT', url: 'Patient/p1' }, resource: { resourceType: 'Patient', id: 'p1' } },
        { request: { method: 'DELETE', url: 'Encounter/e1' } },
      ],
    };
    expect(() => checkBundleEntries(auth('system/*.write'), tx)).not.toThrow();
    const text = forbiddenText(() => checkBundleEntries(auth('system/Patient.u system/Encounter.cu'), tx));
    expect(text).toMatch(/delete on Encounter in Bundle\.entry\[1\]/);
    expect(forbiddenText(() => checkPermission(auth('system/Patient.u'), 'POST', '/fhir', tx))).toMatch(/Bundle\.entry\[1\]/);
  });
});
