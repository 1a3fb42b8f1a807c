/**
 * Everything the server answers must pass its own validator, the one `$validate` uses (issue 11,
 * item 13): the CapabilityStatement, searchsets (empty, with matches, includes and an outcome
 * entry), history Bundles, transaction and batch responses, `$everything`, and the
 * OperationOutcomes of errors. The Bulk Data manifest is not a FHIR resource: its shape is checked
 * against the Bulk Data spec instead. The whole app as src/server.ts wires it (auth on).
 */
import type { Bundle, CapabilityStatement, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { episodeBundle } from '../support/examples';
import { openFullApp, type FullApp } from '../audit/full-app';
import { DRIVERS } from '../support/stores';

const FHIR = 'application/fhir+json';

describe.each(DRIVERS)("the server's own outputs validate on %s", (driver) => {
  let app: FullApp;
  let headers: Record<string, string>;
  beforeAll(async () => {
    app = await openFullApp(driver, { exportWorker: true });
    headers = { authorization: `Bearer ${(await app.token(['system/*.cruds'], 'Outputs')).token}`, 'content-type': FHIR };
    // The episode as the canonical pipeline writes it (a transaction), so searches have matches and includes.
    const tx = await fetch(`${app.base}/fhir`, { method: 'POST', headers, body: JSON.stringify(episodeBundle()) });
    expect(tx.status).toBe(200);
  });
  afterAll(() => app?.close());

  /** Fetches `path` and returns its status and JSON body. */
  async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: Resource; headers: Headers }> {
    const res = await fetch(`${app.base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
    return { status: res.status, body: (await res.json()) as Resource, headers: res.headers };
  }

  /** The validator's errors on `body` (none expected). */
  function errorsOf(body: unknown): string[] {
    const { issues } = app.validator.validate(body);
    return issues
      .filter((i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.diagnostics ?? ''}`);
  }

  const expectValid = (body: unknown): void => {
    expect(errorsOf(body)).toEqual([]);
  };

  test('the CapabilityStatement, public and with auth on, offers only what the server allows', async () => {
    const res = await fetch(`${app.base}/fhir/metadata`);
    expect(res.status).toBe(200);
    const statement = (await res.json()) as CapabilityStatement;
    expectValid(statement);
    const resources = statement.rest?.[0].resource ?? [];
    expect(resources.map((r) => r.type)).not.toContain('SubscriptionStatus');
    // AuditEvents are written by the server only: read and search, never create, update or delete.
    const audit = resources.find((r) => r.type === 'AuditEvent');
    expect(audit?.interaction?.map((i) => i.code).sort()).toEqual(['history-instance', 'history-type', 'read', 'search-type', 'vread']);
    expect(audit?.updateCreate).toBeUndefined();
    const written = await fetch(`${app.base}/fhir/AuditEvent`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'AuditEvent' }) });
    expect(written.status).toBe(403);
    expect(resources.find((r) => r.type === 'Patient')?.interaction?.map((i) => i.code)).toEqual(expect.arrayContaining(['create', 'update', 'delete']));
    expect(statement.rest?.[0].security?.service?.[0].coding?.[0].code).toBe('SMART-on-FHIR');
  });

  test('searchsets: empty, with matches and includes, with an outcome entry', async () => {
    const empty = await get('/fhir/Patient?family=NoSuchFamilyAnywhere');
    expect(empty.status).toBe(200);
    // No match: the only entry is the Part 2 notice every client search carries (issue 11 item 7).
    expect(((empty.body as Bundle).entry ?? []).map((e) => e.search?.mode)).toEqual(['outcome']);
    expectValid(empty.body);
    const included = await get('/fhir/Encounter?patient=dana-whitfield&_include=Encounter:episode-of-care&_count=2');
    const modes = ((included.body as Bundle).entry ?? []).map((e) => e.search?.mode);
    expect(modes).toEqual(expect.arrayContaining(['match', 'include']));
    expectValid(included.body);
    const outcome = await get('/fhir/Patient?_summary=text');
    expect(((outcome.body as Bundle).entry ?? []).map((e) => e.search?.mode)).toContain('outcome');
    expectValid(outcome.body);
  });

  test('history Bundles: instance, type and system', async () => {
    for (const path of ['/fhir/Patient/dana-whitfield/_history', '/fhir/Encounter/_history', '/fhir/_history?_count=5']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expectValid(res.body);
    }
  });

  test('transaction and batch responses, with a failed batch entry', async () => {
    const patient = { resourceType: 'Patient', id: 'outputs-check', name: [{ family: 'Outputs' }] };
    const transaction = await get('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: patient, request: { method: 'PUT', url: 'Patient/outputs-check' } }],
      }),
    });
    expect(transaction.status).toBe(200);
    expectValid(transaction.body);
    const batch = await get('/fhir', {
      method: 'POST',
      body: JSON.stringify({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Patient/outputs-check' } },
          { request: { method: 'GET', url: 'Patient/no-such-patient' } },
          { resource: { resourceType: 'Patient', gender: 'nonsense' }, request: { method: 'POST', url: 'Patient' } },
        ],
      }),
    });
    expect(batch.status).toBe(200);
    expect(((batch.body as Bundle).entry ?? []).map((e) => e.response?.status)).toEqual([
      expect.stringMatching(/^200/),
      expect.stringMatching(/^404/),
      expect.stringMatching(/^4/),
    ]);
    expectValid(batch.body);
  });

  test('$everything', async () => {
    const res = await get('/fhir/Patient/dana-whitfield/$everything');
    expect(res.status).toBe(200);
    expectValid(res.body);
  });

  test('OperationOutcomes of errors: 404, 400, 405, 412, 422', async () => {
    const cases: Array<[number, Promise<{ status: number; body: Resource }>]> = [
      [404, get('/fhir/Patient/no-such-patient')],
      [400, get('/fhir/Patient', { method: 'POST', body: '{"resourceType":' })],
      [405, get('/fhir/Patient/dana-whitfield', { method: 'PATCH', headers: { 'content-type': 'application/json-patch+json' }, body: '[]' })],
      [
        412,
        get('/fhir/Patient/outputs-check', {
          method: 'PUT',
          headers: { 'if-match': 'W/"99"' },
          body: JSON.stringify({ resourceType: 'Patient', id: 'outputs-check' }),
        }),
      ],
      [422, get('/fhir/Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', gender: 'nonsense' }) })],
    ];
    for (const [status, pending] of cases) {
      const res = await pending;
      expect([res.status, res.body.resourceType]).toEqual([status, 'OperationOutcome']);
      expectValid(res.body);
    }
  });

  test('the Bulk Data manifest has the shape the spec gives it', async () => {
    const kick = await fetch(`${app.base}/fhir/$export?_type=Patient,Encounter`, {
      headers: { authorization: headers.authorization, accept: FHIR, prefer: 'respond-async' },
    });
    expect(kick.status).toBe(202);
    await app.bulk.sweep();
    const status = await fetch(`${app.base}${new URL(String(kick.headers.get('content-location'))).pathname}`, {
      headers: { authorization: headers.authorization },
    });
    expect(status.status).toBe(200);
    const manifest = (await status.json()) as Record<string, unknown>;
    // https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status
    expect(Object.keys(manifest).sort()).toEqual(expect.arrayContaining(['error', 'output', 'request', 'requiresAccessToken', 'transactionTime']));
    expect(Number.isNaN(Date.parse(String(manifest.transactionTime)))).toBe(false);
    expect(String(manifest.request)).toMatch(/^https?:\/\/[^/]+\/.*\$export/);
    expect(manifest.requiresAccessToken).toBe(true);
    // The error file holds only the Part 2 notice every client export carries (issue 11 item 7).
    expect((manifest.error as Array<Record<string, unknown>>).map((e) => e.type)).toEqual(['OperationOutcome']);
    const output = manifest.output as Array<Record<string, unknown>>;
    expect(output.map((o) => o.type).sort()).toEqual(['Encounter', 'Patient']);
    for (const o of output) {
      expect(Object.keys(o).every((k) => ['type', 'url', 'count', 'extension'].includes(k))).toBe(true);
      expect(String(o.url)).toMatch(/^https?:\/\/.+\.ndjson$/);
      expect(Number.isInteger(o.count)).toBe(true);
    }
    // Each file's lines are resources of its type that validate.
    for (const o of output) {
      const text = await (await fetch(`${app.base}${new URL(String(o.url)).pathname}`, { headers: { authorization: headers.authorization } })).text();
      for (const line of text.split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as Resource;
        expect(r.resourceType).toBe(o.type);
        expectValid(r);
      }
    }
  });
});
