/**
 * End to end over HTTP (issue 6): clients registered with real keys get tokens from
 * `POST /auth/token` with signed assertions; scopes decide reads, searches and writes; every
 * request and token request leaves an AuditEvent (valid FHIR R4) that only an audit-scoped client
 * can search, and none holds a patient's name, a query value or a token. Security headers on
 * every response; oversized headers answer 431 with an OperationOutcome.
 */
import http from 'node:http';
import type { AuditEvent, Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { FHIR_BASE, makeKey, signAssertion, tokenForm } from '../auth/helpers';
import { openFullApp, ORG, type FullApp } from '../audit/full-app';
import { DRIVERS } from '../support/stores';

const FAMILY = 'Quixotewhistle';
const GIVEN = 'Zebulon';

describe.each(DRIVERS)('security end to end on %s', (driver) => {
  let app: FullApp;
  let writer: { token: string; clientId: string };
  let reader: { token: string; clientId: string };
  let encounters: { token: string; clientId: string };
  let auditor: { token: string; clientId: string };
  let patientId: string;

  const call = async (method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  /** Every AuditEvent stored so far (written by the batched writer). */
  const auditEvents = async (query = ''): Promise<AuditEvent[]> => {
    await app.audit.flush();
    const res = await call('GET', `/fhir/AuditEvent?_count=1000${query}`, auditor.token);
    expect(res.status).toBe(200);
    return ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent).filter((r) => r.resourceType === 'AuditEvent');
  };
  const byClient = (events: AuditEvent[], clientId: string) => events.filter((e) => e.agent[0]?.who?.identifier?.value === clientId);
  const code = (e: AuditEvent) => e.subtype?.[0]?.code;

  beforeAll(async () => {
    app = await openFullApp(driver, { exportWorker: true });
    writer = await app.token(['system/*.cruds'], 'Writer EHR');
    reader = await app.token(['system/*.read'], 'Reader HIE');
    encounters = await app.token(['system/Encounter.rs'], 'Encounter-only HIE');
    auditor = await app.token(['system/AuditEvent.rs'], 'Auditor');
    const patient: Patient = {
      resourceType: 'Patient',
      name: [{ family: FAMILY, given: [GIVEN] }],
      managingOrganization: { reference: `Organization/${ORG}` },
    };
    const created = await call('POST', '/fhir/Patient', writer.token, patient);
    expect(created.status).toBe(201);
    patientId = (created.body as Patient).id as string;
  }, 120_000);
  afterAll(() => app?.close());

  test('scope matrix: reads, searches and writes as the scopes say', async () => {
    expect((await call('GET', `/fhir/Patient/${patientId}`, reader.token)).status).toBe(200);
    expect((await call('GET', `/fhir/Patient?family=${FAMILY}`, reader.token, undefined, { 'x-purpose-of-use': 'TREAT' })).status).toBe(200);
    const write = await call('POST', '/fhir/Patient', reader.token, { resourceType: 'Patient', managingOrganization: { reference: `Organization/${ORG}` } });
    expect(write.status).toBe(403);
    expect((write.body as OperationOutcome).issue[0].code).toBe('forbidden');
    expect((await call('GET', `/fhir/Patient/${patientId}`, encounters.token)).status).toBe(403);
    expect((await call('GET', '/fhir/Encounter', encounters.token)).status).toBe(200);
    expect((await call('DELETE', `/fhir/Patient/${patientId}`, reader.token)).status).toBe(403);
    // AuditEvent is not covered by `*`, and nobody writes it over the API.
    expect((await call('GET', '/fhir/AuditEvent', reader.token)).status).toBe(403);
    expect((await call('GET', '/fhir/AuditEvent', writer.token)).status).toBe(403);
    expect((await call('POST', '/fhir/AuditEvent', writer.token, { resourceType: 'AuditEvent' })).status).toBe(403);
    expect((await call('POST', '/fhir/AuditEvent', auditor.token, { resourceType: 'AuditEvent' })).status).toBe(403);
    expect((await call('GET', `/fhir/Patient/${patientId}`)).status).toBe(401);
    expect((await call('GET', `/fhir/Patient/${patientId}`, `${reader.token}x`)).status).toBe(401);
  });

  test('audit events: token issued and refused, read, search, write, denied; searchable by the auditor only', async () => {
    // A refused token request: an assertion signed with a key the client did not register.
    const stranger = await makeKey('ES384');
    const refused = await fetch(`${app.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenForm(await signAssertion(stranger, reader.clientId)),
    });
    expect(refused.status).toBe(401);
    const events = await auditEvents();

    const login = events.filter((e) => e.type.code === '110114');
    const issued = byClient(login, reader.clientId).filter((e) => e.outcome === '0');
    expect(issued).toHaveLength(1);
    expect(issued[0].agent[0].who?.display).toBe('Reader HIE');
    expect(issued[0].entity?.[0].what?.identifier?.system).toBe('urn:ietf:params:oauth:jti');
    expect(byClient(login, reader.clientId).some((e) => e.outcome === '4' && /invalid_client/.test(e.outcomeDesc ?? ''))).toBe(true);

    const mine = byClient(events, reader.clientId).filter((e) => e.type.code === 'rest');
    const read = mine.find((e) => code(e) === 'read' && e.outcome === '0');
    expect(read?.action).toBe('R');
    expect(read?.entity?.[0].what?.reference).toBe(`Patient/${patientId}`);
    expect(read?.agent[0].requestor).toBe(true);
    expect(read?.source.observer.identifier?.value).toBe(FHIR_BASE);
    const search = mine.find((e) => code(e) === 'search-type' && e.entity?.[0].type?.code === 'Patient');
    expect(search?.action).toBe('E');
    expect(search?.entity?.[0].detail).toEqual([{ type: 'parameter', valueString: 'family' }]);
    expect(search?.agent[0].purposeOfUse?.[0].coding?.[0].code).toBe('TREAT');
    const denied = mine.filter((e) => e.outcome === '4' && /403/.test(e.outcomeDesc ?? ''));
    expect(denied.map(code).sort()).toEqual(['create', 'delete', 'search-type']);
    const written = byClient(events, writer.clientId).filter((e) => code(e) === 'create');
    expect(written.find((e) => e.entity?.[0].type?.code === 'Patient')).toMatchObject({ action: 'C', outcome: '0' });
    expect(written.find((e) => e.entity?.[0].type?.code === 'AuditEvent')).toMatchObject({ action: 'C', outcome: '4' });
    const unauthenticated = events.filter((e) => !e.agent[0].who && e.outcome === '4' && /401/.test(e.outcomeDesc ?? ''));
    expect(unauthenticated.filter((e) => e.entity?.[0].what?.reference === `Patient/${patientId}`)).toHaveLength(2);
    expect(byClient(events, encounters.clientId).find((e) => code(e) === 'read')?.outcome).toBe('4');

    // Searchable: by entity, subtype and outcome.
    const forPatient = await auditEvents(`&entity=Patient/${patientId}`);
    expect(forPatient.length).toBeGreaterThanOrEqual(4);
    expect(forPatient.every((e) => e.entity?.some((x) => x.what?.reference === `Patient/${patientId}`))).toBe(true);
    const failures = await auditEvents('&outcome=4&subtype=read');
    expect(failures.length).toBeGreaterThanOrEqual(3);
  });

  test('every AuditEvent is valid FHIR R4 and holds no name, query value or token', async () => {
    await call('GET', `/fhir/Patient?name=${GIVEN}&_include=Patient:organization`, reader.token);
    const events = await auditEvents();
    expect(events.length).toBeGreaterThan(10);
    const tokens = [writer.token, reader.token, encounters.token, auditor.token];
    for (const event of events) {
      const result = app.validator.validate(event);
      expect(result.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
      const text = JSON.stringify(event);
      expect(text).not.toMatch(new RegExp(`${FAMILY}|${GIVEN}|Organization/${ORG}|Patient:organization`, 'i'));
      for (const t of tokens) {
        expect(text).not.toContain(t);
        expect(text).not.toContain(t.split('.')[2]);
      }
    }
  });

  test('AuditEvents reach no client without the audit scope: system search and history, _revinclude, $everything, $export', async () => {
    await call('GET', `/fhir/Patient/${patientId}`, reader.token);
    expect((await auditEvents(`&entity=Patient/${patientId}`)).length).toBeGreaterThan(0);
    const leaks: string[] = [];
    const audits = (b: unknown): number => ((b as Bundle | undefined)?.entry ?? []).filter((e) => e.resource?.resourceType === 'AuditEvent').length;
    for (const path of [
      '/fhir?_count=1000',
      '/fhir?_type=AuditEvent',
      '/fhir/_history?_count=1000',
      `/fhir/Patient?_id=${patientId}&_revinclude=*`,
      `/fhir/Patient?_id=${patientId}&_revinclude=AuditEvent:entity`,
      `/fhir/Patient/${patientId}/$everything?_count=1000`,
    ]) {
      const res = await call('GET', path, reader.token);
      if (res.status === 200 && audits(res.body) > 0) leaks.push(`${path}: ${audits(res.body)} AuditEvents`);
    }
    const kick = await fetch(`${app.base}/fhir/$export`, { headers: { authorization: `Bearer ${reader.token}`, prefer: 'respond-async' } });
    await kick.text();
    expect(kick.status).toBe(202);
    const job = /bulkstatus\/([^/?]+)/.exec(kick.headers.get('content-location') ?? '')?.[1] as string;
    await app.bulk.sweep();
    await app.bulk.idle();
    const status = await call('GET', `/fhir/bulkstatus/${job}`, reader.token);
    expect({ status: status.status, body: status.status === 200 ? undefined : status.body }).toEqual({ status: 200, body: undefined });
    const manifest = status.body as { requiresAccessToken?: boolean; output?: { type: string; url: string }[] } | undefined;
    const files = manifest?.output ?? [];
    if (files.some((f) => f.type === 'AuditEvent')) leaks.push('$export: an AuditEvent file');
    // Files need the token of the client that started the job.
    expect(manifest?.requiresAccessToken).toBe(true);
    expect(files.length).toBeGreaterThan(0);
    const file = new URL(files[0].url).pathname;
    expect((await call('GET', file)).status).toBe(401);
    expect((await call('GET', file, writer.token)).status).toBe(404);
    const download = await fetch(`${app.base}${file}`, { headers: { authorization: `Bearer ${reader.token}` } });
    expect(download.status).toBe(200);
    expect((await download.text()).split('\n').filter(Boolean).length).toBe((files[0] as { count?: number }).count);
    expect(leaks).toEqual([]);
  });

  test('security headers on every response; 431 for oversized headers, as an OperationOutcome', async () => {
    for (const [path, token] of [
      ['/fhir/metadata', undefined],
      [`/fhir/Patient/${patientId}`, reader.token],
      ['/fhir/Nope', reader.token],
      [`/fhir/Patient/${patientId}`, undefined],
    ] as const) {
      const res = await fetch(`${app.base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      await res.text();
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      // BASE_URL is https.
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${app.base}/fhir/Patient`, { headers: { 'x-filler': 'a'.repeat(64 * 1024) } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body).resourceType).toBe('OperationOutcome');
    expect((await call('GET', `/fhir/Patient/${patientId}`, reader.token)).status).toBe(200);
  });
});
