/**
 * POST /ingest/canonical without dryRun, on both store drivers: the translated Bundle is committed
 * as one transaction; re-sending the same records updates them and never duplicates them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const FHIR = 'application/fhir+json';
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'canonical', 'riverbend-dana-whitfield.json');
const doc = () => JSON.parse(readFileSync(EXAMPLE, 'utf8'));
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('ingest into the store on %s', (driver) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 16 * 1024 * 1024 } });
  });
  afterAll(() => store?.close());

  const ingest = (body: unknown, query = '') =>
    request(app).post(`/ingest/canonical${query}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const count = async (type: string) => (await request(app).get(`/fhir/${type}?_summary=count`)).body.total as number;

  test('stores the records and answers with the transaction-response', async () => {
    const res = await ingest(doc());
    expect(res.status).toBe(200);
    const response = param(res.body, 'bundle')?.resource as Bundle;
    expect(response.type).toBe('transaction-response');
    expect(response.entry).toHaveLength(27);
    expect(response.entry?.every((e) => e.response?.status?.startsWith('201'))).toBe(true);
    expect(await count('Encounter')).toBe(5);
    expect(await count('ChargeItem')).toBe(3);
    // References inside the Bundle were resolved to the stored resources.
    const patient = (await request(app).get('/fhir/Patient?identifier=http://riverbend-ccbhc.example.org/fhir/sid/mrn|RB-204117').set('Accept', FHIR))
      .body as Bundle;
    expect(patient.entry).toHaveLength(1);
    const encounters = (await request(app).get(`/fhir/Encounter?patient=${patient.entry?.[0]?.resource?.id}`)).body as Bundle;
    expect(encounters.entry).toHaveLength(5);
  });

  test('re-sending updates (version 2) and never duplicates', async () => {
    const changed = doc();
    changed.episodes[0].contacts[0].note = 'Corrected note';
    const res = await ingest(changed);
    expect(res.status).toBe(200);
    const response = param(res.body, 'bundle')?.resource as Bundle;
    expect(response.entry?.every((e) => e.response?.status?.startsWith('200'))).toBe(true);
    expect(await count('Encounter')).toBe(5);
    expect(await count('Patient')).toBe(1);
    const enc = response.entry?.find((e) => e.response?.location?.includes('/Encounter/'));
    expect(enc?.response?.etag).toBe('W/"2"');
  });

  test('a rejected record is reported and the rest is stored; dryRun stores nothing', async () => {
    const bad = doc();
    bad.source = 'http://another-ehr.example.org';
    bad.episodes[0].contacts[2].durationMinutes = 0;
    delete bad.episodes[0].contacts[2].end;
    const dry = await ingest(bad, '?dryRun=true');
    expect(dry.status).toBe(200);
    expect(await count('Encounter')).toBe(5);
    const res = await ingest(bad);
    expect(res.status).toBe(200);
    expect(param(res.body, 'rejected')?.valueInteger).toBe(1);
    const outcome = param(res.body, 'outcome')?.resource as { issue: { severity: string; expression: string[] }[] };
    expect(outcome.issue.filter((i) => i.severity === 'error').map((i) => i.expression[0])).toEqual(['$.episodes[0].contacts[2].durationMinutes']);
    expect(await count('Encounter')).toBe(9);
  });
});
