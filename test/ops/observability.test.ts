/**
 * Operating it (issue 16 item 3): request logs (one JSON line per request on stdout, by route
 * pattern, never ids, query values or tokens; LOG_LEVEL), Prometheus metrics at /metrics (the
 * system/Metrics.read scope, which `*` scopes do not grant; or METRICS_PORT), on both drivers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import express from 'express';
import { createLogger, type Level } from '../../src/ops/logger';
import { metricsRegistry, setAuditQueueDepthProvider } from '../../src/ops/metrics';
import { startMetricsListener } from '../../src/ops/metrics-server';
import { requestObserver } from '../../src/http/request-log';
import { routePatterns, UNMATCHED } from '../../src/http/route-pattern';
import { fhirRouter } from '../../src/fhir-api';
import { Validator } from '../../src/validation';
import { openFullApp, type FullApp } from '../audit/full-app';
import { DRIVERS } from '../support/stores';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'canonical');

/** The value of one sample of the registry (0 when absent). */
async function sample(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = (metric?.values ?? []).find((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  return found ? Number(found.value) : 0;
}

/** On while captureStdout runs: the app's logger writes to the real stdout only then (the test run stays quiet). */
let capturing = false;
const quietLogger = createLogger('info', (line, _level, toStdout) => {
  if (capturing) (toStdout ? process.stdout : process.stderr).write(`${line}\n`);
});

/** Captures what is written to process.stdout while `fn` runs. */
async function captureStdout(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  capturing = true;
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    await fn();
  } finally {
    capturing = false;
    spy.mockRestore();
  }
  return lines;
}

describe('route patterns', () => {
  const validator = Validator.create();
  const routeOf = routePatterns({ router: fhirRouter(), isType: (t) => validator.defs.isResourceType(t) });
  const req = (method: string, url: string): express.Request => {
    const q = url.includes('?') ? Object.fromEntries(new URLSearchParams(url.slice(url.indexOf('?') + 1))) : {};
    return { method, originalUrl: url, url, query: q } as unknown as express.Request;
  };

  test.each([
    ['GET', '/fhir/Patient/pt-123', '/fhir/:type/:id'],
    ['GET', '/fhir/Patient?name=Whitfield&birthdate=1990-01-01', '/fhir/:type'],
    ['PUT', '/fhir/Encounter?identifier=x|1', '/fhir/:type'],
    ['GET', '/fhir/Patient/pt-123/_history/2', '/fhir/:type/:id/_history/:vid'],
    ['POST', '/fhir', '/fhir'],
    ['POST', '/fhir/Patient/$validate', '/fhir/:type/$validate'],
    ['GET', '/fhir/Patient/pt-9/$everything', '/fhir/Patient/:id/$everything'],
    ['GET', '/fhir/metadata', '/fhir/metadata'],
    ['GET', '/fhir/bulkstatus/4b4319e0', '/fhir/bulkstatus/:id'],
    ['GET', '/fhir/bulkfiles/4b4319e0/Patient-1.ndjson', '/fhir/bulkfiles/:id/:file'],
    ['GET', '/fhir/NotAType/1', `/fhir/${UNMATCHED}`],
    ['POST', '/ingest/canonical?dryRun=true', '/ingest/:source'],
    ['GET', '/ingest/rejects?source=x', '/ingest/rejects'],
    ['POST', '/ingest/rejects/$retry', '/ingest/rejects/$retry'],
    ['DELETE', '/admin/clients/abc', '/admin/clients/:id'],
    ['POST', '/auth/token', '/auth/token'],
    ['GET', '/ig/StructureDefinition-x.html', '/ig/:page'],
    ['GET', '/healthz', '/healthz'],
    ['GET', '/wp-admin/Dana-Whitfield', UNMATCHED],
    ['GET', 'http://evil.example/fhir/Patient/pt-1', '/fhir/:type/:id'],
  ])('%s %s -> %s', (method, url, pattern) => {
    expect(routeOf(req(method, url))).toBe(pattern);
  });
});

describe('logger', () => {
  test('LOG_LEVEL filters; JSON lines with time, level, msg', () => {
    const lines: Array<[string, Level, boolean]> = [];
    const log = createLogger('warn', (line, level, toStdout) => lines.push([line, level, toStdout]));
    log('info', 'not written');
    log.debug('not written');
    log('warn', 'written', { where: 'here' });
    log.request('info', { route: '/x' });
    log.request('error', { route: '/y' });
    expect(lines.map(([l]) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: 'warn', msg: 'written', where: 'here' },
      { time: expect.any(String), level: 'error', msg: 'request', route: '/y' },
    ]);
    expect(lines.map(([, , toStdout]) => toStdout)).toEqual([false, true]);
  });

  test('a request answered 5xx logs at error, 4xx at warn, health checks at debug only', async () => {
    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line));
    const app = express();
    app.use(requestObserver({ routeOf: routePatterns(), log }));
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    app.get('/', (_req, res) => void res.status(503).end());
    await request(app).get('/healthz');
    await request(app).get('/');
    await request(app).get('/missing');
    expect(lines.map((l) => JSON.parse(l) as { level: string; route: string; status: number })).toMatchObject([
      { level: 'error', route: '/', status: 503 },
      { level: 'warn', route: UNMATCHED, status: 404 },
    ]);
  });
});

describe.each(DRIVERS)('request logs and metrics over HTTP (%s)', (driver) => {
  let app: FullApp;
  beforeAll(async () => {
    app = await openFullApp(driver, { logger: quietLogger });
  }, 120_000);
  afterAll(() => app?.close());

  test('one JSON line per request on stdout, by route pattern; no ids, query values or tokens', async () => {
    const writer = await app.token(['system/*.cruds'], 'Writer');
    const patient = { resourceType: 'Patient', id: 'pt-secret-77', name: [{ family: 'Whitfieldsecret' }] };
    const lines = await captureStdout(async () => {
      await request(app.server)
        .put('/fhir/Patient/pt-secret-77')
        .set('Authorization', `Bearer ${writer.token}`)
        .set('Content-Type', 'application/fhir+json')
        .send(JSON.stringify(patient));
      await request(app.server).get('/fhir/Patient/pt-secret-77').set('Authorization', `Bearer ${writer.token}`);
      await request(app.server).get('/fhir/Patient?family=Whitfieldsecret&birthdate=1971-02-03').set('Authorization', `Bearer ${writer.token}`);
      await request(app.server).get('/fhir/Patient/pt-secret-77?_elements=name').set('Authorization', 'Bearer not-a-valid-token-secret');
      await request(app.server).get('/nothing-here/Whitfieldsecret');
      await request(app.server).get('/healthz');
    });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.method, r.route, r.status, r.level])).toEqual([
      ['PUT', '/fhir/:type/:id', 201, 'info'],
      ['GET', '/fhir/:type/:id', 200, 'info'],
      ['GET', '/fhir/:type', 200, 'info'],
      ['GET', '/fhir/:type/:id', 401, 'warn'],
      ['GET', UNMATCHED, 404, 'warn'],
    ]);
    for (const r of records) {
      expect(Object.keys(r).sort()).toEqual(['client', 'level', 'method', 'ms', 'msg', 'route', 'status', 'time']);
      expect(typeof r.ms).toBe('number');
    }
    expect(records[0].client).toBe(writer.clientId);
    expect(records[3].client).toBeNull();
    const all = lines.join('\n');
    for (const secret of ['pt-secret-77', 'Whitfieldsecret', '1971-02-03', 'birthdate', '_elements', writer.token, 'not-a-valid-token-secret', 'Bearer']) {
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
    }
  });

  test('/metrics: 401 without a token, 403 for a * scope, 200 for system/Metrics.read, with requests by route and status', async () => {
    expect((await request(app.server).get('/metrics')).status).toBe(401);
    const everything = await app.token(['system/*.cruds'], 'Everything');
    const refused = await request(app.server).get('/metrics').set('Authorization', `Bearer ${everything.token}`);
    expect(refused.status).toBe(403);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    const before = await sample('peerbridge_http_requests_total', { method: 'GET', route: '/fhir/:type/:id', status: '404' });
    await request(app.server).get('/fhir/Patient/no-such-one').set('Authorization', `Bearer ${everything.token}`);
    const scraper = await app.token(['system/Metrics.read'], 'Prometheus');
    const res = await request(app.server).get('/metrics').set('Authorization', `Bearer ${scraper.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE peerbridge_http_requests_total counter');
    expect(res.text).toMatch(/^peerbridge_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/fhir\/:type\/:id"\} \d+$/m);
    expect(res.text).toMatch(/^peerbridge_audit_queue_depth \d+$/m);
    expect(res.text).toMatch(/^peerbridge_export_jobs\{state="completed"\} \d+$/m);
    expect(await sample('peerbridge_http_requests_total', { method: 'GET', route: '/fhir/:type/:id', status: '404' })).toBe(before + 1);
    expect(res.text).not.toContain('no-such-one');
  });

  test('ingest records by kind and outcome; export jobs by state; audit queue depth from its provider', async () => {
    // Registered for every organization ('*'): the examples name organizations of their own.
    const writer = await app.token(['system/*.cruds'], 'Ingest', ['*']);
    const accepted = await sample('peerbridge_ingest_records_total', { source: 'canonical', kind: 'person', outcome: 'accepted' });
    const rejected = await sample('peerbridge_ingest_records_total', { source: 'canonical', outcome: 'rejected' });
    for (const file of ['riverbend-dana-whitfield.json', 'bad-records.json']) {
      const res = await request(app.server)
        .post('/ingest/canonical')
        .set('Authorization', `Bearer ${writer.token}`)
        .set('Content-Type', 'application/json')
        .send(readFileSync(join(EXAMPLES, file), 'utf8'));
      expect([200, 422]).toContain(res.status);
    }
    expect(await sample('peerbridge_ingest_records_total', { source: 'canonical', kind: 'person', outcome: 'accepted' })).toBeGreaterThan(accepted);
    expect(await sample('peerbridge_ingest_records_total', { source: 'canonical', outcome: 'rejected' })).toBeGreaterThan(rejected);

    const kick = await request(app.server).get('/fhir/$export').set('Authorization', `Bearer ${writer.token}`).set('Prefer', 'respond-async');
    expect(kick.status).toBe(202);
    expect(await sample('peerbridge_export_jobs', { state: 'accepted' })).toBeGreaterThanOrEqual(1);

    setAuditQueueDepthProvider(() => 7);
    expect(await sample('peerbridge_audit_queue_depth', {})).toBe(7);
    setAuditQueueDepthProvider(() => app.audit.writer.stats.queued);
  });
});

describe('METRICS_PORT listener', () => {
  test('GET /metrics without a token; any other path 404', async () => {
    const listener = await startMetricsListener({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${listener.port}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('peerbridge_http_requests_total');
      expect((await fetch(`${base}/fhir/Patient`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await listener.close();
    }
  });
});
