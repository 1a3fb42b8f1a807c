/**
 * Access tokens on the way in: `authenticate` refuses missing, expired, tampered, foreign and
 * mis-addressed tokens with 401 + WWW-Authenticate + OperationOutcome; `authorize` answers 403 for
 * scopes; AUTH_DISABLED passes everything (and is refused in production); events carry no token
 * and no query string.
 */
import http from 'node:http';
import request from 'supertest';
import { base64url, generateKeyPair, SignJWT } from 'jose';
import {
  AccessTokenVerifier,
  assertAuthConfig,
  authenticate,
  DISABLED_AUTH,
  issueAccessToken,
  loadAuthConfig,
  openAuth,
  type AccessEvent,
  type Auth,
  type Client,
  type TokenEvent,
} from '../../src/auth';
import { openDriver } from '../../src/store';
import type { SqlDriver } from '../../src/store/repository';
import { FHIR_BASE, jwksOf, makeKey, openTestAuth, signAssertion, testApp, tokenForm, TEST_CONFIG } from './helpers';

const ISSUER = 'https://peerbridge.example/auth';

let driver: SqlDriver;
let auth: Auth;
let app: ReturnType<typeof testApp>;
let client: Client;
const events: Array<TokenEvent | AccessEvent> = [];

beforeAll(async () => {
  driver = await openDriver({ memory: true });
  auth = await openAuth({ driver, env: {}, config: TEST_CONFIG, baseUrl: FHIR_BASE, onEvent: (e) => events.push(e) });
  app = testApp(auth);
  client = await auth.clients.add({
    name: 'Riverbend HIE',
    jwks: jwksOf(await makeKey('ES384')),
    scopes: ['system/*.read', 'system/Encounter.cruds'],
    organizations: ['riverbend'],
  });
});
afterAll(async () => {
  await driver?.close();
});

const tokenFor = (scope: string, o: Partial<{ ttlSeconds: number; audience: string; issuer: string }> = {}) =>
  issueAccessToken(auth.serverKeys, client, scope, { issuer: o.issuer ?? ISSUER, audience: o.audience ?? FHIR_BASE, ttlSeconds: o.ttlSeconds ?? 300 }).then(
    (t) => t.token,
  );
const get = (path: string, token?: string) => {
  const r = request(app).get(path);
  return token === undefined ? r : r.set('Authorization', `Bearer ${token}`);
};

function expect401(res: request.Response, withError: boolean): void {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="peerbridge"/);
  if (withError) {
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  } else {
    expect(res.headers['www-authenticate']).not.toMatch(/error=/);
  }
}

describe('authenticate', () => {
  test('a valid token: the caller is in res.locals.auth', async () => {
    const res = await get('/fhir/Encounter/e1', await tokenFor('system/*.read'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, clientId: client.id, organizations: ['riverbend'], scope: 'system/*.read' });
  });

  test('no token: 401 without an error code (RFC 6750 section 3.1), login issue', async () => {
    const res = await get('/fhir/Encounter/e1');
    expect401(res, false);
    expect(res.body.issue[0].code).toBe('login');
    expect(res.body.issue[0].details.text).toMatch(/smart-configuration/);
  });

  test('public paths need no token', async () => {
    for (const path of ['/fhir/metadata', '/', '/.well-known/smart-configuration']) {
      expect((await get(path)).status).toBe(200);
    }
  });

  test('an expired token: 401 invalid_token, issue code expired', async () => {
    const res = await get('/fhir/Encounter/e1', await tokenFor('system/*.read', { ttlSeconds: -120 }));
    expect401(res, true);
    expect(res.body.issue[0].code).toBe('expired');
  });

  test.each([
    ['another audience', () => tokenFor('system/*.read', { audience: 'https://other.example/fhir' }), /"aud"/],
    ['another issuer', () => tokenFor('system/*.read', { issuer: 'https://other.example/auth' }), /"iss"/],
    [
      'a tampered payload (scope widened)',
      async () => {
        const [h, p, s] = (await tokenFor('system/Encounter.r')).split('.');
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
        return `${h}.${base64url.encode(JSON.stringify({ ...claims, scope: 'system/*.cruds' }))}.${s}`;
      },
      /signature/,
    ],
    [
      'a tampered signature',
      async () => {
        const t = await tokenFor('system/*.read');
        return `${t.slice(0, -3)}${t.at(-3) === 'A' ? 'B' : 'A'}${t.slice(-2)}`;
      },
      /signature/,
    ],
    [
      "a token signed by another key under the server key's kid",
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT({ scope: 'system/*.cruds', organizations: ['riverbend'] })
          .setProtectedHeader({ alg: 'ES256', kid: auth.serverKeys.signing.kid, typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setSubject(client.id)
          .setAudience(FHIR_BASE)
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti('x')
          .sign(privateKey);
      },
      /signature/,
    ],
    [
      'a token signed by another key under its own kid',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT({ scope: 'system/*.cruds', organizations: [] })
          .setProtectedHeader({ alg: 'ES256', kid: 'attacker', typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setSubject(client.id)
          .setAudience(FHIR_BASE)
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti('x')
          .sign(privateKey);
      },
      /not signed by this server/,
    ],
    [
      'an unsigned token (alg none)',
      async () => {
        const enc = (v: unknown): string => base64url.encode(JSON.stringify(v));
        const now = Math.floor(Date.now() / 1000);
        return `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ iss: ISSUER, sub: client.id, aud: FHIR_BASE, exp: now + 60, iat: now, jti: 'n', scope: 'system/*.cruds', organizations: [] })}.`;
      },
      /malformed|signature/,
    ],
    [
      "an HS256 token keyed with the server's public key",
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(auth.serverKeys.jwks().keys[0]));
        return new SignJWT({ scope: 'system/*.cruds', organizations: [] })
          .setProtectedHeader({ alg: 'HS256', kid: auth.serverKeys.signing.kid, typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setSubject(client.id)
          .setAudience(FHIR_BASE)
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti('x')
          .sign(secret);
      },
      /malformed|signature/,
    ],
    ['a client assertion used as an access token', async () => signAssertion(await makeKey('ES384'), client.id), /malformed|signature|server/],
    ['garbage', async () => 'abc.def.ghi', /malformed|signature/],
  ])('%s: 401 invalid_token', async (_name, make, reason) => {
    const token = await make();
    events.length = 0;
    const res = await get('/fhir/Encounter/e1?name=Dana%20Whitfield', token);
    expect401(res, true);
    expect(res.body.issue[0].details.text).toMatch(reason);
    expect(res.text).not.toContain(token);
    expect(events).toEqual([{ type: 'invalid-token', method: 'GET', path: '/fhir/Encounter/e1', reason: expect.any(String) }]);
    expect(JSON.stringify(events)).not.toMatch(/Whitfield|eyJ/);
  });

  test('a request line in absolute form is judged by the path Express routes', async () => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const token = await tokenFor('system/Encounter.r');
    const send = (path: string, auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, headers: auth ? { authorization: `Bearer ${auth}` } : {} }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await send(`http://127.0.0.1:${port}/fhir/metadata`)).toBe(200);
      expect(await send(`http://127.0.0.1:${port}/fhir/Encounter/e1`, token)).toBe(200);
      expect(await send(`http://127.0.0.1:${port}/fhir/Patient/p1`, token)).toBe(403);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a malformed Authorization header: 401 invalid_token', async () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Bearer ${'x'.repeat(9000)}`]) {
      const res = await request(app).get('/fhir/Patient/p1').set('Authorization', header);
      expect401(res, true);
    }
  });

  test("a removed client's token stops working", async () => {
    const gone = await auth.clients.add({ name: 'Gone', jwks: jwksOf(await makeKey('RS384')), scopes: ['system/*.read'], organizations: [] });
    const t = (await issueAccessToken(auth.serverKeys, gone, 'system/*.read', { issuer: ISSUER, audience: FHIR_BASE, ttlSeconds: 300 })).token;
    expect(await auth.clients.remove(gone.id)).toBe(true);
    const res = await get('/fhir/Patient/p1', t);
    expect401(res, true);
    expect(res.body.issue[0].details.text).toMatch(/no longer registered/);
  });

  test('a token from the token endpoint works end to end; the endpoint emits an event without the token', async () => {
    const key = await makeKey('RS384');
    const c = await auth.clients.add({ name: 'E2E', jwks: jwksOf(key), scopes: ['system/Encounter.rs'], organizations: ['o1'] });
    events.length = 0;
    const res = await request(app)
      .post('/auth/token')
      .type('form')
      .send(tokenForm(await signAssertion(key, c.id), 'system/Encounter.rs'));
    expect(res.status).toBe(200);
    expect(events).toEqual([
      { type: 'token-issued', clientId: c.id, clientName: 'E2E', scope: 'system/Encounter.rs', tokenId: expect.any(String), organizations: ['o1'] },
    ]);
    expect(JSON.stringify(events)).not.toContain(res.body.access_token);
    expect((await get('/fhir/Encounter?patient=p1', res.body.access_token)).status).toBe(200);
    expect((await get('/fhir/Patient/p1', res.body.access_token)).status).toBe(403);
  });
});

describe('the verified-token cache', () => {
  const expected = { issuer: ISSUER, audience: FHIR_BASE };

  test('a cached token still expires, and still needs its client registered', async () => {
    const c = await auth.clients.add({ name: 'Cached', jwks: jwksOf(await makeKey('ES384')), scopes: ['system/*.read'], organizations: [] });
    const verifier = new AccessTokenVerifier(auth.serverKeys, {
      clockSkewSeconds: 0,
      isActive: async (id) => (await auth.clients.get(id)) !== undefined,
      activeCacheMs: 0,
    });
    const short = (await issueAccessToken(auth.serverKeys, c, 'system/*.read', { ...expected, ttlSeconds: 1 })).token;
    const long = (await issueAccessToken(auth.serverKeys, c, 'system/*.read', { ...expected, ttlSeconds: 300 })).token;
    const first = await verifier.verify(short, expected);
    expect(await verifier.verify(short, expected)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.organizations)).toBe(true);
    await expect(verifier.verify(short, { ...expected, audience: 'https://other.example/fhir' })).rejects.toThrow(/"aud"/);
    await verifier.verify(long, expected);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expect(verifier.verify(short, expected)).rejects.toMatchObject({ expired: true });
    await auth.clients.remove(c.id);
    await expect(verifier.verify(long, expected)).rejects.toThrow(/no longer registered/);
  });

  test('verifyCached answers only for a token verified before, unexpired, for the same audience, with its client recently seen registered', async () => {
    const c = await auth.clients.add({ name: 'Sync', jwks: jwksOf(await makeKey('ES384')), scopes: ['system/*.read'], organizations: [] });
    let registered = true;
    const verifier = new AccessTokenVerifier(auth.serverKeys, { clockSkewSeconds: 0, isActive: async () => registered, activeCacheMs: 200 });
    const token = (await issueAccessToken(auth.serverKeys, c, 'system/*.read', { ...expected, ttlSeconds: 300 })).token;
    expect(verifier.verifyCached(token, expected)).toBeUndefined();
    const first = await verifier.verify(token, expected);
    expect(verifier.verifyCached(token, expected)).toBe(first);
    expect(verifier.verifyCached(token, { ...expected, audience: 'https://other.example/fhir' })).toBeUndefined();
    expect(verifier.verifyCached(`${token}x`, expected)).toBeUndefined();
    // Past the active-cache time the client is looked up again (by verify), so a removal is seen.
    registered = false;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(verifier.verifyCached(token, expected)).toBeUndefined();
    await expect(verifier.verify(token, expected)).rejects.toThrow(/no longer registered/);
    expect(verifier.verifyCached(token, expected)).toBeUndefined();
  });
});

describe('authorize', () => {
  test('scopes decide: 403 forbidden OperationOutcome, with an access-denied event', async () => {
    const token = await tokenFor('system/Encounter.rs');
    expect((await get('/fhir/Encounter?patient=p1', token)).status).toBe(200);
    events.length = 0;
    const res = await get('/fhir/Patient?name=Whitfield', token);
    expect(res.status).toBe(403);
    expect(res.body.issue[0]).toMatchObject({ code: 'forbidden', details: { text: expect.stringMatching(/search on Patient/) } });
    expect(events).toEqual([{ type: 'access-denied', clientId: client.id, method: 'GET', path: '/fhir/Patient', reason: expect.any(String) }]);
  });

  test('bodies are checked: a transaction entry outside the scopes, a form _search with _include', async () => {
    const token = await tokenFor('system/Encounter.cruds');
    const tx = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'PUT', url: 'Encounter/e1' } }, { request: { method: 'DELETE', url: 'Patient/p1' } }],
    };
    const res = await request(app).post('/fhir').set('Authorization', `Bearer ${token}`).type('application/fhir+json').send(JSON.stringify(tx));
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.text).toMatch(/delete on Patient in Bundle\.entry\[1\]/);
    const form = await request(app)
      .post('/fhir/Encounter/_search')
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send('_include=Encounter:subject:Patient');
    expect(form.status).toBe(403);
    const ingest = await request(app).post('/ingest/canonical').set('Authorization', `Bearer ${token}`).type('application/json').send('{}');
    expect(ingest.status).toBe(403);
  });
});

describe('AUTH_DISABLED', () => {
  test('every request passes with full access; one warning when the middleware is built', async () => {
    const warnings: string[] = [];
    const mw = authenticate({
      verifier: auth.verifier,
      expected: () => ({ issuer: ISSUER, audience: FHIR_BASE }),
      disabled: true,
      log: (level, message) => level === 'warn' && warnings.push(message),
    });
    const express = (await import('express')).default;
    const a = express();
    a.use(mw);
    a.use(auth.authorize);
    a.get('/{*rest}', (_req, res) => res.json(res.locals.auth));
    const res = await request(a).get('/fhir/AuditEvent?date=gt2024');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ clientId: DISABLED_AUTH.clientId, allOrganizations: true });
    expect((await request(a).get('/fhir/$export')).status).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/AUTH_DISABLED/);
  });

  test('refused in production; parsed from the environment', async () => {
    expect(() => assertAuthConfig({ AUTH_DISABLED: true, NODE_ENV: 'production' })).toThrow(/refused when NODE_ENV=production/);
    expect(() => assertAuthConfig({ AUTH_DISABLED: 'true', NODE_ENV: 'production' })).toThrow();
    expect(() => assertAuthConfig({ AUTH_DISABLED: true, NODE_ENV: 'development' })).not.toThrow();
    expect(() => assertAuthConfig({ AUTH_DISABLED: false, NODE_ENV: 'production' })).not.toThrow();
    expect(loadAuthConfig({}).AUTH_DISABLED).toBe(false);
    expect(loadAuthConfig({ AUTH_DISABLED: 'true' }).AUTH_DISABLED).toBe(true);
    expect(() => loadAuthConfig({ AUTH_DISABLED: 'yes' })).toThrow(/AUTH_DISABLED/);
    expect(loadAuthConfig({})).toMatchObject({ AUTH_TOKEN_TTL_SECONDS: 300, AUTH_CLOCK_SKEW_SECONDS: 30, RATE_LIMIT_PER_SECOND: 50, RATE_LIMIT_BURST: 100 });
    await expect(openAuth({ driver, env: { AUTH_DISABLED: 'true', NODE_ENV: 'production' } })).rejects.toThrow(/production/);
  });
});

describe('URLs without configuration', () => {
  test('the token URL and audience come from the public base (default http://localhost:<PORT>/fhir), never from the Host header', async () => {
    const bare = await openAuth({ driver, env: { PORT: '9090' }, config: { RATE_LIMIT_PER_SECOND: 0, AUTH_TOKEN_RATE_PER_MINUTE: 0 } });
    const conf = await request(testApp(bare)).get('/.well-known/smart-configuration').set('Host', 'hie.example:8080');
    expect(conf.body.token_endpoint).toBe('http://localhost:9090/auth/token');
    expect(bare.urls.assertionAudiences).toEqual(['http://localhost:9090/auth/token', 'http://127.0.0.1:9090/auth/token', 'http://[::1]:9090/auth/token']);
    const based = await openTestAuth(driver, { AUTH_TOKEN_URL: undefined });
    expect(based.urls).toEqual({
      tokenUrl: 'https://peerbridge.example/auth/token',
      issuer: 'https://peerbridge.example/auth',
      audience: FHIR_BASE,
      assertionAudiences: ['https://peerbridge.example/auth/token'],
    });
  });
});
