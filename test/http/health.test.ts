/**
 * /healthz and /readyz (issue 16 item 3) on both store drivers, with auth on: no token needed, no
 * AuditEvent written, never rate-limited; /readyz answers 503 with an OperationOutcome naming the
 * check that failed (store unreachable, migrations not done, packages not loaded). Unknown paths
 * outside /fhir are 404 OperationOutcomes, not 401.
 */
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { readiness } from '../../src/http/health';
import { SCHEMA_VERSION } from '../../src/store/schema';
import { Validator } from '../../src/validation';
import { openFullApp, type FullApp } from '../audit/full-app';
import { FHIR_BASE, openTestAuth } from '../auth/helpers';
import { DRIVERS, openTestStore } from '../support/stores';

describe.each(DRIVERS)('health and readiness (%s)', (driver) => {
  let app: FullApp;
  beforeAll(async () => {
    app = await openFullApp(driver);
  }, 120_000);
  afterAll(() => app?.close());

  test('/healthz: 200 {"status":"ok"} without a token', async () => {
    const res = await request(app.server).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('/readyz: 200 with each check when the store answers, the schema is current and the packages are loaded', async () => {
    const res = await request(app.server).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.checks).toEqual({
      store: 'reachable',
      migrations: `schema version ${SCHEMA_VERSION}`,
      packages: expect.stringMatching(/^FHIR R4 and \d+ profiles loaded$/),
    });
  });

  test('/readyz: 503 naming the migrations when the schema is behind this build', async () => {
    const driverOf = app.store.repo.driver;
    await driverOf.query('DELETE FROM fhir_schema WHERE version = $1', [SCHEMA_VERSION]);
    try {
      const res = await request(app.server).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue).toEqual([
        expect.objectContaining({
          severity: 'error',
          code: 'transient',
          details: { text: expect.stringMatching(/^migrations: schema version \d+, this build needs/) },
        }),
      ]);
    } finally {
      await driverOf.query('INSERT INTO fhir_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
    }
    expect((await request(app.server).get('/readyz')).status).toBe(200);
  });

  test('health requests leave no AuditEvent; other requests still do', async () => {
    const count = async (): Promise<number> => {
      await app.audit.flush();
      const rows = await app.store.repo.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'AuditEvent'`);
      return rows.rows[0].n;
    };
    const before = await count();
    for (let i = 0; i < 3; i++) {
      await request(app.server).get('/healthz');
      await request(app.server).get('/readyz');
    }
    expect(await count()).toBe(before);
    await request(app.server).get('/fhir/Patient');
    expect(await count()).toBe(before + 1);
  });

  test('unknown paths outside /fhir are 404 OperationOutcomes, not 401; FHIR, ingest and admin still need a token', async () => {
    for (const path of ['/health', '/nope/deeper', '/favicon.ico']) {
      const res = await request(app.server).get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    for (const path of ['/fhir/Patient', '/FHIR/Patient', '/ingest/rejects', '/admin/clients', '/fhir/no-such-thing']) {
      expect({ path, status: (await request(app.server).get(path)).status }).toEqual({ path, status: 401 });
    }
    expect((await request(app.server).post('/ingest/canonical').send({})).status).toBe(401);
  });
});

describe('readiness checks that fail', () => {
  const validator = Validator.create();

  test('a store that does not answer: 503 naming the store, the cause logged, not sent', async () => {
    const logs: string[] = [];
    const driver = { query: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5999')) };
    const checks = await readiness({ driver, validator, log: (_l, m, meta) => logs.push(`${m} ${JSON.stringify(meta)}`) });
    expect(checks.store).toEqual({ ok: false, detail: 'the store did not answer a trivial query' });
    expect(logs.join('\n')).toContain('ECONNREFUSED');
  });

  test('a store that hangs: not ready after the timeout', async () => {
    const driver = { query: () => new Promise<never>(() => undefined) };
    const checks = await readiness({ driver, validator, timeoutMs: 50 });
    expect(checks.store.ok).toBe(false);
  });

  test('no profiles loaded: 503 naming the packages, over HTTP', async () => {
    const empty = { profileUrls: () => [], defs: validator.defs } as unknown as Validator;
    const app = createApp({ validator: empty, config: { MAX_BODY_BYTES: 1024 } });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.issue.map((i: { details: { text: string } }) => i.details.text)).toEqual(['packages: FHIR packages or profiles not loaded']);
  });

  test('never rate-limited: many health requests pass a limit of 1 request per second', async () => {
    const store = await openTestStore('pglite');
    try {
      const auth = await openTestAuth(store.repo.driver, { RATE_LIMIT_PER_SECOND: 1, RATE_LIMIT_BURST: 1 });
      const app = createApp({ validator, store: store.repo, auth, config: { MAX_BODY_BYTES: 1024, BASE_URL: FHIR_BASE } });
      for (let i = 0; i < 10; i++) {
        expect((await request(app).get('/healthz')).status).toBe(200);
        expect((await request(app).get('/readyz')).status).toBe(200);
      }
      const others = await Promise.all([0, 1, 2, 3].map(() => request(app).get('/fhir/metadata')));
      expect(others.map((r) => r.status)).toContain(429);
    } finally {
      await store.close();
    }
  }, 60_000);
});
