/**
 * Console sign-in over HTTP (issue 14 item 4), both drivers: sign-in and its refusals, the
 * lock-out, the cookie's flags, the session as the caller of the FHIR API and ingest (tenants,
 * Part 2, rejects owners unchanged), CSRF on state-changing requests, the bearer token winning
 * over the cookie, sign-out and the timeouts, and the AuditEvents naming the user.
 */
import request from 'supertest';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { USER_SYSTEM } from '../../src/audit';
import { UserStore } from '../../src/users';
import { ALL_ORGANIZATIONS } from '../../src/auth';
import { jwksOf, makeKey, signAssertion, tokenForm } from '../auth/helpers';
import { A, B, consent } from '../access/fixtures';
import { DRIVERS } from '../support/stores';
import { CSV_HEADER, LAKE, LAKE_BAD_ROW, openConsoleApp, PASSWORD, RIVER, RIVER_BAD_ROW, sessionCookieOf, signIn, type ConsoleApp } from './helpers';

jest.setTimeout(60_000);

const JSON_TYPE = 'application/json';
const text = (body: unknown): string => (body as OperationOutcome).issue?.[0]?.details?.text ?? '';
const login = (app: ConsoleApp['app'], username: string, password: string) =>
  request(app).post('/console/session').set('Content-Type', JSON_TYPE).send(JSON.stringify({ username, password }));

describe.each(DRIVERS)('console sign-in on %s', (driver) => {
  let c: ConsoleApp;

  beforeAll(async () => {
    c = await openConsoleApp(driver);
    await c.console.users.add({ name: 'ana', password: PASSWORD, organizations: [A.org], role: 'viewer' });
    await c.console.users.add({ name: 'Ben.Admin', password: PASSWORD, organizations: [A.org], role: 'admin' });
    await c.console.users.add({ name: 'lee', password: PASSWORD, organizations: [B.org], role: 'viewer' });
    await c.console.users.add({ name: 'river', password: PASSWORD, organizations: [RIVER], role: 'analyst' });
    await c.console.users.add({ name: 'lake', password: PASSWORD, organizations: [LAKE], role: 'analyst' });
    await c.console.users.add({ name: 'river-feed', password: PASSWORD, organizations: [RIVER], role: 'analyst', assignIds: true });
    await c.console.users.add({ name: 'everyone', password: PASSWORD, organizations: [ALL_ORGANIZATIONS], role: 'viewer' });
  }, 120_000);
  afterAll(() => c?.close());

  test('sign-in answers the user and a CSRF token and sets an HttpOnly SameSite=Strict cookie (no Secure on http)', async () => {
    const res = await login(c.app, 'ana', PASSWORD).expect(200);
    expect(res.body).toEqual({
      user: { name: 'ana', organizations: [A.org], role: 'viewer', scopes: 'system/*.rs' },
      authDisabled: false,
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const cookie = sessionCookieOf(res);
    expect(cookie).toMatch(/^pb_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    // The session answers the same user and token.
    const again = await request(app()).get('/console/session').set('Cookie', cookie.split(';')[0]).expect(200);
    expect(again.body).toEqual(res.body);
    // Only the id's hash is stored.
    const id = cookie.split(';')[0].slice('pb_session='.length);
    const rows = await c.store.repo.driver.query<{ id_hash: string }>('SELECT id_hash FROM console_session');
    expect(rows.rows.map((r) => r.id_hash)).not.toContain(id);
    expect(rows.rows.length).toBeGreaterThan(0);
  });

  const app = () => c.app;

  test('names are not case-sensitive; the role gives its scopes', async () => {
    const res = await login(c.app, 'BEN.admin', PASSWORD).expect(200);
    expect(res.body.user).toMatchObject({ name: 'ben.admin', role: 'admin', scopes: 'system/*.cruds' });
  });

  test('a wrong password and an unknown user get the same 401 OperationOutcome', async () => {
    const wrong = await login(c.app, 'ana', 'not the password at all').expect(401);
    const unknown = await login(c.app, 'nobody-here', PASSWORD).expect(401);
    expect(wrong.body.resourceType).toBe('OperationOutcome');
    expect(text(wrong.body)).toBe('Wrong user name or password');
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    await c.console.sessions.clearFailures('ana');
  });

  test('bad sign-in requests are 4xx OperationOutcomes', async () => {
    const form = await request(c.app).post('/console/session').type('form').send('username=ana&password=x').expect(415);
    expect(text(form.body)).toMatch(/JSON body/);
    expect(text((await request(c.app).post('/console/session').set('Content-Type', JSON_TYPE).send('{"username":').expect(400)).body)).not.toBe('');
    const noPassword = await request(c.app)
      .post('/console/session')
      .set('Content-Type', JSON_TYPE)
      .send(JSON.stringify({ username: 'ana' }))
      .expect(400);
    expect((noPassword.body as OperationOutcome).issue?.[0]?.expression).toEqual(['password']);
    await request(c.app).post('/console/session').set('Content-Type', JSON_TYPE).send('[1]').expect(400);
    await request(c.app)
      .post('/console/session')
      .set('Content-Type', JSON_TYPE)
      .send(JSON.stringify({ username: 7, password: 'x' }))
      .expect(400);
  });

  test('five failures within 15 minutes lock the name out (429, Retry-After), even with the right password; the window passing unlocks it', async () => {
    await c.console.users.add({ name: 'lockme', password: PASSWORD, organizations: [A.org], role: 'viewer' });
    for (let i = 0; i < 5; i++) await login(c.app, 'lockme', `wrong password ${i}`).expect(401);
    const locked = await login(c.app, 'lockme', PASSWORD).expect(429);
    expect(text(locked.body)).toMatch(/Too many failed sign-ins/);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900);
    // Other names are not locked.
    await login(c.app, 'ana', PASSWORD).expect(200);
    // 15 minutes later (the failures moved back in time) the name signs in again.
    await c.store.repo.driver.query(`UPDATE console_login_failure SET at = at - interval '15 minutes 1 second' WHERE user_name = 'lockme'`);
    await login(c.app, 'lockme', PASSWORD).expect(200);
  });

  test('a success forgets the failures before it', async () => {
    await c.console.users.add({ name: 'resetme', password: PASSWORD, organizations: [A.org], role: 'viewer' });
    for (let i = 0; i < 4; i++) await login(c.app, 'resetme', 'wrong password!').expect(401);
    await login(c.app, 'resetme', PASSWORD).expect(200);
    for (let i = 0; i < 4; i++) await login(c.app, 'resetme', 'wrong password!').expect(401);
    await login(c.app, 'resetme', PASSWORD).expect(200);
    // Unknown names are counted too (no telling which names exist).
    for (let i = 0; i < 5; i++) await login(c.app, 'ghost', 'wrong password!').expect(401);
    await login(c.app, 'ghost', 'wrong password!').expect(429);
  });

  test('without a session: GET /console/session and /console/api/config are 401, /fhir asks for a token', async () => {
    expect((await request(c.app).get('/console/session').expect(401)).body.resourceType).toBe('OperationOutcome');
    await request(c.app).get('/console/session').set('Cookie', 'pb_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').expect(401);
    await request(c.app).get('/console/api/config').expect(401);
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', 'pb_session=nonsense').expect(401);
  });

  test('/console/api/config lists the loaded profiles, packages and mappings', async () => {
    const s = await signIn(c.app, 'ana');
    const res = await request(c.app).get('/console/api/config').set('Cookie', s.cookie).expect(200);
    expect(res.body.authDisabled).toBe(false);
    expect(res.body.mappings).toEqual(expect.arrayContaining(['riverbend-csv', 'tenant-mini']));
    expect(res.body.packages).toEqual(expect.arrayContaining([expect.objectContaining({ name: expect.stringMatching(/peerbridge/) })]));
    expect(res.body.profiles.length).toBeGreaterThan(5);
    expect(res.body.profiles[0]).toEqual({
      url: expect.stringMatching(/^http/),
      name: expect.any(String),
      title: expect.any(String),
      type: expect.any(String),
    });
  });

  test("a session of org A reads A's Patient and gets 404 for org B's; searches show only A's", async () => {
    const s = await signIn(c.app, 'ana');
    const own = await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', s.cookie).expect(200);
    expect(own.body.id).toBe(A.patient);
    await request(c.app).get(`/fhir/Patient/${B.patient}`).set('Cookie', s.cookie).expect(404);
    const search = await request(c.app).get('/fhir/Patient').set('Cookie', s.cookie).expect(200);
    const ids = ((search.body as Bundle).entry ?? []).map((e) => e.resource?.id);
    expect(ids).toContain(A.patient);
    expect(ids).not.toContain(B.patient);
    // Org B is a 42 CFR Part 2 program: its user reads its Organization, but its patient's records
    // only once a Consent names org B as recipient (the user's organizations act as a client's).
    const lee = await signIn(c.app, 'lee');
    await request(c.app).get(`/fhir/Organization/${B.org}`).set('Cookie', lee.cookie).expect(200);
    await request(c.app).get(`/fhir/Patient/${B.patient}`).set('Cookie', lee.cookie).expect(404);
    await c.store.repo.update(consent('console-consent', B.org));
    await request(c.app).get(`/fhir/Patient/${B.patient}`).set('Cookie', lee.cookie).expect(200);
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', lee.cookie).expect(404);
    // A user of every organization sees both.
    const all = await signIn(c.app, 'everyone');
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', all.cookie).expect(200);
  });

  test("$export and $everything with the session hold only the user's organization; another user cannot see the job", async () => {
    const s = await signIn(c.app, 'ana');
    const everything = await request(c.app).get(`/fhir/Patient/${A.patient}/$everything`).set('Cookie', s.cookie).expect(200);
    expect(JSON.stringify(everything.body)).not.toContain(B.patient);
    await request(c.app).get(`/fhir/Patient/${B.patient}/$everything`).set('Cookie', s.cookie).expect(404);
    const kickoff = await request(c.app).get('/fhir/$export?_type=Patient,Organization').set('Cookie', s.cookie).set('Prefer', 'respond-async').expect(202);
    const status = new URL(kickoff.headers['content-location']).pathname;
    await c.bulk.sweep();
    await c.bulk.idle();
    const manifest = await request(c.app).get(status).set('Cookie', s.cookie).expect(200);
    const files = (manifest.body as { output: { type: string; url: string }[] }).output;
    const patients = files.find((f) => f.type === 'Patient') as { url: string };
    const ndjson = await request(c.app)
      .get(new URL(patients.url).pathname)
      .set('Cookie', s.cookie)
      .buffer(true)
      .parse((res, cb) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => cb(null, data));
      });
    expect(ndjson.status).toBe(200);
    const ids = (ndjson.body as string)
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual([A.patient]);
    // Another organization's user does not see the job.
    const lee = await signIn(c.app, 'lee');
    await request(c.app).get(status).set('Cookie', lee.cookie).expect(404);
  });

  test('state-changing requests with the cookie need X-CSRF-Token (POST, PUT, DELETE); with it they go through', async () => {
    const s = await signIn(c.app, 'ben.admin');
    const patient = { resourceType: 'Patient', name: [{ family: 'Csrf' }], managingOrganization: { reference: `Organization/${A.org}` } };
    const post = (headers: Record<string, string>) =>
      request(c.app).post('/fhir/Patient').set('Cookie', s.cookie).set('Content-Type', 'application/fhir+json').set(headers).send(JSON.stringify(patient));
    const none = await post({}).expect(403);
    expect(text(none.body)).toMatch(/X-CSRF-Token/);
    await post({ 'X-CSRF-Token': 'x'.repeat(43) }).expect(403);
    const created = await post({ 'X-CSRF-Token': s.csrf }).expect(201);
    const id = created.body.id as string;
    const put = (headers: Record<string, string>) =>
      request(c.app)
        .put(`/fhir/Patient/${id}`)
        .set('Cookie', s.cookie)
        .set('Content-Type', 'application/fhir+json')
        .set(headers)
        .send(JSON.stringify({ ...patient, id, active: true }));
    await put({}).expect(403);
    await put({ 'X-CSRF-Token': s.csrf }).expect(200);
    await request(c.app).delete(`/fhir/Patient/${id}`).set('Cookie', s.cookie).expect(403);
    await request(c.app)
      .delete(`/fhir/Patient/${id}`)
      .set('Cookie', s.cookie)
      .set('X-CSRF-Token', s.csrf)
      .expect((r) => expect([200, 204]).toContain(r.status));
    // Another session's token does not do.
    const other = await signIn(c.app, 'ben.admin');
    await post({ 'X-CSRF-Token': other.csrf }).expect(403);
  });

  test("a viewer's scopes do not write, even with the CSRF token", async () => {
    const s = await signIn(c.app, 'ana');
    const res = await request(c.app)
      .post('/fhir/Patient')
      .set('Cookie', s.cookie)
      .set('X-CSRF-Token', s.csrf)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify({ resourceType: 'Patient' }))
      .expect(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    await request(c.app)
      .post('/ingest/tenant-mini?feed=contacts')
      .set('Cookie', s.cookie)
      .set('X-CSRF-Token', s.csrf)
      .set('Content-Type', 'text/csv')
      .send(`${CSV_HEADER}\n${RIVER_BAD_ROW}`)
      .expect(403);
  });

  test('no role manages clients or reads the audit trail', async () => {
    const s = await signIn(c.app, 'ben.admin');
    await request(c.app).get('/admin/clients').set('Cookie', s.cookie).expect(403);
    await request(c.app).get('/fhir/AuditEvent').set('Cookie', s.cookie).expect(403);
  });

  test('a hash made with weaker argon2 settings is replaced at the next sign-in', async () => {
    const weak = await UserStore.open(c.store.repo.driver, { hash: { memoryCost: 4096, timeCost: 1, parallelism: 1 } });
    await weak.add({ name: 'old-hash', password: PASSWORD, organizations: [A.org], role: 'viewer' });
    const hashOf = async () =>
      (await c.store.repo.driver.query<{ password_hash: string }>(`SELECT password_hash FROM console_user WHERE name = 'old-hash'`)).rows[0].password_hash;
    const before = await hashOf();
    expect(before).toMatch(/m=4096,p=1,t=1/);
    await signIn(c.app, 'old-hash');
    const after = await hashOf();
    expect(after).toMatch(/m=8192,p=1,t=2/);
    await signIn(c.app, 'old-hash');
  });

  test('a bearer token wins over the cookie', async () => {
    const s = await signIn(c.app, 'ana');
    const key = await makeKey('ES384');
    const client = await c.auth.clients.add({ name: 'Lakeside HIE', jwks: jwksOf(key), scopes: ['system/*.rs'], organizations: [B.org] });
    const token = await request(c.app)
      .post('/auth/token')
      .type('form')
      .send(tokenForm(await signAssertion(key, client.id, { aud: c.auth.urls.tokenUrl }), 'system/*.rs'))
      .expect(200);
    const bearer = `Bearer ${token.body.access_token as string}`;
    await request(c.app).get(`/fhir/Organization/${B.org}`).set('Cookie', s.cookie).set('Authorization', bearer).expect(200);
    await request(c.app).get(`/fhir/Organization/${B.org}`).set('Cookie', s.cookie).expect(404);
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', s.cookie).set('Authorization', bearer).expect(404);
    // A bad bearer token is refused even with a good cookie.
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', s.cookie).set('Authorization', 'Bearer nope').expect(401);
  });

  test("analysts ingest with the session; a user of one organization does not see another's rejects", async () => {
    const river = await signIn(c.app, 'river');
    const lake = await signIn(c.app, 'lake');
    const ingest = (s: { cookie: string; csrf: string }, row: string) =>
      request(c.app)
        .post('/ingest/tenant-mini?feed=contacts')
        .set('Cookie', s.cookie)
        .set('X-CSRF-Token', s.csrf)
        .set('Content-Type', 'text/csv')
        .send(`${CSV_HEADER}\n${row}`);
    await ingest(lake, LAKE_BAD_ROW).expect(422);
    await ingest(river, RIVER_BAD_ROW).expect(422);
    const list = async (s: { cookie: string }) =>
      ((await request(c.app).get('/ingest/rejects?source=tenant-mini').set('Cookie', s.cookie).expect(200)).body as Bundle).entry ?? [];
    const raw = (entries: Awaited<ReturnType<typeof list>>) =>
      entries.map((e) => (e.resource as { parameter?: { name: string; valueString?: string }[] }).parameter?.find((p) => p.name === 'raw')?.valueString);
    expect(raw(await list(river))).toEqual([RIVER_BAD_ROW]);
    expect(raw(await list(lake))).toEqual([LAKE_BAD_ROW]);
    // A viewer may not read raw source records.
    const ana = await signIn(c.app, 'ana');
    await request(c.app).get('/ingest/rejects?source=tenant-mini').set('Cookie', ana.cookie).expect(403);
    // Retry needs the CSRF token too.
    await request(c.app)
      .post('/ingest/rejects/$retry')
      .set('Cookie', river.cookie)
      .set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'source', valueString: 'tenant-mini' }] }))
      .expect(403);
  });

  test('creating under ids of its own (what ingest writes) needs a user added with --assign-ids, as a client', async () => {
    const org = JSON.stringify({ resourceType: 'Organization', id: RIVER, name: 'River CCBHC' });
    const put = (who: { cookie: string; csrf: string }) =>
      request(c.app)
        .put(`/fhir/Organization/${RIVER}`)
        .set('Cookie', who.cookie)
        .set('X-CSRF-Token', who.csrf)
        .set('Content-Type', 'application/fhir+json')
        .send(org);
    // Without it, a new id is answered as an unknown one, as for any client without --assign-ids.
    await put(await signIn(c.app, 'river')).expect(404);
    await put(await signIn(c.app, 'river-feed')).expect(201);
    expect((await c.console.users.get('river-feed'))?.assignIds).toBe(true);
    expect((await c.console.users.get('river'))?.assignIds).toBe(false);
  });

  test('sign-out needs the CSRF token, deletes the session and clears the cookie', async () => {
    const s = await signIn(c.app, 'ana');
    await request(c.app).delete('/console/session').set('Cookie', s.cookie).expect(403);
    const out = await request(c.app).delete('/console/session').set('Cookie', s.cookie).set('X-CSRF-Token', s.csrf).expect(204);
    const cleared = sessionCookieOf(out);
    expect(cleared).toMatch(/^pb_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    await request(c.app).get('/console/session').set('Cookie', s.cookie).expect(401);
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', s.cookie).expect(401);
    await request(c.app).delete('/console/session').set('Cookie', s.cookie).set('X-CSRF-Token', s.csrf).expect(401);
  });

  test('sessions end after the idle timeout, the absolute timeout, a password change and the user removal', async () => {
    const driver = c.store.repo.driver;
    const idle = await signIn(c.app, 'ana');
    await request(c.app).get('/console/session').set('Cookie', idle.cookie).expect(200);
    await driver.query(`UPDATE console_session SET last_seen = now() - interval '31 minutes' WHERE user_name = 'ana'`);
    await request(c.app).get('/console/session').set('Cookie', idle.cookie).expect(401);

    const busy = await signIn(c.app, 'ana');
    await driver.query(`UPDATE console_session SET created_at = now() - interval '12 hours 1 minute' WHERE user_name = 'ana'`);
    await request(c.app).get('/console/session').set('Cookie', busy.cookie).expect(401);

    const before = await signIn(c.app, 'lee');
    await c.console.users.setPassword('lee', 'a brand new pass phrase');
    await request(c.app).get('/console/session').set('Cookie', before.cookie).expect(401);
    await login(c.app, 'lee', PASSWORD).expect(401);
    const after = await signIn(c.app, 'lee', 'a brand new pass phrase');
    await request(c.app).get(`/fhir/Organization/${B.org}`).set('Cookie', after.cookie).expect(200);
    await c.console.users.remove('lee');
    await request(c.app).get(`/fhir/Organization/${B.org}`).set('Cookie', after.cookie).expect(401);
  });

  test('AuditEvents name the user: sign-in, refusals, reads with the session, sign-out; never the password', async () => {
    await c.console.users.add({ name: 'audited', password: PASSWORD, organizations: [A.org], role: 'viewer' });
    await login(c.app, 'audited', 'the wrong password').expect(401);
    const s = await signIn(c.app, 'audited');
    await request(c.app).get(`/fhir/Patient/${A.patient}`).set('Cookie', s.cookie).expect(200);
    await request(c.app).delete('/console/session').set('Cookie', s.cookie).set('X-CSRF-Token', s.csrf).expect(204);
    const events = await c.auditEvents();
    const mine = events.filter((e) => e.agent?.some((a) => a.who?.identifier?.system === USER_SYSTEM && a.who.identifier.value === 'audited'));
    const read = mine.find((e) => e.subtype?.some((s2) => s2.code === 'read'));
    expect(read?.agent?.[0]).toMatchObject({ who: { identifier: { system: USER_SYSTEM, value: 'audited' }, display: 'audited' }, requestor: true });
    expect(read?.entity?.[0]?.what?.reference).toBe(`Patient/${A.patient}`);
    const logins = mine.filter((e) => e.type?.code === '110114');
    expect(logins.map((e) => e.outcomeDesc).sort()).toEqual(['console sign-in', 'console sign-in refused: wrong user name or password', 'console sign-out']);
    // The sign-in requests themselves are not recorded a second time as anonymous requests.
    expect(events.filter((e) => e.type?.code === 'rest' && e.action === 'C' && !e.agent?.[0]?.who && !e.entity)).toEqual([]);
    const refused = logins.find((e) => e.outcome === '4');
    expect(refused?.agent?.[0]?.who?.display).toBe('claimed at sign-in, not verified');
    const all = JSON.stringify(events);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain('the wrong password');
    expect(all).not.toContain(s.cookie.slice('pb_session='.length));
  });
});

describe.each(DRIVERS)('console behind https and with AUTH_DISABLED on %s', (driver) => {
  test('the cookie is Secure when the public base is https; sign-ins per IP are rate limited', async () => {
    const c = await openConsoleApp(driver, { baseUrl: 'https://peerbridge.example/fhir', records: false, auth: { AUTH_TOKEN_RATE_PER_MINUTE: 6 } });
    try {
      await c.console.users.add({ name: 'ana', password: PASSWORD, organizations: [A.org], role: 'viewer' });
      const s = await signIn(c.app, 'ana');
      expect(s.setCookie).toMatch(/; Secure/);
      expect(s.setCookie).toMatch(/HttpOnly/);
      expect(s.setCookie).toMatch(/SameSite=Strict/);
      // 6 a minute, a burst of 1: the next sign-in from the same address waits, whatever the name.
      const limited = await login(c.app, 'someone-else', PASSWORD).expect(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect(limited.body.resourceType).toBe('OperationOutcome');
    } finally {
      await c.close();
    }
  });

  test('AUTH_DISABLED: no sign-in, the session answers authDisabled, the config is open', async () => {
    const c = await openConsoleApp(driver, { auth: { AUTH_DISABLED: true }, records: false });
    try {
      const res = await request(c.app).get('/console/session').expect(200);
      expect(res.body).toEqual({ user: null, authDisabled: true, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      const config = await request(c.app).get('/console/api/config').expect(200);
      expect(config.body.authDisabled).toBe(true);
      await login(c.app, 'ana', PASSWORD).expect(409);
      await request(c.app).get('/fhir/Patient').expect(200);
    } finally {
      await c.close();
    }
  });
});
