/**
 * `peerbridge translate --post`: to this project's own server (both store drivers) every Bundle
 * is accepted and every resource is then readable; against a small stub, retries after 503 and
 * after 429 with Retry-After, a 400 recorded with its OperationOutcome (exit 1), and a rerun with
 * the checkpoint sending only the Bundles not yet accepted.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle } from '@medplum/fhirtypes';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import type { PostReport } from '../../src/outbound/post';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { readSeries } from '../support/bundle-series';
import { run } from './run-cli';

const RIVERBEND = join(__dirname, '..', '..', 'examples', 'outside', 'riverbend-csv');
let tmp: string;
let n = 0;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-translate-post-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir` };
}
const close = (server: Server): Promise<void> => new Promise((r) => server.close(() => r()));

describe.each(DRIVERS)('to this server on %s', (driver) => {
  let store: TestStore;
  let server: Server;
  let base: string;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    app = createApp({ validator: Validator.create(), store: store.repo, config: { MAX_BODY_BYTES: 16 * 1024 * 1024 } });
    ({ server, base } = await listen(app));
  });
  afterAll(async () => {
    await close(server);
    await store?.close();
  });

  test('every Bundle accepted, every resource readable', async () => {
    const dir = join(tmp, `own-${driver}`);
    const r = await run('translate', '--mapping', 'riverbend-csv', RIVERBEND, '--post', base, '--out-dir', dir, '--bundle-size', '25', '--no-progress');
    expect(r.err).toMatch(/Posted to .*: 6 accepted, 0 already accepted/);
    expect(r.code).toBe(0);
    const { keys, manifest } = readSeries(dir);
    expect(manifest.bundles).toHaveLength(6);
    const report = JSON.parse(readFileSync(join(dir, 'post-report.json'), 'utf8')) as PostReport;
    expect(report.bundles.every((b) => b.result === 'accepted' && b.status === 200)).toBe(true);
    expect(Object.keys(report.bundles[0].entryStatuses!)).toEqual(['201 Created']);
    for (const key of keys) {
      const res = await request(app).get(`/fhir/${key}`);
      expect([key, res.status]).toEqual([key, 200]);
    }
    // Again with the same checkpoint: nothing is sent.
    const again = await run('translate', '--mapping', 'riverbend-csv', RIVERBEND, '--post', base, '--out-dir', dir, '--bundle-size', '25', '--no-progress');
    expect(again.err).toMatch(/0 accepted, 6 already accepted/);
  }, 60_000);
  test('the HL7 v2 feed: each Bundle carries the placeholders it refers to, all accepted, one resource per placeheld record', async () => {
    const dir = join(tmp, `hl7-${driver}`);
    const feed = join(RIVERBEND, '..', 'hl7v2', 'feed.hl7');
    const r = await run('translate', '--mapping', 'hl7v2', feed, '--post', base, '--out-dir', dir, '--bundle-size', '10', '--no-progress');
    expect(r.code).toBe(0);
    const { manifest, bundles, placeholders, placeholderEntries } = readSeries(dir);
    expect(manifest.placeholders).toBe(placeholders.length);
    // Some placeholder travels in more than one Bundle: the later copies find what the first made.
    expect(placeholderEntries).toBeGreaterThan(placeholders.length);
    const posts = bundles.flatMap((b) => (b.entry ?? []).filter((e) => e.request?.method === 'POST'));
    for (const key of placeholders) {
      const e = posts.find((p) => `${p.resource?.resourceType}/${p.resource?.id}` === key)!;
      const res = await request(app).get(`/fhir/${e.request!.url}?${e.request!.ifNoneExist!}`);
      expect([key, (res.body as Bundle).entry?.map((x) => x.resource?.id)]).toEqual([key, [e.resource!.id]]);
    }
  }, 60_000);
});

/** A stub FHIR server: `answer(n, body)` decides the n-th POST's status, headers and body. */
async function stub(answer: (n: number, body: string) => { status: number; headers?: Record<string, string>; body?: unknown }, port = 0) {
  const received: string[] = [];
  const { server, base } = await listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      const a = answer(received.length, body);
      const entries = (JSON.parse(body) as Bundle).entry ?? [];
      const out =
        a.body ??
        (a.status === 200
          ? { resourceType: 'Bundle', type: 'transaction-response', entry: entries.map(() => ({ response: { status: '201 Created' } })) }
          : undefined);
      res.writeHead(a.status, { 'content-type': 'application/fhir+json', ...a.headers });
      res.end(out ? JSON.stringify(out) : '');
    });
  }, port);
  return { server, base, received };
}

const post = (base: string, dir: string, ...more: string[]) =>
  run(
    'translate',
    '--mapping',
    'riverbend-csv',
    RIVERBEND,
    '--post',
    base,
    '--out-dir',
    dir,
    '--bundle-size',
    '50',
    '--no-progress',
    '--token',
    'secret',
    ...more,
  );
const reportOf = (dir: string): PostReport => JSON.parse(readFileSync(join(dir, 'post-report.json'), 'utf8')) as PostReport;
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

test('503 then 200, and 429 with Retry-After: retried, and the Bundles accepted', async () => {
  const s = await stub((k) => (k === 1 ? { status: 503 } : k === 3 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
  const dir = join(tmp, `stub${n++}`);
  const started = Date.now();
  const r = await post(s.base, dir);
  await close(s.server);
  expect(r.code).toBe(0);
  const report = reportOf(dir);
  expect(report.bundles.map((b) => b.attempts.map((a) => a.status))).toEqual([[503, 200], [429, 200], [200]]);
  expect(report.bundles[1].attempts[0]).toMatchObject({ retryAfter: '1', wait: 1000 });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(s.received).toHaveLength(5);
}, 30_000);

test('a 400 is recorded with its OperationOutcome, not retried, later Bundles not sent, exit 1; a rerun sends only the rest', async () => {
  const outcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'invalid', details: { text: 'Bundle.entry[3]: Patient.birthDate is not a date' } }],
  };
  const failing = await stub((k) => (k === 2 ? { status: 400, body: outcome } : { status: 200 }));
  const dir = join(tmp, `stub${n++}`);
  const r = await post(failing.base, dir);
  await close(failing.server);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/0002\.json refused after 1 try \(400\): Bundle\.entry\[3\]: Patient\.birthDate is not a date/);
  const report = reportOf(dir);
  expect(report.bundles.map((b) => b.result)).toEqual(['accepted', 'refused', 'not sent']);
  expect(report.bundles[1]).toMatchObject({ status: 400, issues: outcome.issue });
  expect(failing.received).toHaveLength(2);

  // The same checkpoint and the same server address (a checkpoint is kept per server base).
  const { manifest } = readSeries(dir);
  const ok = await stub(() => ({ status: 200 }), Number(new URL(failing.base).port));
  expect(ok.base).toBe(failing.base);
  const again = await post(ok.base, dir);
  await close(ok.server);
  expect(again.code).toBe(0);
  expect(again.err).toMatch(/2 accepted, 1 already accepted/);
  expect(ok.received.map(sha)).toEqual([manifest.bundles[1].sha256, manifest.bundles[2].sha256]);
}, 30_000);

test('the bearer token is sent; a network error is retried, then reported as unreachable', async () => {
  let auth: string | undefined;
  const s = await stub(() => ({ status: 200 }));
  s.server.on('request', (req: IncomingMessage) => (auth = req.headers.authorization));
  const dir = join(tmp, `stub${n++}`);
  expect((await post(s.base, dir)).code).toBe(0);
  expect(auth).toBe('Bearer secret');
  await close(s.server);
  const gone = await post(s.base, join(tmp, `stub${n++}`), '--retries', '1');
  expect(gone.code).toBe(1);
  expect(gone.err).toMatch(/0001\.json unreachable after 2 tries/);
}, 30_000);

test('SMART Backend Services: token endpoint from smart-configuration, a signed assertion, a new token after a 401', async () => {
  const keys = join(tmp, 'keys');
  expect((await run('auth', 'keygen', '--out', keys)).code).toBe(0);
  const jwks = JSON.parse(readFileSync(join(keys, 'jwks.json'), 'utf8')) as { keys: JWK[] };
  const tokens: string[] = [];
  const seen: (string | undefined)[] = [];
  let origin = '';
  const { server, base } = await listen((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => void answer());
    const answer = async (): Promise<void> => {
      if (req.url === '/fhir/.well-known/smart-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token_endpoint: `${origin}/token` }));
      } else if (req.url === '/token') {
        const form = new URLSearchParams(body);
        const { payload } = await jwtVerify(form.get('client_assertion')!, await importJWK(jwks.keys[0], 'ES384'), {
          audience: `${origin}/token`,
          issuer: 'client-1',
        });
        expect(form.get('scope')).toBe('system/*.write');
        tokens.push(`token-${tokens.length + 1}-${String(payload.jti).slice(0, 4)}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: tokens[tokens.length - 1], token_type: 'bearer', expires_in: 300 }));
      } else {
        seen.push(req.headers.authorization);
        // The first token "expires" after the first Bundle.
        const ok = req.headers.authorization === `Bearer ${tokens[tokens.length - 1]}` && !(tokens.length === 1 && seen.length > 1);
        const entries = (JSON.parse(body) as Bundle).entry ?? [];
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/fhir+json' });
        res.end(
          JSON.stringify(
            ok
              ? { resourceType: 'Bundle', type: 'transaction-response', entry: entries.map(() => ({ response: { status: '200 OK' } })) }
              : { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] },
          ),
        );
      }
    };
  });
  origin = new URL(base).origin;
  const dir = join(tmp, `smart${n++}`);
  const r = await run(
    'translate',
    '--mapping',
    'riverbend-csv',
    RIVERBEND,
    '--post',
    base,
    '--out-dir',
    dir,
    '--bundle-size',
    '50',
    '--no-progress',
    '--client-id',
    'client-1',
    '--key',
    join(keys, 'private-key.jwk.json'),
  );
  await close(server);
  expect(r.err).toMatch(/3 accepted/);
  expect(r.code).toBe(0);
  expect(tokens).toHaveLength(2);
  expect(seen).toEqual([`Bearer ${tokens[0]}`, `Bearer ${tokens[0]}`, `Bearer ${tokens[1]}`, `Bearer ${tokens[1]}`]);
  expect(reportOf(dir).bundles[1].attempts.map((a) => a.status)).toEqual([401, 200]);
  // What the report keeps is the last answer's: the accepted Bundle's entry statuses, not the 401's outcome.
  expect(reportOf(dir).bundles[1]).toMatchObject({ status: 200, entryStatuses: { '200 OK': 50 } });
  expect(reportOf(dir).bundles[1].issues).toBeUndefined();
}, 30_000);

test('credentials that get no token stop the run before translating, naming why', async () => {
  const keys = join(tmp, 'other-keys');
  expect((await run('auth', 'keygen', '--out', keys)).code).toBe(0);
  const refusing = await listen((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_client', error_description: 'unknown client' }));
  });
  const dir = join(tmp, `refused${n++}`);
  const r = await run(
    'translate',
    '--mapping',
    'riverbend-csv',
    RIVERBEND,
    '--post',
    refusing.base,
    '--out-dir',
    dir,
    '--no-progress',
    '--client-id',
    'nobody',
    '--key',
    join(keys, 'private-key.jwk.json'),
    '--token-url',
    `${new URL(refusing.base).origin}/token`,
  );
  await close(refusing.server);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/Token refused \(400\): invalid_client: unknown client/);
  expect(r.err).not.toMatch(/Source records/);
}, 30_000);
