/**
 * The token endpoint on both store drivers, with real RS384 and ES384 keys: a good assertion gets
 * a token; every way an assertion can be wrong is refused with the OAuth error SMART expects, and
 * no answer echoes the assertion.
 */
import request from 'supertest';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { ClientStore, JtiStore, type Auth, type Client } from '../../src/auth';
import { DRIVERS } from '../support/stores';
import {
  FHIR_BASE,
  jwksOf,
  makeKey,
  openTestAuth,
  openTestDriver,
  rawJwt,
  signAssertion,
  testApp,
  tokenForm,
  TOKEN_URL,
  type TestDriver,
  type TestKey,
} from './helpers';

const FORM = 'application/x-www-form-urlencoded';

describe.each(DRIVERS)('POST /auth/token on %s', (driverName) => {
  let db: TestDriver;
  let auth: Auth;
  let app: ReturnType<typeof testApp>;
  let rsa: TestKey;
  let ec: TestKey;
  let other: TestKey;
  let rsaClient: Client;
  let ecClient: Client;

  beforeAll(async () => {
    db = await openTestDriver(driverName);
    auth = await openTestAuth(db.driver);
    app = testApp(auth);
    [rsa, ec, other] = await Promise.all([makeKey('RS384'), makeKey('ES384'), makeKey('ES384')]);
    rsaClient = await auth.clients.add({ name: 'Riverbend HIE', jwks: jwksOf(rsa), scopes: ['system/*.read'], organizations: ['riverbend'] });
    ecClient = await auth.clients.add({
      name: 'Lakeside HIE',
      jwks: jwksOf(ec),
      scopes: ['system/Encounter.rs', 'system/Patient.cruds'],
      organizations: ['lakeside', 'hillcrest'],
    });
  });
  afterAll(async () => {
    await db?.close();
  });

  const post = (body: string) => request(app).post('/auth/token').type(FORM).send(body);

  test.each(['RS384', 'ES384'] as const)("a %s assertion gets a bearer token with the granted scopes and the client's organizations", async (alg) => {
    const [key, client, scope] = alg === 'RS384' ? [rsa, rsaClient, 'system/*.read'] : [ec, ecClient, 'system/Encounter.rs system/Patient.r'];
    const res = await post(tokenForm(await signAssertion(key, client.id), scope));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 300, scope });
    const header = decodeProtectedHeader(res.body.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: auth.serverKeys.signing.kid });
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      iss: 'https://peerbridge.example/auth',
      sub: client.id,
      client_id: client.id,
      aud: FHIR_BASE,
      scope,
      organizations: client.organizations,
      client_name: client.name,
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
    expect(typeof claims.jti).toBe('string');
    // And the token opens the FHIR API.
    const api = await request(app).get('/fhir/Encounter/e1').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ clientId: client.id, organizations: client.organizations });
  });

  test('scopes are narrowed to what is registered; none in common is invalid_scope', async () => {
    const narrowed = await post(tokenForm(await signAssertion(ec, ecClient.id), 'system/*.read launch openid'));
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('system/Encounter.read system/Patient.read');
    const none = await post(tokenForm(await signAssertion(ec, ecClient.id), 'system/Observation.rs'));
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ error: 'invalid_scope', error_description: expect.stringMatching(/registered/) });
    const missing = await post(tokenForm(await signAssertion(ec, ecClient.id), null));
    expect(missing.body.error).toBe('invalid_scope');
  });

  const refusals: Array<[string, () => Promise<string>, number, string, RegExp]> = [
    ['an expired assertion', () => signAssertion(ec, ecClient.id, { exp: -120 }), 401, 'invalid_client', /expired/],
    ['exp more than 5 minutes ahead', () => signAssertion(ec, ecClient.id, { exp: 301 + 60 }), 401, 'invalid_client', /more than 300 seconds/],
    ['no exp', () => signAssertion(ec, ecClient.id, { exp: null }), 401, 'invalid_client', /"exp"/],
    ['iat in the future', () => signAssertion(ec, ecClient.id, { iat: 120 }), 401, 'invalid_client', /"iat" is in the future/],
    ['nbf in the future', () => signAssertion(ec, ecClient.id, { nbf: 120 }), 401, 'invalid_client', /"nbf"/],
    ['a wrong aud', () => signAssertion(ec, ecClient.id, { aud: 'https://other.example/auth/token' }), 401, 'invalid_client', /"aud"/],
    ['an aud list with another audience', () => signAssertion(ec, ecClient.id, { aud: [TOKEN_URL, 'https://other.example'] }), 401, 'invalid_client', /"aud"/],
    ['the FHIR base as aud', () => signAssertion(ec, ecClient.id, { aud: FHIR_BASE }), 401, 'invalid_client', /"aud"/],
    ['sub other than iss', () => signAssertion(ec, ecClient.id, { sub: rsaClient.id }), 401, 'invalid_client', /"iss" and "sub"/],
    ['iss of another client (signed with this key)', () => signAssertion(ec, rsaClient.id), 401, 'invalid_client', /no key|signature/],
    ['an unknown client', () => signAssertion(ec, 'no-such-client'), 401, 'invalid_client', /unknown client/],
    ['a key the client did not register, under its own kid', () => signAssertion(other, ecClient.id), 401, 'invalid_client', /no key/],
    [
      'a key the client did not register, under the registered kid',
      () => signAssertion(other, ecClient.id, { kid: ec.kid }),
      401,
      'invalid_client',
      /signature does not verify/,
    ],
    ['no kid', () => signAssertion(ec, ecClient.id, { kid: '' }), 401, 'invalid_client', /"kid"/],
    ['no jti', () => signAssertion(ec, ecClient.id, { jti: null }), 401, 'invalid_client', /"jti"/],
    [
      'a jku other than the registered URL',
      () => signAssertion(ec, ecClient.id, { header: { jku: 'https://attacker.example/jwks.json' } }),
      401,
      'invalid_client',
      /jku/,
    ],
    ['typ other than JWT', () => signAssertion(ec, ecClient.id, { header: { typ: 'at+jwt' } }), 401, 'invalid_client', /typ/],
    [
      'alg none (an unsigned JWT)',
      async () =>
        rawJwt(
          { alg: 'none', typ: 'JWT', kid: ec.kid },
          { iss: ecClient.id, sub: ecClient.id, aud: TOKEN_URL, exp: Math.floor(Date.now() / 1000) + 60, jti: 'none-1' },
        ),
      401,
      'invalid_client',
      /"alg"/,
    ],
    [
      'HS256 with the public key as the secret',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(ec.publicJwk));
        return new SignJWT({ jti: 'hs-1' })
          .setProtectedHeader({ alg: 'HS256', kid: ec.kid })
          .setIssuer(ecClient.id)
          .setSubject(ecClient.id)
          .setAudience(TOKEN_URL)
          .setExpirationTime('2m')
          .sign(secret);
      },
      401,
      'invalid_client',
      /"alg"/,
    ],
    [
      'RS256 (not RS384)',
      async () =>
        new SignJWT({ jti: 'rs256-1' })
          .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
          .setIssuer(rsaClient.id)
          .setSubject(rsaClient.id)
          .setAudience(TOKEN_URL)
          .setExpirationTime('2m')
          .sign(rsa.privateKey),
      401,
      'invalid_client',
      /"alg"/,
    ],
    [
      'a tampered payload (iss swapped after signing)',
      async () => {
        const [h, , s] = (await signAssertion(ec, ecClient.id)).split('.');
        const forged = rawJwt({}, { iss: ecClient.id, sub: ecClient.id, aud: TOKEN_URL, exp: Math.floor(Date.now() / 1000) + 100, jti: 'forged' }).split(
          '.',
        )[1];
        return `${h}.${forged}.${s}`;
      },
      401,
      'invalid_client',
      /signature does not verify/,
    ],
    [
      'a tampered signature',
      async () => {
        const jwt = await signAssertion(rsa, rsaClient.id);
        const last = jwt.at(-2) === 'A' ? 'B' : 'A';
        return `${jwt.slice(0, -2)}${last}${jwt.at(-1)}`;
      },
      401,
      'invalid_client',
      /signature does not verify/,
    ],
    ['not a JWT at all', async () => 'this-is-not-a-jwt', 401, 'invalid_client', /compact JWS/],
  ];

  test.each(refusals)('refuses %s', async (_name, make, status, error, description) => {
    const assertion = await make();
    const res = await post(tokenForm(assertion));
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error, error_description: expect.stringMatching(description) });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toContain(assertion);
    expect(res.text).not.toContain(assertion.split('.')[2] || 'never');
  });

  test('a jti is used once: the same assertion twice, and a new assertion reusing the jti', async () => {
    const assertion = await signAssertion(rsa, rsaClient.id, { jti: 'once-only' });
    expect((await post(tokenForm(assertion))).status).toBe(200);
    const replay = await post(tokenForm(assertion));
    expect(replay.status).toBe(401);
    expect(replay.body.error_description).toMatch(/"jti" has been used before/);
    const sameJti = await post(tokenForm(await signAssertion(rsa, rsaClient.id, { jti: 'once-only' })));
    expect(sameJti.body.error).toBe('invalid_client');
    // Another client may use the same jti value.
    expect((await post(tokenForm(await signAssertion(ec, ecClient.id, { jti: 'once-only' }), 'system/Patient.r'))).status).toBe(200);
  });

  test('a jti used through one process is refused by another on the same database', async () => {
    const second = await openTestAuth(await db.second());
    const [a, b] = [await JtiStore.open(db.driver), await JtiStore.open(await db.second())];
    const exp = new Date(Date.now() + 60_000);
    const results = await Promise.all([a.use(rsaClient.id, 'raced', exp), b.use(rsaClient.id, 'raced', exp), a.use(rsaClient.id, 'raced', exp)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    // Through the endpoint: ClientStore and JtiStore instances of another app.
    const assertion = await signAssertion(ec, ecClient.id, { jti: 'cross-process' });
    expect((await post(tokenForm(assertion, 'system/Patient.r'))).status).toBe(200);
    const other = await request(testApp(second)).post('/auth/token').type(FORM).send(tokenForm(assertion, 'system/Patient.r'));
    expect(other.status).toBe(401);
    expect(other.body.error_description).toMatch(/used before/);
    // Both apps share one server key: a token from one is accepted by the other.
    expect(second.serverKeys.signing.kid).toBe(auth.serverKeys.signing.kid);
    const token = (await post(tokenForm(await signAssertion(ec, ecClient.id), 'system/Patient.r'))).body.access_token as string;
    expect((await request(testApp(second)).get('/fhir/Patient/p1').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(await (await ClientStore.open(await db.second())).get(ecClient.id)).toMatchObject({ id: ecClient.id });
  });

  test('expired jtis are pruned', async () => {
    const jti = await JtiStore.open(db.driver, { skewSeconds: 0, pruneEveryMs: 3_600_000 });
    await jti.use(rsaClient.id, 'old', new Date(Date.now() - 1000));
    expect(await jti.prune()).toBeGreaterThanOrEqual(1);
    const left = await db.driver.query<{ n: number }>("SELECT count(*)::int AS n FROM auth_jti WHERE jti = 'old'");
    expect(Number(left.rows[0].n)).toBe(0);
  });

  test.each([
    ['no grant_type', (a: string) => tokenForm(a).replace('grant_type=client_credentials&', ''), 400, 'invalid_request'],
    ['a wrong grant type', (a: string) => tokenForm(a).replace('client_credentials', 'authorization_code'), 400, 'unsupported_grant_type'],
    ['no client_assertion_type', (a: string) => tokenForm(a).replace(/client_assertion_type=[^&]+&/, ''), 400, 'invalid_request'],
    ['a wrong client_assertion_type', (a: string) => tokenForm(a).replace('jwt-bearer', 'saml2-bearer'), 400, 'invalid_request'],
    ['no client_assertion', () => tokenForm(undefined), 400, 'invalid_request'],
    ['a repeated parameter', (a: string) => `${tokenForm(a)}&scope=system/*.rs`, 400, 'invalid_request'],
    ["a client_id other than the assertion's", (a: string) => tokenForm(a, 'system/*.read', { client_id: 'someone-else' }), 401, 'invalid_client'],
  ])('refuses %s', async (_name, form, status, error) => {
    const res = await post(form(await signAssertion(rsa, rsaClient.id)));
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(typeof res.body.error_description).toBe('string');
  });

  test('wrong content type, wrong method and oversized bodies are OAuth errors', async () => {
    const json = await request(app).post('/auth/token').send({ grant_type: 'client_credentials' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const get = await request(app).get('/auth/token');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const big = await post(`scope=${'x'.repeat(70 * 1024)}`);
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('invalid_request');
  });

  test('the SMART configuration is public, at the root and under /fhir', async () => {
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        token_endpoint: TOKEN_URL,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
        grant_types_supported: ['client_credentials'],
        capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
      });
      expect(res.body.scopes_supported).toContain('system/*.read');
    }
  });
});
