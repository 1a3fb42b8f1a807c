/**
 * The newcomer's path on the command line, against PGlite in a temporary DATA_DIR:
 * `auth keygen` -> `clients add --jwks` -> `auth token` against a running token endpoint, plus
 * `clients list|remove`, `--assertion-only`, and the refusals (bad scope, usage, a data
 * directory held by a running server).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { openAuth } from '../../src/auth';
import { newClientId } from '../../src/auth/clients';
import { authCommand } from '../../src/cli/auth-token';
import { clientsCommand } from '../../src/cli/clients';
import { createApp } from '../../src/http/app';
import { openDriver, openStore, type SqlRepository } from '../../src/store';
import { Validator } from '../../src/validation';
import { testApp } from './helpers';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

type Command = (args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream, env?: NodeJS.ProcessEnv) => Promise<number>;

let dir: string;
let env: NodeJS.ProcessEnv;

async function run(command: Command, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Capture();
  const err = new Capture();
  const code = await command(args, out, err, env);
  return { code, out: out.text, err: err.text };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'peerbridge-auth-cli-'));
  env = { DATA_DIR: join(dir, 'data') };
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('peerbridge auth keygen', () => {
  test.each(['ES384', 'RS384'])('%s: a private JWK and PEM (0600) and the public JWKS', async (alg) => {
    const out = join(dir, `keys-${alg}`);
    const res = await run(authCommand, 'keygen', '--alg', alg, '--out', out);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/peerbridge clients add/);
    const priv = JSON.parse(readFileSync(join(out, 'private-key.jwk.json'), 'utf8')) as JWK;
    const jwks = JSON.parse(readFileSync(join(out, 'jwks.json'), 'utf8')) as { keys: JWK[] };
    expect(priv).toMatchObject({ alg, use: 'sig', kid: jwks.keys[0].kid, d: expect.any(String) });
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ alg, use: 'sig', kty: alg === 'ES384' ? 'EC' : 'RSA' });
    expect(Object.keys(jwks.keys[0])).not.toContain('d');
    expect(readFileSync(join(out, 'private-key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(out, 'private-key.jwk.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'private-key.pem')).mode & 0o777).toBe(0o600);
    // Not overwritten without --force.
    const again = await run(authCommand, 'keygen', '--alg', alg, '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exist/);
  });

  test('usage errors exit 2', async () => {
    expect((await run(authCommand, 'keygen', '--alg', 'HS256', '--out', dir)).code).toBe(2);
    expect((await run(authCommand, 'keygen')).code).toBe(2);
    expect((await run(authCommand, 'nope')).code).toBe(2);
    expect((await run(authCommand, 'token', '--key', 'x')).err).toMatch(/--client-id and --key are required/);
  });
});

describe('peerbridge clients + auth token', () => {
  let clientId: string;

  test('add prints the client id; list shows it', async () => {
    const add = await run(
      clientsCommand,
      'add',
      '--name',
      'Riverbend HIE',
      '--jwks',
      join(dir, 'keys-ES384', 'jwks.json'),
      '--scope',
      'system/*.read system/Encounter.cruds',
      '--org',
      'riverbend,hillcrest',
      '--org',
      'lakeside',
    );
    expect(add.code).toBe(0);
    clientId = add.out.trim();
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(add.err).toMatch(/peerbridge auth token --client-id/);
    const list = await run(clientsCommand, 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain(clientId);
    expect(list.out).toMatch(/scopes: +system\/\*\.read system\/Encounter\.cruds/);
    expect(list.out).toMatch(/organizations: +riverbend, hillcrest, lakeside/);
    const json = JSON.parse((await run(clientsCommand, 'list', '--format', 'json')).out) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ id: clientId, name: 'Riverbend HIE', organizations: ['riverbend', 'hillcrest', 'lakeside'] })]);
  });

  test('refusals: exit 1 for a refused registration, 2 for usage', async () => {
    const bad = await run(clientsCommand, 'add', '--name', 'Bad', '--jwks', join(dir, 'keys-ES384', 'private-key.jwk.json'), '--scope', 'system/Patinet.read');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/holds a private key/);
    const typo = await run(
      clientsCommand,
      'add',
      '--name',
      'Typo',
      '--jwks',
      join(dir, 'keys-ES384', 'jwks.json'),
      '--scope',
      'system/Patinet.read',
      '--scope',
      'user/*.read',
    );
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(/'Patinet' is not a FHIR R4 resource type/);
    expect(typo.err).toMatch(/'user\/\*\.read' is not a SMART system scope/);
    expect((await run(clientsCommand, 'add', '--jwks', 'x.json', '--scope', 'system/*.read')).code).toBe(2);
    expect((await run(clientsCommand, 'add', '--name', 'x', '--jwks', join(dir, 'nope.json'), '--scope', 'system/*.read')).err).toMatch(/no such file/);
    expect((await run(clientsCommand, 'frobnicate')).code).toBe(2);
    expect((await run(clientsCommand, 'remove')).code).toBe(2);
  });

  test('auth token --assertion-only prints an assertion the token endpoint accepts', async () => {
    const tokenUrl = 'https://peerbridge.example/auth/token';
    const res = await run(
      authCommand,
      'token',
      '--client-id',
      clientId,
      '--key',
      join(dir, 'keys-ES384', 'private-key.pem'),
      '--token-url',
      tokenUrl,
      '--assertion-only',
    );
    expect(res.code).toBe(0);
    const assertion = res.out.trim();
    const jwks = JSON.parse(readFileSync(join(dir, 'keys-ES384', 'jwks.json'), 'utf8')) as { keys: JWK[] };
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES384', kid: jwks.keys[0].kid, typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, await importJWK(jwks.keys[0], 'ES384'), { audience: tokenUrl, issuer: clientId, subject: clientId });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(240);
    expect(typeof payload.jti).toBe('string');
  });

  test('auth token gets an access token from a running server; a refused scope exits 1', async () => {
    const driver = await openDriver({ DATA_DIR: env.DATA_DIR });
    // Listening first, so the server's default base names its port (http://localhost:<PORT>/fhir);
    // the CLI reaches it as 127.0.0.1, a loopback alias the token endpoint accepts in the assertion's aud.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const auth = await openAuth({ driver, env: { PORT: String(port) }, config: { RATE_LIMIT_PER_SECOND: 0, AUTH_TOKEN_RATE_PER_MINUTE: 0 } });
    server.on('request', testApp(auth));
    const origin = `http://127.0.0.1:${port}`;
    const base = `http://localhost:${port}`;
    try {
      for (const key of ['private-key.jwk.json', 'private-key.pem']) {
        const res = await run(
          authCommand,
          'token',
          '--client-id',
          clientId,
          '--key',
          join(dir, 'keys-ES384', key),
          '--token-url',
          `${origin}/auth/token`,
          '--scope',
          'system/Encounter.rs',
        );
        expect(res.code).toBe(0);
        expect(res.err).toMatch(/Granted scope: system\/Encounter\.rs/);
        const token = res.out.trim();
        // When it expires, on stderr (stdout is the token alone), as the instant of its exp claim.
        expect(res.out).toBe(`${token}\n`);
        const exp = new Date(Number(decodeJwt(token).exp) * 1000).toISOString().replace(/\.000Z$/, 'Z');
        expect(res.err).toContain(`expires in 300 s, at ${exp}`);
        expect(res.err).toMatch(/after that, requests with it answer 401: run this command again/);
        expect(decodeJwt(token)).toMatchObject({ sub: clientId, scope: 'system/Encounter.rs', organizations: ['riverbend', 'hillcrest', 'lakeside'] });
        await expect(auth.verifier.verify(token, { issuer: `${base}/auth`, audience: `${base}/fhir` })).resolves.toMatchObject({ clientId });
      }
      const json = await run(
        authCommand,
        'token',
        '--client-id',
        clientId,
        '--key',
        join(dir, 'keys-ES384', 'private-key.jwk.json'),
        '--token-url',
        `${origin}/auth/token`,
        '--json',
      );
      expect(JSON.parse(json.out)).toMatchObject({ token_type: 'bearer', expires_in: 300, scope: 'system/*.read' });
      const refused = await run(
        authCommand,
        'token',
        '--client-id',
        clientId,
        '--key',
        join(dir, 'keys-ES384', 'private-key.jwk.json'),
        '--token-url',
        `${origin}/auth/token`,
        '--scope',
        'system/AuditEvent.rs',
      );
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/Token refused \(400\): invalid_scope/);
      const wrongKey = await run(
        authCommand,
        'token',
        '--client-id',
        clientId,
        '--key',
        join(dir, 'keys-RS384', 'private-key.jwk.json'),
        '--token-url',
        `${origin}/auth/token`,
      );
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.err).toMatch(/invalid_client/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await driver.close();
    }
  });

  test('remove: exit 0, then 1 for an unknown id', async () => {
    const res = await run(clientsCommand, 'remove', clientId);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toBe(`Removed client ${clientId}\n`);
    expect((await run(clientsCommand, 'remove', clientId)).code).toBe(1);
    expect((await run(clientsCommand, 'list')).out).toMatch(/No clients registered/);
  });

  test("remove -- <id>: an id read as positional after '--'; new ids never start with '-'", async () => {
    const added = await run(
      clientsCommand,
      'add',
      '--name',
      'Dash',
      '--jwks',
      join(dir, 'keys-ES384', 'jwks.json'),
      '--scope',
      'system/*.read',
      '--org',
      'riverbend',
    );
    expect(added.code).toBe(0);
    const id = added.out.trim();
    expect(id).toBeDefined();
    const res = await run(clientsCommand, 'remove', '--', id);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    for (let i = 0; i < 2000; i++) {
      expect(newClientId()).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
    }
  });

  test('clients add against a data directory a running server holds: exit 2, naming the holder, with the --server hint', async () => {
    const held = await openDriver({ DATA_DIR: env.DATA_DIR });
    try {
      const res = await run(
        clientsCommand,
        'add',
        '--name',
        'Late',
        '--jwks',
        join(dir, 'keys-ES384', 'jwks.json'),
        '--scope',
        'system/*.read',
        '--org',
        'riverbend',
      );
      expect(res.code).toBe(2);
      expect(res.err).toMatch(new RegExp(`in use by process ${process.pid} on ${hostname()}`));
      expect(res.err).toMatch(/--server/);
      expect((await run(clientsCommand, 'list')).code).toBe(2);
    } finally {
      await held.close();
    }
    expect((await run(clientsCommand, 'list')).code).toBe(0);
  });
});

describe('peerbridge clients --server: managing clients while the server runs', () => {
  let server: Server;
  let store: SqlRepository;
  let origin: string;
  let adminId: string;
  const es = (f: string): string => join(dir, 'keys-ES384', f);
  const rs = (f: string): string => join(dir, 'keys-RS384', f);

  beforeAll(async () => {
    // The first admin is registered before the server starts (the store is this command's then).
    const admin = await run(
      clientsCommand,
      'add',
      '--name',
      'Deployment admin',
      '--jwks',
      es('jwks.json'),
      '--scope',
      'system/Client.cruds system/*.cruds',
      '--org',
      '*',
    );
    expect(admin.code).toBe(0);
    adminId = admin.out.trim();
    store = await openStore({ DATA_DIR: env.DATA_DIR });
    // Listening first: the server's public base (token audience) is its own address.
    server = createServer();
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const auth = await openAuth({
      driver: store.driver,
      env: {},
      baseUrl: `${origin}/fhir`,
      config: { RATE_LIMIT_PER_SECOND: 0, AUTH_TOKEN_RATE_PER_MINUTE: 0 },
    });
    server.on('request', createApp({ validator: Validator.create(), store, auth, config: { MAX_BODY_BYTES: 1024 * 1024, BASE_URL: `${origin}/fhir` } }));
  }, 120_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  const remote = (...args: string[]): string[] => [...args, '--server', origin, '--client-id', adminId, '--key', es('private-key.jwk.json')];

  test('without --server the store is refused (the server holds it); with --server add, list, token, remove work', async () => {
    const direct = await run(clientsCommand, 'list');
    expect(direct.code).toBe(2);
    expect(direct.err).toMatch(/in use by process .*--server/s);

    const add = await run(
      clientsCommand,
      ...remote('add', '--name', 'Late HIE', '--jwks', rs('jwks.json'), '--scope', 'system/Encounter.rs', '--org', 'riverbend'),
    );
    expect(add.err).toMatch(/Registered 'Late HIE'/);
    expect(add.code).toBe(0);
    const id = add.out.trim();
    const list = await run(clientsCommand, ...remote('list', '--format', 'json'));
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, name: 'Late HIE', scopes: ['system/Encounter.rs'], organizations: ['riverbend'] })]),
    );
    expect((await run(clientsCommand, ...remote('list'))).out).toMatch(/Late HIE\n {2}keys: {10}JWKS /);

    const token = await run(
      authCommand,
      'token',
      '--client-id',
      id,
      '--key',
      rs('private-key.jwk.json'),
      '--token-url',
      `${origin}/auth/token`,
      '--scope',
      'system/Encounter.rs',
    );
    expect(token.code).toBe(0);

    // The new client holds no system/Client.* scope: it cannot manage clients.
    const notAdmin = await run(clientsCommand, 'list', '--server', origin, '--client-id', id, '--key', rs('private-key.jwk.json'));
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err).toMatch(/invalid_scope/);

    const removed = await run(clientsCommand, ...remote('remove', id));
    expect(removed.code).toBe(0);
    expect(removed.out).toBe(`Removed client ${id}\n`);
    expect((await run(clientsCommand, ...remote('remove', id))).code).toBe(1);
  });

  test('an organization admin cannot escalate through the CLI either; usage and unreachable servers exit 2', async () => {
    const add = await run(
      clientsCommand,
      ...remote('add', '--name', 'Riverbend admin', '--jwks', rs('jwks.json'), '--scope', 'system/Client.cruds system/*.rs', '--org', 'riverbend'),
    );
    expect(add.code).toBe(0);
    const local = ['--server', origin, '--client-id', add.out.trim(), '--key', rs('private-key.jwk.json')];
    const wider = await run(clientsCommand, 'add', '--name', 'Everywhere', '--jwks', es('jwks.json'), '--scope', 'system/*.cruds', '--org', '*', ...local);
    expect(wider.code).toBe(1);
    expect(wider.err).toMatch(/Client not registered/);
    expect(wider.err).toMatch(/'system\/\*\.cruds' grants more than your own scopes/);
    expect(wider.err).toMatch(/every organization/);
    const own = await run(
      clientsCommand,
      'add',
      '--name',
      'Riverbend reader',
      '--jwks',
      es('jwks.json'),
      '--scope',
      'system/Encounter.rs',
      '--org',
      'riverbend',
      ...local,
    );
    expect(own.code).toBe(0);
    const seen = JSON.parse((await run(clientsCommand, 'list', '--format', 'json', ...local)).out) as Array<{ id: string }>;
    expect(seen.map((c) => c.id)).toContain(own.out.trim());
    expect(seen.map((c) => c.id)).not.toContain(adminId);
    expect((await run(clientsCommand, 'remove', adminId, ...local)).code).toBe(1);

    expect((await run(clientsCommand, 'list', '--server', origin)).code).toBe(2);
    const down = await run(clientsCommand, 'list', '--server', 'http://127.0.0.1:9', '--client-id', adminId, '--key', es('private-key.jwk.json'));
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/Could not reach/);
  });
});
