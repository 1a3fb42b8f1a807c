/**
 * POST /ingest/{source} with a feed that groups rows (riverbend-csv's eligibility.csv: one row per
 * criterion, a review per group), on both store drivers: the answer counts rows as records and the
 * groups in parameters of their own (every count a valueInteger), and a rejected row is kept as
 * that row, with its own line and raw text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Parameters } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { loadSource } from '../../src/translate';
import { RejectStore } from '../../src/store/rejects';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const OUTSIDE = join(__dirname, '..', '..', 'examples', 'outside', 'riverbend-csv');
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

describe.each(DRIVERS)('ingest of a grouped feed on %s', (driver) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    const source = loadSource(join(__dirname, '..', '..', 'mappings', 'riverbend-csv'));
    const rejects = await RejectStore.open(store.repo.driver);
    app = createApp({
      validator: Validator.create(),
      store: store.repo,
      config: { MAX_BODY_BYTES: 1024 * 1024 },
      sources: new Map([[source.name, source]]),
      rejects,
    });
  });
  afterAll(() => store?.close());

  test('rows are counted as records, groups on their own, and every parameter is an integer', async () => {
    const csv = readFileSync(join(OUTSIDE, 'eligibility.csv'));
    const res = await request(app).post('/ingest/riverbend-csv?feed=eligibility&dryRun=true').set('Content-Type', 'text/csv').send(csv);
    const body = res.body as Parameters;
    expect(param(body, 'read')?.valueInteger).toBe(28);
    expect(param(body, 'groupsRead')?.valueInteger).toBe(7);
    // Counts are integers; `byKind` parts (the console's per-kind counts) hold a kind and integers.
    for (const p of body.parameter ?? []) {
      if (p.name === 'byKind') {
        for (const q of p.part ?? []) expect(q.name === 'kind' ? typeof q.valueCode === 'string' : Number.isInteger(q.valueInteger)).toBe(true);
      } else {
        expect(p.resource !== undefined || Number.isInteger(p.valueInteger)).toBe(true);
      }
    }
    // Alone, the reviews' episodes are not in the run: every row is rejected, row by row or with its group.
    expect(param(body, 'rejected')?.valueInteger).toBe(28);
    expect(param(body, 'groupsRejected')?.valueInteger).toBe(7);
    expect(res.status).toBe(422);
  });
});
