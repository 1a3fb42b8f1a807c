/**
 * POST /ingest/{source} for an outside source (a CSV mapping folder), on both store drivers:
 * accepted rows are stored, rejected ones are kept with their raw input and reasons
 * (GET /ingest/rejects), re-sending updates and never duplicates, and bad requests get a 4xx
 * OperationOutcome. The code tables are served as ConceptMaps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle, ConceptMap, Encounter, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { loadSource } from '../../src/translate';
import { RejectStore } from '../../src/store/rejects';
import { publishConceptMaps } from '../../src/pipeline/concept-maps';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const MINI = join(__dirname, '..', 'fixtures', 'mapping-mini');
const CONTACTS = readFileSync(join(MINI, 'contacts.csv'));
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('outside-source ingest on %s', (driver) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    const source = loadSource(MINI);
    const sources = new Map([[source.name, source]]);
    await publishConceptMaps(store.repo, sources);
    const rejects = await RejectStore.open(store.repo.driver);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 }, sources, rejects });
    // The source sends people: its contacts' clients come first, else the contacts wait for them (`awaiting person`, ingest-deltas.test.ts).
    const clients = `${readFileSync(join(MINI, 'clients.csv'), 'utf8').trimEnd()}\nP-9,Okafor,Jasmine,01/02/1990\n`;
    expect((await request(app).post('/ingest/mapping-mini?feed=people').set('Content-Type', 'text/csv').send(clients)).status).toBe(200);
  });
  afterAll(() => store?.close());

  const post = (body: string | Buffer, query: string, type = 'text/csv') =>
    request(app).post(`/ingest/mapping-mini${query}`).set('Content-Type', type).send(body);
  const count = async (type: string) => (await request(app).get(`/fhir/${type}?_summary=count`)).body.total as number;

  test('stores accepted rows and keeps rejected ones with their raw input and reasons', async () => {
    const res = await post(CONTACTS, '?feed=contacts');
    expect(res.status).toBe(200);
    expect(param(res.body, 'read')?.valueInteger).toBe(4);
    expect(param(res.body, 'accepted')?.valueInteger).toBe(2);
    expect(param(res.body, 'rejected')?.valueInteger).toBe(2);
    expect(param(res.body, 'rejectsKept')?.valueInteger).toBe(2);
    const response = param(res.body, 'bundle')?.resource as Bundle;
    expect(response.type).toBe('transaction-response');
    expect(await count('Encounter')).toBe(2);
    // 45 minutes: 3 units; 30 minutes: 2 units.
    expect(await count('ChargeItem')).toBe(2);
    const outcome = param(res.body, 'outcome')?.resource as OperationOutcome;
    const texts = outcome.issue.map((i) => i.details?.text ?? '');
    expect(texts.some((t) => /line 3/.test(t) && /4O/.test(t))).toBe(true);
    expect(texts.some((t) => /line 4/.test(t) && /XX/.test(t))).toBe(true);
    // The unknown intervention of a `warn` table is a warning, and its row still arrives.
    expect(outcome.issue.some((i) => i.severity === 'warning' && /line 5/.test(i.details?.text ?? '') && /ZZ/.test(i.details?.text ?? ''))).toBe(true);

    const listed = await request(app).get('/ingest/rejects?source=mapping-mini');
    expect(listed.status).toBe(200);
    const bundle = listed.body as Bundle;
    expect(bundle.total).toBe(2);
    const raws = bundle.entry?.map((e) => (e.resource as Parameters).parameter?.find((p) => p.name === 'raw')?.valueString);
    expect(raws).toEqual(expect.arrayContaining([expect.stringContaining('C-2,E-1,P-1'), expect.stringContaining('C-3,E-1,P-1')]));
  });

  test('re-sending updates, never duplicates, and does not pile up rejects', async () => {
    const res = await post(CONTACTS, '?feed=contacts');
    expect(res.status).toBe(200);
    const response = param(res.body, 'bundle')?.resource as Bundle;
    expect(response.entry?.every((e) => e.response?.status?.startsWith('200'))).toBe(true);
    expect(await count('Encounter')).toBe(2);
    const listed = (await request(app).get('/ingest/rejects?source=mapping-mini')).body as Bundle;
    expect(listed.total).toBe(2);
  });

  test('the file name picks the feed; Part 2 organizations label what they serve', async () => {
    const csv = 'ContactID,EpisodeID,ClientID,Program,Date,Time,Minutes,Type,Staff,Interventions\nC-9,E-9,P-9,mini-sud,10/01/2026,11:00 AM,20,TELE,S-1,SH\n';
    const res = await post(csv, '?file=contacts-october.csv');
    expect(res.status).toBe(200);
    const stored = (await request(app).get('/fhir/Encounter?_count=100')).body as Bundle;
    const enc = stored.entry?.map((e) => e.resource as Encounter).find((e) => e.identifier?.some((i) => i.value === 'C-9'));
    expect(enc?.meta?.security?.map((s) => s.code)).toEqual(expect.arrayContaining(['R', '42CFRPart2']));
  });

  test('dryRun stores nothing and keeps no rejects', async () => {
    const csv = 'ContactID,EpisodeID,ClientID,Date,Time,Minutes,Type,Staff,Interventions\nC-50,E-1,P-1,10/02/2026,9:00 AM,x,F2F,S-1,SH\n';
    const res = await post(csv, '?feed=contacts&dryRun=true');
    expect(res.status).toBe(422);
    expect(param(res.body, 'rejectsKept')?.valueInteger).toBe(0);
    const listed = (await request(app).get('/ingest/rejects?source=mapping-mini')).body as Bundle;
    expect(listed.total).toBe(2);
  });

  test.each([
    ['an unknown source', '/ingest/nowhere', 'text/csv', 'a,b\n', 404, /Unknown ingest source 'nowhere'/],
    ['a wrong content type', '/ingest/mapping-mini?feed=contacts', 'application/json', '{}', 415, /takes csv/],
    ['no feed when the source has several', '/ingest/mapping-mini', 'text/csv', 'a,b\n', 400, /feed/],
    ['an unknown feed', '/ingest/mapping-mini?feed=nope', 'text/csv', 'a,b\n', 400, /no feed 'nope'/],
    ['an empty body', '/ingest/mapping-mini?feed=contacts', 'text/csv', '', 400, /no body/],
    ['a missing column', '/ingest/mapping-mini?feed=contacts', 'text/csv', 'ContactID,EpisodeID\nC-1,E-1\n', 400, /Minutes/],
  ])('%s: %d with an OperationOutcome', async (_name, path, type, body, status, text) => {
    const res = await request(app).post(path).set('Content-Type', type).send(body);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).toMatch(text);
  });

  test('code tables are ConceptMaps in the store, and $translate answers from them', async () => {
    const cm = await request(app).get('/fhir/ConceptMap/mapping-mini-contact-mode');
    expect(cm.status).toBe(200);
    expect((cm.body as ConceptMap).group?.[0]?.element?.map((e) => e.code)).toEqual(['F2F', 'PH', 'TELE']);
    expect(validator.validate(cm.body as ConceptMap).valid).toBe(true);
    const url = (cm.body as ConceptMap).url as string;
    const system = (cm.body as ConceptMap).group?.[0]?.source as string;
    const res = await request(app)
      .post('/fhir/ConceptMap/$translate')
      .set('Content-Type', 'application/fhir+json')
      .send({
        resourceType: 'Parameters',
        parameter: [
          { name: 'url', valueUri: url },
          { name: 'system', valueUri: system },
          { name: 'code', valueCode: 'PH' },
        ],
      });
    expect(res.status).toBe(200);
    expect(param(res.body, 'result')?.valueBoolean).toBe(true);
    expect(JSON.stringify(res.body)).toContain('"telephone"');
    // Publishing again writes nothing: the maps did not change.
    expect(await publishConceptMaps(store.repo, new Map([['mapping-mini', loadSource(MINI)]]))).toBe(0);
  });
});
