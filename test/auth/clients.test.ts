/**
 * Client registration on both drivers (what is refused and why, list, remove), and keys from a
 * JWKS URL served by a local HTTP server: fetched only from the registered URL, cached with a
 * TTL, refetched for a new kid (rotation), with a timeout, a size cap and no redirects.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { JSONWebKeySet } from 'jose';
import { ClientKeyError, ClientKeyResolver, ClientStore, ClientValidationError, type Auth } from '../../src/auth';
import { DRIVERS } from '../support/stores';
import { jwksOf, makeKey, openTestAuth, openTestDriver, signAssertion, testApp, tokenForm, type TestDriver, type TestKey } from './helpers';

describe.each(DRIVERS)('ClientStore on %s', (driverName) => {
  let db: TestDriver;
  let store: ClientStore;
  let key: TestKey;

  beforeAll(async () => {
    db = await openTestDriver(driverName);
    store = await ClientStore.open(db.driver, { isResourceType: (t) => ['Patient', 'Encounter', 'AuditEvent'].includes(t) });
    key = await makeKey('ES384');
  });
  afterAll(async () => {
    await db?.close();
  });

  test('add, get, list, remove', async () => {
    const a = await store.add({
      name: ' Riverbend HIE ',
      jwks: jwksOf(key),
      scopes: ['system/*.read', 'system/*.read', 'system/AuditEvent.rs'],
      organizations: ['riverbend', 'hillcrest'],
    });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).toMatchObject({
      name: 'Riverbend HIE',
      jwks: jwksOf(key),
      scopes: ['system/*.read', 'system/AuditEvent.rs'],
      organizations: ['riverbend', 'hillcrest'],
    });
    expect(a.jwksUrl).toBeUndefined();
    const b = await store.add({
      name: 'Lakeside',
      jwksUrl: 'https://lakeside.example/.well-known/jwks.json',
      scopes: ['system/Encounter.rs'],
      organizations: [],
    });
    expect(b.id).not.toBe(a.id);
    expect(await store.get(a.id)).toEqual(a);
    expect(await store.get(b.id)).toMatchObject({ jwksUrl: 'https://lakeside.example/.well-known/jwks.json' });
    expect(await store.get('nope')).toBeUndefined();
    expect((await store.list()).map((c) => c.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await store.remove(a.id)).toBe(true);
    expect(await store.remove(a.id)).toBe(false);
    expect(await store.get(a.id)).toBeUndefined();
  });

  test.each<[string, () => Promise<Record<string, unknown>>, RegExp]>([
    ['no name', async () => ({ name: ' ' }), /name/],
    ['both a JWKS and a URL', async () => ({ jwksUrl: 'https://x.example/jwks' }), /exactly one/],
    ['a private key', async () => ({ jwks: { keys: [{ ...key.publicJwk, d: 'secret' }] } }), /private key material \(d\)/],
    ['a key without kid', async () => ({ jwks: { keys: [{ ...key.publicJwk, kid: undefined }] } }), /no "kid"/],
    ['an HMAC key', async () => ({ jwks: { keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] } }), /private key material \(k\)/],
    ['a P-256 key', async () => ({ jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'p256', x: 'a', y: 'b' }] } }), /P-384/],
    [
      'an RSA key under 2048 bits',
      async () => ({ jwks: { keys: [{ kty: 'RSA', kid: 'small', n: Buffer.alloc(128, 1).toString('base64url'), e: 'AQAB' }] } }),
      /1024 bits/,
    ],
    ['an encryption key', async () => ({ jwks: { keys: [{ ...key.publicJwk, use: 'enc' }] } }), /"use"/],
    ['a key for RS256', async () => ({ jwks: { keys: [{ ...(await makeKey('RS384')).publicJwk, alg: 'RS256' }] } }), /RS384/],
    ['two keys with one kid', async () => ({ jwks: { keys: [key.publicJwk, key.publicJwk] } }), /appears more than once/],
    ['no keys', async () => ({ jwks: { keys: [] } }), /between 1 and 20/],
    ['not a JWKS', async () => ({ jwks: [key.publicJwk] }), /"keys" array/],
    ['an EC key that is not on the curve', async () => ({ jwks: { keys: [{ ...key.publicJwk, x: key.publicJwk.y }] } }), /cannot be read/],
    ['an http JWKS URL elsewhere than localhost', async () => ({ jwks: undefined, jwksUrl: 'http://hie.example/jwks.json' }), /https/],
    ['a JWKS URL with credentials', async () => ({ jwks: undefined, jwksUrl: 'https://u:p@hie.example/jwks.json' }), /credentials/],
    ['no scope', async () => ({ scopes: [] }), /at least one scope/],
    ['a patient scope', async () => ({ scopes: ['patient/*.read'] }), /not a SMART system scope/],
    ['an unknown type', async () => ({ scopes: ['system/Patinet.read'] }), /not a FHIR R4 resource type/],
    ['a bad organization id', async () => ({ organizations: ['has space'] }), /organization 'has space'/],
  ])('refuses %s', async (_name, change, problem) => {
    const input = { name: 'Client', jwks: jwksOf(key), scopes: ['system/*.read'], organizations: ['o1'], ...(await change()) };
    const err = await store.add(input as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientValidationError);
    expect((err as ClientValidationError).problems.join('\n')).toMatch(problem);
  });
});

describe('keys from a JWKS URL (local server)', () => {
  let server: Server;
  let base: string;
  let served: JSONWebKeySet = { keys: [] };
  let hits: string[] = [];
  let delayMs = 0;
  let first: TestKey;
  let second: TestKey;

  beforeAll(async () => {
    [first, second] = await Promise.all([makeKey('ES384'), makeKey('RS384')]);
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const send = (): void => {
        if (req.url === '/jwks.json') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(served));
        } else if (req.url === '/redirect') {
          res.statusCode = 302;
          res.setHeader('location', '/jwks.json');
          res.end();
        } else if (req.url === '/huge') {
          res.end(JSON.stringify({ keys: [], pad: 'x'.repeat(200_000) }));
        } else {
          res.statusCode = 404;
          res.end('not found');
        }
      };
      setTimeout(send, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    hits = [];
    delayMs = 0;
  });

  test('fetched once, cached for the TTL, refetched after it', async () => {
    let now = 1_000_000;
    const resolver = new ClientKeyResolver({ cacheSeconds: 60, timeoutMs: 2000, now: () => now });
    served = jwksOf(first);
    const client = { id: 'c1', jwksUrl: `${base}/jwks.json` };
    await resolver.keyFor(client, { alg: 'ES384', kid: first.kid });
    await resolver.keyFor(client, { alg: 'ES384', kid: first.kid });
    expect(hits).toEqual(['/jwks.json']);
    now += 61_000;
    await resolver.keyFor(client, { alg: 'ES384', kid: first.kid });
    expect(hits).toHaveLength(2);
  });

  test('a new kid refetches (key rotation), but not more than once per cooldown', async () => {
    let now = 2_000_000;
    const resolver = new ClientKeyResolver({ cacheSeconds: 300, timeoutMs: 2000, now: () => now });
    const client = { id: 'c2', jwksUrl: `${base}/jwks.json` };
    served = jwksOf(first);
    await resolver.keyFor(client, { alg: 'ES384', kid: first.kid });
    served = jwksOf(first, second);
    now += 1000;
    await expect(resolver.keyFor(client, { alg: 'RS384', kid: second.kid })).rejects.toThrow(ClientKeyError);
    expect(hits).toHaveLength(1);
    now += 10_000;
    await expect(resolver.keyFor(client, { alg: 'RS384', kid: second.kid })).resolves.toBeDefined();
    expect(hits).toHaveLength(2);
  });

  test.each([
    ['an answer slower than the timeout', '/jwks.json', 300, /no answer within 100 ms/],
    ['a redirect', '/redirect', 0, /could not be fetched/],
    ['a document over the size cap', '/huge', 0, /larger than/],
    ['a 404', '/missing', 0, /HTTP 404/],
  ])('refuses %s', async (_name, path, delay, message) => {
    delayMs = delay;
    served = jwksOf(first);
    const resolver = new ClientKeyResolver({ cacheSeconds: 60, timeoutMs: 100, maxBytes: 64 * 1024 });
    await expect(resolver.keyFor({ id: 'c3', jwksUrl: `${base}${path}` }, { alg: 'ES384', kid: first.kid })).rejects.toThrow(message);
    expect(hits.filter((h) => h === '/jwks.json' || h === path).length).toBeLessThanOrEqual(1);
  });

  test('keys served with private parts or on the wrong curve are left out', async () => {
    served = { keys: [{ ...first.publicJwk, d: 'leaked' }] };
    const resolver = new ClientKeyResolver({ cacheSeconds: 60, timeoutMs: 2000 });
    await expect(resolver.keyFor({ id: 'c4', jwksUrl: `${base}/jwks.json` }, { alg: 'ES384', kid: first.kid })).rejects.toThrow(/no key/);
  });

  test('end to end: a client registered by URL gets a token; jku must be that URL', async () => {
    const db = await openTestDriver('pglite');
    try {
      const auth: Auth = await openTestAuth(db.driver);
      served = jwksOf(first);
      const client = await auth.clients.add({ name: 'By URL', jwksUrl: `${base}/jwks.json`, scopes: ['system/*.read'], organizations: ['o1'] });
      const app = testApp(auth);
      const ok = await request(app)
        .post('/auth/token')
        .type('form')
        .send(tokenForm(await signAssertion(first, client.id, { header: { jku: `${base}/jwks.json` } })));
      expect(ok.status).toBe(200);
      const elsewhere = await request(app)
        .post('/auth/token')
        .type('form')
        .send(tokenForm(await signAssertion(first, client.id, { header: { jku: `${base}/other.json` } })));
      expect(elsewhere.status).toBe(401);
      expect(elsewhere.body.error_description).toMatch(/jku/);
      expect(hits).not.toContain('/other.json');
    } finally {
      await db.close();
    }
  });
});
