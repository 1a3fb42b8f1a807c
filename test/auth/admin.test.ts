/**
 * The client registry over HTTP (`/admin/clients`, issue 11 item 14): clients are registered,
 * listed and removed while the server runs, with the `system/Client.*` scopes only (`*` scopes
 * never grant it), and an admin can never hand out more than it holds: organizations outside its
 * own, `*`, or scopes beyond its registration are refused (403); clients of other organizations
 * do not exist for it. Errors are OperationOutcomes; every admin request is audited.
 */
import request from 'supertest';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { jwksOf, makeKey, signAssertion, tokenForm } from './helpers';
import { openFullApp, ORG, type FullApp } from '../audit/full-app';
import { DRIVERS } from '../support/stores';

const OTHER_ORG = 'lakeside-ccbhc';

describe.each(DRIVERS)('/admin/clients on %s', (driver) => {
  let app: FullApp;
  /** Registered for every organization, with every scope and the client registry. */
  let root: { token: string; clientId: string };
  /** Registered for ORG only: the registry, and read + search on every type. */
  let local: { token: string; clientId: string };
  let everything: { token: string; clientId: string };
  let auditor: { token: string; clientId: string };

  const api = () => request(app.base);
  const issues = (body: unknown): string => ((body as OperationOutcome).issue ?? []).map((i) => i.details?.text).join('\n');
  const jwks = async () => jwksOf(await makeKey('ES384'));

  beforeAll(async () => {
    app = await openFullApp(driver);
    root = await app.token(['system/Client.cruds', 'system/*.cruds', 'system/AuditEvent.rs'], 'Deployment admin', ['*']);
    local = await app.token(['system/Client.cruds', 'system/*.rs'], 'Riverbend admin', [ORG]);
    everything = await app.token(['system/*.cruds', 'system/*.*'], 'Everything but admin', ['*']);
    auditor = await app.token(['system/AuditEvent.rs'], 'Auditor', ['*']);
  }, 120_000);
  afterAll(() => app?.close());

  test('`*` scopes do not reach the registry, and a token cannot be granted system/Client.* without registering for it', async () => {
    for (const [method, path] of [
      ['get', '/admin/clients'],
      ['post', '/admin/clients'],
      ['get', `/admin/clients/${root.clientId}`],
      ['delete', `/admin/clients/${root.clientId}`],
    ] as const) {
      const res = await api()[method](path).set('authorization', `Bearer ${everything.token}`).send({});
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
      expect(issues(res.body)).toMatch(/Client/);
    }
    expect((await api().get('/admin/clients')).status).toBe(401);
    const key = await makeKey('ES384');
    const client = await app.auth.clients.add({ name: 'Wildcard', jwks: jwksOf(key), scopes: ['system/*.*'], organizations: ['*'] });
    const res = await api()
      .post('/auth/token')
      .type('form')
      .send(tokenForm(await signAssertion(key, client.id), 'system/Client.cruds system/*.read'));
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/*.read');
  });

  test('register, list, read, get a token, remove: the registered client works at once and stops at once', async () => {
    const key = await makeKey('RS384');
    const created = await api()
      .post('/admin/clients')
      .set('authorization', `Bearer ${root.token}`)
      .send({ name: 'Late HIE', jwks: jwksOf(key), scopes: 'system/Encounter.rs system/Patient.rs', organizations: [ORG] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.headers.location).toBe(`/admin/clients/${id}`);
    expect(created.body).toMatchObject({
      name: 'Late HIE',
      scopes: ['system/Encounter.rs', 'system/Patient.rs'],
      organizations: [ORG],
      createdAt: expect.any(String),
    });

    const list = await api().get('/admin/clients').set('authorization', `Bearer ${root.token}`);
    expect(list.status).toBe(200);
    expect((list.body.clients as Array<{ id: string }>).map((c) => c.id)).toEqual(expect.arrayContaining([id, root.clientId, local.clientId]));
    expect((await api().get(`/admin/clients/${id}`).set('authorization', `Bearer ${root.token}`)).body).toMatchObject({ id, name: 'Late HIE' });

    const token = await api()
      .post('/auth/token')
      .type('form')
      .send(tokenForm(await signAssertion(key, id), 'system/Encounter.rs'));
    expect(token.status).toBe(200);
    expect((await api().get('/fhir/Encounter').set('authorization', `Bearer ${token.body.access_token}`)).status).toBe(200);

    expect((await api().delete(`/admin/clients/${id}`).set('authorization', `Bearer ${root.token}`)).status).toBe(204);
    expect((await api().get(`/admin/clients/${id}`).set('authorization', `Bearer ${root.token}`)).status).toBe(404);
    expect((await api().delete(`/admin/clients/${id}`).set('authorization', `Bearer ${root.token}`)).status).toBe(404);
    expect((await api().get('/fhir/Encounter').set('authorization', `Bearer ${token.body.access_token}`)).status).toBe(401);
  });

  test('refused registrations are 400 OperationOutcomes, one issue per problem; 415 for a body that is not JSON', async () => {
    const bad = await api()
      .post('/admin/clients')
      .set('authorization', `Bearer ${root.token}`)
      .send({ name: '', jwks: { keys: [] }, scopes: ['system/Patinet.read', 'user/*.read'], organizations: ['not an id'] });
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    expect(bad.body.issue.length).toBeGreaterThanOrEqual(4);
    expect(issues(bad.body)).toMatch(/'Patinet' is not a FHIR R4 resource type/);
    const extra = await api()
      .post('/admin/clients')
      .set('authorization', `Bearer ${root.token}`)
      .send({ name: 'x', jwks: await jwks(), scopes: ['system/*.read'], admin: true });
    expect(extra.status).toBe(400);
    expect(issues(extra.body)).toMatch(/unknown property 'admin'/);
    for (const body of ['[]', '"x"', 'null', '{']) {
      const res = await api().post('/admin/clients').set('authorization', `Bearer ${root.token}`).set('content-type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const text = await api().post('/admin/clients').set('authorization', `Bearer ${root.token}`).set('content-type', 'text/plain').send('name=x');
    expect(text.status).toBe(415);
    expect(text.body.resourceType).toBe('OperationOutcome');
    const put = await api().put('/admin/clients').set('authorization', `Bearer ${root.token}`).send({});
    expect([403, 405]).toContain(put.status);
    expect(put.body.resourceType).toBe('OperationOutcome');
  });

  test('no privilege escalation: an organization admin registers only for its organizations and with scopes it holds', async () => {
    const as = (token: string, body: Record<string, unknown>) => api().post('/admin/clients').set('authorization', `Bearer ${token}`).send(body);
    const base = { name: 'Sub client', jwks: await jwks() };
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ scopes: ['system/Encounter.rs'], organizations: [OTHER_ORG] }, /'lakeside-ccbhc' is not one of yours/],
      [{ scopes: ['system/Encounter.rs'], organizations: ['*'] }, /every organization/],
      [{ scopes: ['system/Encounter.rs'], organizations: [] }, /only for your own organizations/],
      [{ scopes: ['system/*.cruds'], organizations: [ORG] }, /'system\/\*\.cruds' grants more than your own scopes/],
      [{ scopes: ['system/Encounter.c'], organizations: [ORG] }, /'system\/Encounter\.c' grants more/],
      [{ scopes: ['system/AuditEvent.rs'], organizations: [ORG] }, /'system\/AuditEvent\.rs' grants more/],
      [{ scopes: ['system/Encounter.rs'], organizations: [ORG, OTHER_ORG] }, /'lakeside-ccbhc' is not one of yours/],
    ];
    for (const [body, why] of refused) {
      const res = await as(local.token, { ...base, ...body });
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(issues(res.body)).toMatch(why);
    }
    const ok = await as(local.token, {
      ...base,
      scopes: ['system/Encounter.rs', 'system/Observation.rs?category=survey', 'system/Client.rs'],
      organizations: [ORG],
    });
    expect(ok.status).toBe(201);
    // What it registered it sees; what the deployment admin registered elsewhere does not exist for it.
    const foreign = await as(root.token, { ...base, name: 'Lakeside HIE', scopes: ['system/*.read'], organizations: [OTHER_ORG] });
    expect(foreign.status).toBe(201);
    const list = await api().get('/admin/clients').set('authorization', `Bearer ${local.token}`);
    const ids = (list.body.clients as Array<{ id: string; organizations: string[] }>).map((c) => c.id);
    expect(ids).toContain(ok.body.id);
    expect(ids).toContain(local.clientId);
    expect(ids).not.toContain(foreign.body.id);
    expect(ids).not.toContain(root.clientId);
    for (const id of [foreign.body.id as string, root.clientId]) {
      const read = await api().get(`/admin/clients/${id}`).set('authorization', `Bearer ${local.token}`);
      const unknown = await api().get('/admin/clients/no-such-client').set('authorization', `Bearer ${local.token}`);
      expect(read.status).toBe(404);
      expect(issues(read.body)).toBe(issues(unknown.body).replace('no-such-client', id));
      expect((await api().delete(`/admin/clients/${id}`).set('authorization', `Bearer ${local.token}`)).status).toBe(404);
    }
    expect((await api().get(`/admin/clients/${foreign.body.id}`).set('authorization', `Bearer ${root.token}`)).status).toBe(200);
    // The sub client cannot register anyone: it lacks system/Client.c.
    expect(ok.body.scopes).toEqual(['system/Encounter.rs', 'system/Observation.rs?category=survey', 'system/Client.rs']);
  });

  test('admin requests are audited: who registered, read and removed which client', async () => {
    const created = await api()
      .post('/admin/clients')
      .set('authorization', `Bearer ${root.token}`)
      .send({ name: 'Audited', jwks: await jwks(), scopes: ['system/*.read'], organizations: [ORG] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await api().delete(`/admin/clients/${id}`).set('authorization', `Bearer ${root.token}`)).status).toBe(204);
    expect((await api().get('/admin/clients').set('authorization', `Bearer ${everything.token}`)).status).toBe(403);
    await app.audit.flush();
    const res = await api().get('/fhir/AuditEvent?_count=1000').set('authorization', `Bearer ${auditor.token}`);
    expect(res.status).toBe(200);
    const events = ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    const about = (e: AuditEvent) => e.entity?.some((x) => x.what?.identifier?.value === id);
    const by = (e: AuditEvent, clientId: string) => e.agent[0]?.who?.identifier?.value === clientId;
    expect(events.find((e) => about(e) && by(e, root.clientId) && e.action === 'C')).toMatchObject({ outcome: '0', subtype: [{ code: 'create' }] });
    expect(events.find((e) => about(e) && by(e, root.clientId) && e.action === 'D')).toMatchObject({ outcome: '0', subtype: [{ code: 'delete' }] });
    expect(events.find((e) => by(e, everything.clientId) && e.outcome === '4' && e.subtype?.[0]?.code === 'search-type')).toBeDefined();
  });
});
