/**
 * `GET /ingest/rejects` and `POST /ingest/rejects/$retry` (src/http/rejects-router.ts) on a small
 * Express app: the router behind a JSON body reader, and an error handler answering FhirErrors
 * as the app's does.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import type { Bundle, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { FhirError } from '../../src/outcomes';
import { rejectsRouter } from '../../src/http/rejects-router';
import type { RetryRequest } from '../../src/pipeline/retry-rejects';
import { RejectStore, type RejectRecord } from '../../src/store/rejects';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/http/app';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';

const FHIR_JSON = 'application/fhir+json';

function reject(n: number, over: Partial<RejectRecord> = {}): RejectRecord {
  return {
    source: 'riverbend-csv',
    feed: 'contacts',
    record: n,
    input: 'contacts.csv',
    where: `line ${n + 1}`,
    kind: 'contact',
    id: `C-${1000 + n}`,
    errors: [
      { field: 'durationMinutes', source: `line ${n + 1}, column "Minutes"`, reason: "Not a whole number: '4O'", stage: 'mapping' },
      { reason: 'Contact starts in the future', stage: 'rules' },
    ],
    raw: `C-${1000 + n},E-77,1001,09/15/2026,10:00 AM,4O,F2F,`,
    header: 'ContactID,EpisodeID,ClientID,ServiceDate,StartTime,Minutes,ContactType,Note',
    ...over,
  };
}

const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

describe.each(DRIVERS)('ingest rejects over HTTP on %s', (driver) => {
  let store: TestStore;
  let rejects: RejectStore;
  let app: express.Express;
  const retries: RetryRequest[] = [];

  beforeAll(async () => {
    store = await openTestStore(driver);
    rejects = await RejectStore.open(store.repo.driver);
    app = express();
    app.set('query parser', 'simple');
    app.use(express.json({ type: [FHIR_JSON, 'application/json'] }));
    app.use(
      '/ingest/rejects',
      rejectsRouter({
        rejects,
        baseUrl: 'http://localhost:8080/ingest/rejects',
        retry: async (req) => {
          retries.push(req);
          return { status: 200, body: { resourceType: 'Parameters', parameter: [{ name: 'retried', valueInteger: req.ids?.length ?? 0 }] } };
        },
      }),
    );
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (err instanceof FhirError) {
        res.status(err.status).type(FHIR_JSON).send(JSON.stringify(err.outcome));
        return;
      }
      res.status(500).send(String(err));
    });
  });
  afterAll(() => store?.close());

  test("GET lists a source's open rejects as Parameters in a searchset Bundle, with the raw input and an outcome", async () => {
    const [stored] = await rejects.add([reject(1)]);
    await rejects.add([reject(1, { source: 'other' })]);
    const res = await request(app).get('/ingest/rejects?source=riverbend-csv').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = res.body as Bundle<Parameters>;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(bundle.link?.[0]).toEqual({ relation: 'self', url: expect.stringMatching(/\/ingest\/rejects\?source=riverbend-csv&status=open&_count=50$/) });
    expect(bundle.link).toHaveLength(1);
    const entry = bundle.entry?.[0];
    expect(entry?.fullUrl).toBe(`urn:uuid:${stored.id}`);
    expect(entry?.search).toEqual({ mode: 'match' });
    const p = entry?.resource as Parameters;
    expect(p).toMatchObject({ resourceType: 'Parameters', id: stored.id });
    expect(
      Object.fromEntries(
        (p.parameter ?? []).filter((x) => x.name !== 'outcome').map((x) => [x.name, x.valueString ?? x.valueInteger ?? x.valueCode ?? x.valueInstant]),
      ),
    ).toEqual({
      id: stored.id,
      source: 'riverbend-csv',
      feed: 'contacts',
      record: 1,
      input: 'contacts.csv',
      where: 'line 2',
      kind: 'contact',
      recordId: 'C-1001',
      status: 'open',
      receivedAt: stored.receivedAt,
      attempts: 1,
      raw: reject(1).raw,
      header: reject(1).header,
    });
    expect(param(p, 'outcome')?.resource).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'invalid',
          details: { text: "Not a whole number: '4O'" },
          expression: ['durationMinutes'],
          diagnostics: 'source: line 2, column "Minutes"; stage: mapping',
        },
        { severity: 'error', code: 'processing', details: { text: 'Contact starts in the future' }, diagnostics: 'stage: rules' },
      ],
    });
  });

  test('GET pages with next links until the last page; feed and status filter', async () => {
    const source = 'paged';
    const added = await rejects.add([1, 2, 3, 4, 5].map((i) => reject(i, { source, feed: i === 5 ? 'episodes' : 'contacts' })));
    const ids: string[] = [];
    let url: string | undefined = `/ingest/rejects?source=${source}&_count=2`;
    let pages = 0;
    while (url) {
      const bundle = (await request(app).get(url).expect(200)).body as Bundle;
      expect(bundle.total).toBe(5);
      ids.push(...(bundle.entry ?? []).map((e) => e.resource?.id as string));
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      url = next ? new URL(next).pathname + new URL(next).search : undefined;
      pages++;
    }
    expect(pages).toBe(3);
    expect(ids.sort()).toEqual(added.map((r) => r.id).sort());

    const episodes = (await request(app).get(`/ingest/rejects?source=${source}&feed=episodes`).expect(200)).body as Bundle;
    expect(episodes.total).toBe(1);
    await rejects.resolve(added[0].id);
    const resolved = (await request(app).get(`/ingest/rejects?source=${source}&status=resolved`).expect(200)).body as Bundle<Parameters>;
    expect(resolved.entry?.map((e) => e.resource?.id)).toEqual([added[0].id]);
    expect(param(resolved.entry?.[0].resource as Parameters, 'resolvedAt')?.valueInstant).toBeDefined();
    expect(((await request(app).get(`/ingest/rejects?source=${source}&status=all`).expect(200)).body as Bundle).total).toBe(5);
    const none = (await request(app).get(`/ingest/rejects?source=${source}&_count=0`).expect(200)).body as Bundle;
    expect(none.total).toBe(4);
    expect(none.entry).toBeUndefined();
    expect(((await request(app).get('/ingest/rejects?source=nobody').expect(200)).body as Bundle).total).toBe(0);
  });

  test.each([
    ['/ingest/rejects', 'source is required'],
    ['/ingest/rejects?source=', 'source is required'],
    ['/ingest/rejects?source=a&status=closed', 'status must be one of open, resolved, all'],
    ['/ingest/rejects?source=a&_count=abc', '_count must be a whole number'],
    ['/ingest/rejects?source=a&_count=-1', '_count must be a whole number'],
    ['/ingest/rejects?source=a&_count=5000', '_count must be a whole number'],
    ['/ingest/rejects?source=a&source=b', 'source must be given once'],
    ['/ingest/rejects?source=a&cursor=garbage', 'Invalid cursor'],
    ['/ingest/rejects?source=a&sort=x', "Unknown parameter 'sort'"],
  ])('GET %s is a 400 OperationOutcome', async (url, text) => {
    const res = await request(app).get(url).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const outcome = res.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0].details?.text).toContain(text);
  });

  test("POST /$retry reads source, ids and feed from Parameters and answers with the retry's result", async () => {
    retries.length = 0;
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'source', valueString: 'riverbend-csv' },
        { name: 'id', valueString: 'a' },
        { name: 'id', valueString: 'b' },
        { name: 'feed', valueString: 'contacts' },
      ],
    };
    const res = await request(app).post('/ingest/rejects/$retry').set('Content-Type', FHIR_JSON).send(JSON.stringify(body)).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body).toEqual({ resourceType: 'Parameters', parameter: [{ name: 'retried', valueInteger: 2 }] });
    expect(retries).toEqual([{ source: 'riverbend-csv', ids: ['a', 'b'], feed: 'contacts' }]);

    await request(app)
      .post('/ingest/rejects/%24retry')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'source', valueString: 'x' }] }))
      .expect(200);
    expect(retries[1]).toEqual({ source: 'x' });
  });

  test.each([
    [{ resourceType: 'Patient' }, 'must be a FHIR Parameters resource'],
    [{ resourceType: 'Parameters' }, 'source is required'],
    [{ resourceType: 'Parameters', parameter: {} }, 'must be an array'],
    [{ resourceType: 'Parameters', parameter: [{ name: 'source', valueInteger: 1 }] }, 'must have a valueString'],
    [
      {
        resourceType: 'Parameters',
        parameter: [
          { name: 'source', valueString: 'a' },
          { name: 'source', valueString: 'b' },
        ],
      },
      'source must be given once',
    ],
    [
      {
        resourceType: 'Parameters',
        parameter: [
          { name: 'source', valueString: 'a' },
          { name: 'all', valueString: 'yes' },
        ],
      },
      "Unknown parameter 'all'",
    ],
  ])('POST /$retry with %j is a 400', async (body, text) => {
    const res = await request(app).post('/ingest/rejects/$retry').set('Content-Type', FHIR_JSON).send(JSON.stringify(body)).expect(400);
    expect((res.body as OperationOutcome).issue?.[0].details?.text).toContain(text);
  });

  test("other paths are not the router's", async () => {
    await request(app).post('/ingest/rejects/retry').set('Content-Type', FHIR_JSON).send('{}').expect(404);
    await request(app).get('/ingest/rejects/$retry').expect(404);
  });
});

/** A one-feed CSV mapping whose contact-mode table lacks TELE. */
const MAPPING: Record<string, string> = {
  'source.yaml': 'name: http-mini\nsystem: https://ehr.http.example.org/peer\nformat: csv\ntimezone: America/Chicago\n',
  'tables.yaml': 'tables:\n  contact-mode:\n    target: contact-mode\n    codes:\n      F2F: in-person\n',
  'contacts.yaml': `match: "contacts*.csv"
records:
  - record: contact
    fields:
      id: { from: ContactID, required: true }
      episode.id: EpisodeID
      episode.personId: ClientID
      episode.organizationId: { const: http-ccbhc }
      start: { from: [Date, Time], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }] }
      durationMinutes: { from: Minutes, transform: [integer] }
      mode: { from: Type, table: contact-mode }
      specialistId: Staff
`,
};
const CSV = [
  'ContactID,EpisodeID,ClientID,Date,Time,Minutes,Type,Staff',
  'C-1,E-1,P-1,09/15/2026,10:00 AM,45,F2F,S-1',
  'C-2,E-1,P-1,09/22/2026,2:30 PM,4O,F2F,S-1',
  'C-3,E-1,P-1,09/29/2026,9:00 AM,60,TELE,S-1',
].join('\n');

describe('in the app (createApp with sources and a rejects store)', () => {
  let store: TestStore;
  let app: express.Express;
  let root: string;
  beforeAll(async () => {
    store = await openTestStore('pglite');
    root = mkdtempSync(join(tmpdir(), 'pb-http-rejects-'));
    const dir = join(root, 'http-mini');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(MAPPING)) writeFileSync(join(dir, name), text);
    const mini = loadSource(dir);
    app = createApp({
      validator: Validator.create(),
      store: store.repo,
      config: { MAX_BODY_BYTES: 1024 * 1024 },
      sources: new Map([[mini.name, mini]]),
      rejects: await RejectStore.open(store.repo.driver),
    });
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await store?.close();
  });

  test('rejected rows of an ingest are listed, and a retry with an unchanged mapping keeps them open', async () => {
    const ingested = await request(app).post('/ingest/http-mini?feed=contacts').set('Content-Type', 'text/csv').send(CSV);
    expect([ingested.status, ingested.status === 200 ? '' : JSON.stringify(ingested.body)]).toEqual([200, '']);
    const listed = (await request(app).get('/ingest/rejects?source=http-mini').expect(200)).body as Bundle<Parameters>;
    expect(listed.total).toBe(2);
    const raws = (listed.entry ?? []).map((e) => param(e.resource as Parameters, 'raw')?.valueString);
    expect(raws.sort()).toEqual(CSV.split('\n').filter((l) => /^C-[23],/.test(l)));

    const retry = await request(app)
      .post('/ingest/rejects/$retry')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'source', valueString: 'http-mini' }] }))
      .expect(200);
    expect(['retried', 'resolved', 'stillRejected'].map((n) => param(retry.body as Parameters, n)?.valueInteger)).toEqual([2, 0, 2]);
    const after = (await request(app).get('/ingest/rejects?source=http-mini').expect(200)).body as Bundle<Parameters>;
    expect((after.entry ?? []).map((e) => param(e.resource as Parameters, 'attempts')?.valueInteger)).toEqual([2, 2]);

    const unknown = await request(app)
      .post('/ingest/rejects/$retry')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'source', valueString: 'nobody' }] }))
      .expect(404);
    expect((unknown.body as OperationOutcome).issue?.[0].code).toBe('not-found');
  });
});
