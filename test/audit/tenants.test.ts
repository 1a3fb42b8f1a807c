/**
 * AuditEvents belong to tenants (issue 11 item 4), over HTTP with SMART auth on, both drivers.
 * Two organizations: Riverbend (A) and Lakeside (B, a 42 CFR Part 2 program). An event belongs to
 * the organization of the record it is about, else to the acting client's organization when it
 * has exactly one, else to nobody (then only an auditor of every organization sees it: never
 * shared). An auditor registered for one organization searches only its events; an event about a
 * Part 2 patient's records is gated by the patient's consent like the records; no event shows an
 * auditor a record it cannot read.
 */
import type { AuditEvent, Bundle, Resource } from '@medplum/fhirtypes';
import { ALL_ORGANIZATIONS } from '../../src/auth';
import { A, B, caller, canonicalBundle, consent, lakesideBundle } from '../access/fixtures';
import { openFullApp, type FullApp } from './full-app';
import { DRIVERS } from '../support/stores';

type Client = { token: string; clientId: string };

describe.each(DRIVERS)('AuditEvents and tenants on %s', (driver) => {
  let app: FullApp;
  const c = {} as Record<'readerA' | 'readerB' | 'readerAll' | 'auditorA' | 'auditorB' | 'auditorAll', Client>;

  const call = async (method: string, path: string, who: Client | undefined, body?: unknown): Promise<{ status: number; body: Resource | undefined }> => {
    const res = await fetch(`${app.base}${path}`, {
      method,
      headers: { ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Resource) : undefined };
  };
  /** The AuditEvents an auditor finds (search `query` on top of `_count=1000`). */
  const events = async (auditor: Client, query = ''): Promise<AuditEvent[]> => {
    await app.audit.flush();
    const res = await call('GET', `/fhir/AuditEvent?_count=1000${query}`, auditor);
    expect(res.status).toBe(200);
    return ((res.body as Bundle).entry ?? []).map((e) => e.resource as Resource).filter((r): r is AuditEvent => r.resourceType === 'AuditEvent');
  };
  const by = (list: AuditEvent[], who: Client) => list.filter((e) => e.agent[0]?.who?.identifier?.value === who.clientId);
  const about = (list: AuditEvent[], reference: string) => list.filter((e) => e.entity?.some((x) => x.what?.reference === reference));

  beforeAll(async () => {
    app = await openFullApp(driver);
    const server = caller(app.validator, app.store.repo);
    for (const bundle of [canonicalBundle(), lakesideBundle()]) {
      expect((await server(undefined, 'POST', '/', bundle)).status).toBe(200);
    }
    const reg = async (scope: string, name: string, org: string): Promise<Client> => {
      const { token, clientId } = await app.token([scope], name, [org]);
      return { token, clientId };
    };
    c.readerA = await reg('system/*.read', 'Reader A', A.org);
    c.readerB = await reg('system/*.read', 'Reader B', B.org);
    c.readerAll = await reg('system/*.read', 'Reader of all', ALL_ORGANIZATIONS);
    c.auditorA = await reg('system/AuditEvent.rs', 'Auditor A', A.org);
    c.auditorB = await reg('system/AuditEvent.rs', 'Auditor B', B.org);
    c.auditorAll = await reg('system/AuditEvent.rs', 'Auditor of all', ALL_ORGANIZATIONS);

    expect((await call('GET', `/fhir/Patient/${A.patient}`, c.readerA)).status).toBe(200);
    // Reader A probing Lakeside's Part 2 patient (404: it cannot see it).
    expect((await call('GET', `/fhir/Patient/${B.patient}`, c.readerA)).status).toBe(404);
    expect((await call('GET', '/fhir/Encounter?status=finished', c.readerA)).status).toBe(200);
    expect((await call('GET', `/fhir/Organization/${B.org}`, c.readerB)).status).toBe(200);
    // Part 2 records, no consent yet: 404 even for Lakeside's own client.
    expect((await call('GET', `/fhir/Patient/${B.patient}`, c.readerB)).status).toBe(404);
    expect((await call('GET', `/fhir/Encounter/${B.encounter}`, c.readerB)).status).toBe(404);
    expect((await call('GET', `/fhir/Patient/${A.patient}`, c.readerAll)).status).toBe(200);
    expect((await call('GET', '/fhir/Organization?_count=1', c.readerAll)).status).toBe(200);
    // One batch about both tenants' records.
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'GET', url: `Patient/${A.patient}` } }, { request: { method: 'GET', url: `Organization/${B.org}` } }],
    };
    expect((await call('POST', '/fhir', c.readerAll, batch)).status).toBe(200);
    await app.audit.flush();
  }, 120_000);
  afterAll(() => app?.close());

  test("an auditor of A sees A's events and nothing of B's, not even its own client's probe of B's patient", async () => {
    const seen = await events(c.auditorA);
    expect(about(by(seen, c.readerA), `Patient/${A.patient}`)).toHaveLength(1);
    // Reader A's search is about no record: it is Reader A's organization's.
    expect(by(seen, c.readerA).some((e) => e.subtype?.[0]?.code === 'search-type')).toBe(true);
    // Reader of all read A's patient: the event is about A's record, so A's.
    expect(about(by(seen, c.readerAll), `Patient/${A.patient}`).filter((e) => e.subtype?.[0]?.code === 'read')).toHaveLength(1);
    const text = JSON.stringify(seen);
    for (const hidden of [B.patient, B.org, B.encounter, c.readerB.clientId]) {
      expect(text).not.toContain(hidden);
    }
    // Nor events about no one's record of a client of several organizations, nor the mixed batch.
    expect(by(seen, c.readerAll).filter((e) => e.subtype?.[0]?.code !== 'read')).toEqual([]);
    // Searching for them by entity finds nothing either.
    expect(await events(c.auditorA, `&entity=Patient/${B.patient}`)).toEqual([]);
  });

  test("an auditor of B sees B's events but not A's, and not the Part 2 patient's without consent", async () => {
    const seen = await events(c.auditorB);
    expect(about(by(seen, c.readerB), `Organization/${B.org}`)).toHaveLength(1);
    const text = JSON.stringify(seen);
    for (const hidden of [A.patient, c.readerA.clientId, c.readerAll.clientId, B.patient, B.encounter]) {
      expect(text).not.toContain(hidden);
    }
  });

  test('an auditor of every organization sees the rest, Part 2 events still gated', async () => {
    const seen = await events(c.auditorAll);
    expect(by(seen, c.readerAll).some((e) => e.subtype?.[0]?.code === 'batch')).toBe(true);
    expect(by(seen, c.readerAll).some((e) => e.subtype?.[0]?.code === 'search-type')).toBe(true);
    expect(about(seen, `Organization/${B.org}`).length).toBeGreaterThan(0);
    expect(about(seen, `Patient/${B.patient}`)).toEqual([]);
    expect(about(seen, `Encounter/${B.encounter}`)).toEqual([]);
  });

  test("a consent of B's patient to B releases the events about the patient's records to B's auditor", async () => {
    await app.store.repo.update(consent('audit-c1', B.org));
    try {
      const seen = await events(c.auditorB);
      expect(about(by(seen, c.readerB), `Patient/${B.patient}`)).toHaveLength(1);
      expect(about(by(seen, c.readerB), `Encounter/${B.encounter}`)).toHaveLength(1);
      // Labelled like the records it is about.
      expect(about(seen, `Encounter/${B.encounter}`)[0].meta?.security?.map((s) => s.code)).toEqual(['R', '42CFRPart2', 'ETH']);
      // Reader A's probe of the patient is B's to see, not A's.
      expect(about(by(seen, c.readerA), `Patient/${B.patient}`)).toHaveLength(1);
      expect(JSON.stringify(seen)).not.toContain(A.patient);
      // Still not to A's auditor, nor to the auditor of every organization (the consent names B only).
      expect(about(await events(c.auditorA), `Patient/${B.patient}`)).toEqual([]);
      expect(about(await events(c.auditorAll), `Patient/${B.patient}`)).toEqual([]);
    } finally {
      await app.store.repo.delete('Consent', 'audit-c1');
    }
  });

  test('an event another tenant owns answers 404 to a read by id, and is left out of history', async () => {
    const probe = about(by(await events(c.auditorAll), c.readerA), `Patient/${A.patient}`)[0];
    expect(probe).toBeDefined();
    expect((await call('GET', `/fhir/AuditEvent/${probe.id}`, c.auditorA)).status).toBe(200);
    expect((await call('GET', `/fhir/AuditEvent/${probe.id}`, c.auditorB)).status).toBe(404);
    const history = await call('GET', '/fhir/AuditEvent/_history?_count=1000', c.auditorB);
    expect(history.status).toBe(200);
    expect(JSON.stringify(history.body)).not.toContain(A.patient);
  });

  test('no 500 was logged', () => {
    expect(app.logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});
