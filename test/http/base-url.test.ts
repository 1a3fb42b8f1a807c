/**
 * Absolute URLs come from the configured base (BASE_URL, default `http://localhost:<PORT>/fhir`),
 * never from the request's `Host` or `X-Forwarded-*` headers (issue 11, item 9): a client that
 * sends `Host: evil.example.com` must not get links, token claims or endpoints on that host.
 * The app is wired as src/server.ts wires it without BASE_URL, listening first so PORT is known.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { openAuth, type Auth } from '../../src/auth';
import { openBulkExport, type BulkExport } from '../../src/export';
import { answerClientErrors, createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { jwksOf, makeKey, signAssertion, tokenForm } from '../auth/helpers';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const EVIL = 'evil.example.com';
const FHIR = 'application/fhir+json';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('absolute URLs on %s', (driver) => {
  let store: TestStore;
  let server: Server;
  let auth: Auth;
  let bulk: BulkExport;
  let port: number;
  let base: string;

  beforeAll(async () => {
    store = await openTestStore(driver);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    answerClientErrors(server);
    port = (server.address() as AddressInfo).port;
    base = `http://localhost:${port}/fhir`;
    const env = { PORT: String(port), RATE_LIMIT_PER_SECOND: '0', AUTH_TOKEN_RATE_PER_MINUTE: '0' };
    bulk = await openBulkExport({ store: store.repo, env, worker: false });
    auth = await openAuth({ driver: store.repo.driver, env });
    const app = createApp({ validator, store: store.repo, routes: bulk.routes, bulkExport: bulk, auth, config: { MAX_BODY_BYTES: 1024 * 1024, PORT: port } });
    server.on('request', app);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await bulk?.close();
    await store?.close();
  });

  /** One request to the listening server with the given Host header (node's http client sends it as given). */
  function send(method: string, path: string, host: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host, ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A fresh client with these scopes and a token minted at the token endpoint reached through `host`. */
  async function token(scopes: string[], host: string): Promise<{ status: number; token?: string; text: string }> {
    const key = await makeKey('ES384');
    const client = await auth.clients.add({ name: 'Base URL test', jwks: jwksOf(key), scopes, organizations: ['riverbend-ccbhc'] });
    // The assertion's audience is the token endpoint the SMART configuration names.
    const conf = JSON.parse((await send('GET', '/.well-known/smart-configuration', `localhost:${port}`)).text) as { token_endpoint: string };
    const form = tokenForm(await signAssertion(key, client.id, { aud: conf.token_endpoint }), scopes.join(' '));
    const res = await send('POST', '/auth/token', host, { 'content-type': 'application/x-www-form-urlencoded' }, form);
    return { status: res.status, token: (JSON.parse(res.text) as { access_token?: string }).access_token, text: res.text };
  }

  const noEvil = (a: Answer): void => {
    expect(JSON.stringify(a.headers)).not.toContain(EVIL);
    expect(a.text).not.toContain(EVIL);
  };

  test('create, search paging and export kick-off answer with the configured base, whatever the Host', async () => {
    const { token: bearer } = await token(['system/*.cruds'], `localhost:${port}`);
    const auth = { authorization: `Bearer ${bearer}` };
    const created = await send(
      'POST',
      '/fhir/Patient',
      EVIL,
      { ...auth, 'content-type': FHIR },
      JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Hostile' }] }),
    );
    expect(created.status).toBe(201);
    expect(created.headers.location).toMatch(new RegExp(`^${base}/Patient/[0-9a-f-]{36}/_history/1$`));
    noEvil(created);
    await send('POST', '/fhir/Patient', EVIL, { ...auth, 'content-type': FHIR }, JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Hostile' }] }));
    const page = await send('GET', '/fhir/Patient?family=Hostile&_count=1', EVIL, { ...auth, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' });
    expect(page.status).toBe(200);
    const bundle = JSON.parse(page.text) as { link: Array<{ relation: string; url: string }>; entry: Array<{ fullUrl: string }> };
    expect(bundle.link.map((l) => l.relation)).toContain('next');
    for (const l of bundle.link) expect(l.url.startsWith(`${base}/Patient?`)).toBe(true);
    expect(bundle.entry[0].fullUrl.startsWith(`${base}/Patient/`)).toBe(true);
    noEvil(page);
    const history = await send('GET', '/fhir/Patient/_history', EVIL, auth);
    expect(history.status).toBe(200);
    noEvil(history);
    const kick = await send('GET', '/fhir/$export', EVIL, { ...auth, accept: FHIR, prefer: 'respond-async' });
    expect(kick.status).toBe(202);
    expect(kick.headers['content-location']).toMatch(new RegExp(`^${base}/bulkstatus/[0-9a-f-]{36}$`));
    noEvil(kick);
    await bulk.sweep();
    const status = await send('GET', new URL(String(kick.headers['content-location'])).pathname, EVIL, auth);
    noEvil(status);
  });

  test('SMART configuration, CapabilityStatement and token claims name the configured base', async () => {
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration', '/fhir/metadata']) {
      const res = await send('GET', path, EVIL);
      expect(res.status).toBe(200);
      expect(res.text).toContain(`http://localhost:${port}/auth/token`);
      noEvil(res);
    }
    const minted = await token(['system/Patient.rs'], EVIL);
    expect(minted.status).toBe(200);
    const claims = decodeJwt(minted.token as string);
    expect(claims.aud).toBe(base);
    expect(claims.iss).toBe(`http://localhost:${port}/auth`);
  });

  test('a token minted through localhost is accepted at 127.0.0.1, and the reverse', async () => {
    const viaLocalhost = await token(['system/Patient.rs'], `localhost:${port}`);
    const viaLoopback = await token(['system/Patient.rs'], `127.0.0.1:${port}`);
    expect([viaLocalhost.status, viaLoopback.status]).toEqual([200, 200]);
    for (const [t, host] of [
      [viaLocalhost.token, `127.0.0.1:${port}`],
      [viaLoopback.token, `localhost:${port}`],
    ] as const) {
      const res = await send('GET', '/fhir/Patient', host, { authorization: `Bearer ${t}` });
      expect(res.status).toBe(200);
    }
  });

  test('an assertion for the token URL on a loopback alias of the default base is accepted', async () => {
    const key = await makeKey('ES384');
    const client = await auth.clients.add({ name: 'Loopback alias', jwks: jwksOf(key), scopes: ['system/Patient.rs'], organizations: ['riverbend-ccbhc'] });
    const form = tokenForm(await signAssertion(key, client.id, { aud: `http://127.0.0.1:${port}/auth/token` }), 'system/Patient.rs');
    const res = await send('POST', '/auth/token', `127.0.0.1:${port}`, { 'content-type': 'application/x-www-form-urlencoded' }, form);
    expect(res.status).toBe(200);
    expect(decodeJwt((JSON.parse(res.text) as { access_token: string }).access_token).aud).toBe(base);
  });
});
