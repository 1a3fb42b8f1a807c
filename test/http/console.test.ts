/**
 * The web console's server side (src/http/console.ts) with supertest: pages and assets (headers,
 * CSP with a per-response style nonce, caching), `POST /console/api/validate` (issues with line
 * and column; nothing of the body logged), `GET /console/api/config`, auth in front of the API;
 * and what the console added to existing routes: rejects filters (kind, reason, since, until) on
 * both drivers, and the ingest answer's counts per record kind.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type express from 'express';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { RejectStore, type RejectRecord } from '../../src/store/rejects';
import { loadSources } from '../../src/translate';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { openTestAuth } from '../auth/helpers';
import { buildConsole } from '../web/console-server';

const validator = Validator.create();
const PATIENT = '{\n  "resourceType": "Patient",\n  "id": "p1",\n  "gender": "femal"\n}';
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

describe('console pages and API (no store)', () => {
  let app: express.Express;
  let webDir: string;
  const logged: string[] = [];
  beforeAll(async () => {
    webDir = (await buildConsole()).dir;
    app = createApp({
      validator,
      config: { MAX_BODY_BYTES: 64 * 1024 },
      consoleDir: webDir,
      sources: loadSources(),
      log: (_level, message, meta) => logged.push(message + JSON.stringify(meta ?? {})),
    });
  }, 60000);

  test('each page is the one index.html, no-cache, with a strict CSP whose style nonce is the page’s', async () => {
    for (const path of ['/validate', '/people', '/people/dana-whitfield', '/ingest', '/signin']) {
      const res = await request(app).get(path).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toMatch(/default-src 'none'; script-src 'self'; style-src 'self' 'nonce-[A-Za-z0-9+/=]{24}'/);
      expect(csp).not.toMatch(/unsafe|https?:/);
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(res.text).toContain(`<meta name="pb-style-nonce" content="${nonce}">`);
      expect(res.text).not.toMatch(/<script>|<style>|style="/); // no inline script or style
    }
    const a = await request(app).get('/validate');
    const b = await request(app).get('/validate');
    expect(a.headers['content-security-policy']).not.toBe(b.headers['content-security-policy']);
  });

  test('hashed assets are cached for a year; an unknown one is a 404 OperationOutcome', async () => {
    const manifest = JSON.parse(readFileSync(join(webDir, 'manifest.json'), 'utf8')) as { main: string; css: string };
    expect(manifest.main).toMatch(/^main-[A-Z0-9]{8}\.js$/);
    const js = await request(app).get(`/console/assets/${manifest.main}`).expect(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toMatch(/javascript/);
    const css = await request(app).get(`/console/assets/${manifest.css}`).expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const missing = await request(app).get('/console/assets/main-NOPE.js').expect(404);
    expect(missing.body.resourceType).toBe('OperationOutcome');
  });

  test('/ is the console for a browser and the JSON description for API clients', async () => {
    const html = await request(app).get('/').set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8').expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    const json = await request(app).get('/').expect(200);
    expect(json.body).toMatchObject({ name: 'PeerBridge', fhir: '/fhir' });
    await request(app).get('/').set('Accept', 'application/json').expect(200).expect('Content-Type', /json/);
  });

  test('without a build the pages say so (503), the API still answers', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pb-noweb-'));
    try {
      const bare = createApp({ validator, config: { MAX_BODY_BYTES: 1024 }, consoleDir: empty });
      const res = await request(bare).get('/validate').expect(503);
      expect(res.text).toMatch(/npm run build/);
      await request(bare).get('/console/api/config').expect(200);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('POST /console/api/validate answers each issue with its line and column, and logs nothing of the text', async () => {
    const res = await request(app).post('/console/api/validate').set('Content-Type', 'application/json').send(PATIENT).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.valid).toBe(false);
    const gender = res.body.issues.find((i: { expression?: string }) => i.expression === 'Patient.gender');
    expect(gender).toMatchObject({ severity: 'error', line: 4, col: 3, resource: 'Patient/p1' });
    expect(gender.text).toMatch(/femal/);
    expect(typeof res.body.ms).toBe('number');
    // Not JSON: the parse error at its position.
    const broken = await request(app)
      .post('/console/api/validate')
      .set('Content-Type', 'text/plain')
      .send('{\n  "resourceType": "Patient",\n  oops\n}')
      .expect(200);
    expect(broken.body.issues[0]).toMatchObject({ severity: 'error', line: 3 });
    // A profile asked for.
    const profiled = await request(app)
      .post('/console/api/validate?profile=' + encodeURIComponent('http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter'))
      .set('Content-Type', 'application/json')
      .send('{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"}}')
      .expect(200);
    expect(profiled.body.issues.some((i: { severity: string }) => i.severity === 'error')).toBe(true);
    expect(logged.join('\n')).not.toMatch(/femal|oops/);
  });

  test('POST /console/api/validate: bad requests are 4xx OperationOutcomes', async () => {
    const type = await request(app).post('/console/api/validate').set('Content-Type', 'application/xml').send('<Patient/>').expect(415);
    expect(type.body.resourceType).toBe('OperationOutcome');
    const profile = await request(app)
      .post('/console/api/validate?profile=http://example.org/nope')
      .set('Content-Type', 'application/json')
      .send('{}')
      .expect(400);
    expect(profile.body.issue[0].expression).toEqual(['profile']);
    await request(app)
      .post('/console/api/validate')
      .set('Content-Type', 'application/json')
      .send(' '.repeat(65 * 1024))
      .expect(413);
  });

  test('GET /console/api/config lists the loaded profiles, packages and ingest sources', async () => {
    const res = await request(app).get('/console/api/config').expect(200);
    expect(res.body.authDisabled).toBe(true);
    expect(res.body.profiles).toContainEqual({
      url: 'http://peerbridge.org/fhir/StructureDefinition/peer-support-encounter',
      name: 'PeerSupportEncounter',
      title: 'Peer Support Encounter',
      type: 'Encounter',
    });
    expect(res.body.packages[0].name).toMatch(/peerbridge/);
    expect(res.body.mappings).toEqual(expect.arrayContaining(['riverbend-csv', 'hl7v2', 'vendor-json']));
  });
});

describe('console API behind auth', () => {
  let store: TestStore;
  let app: express.Express;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    const auth = await openTestAuth(store.repo.driver);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 64 * 1024 }, auth, consoleDir: (await buildConsole()).dir });
  }, 60000);
  afterAll(() => store?.close());

  test('the pages are public shells; the API needs a caller', async () => {
    await request(app).get('/validate').expect(200);
    await request(app).post('/console/api/validate').set('Content-Type', 'application/json').send(PATIENT).expect(401);
    const config = await request(app).get('/console/api/config').expect(401);
    expect(config.body.resourceType).toBe('OperationOutcome');
  });
});

function reject(n: number, over: Partial<RejectRecord> = {}): RejectRecord {
  return {
    source: 'riverbend-csv',
    feed: 'contacts',
    record: n,
    input: 'contacts.csv',
    where: `line ${n + 1}`,
    kind: 'contact',
    id: `C-${1000 + n}`,
    errors: [{ field: 'durationMinutes', reason: `Not a whole number: '4O' (${n})`, stage: 'mapping' }],
    raw: `C-${1000 + n},E-77,1001,09/15/2026,10:00 AM,4O,F2F,`,
    ...over,
  };
}

describe.each(DRIVERS)('what the console added to existing routes, on %s', (driver) => {
  let store: TestStore;
  let app: express.Express;
  let rejects: RejectStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
    rejects = await RejectStore.open(store.repo.driver);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 }, sources: loadSources(), rejects });
  }, 60000);
  afterAll(() => store?.close());

  test('GET /ingest/rejects filters by kind, reason (any case, % and _ literal), since and until', async () => {
    await rejects.add([reject(1), reject(2, { kind: 'person', errors: [{ reason: 'Unknown sex code X_1', stage: 'mapping' }] }), reject(3)]);
    const ids = async (query: string): Promise<string[]> => {
      const res = await request(app).get(`/ingest/rejects?source=riverbend-csv&${query}`).expect(200);
      const b = res.body as Bundle<Parameters>;
      expect(b.total).toBe(b.entry?.length ?? 0);
      return (b.entry ?? []).map((e) => String(param(e.resource as Parameters, 'where')?.valueString)).sort();
    };
    expect(await ids('kind=person')).toEqual(['line 3']);
    expect(await ids('kind=contact')).toEqual(['line 2', 'line 4']);
    expect(await ids('reason=WHOLE%20number')).toEqual(['line 2', 'line 4']);
    expect(await ids('reason=x_1')).toEqual(['line 3']);
    expect(await ids('reason=%25')).toEqual([]);
    expect(await ids('reason=(3)&kind=contact')).toEqual(['line 4']);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
    expect(await ids(`since=${today}`)).toHaveLength(3);
    expect(await ids(`since=${tomorrow}`)).toEqual([]);
    expect(await ids(`until=${today}`)).toEqual([]);
    expect(await ids(`until=${tomorrow}T00:00:00Z`)).toHaveLength(3);
    // The filters are kept in the links.
    const res = await request(app).get('/ingest/rejects?source=riverbend-csv&kind=contact&reason=whole').expect(200);
    expect(res.body.link[0].url).toMatch(/kind=contact&reason=whole&status=open/);
  });

  test("the reason filter never matches a Part 2 reject's withheld reasons (only the poster's own)", async () => {
    const owners = { organization: 'org-d', part2Organizations: ['org-d'] };
    const secret = (n: number) => reject(n, { source: 'p2-src', errors: [{ reason: 'secret code 7', stage: 'mapping' }] });
    await rejects.add([secret(1)], owners);
    const reader = { clientId: 'reader', organizations: ['org-d'], allOrganizations: false };
    const poster = { clientId: 'poster', organizations: ['org-d'], allOrganizations: false };
    await rejects.add([secret(2)], { ...owners, access: poster });
    // The reader of org D lists both, reasons withheld, but cannot find them by their reasons.
    const listed = await rejects.list({ source: 'p2-src', access: reader });
    expect(listed.items.map((r) => r.released)).toEqual([false, false]);
    expect((await rejects.list({ source: 'p2-src', reason: 'secret', access: reader })).total).toBe(0);
    // Its poster finds its own; the server's view finds both.
    expect((await rejects.list({ source: 'p2-src', reason: 'secret', access: poster })).items.map((r) => r.record)).toEqual([2]);
    expect((await rejects.list({ source: 'p2-src', reason: 'secret' })).total).toBe(2);
  });

  test('GET /ingest/rejects: a bad since or until is a 400 naming it', async () => {
    for (const bad of ['since=yesterday', 'until=2026-13-45', 'since=2026-09-15T10:00']) {
      const res = await request(app).get(`/ingest/rejects?source=riverbend-csv&${bad}`).expect(400);
      expect(res.body.issue[0].expression).toEqual([bad.split('=')[0]]);
    }
  });

  test('an ingest dry run answers read / accepted / rejected per record kind', async () => {
    const csv = readFileSync(join(__dirname, '..', '..', 'examples', 'outside', 'riverbend-csv', 'bad', 'contacts-unknown-codes.csv'), 'utf8');
    const res = await request(app).post('/ingest/riverbend-csv?dryRun=true&file=contacts.csv').set('Content-Type', 'text/csv').send(csv);
    expect([200, 422]).toContain(res.status);
    const byKind = (res.body as Parameters).parameter?.filter((p) => p.name === 'byKind') ?? [];
    expect(byKind.length).toBeGreaterThan(0);
    const contact = byKind.find((k) => k.part?.find((p) => p.name === 'kind')?.valueCode === 'contact');
    const n = (name: string) => contact?.part?.find((p) => p.name === name)?.valueInteger;
    expect((n('accepted') ?? 0) + (n('rejected') ?? 0)).toBe(n('read'));
    expect(n('rejected')).toBe(param(res.body as Parameters, 'rejected')?.valueInteger);
  });
});
