/**
 * A transaction Bundle may not kick off `$export`: the job is recorded outside the transaction,
 * so a rollback would not undo it and a retry of the transaction (src/store/write-locks.ts) would
 * record it twice (and on PGlite, whose one connection the transaction holds, the kick-off waited
 * for it forever). Refused with 400 before anything runs; a batch may still carry one.
 */
import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { exportApp, type TestApp } from './helpers';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('$export inside a transaction on %s', (driver) => {
  let store: TestStore;
  let t: TestApp;
  beforeAll(async () => {
    store = await openTestStore(driver);
    t = await exportApp(validator, store.repo, { worker: false });
  });
  afterAll(async () => {
    await t?.bulk.close();
    await store?.close();
  });

  test('is refused with 400 naming the entry; no job is recorded and nothing is written', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'tx-export' }, request: { method: 'PUT', url: 'Patient/tx-export' } },
        { request: { method: 'GET', url: 'Patient/$export' } },
      ],
    };
    const res = await request(t.app).post('/fhir').set('Content-Type', 'application/fhir+json').set('Prefer', 'respond-async').send(bundle);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toMatch(/Bundle\.entry\[1\].*\$export/);
    const jobs = await store.repo.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM bulk_export_job');
    expect(jobs.rows[0].n).toBe(0);
    expect((await request(t.app).get('/fhir/Patient/tx-export')).status).toBe(404);
  });
});
