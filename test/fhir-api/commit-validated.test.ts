/**
 * Pipeline output is validated once (issue 15): a transaction committed in-process with
 * `entriesValidated` (ingest, retries, MLLP) is not validated again; without it, and over HTTP,
 * the whole Bundle is validated before anything is written. On both store drivers.
 */
import request from 'supertest';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { fhirRouter, transactionCommitter } from '../../src/fhir-api';
import { createApp } from '../../src/http/app';
import { inThreadValidation, Validator, type BodyValidator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

const patient = (id: string): Patient => ({ resourceType: 'Patient', id, name: [{ family: 'Rivera', given: ['Ana'] }], gender: 'female' });
const bundleOf = (...resources: Patient[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `Patient/${r.id}` } })),
});

/** A body validator that counts what it is asked to validate. */
function counting(): BodyValidator & { calls: number } {
  const inner = inThreadValidation(validator);
  const v = {
    calls: 0,
    validate: (input: unknown) => {
      v.calls++;
      return inner.validate(input);
    },
  };
  return v;
}

describe.each(DRIVERS)('commits of validated pipeline output on %s', (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
  });
  afterAll(async () => {
    await store?.close();
  });

  test('entriesValidated: the Bundle is stored without a second validation', async () => {
    const validation = counting();
    const commit = transactionCommitter(fhirRouter(), { repo: store.repo, validator, validation }, 'http://localhost/fhir', { entriesValidated: true });
    const response = await commit(bundleOf(patient('pv-1'), patient('pv-2')));
    expect(response.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    expect(validation.calls).toBe(0);
    expect((await store.repo.read<Patient>('Patient', 'pv-2')).name?.[0].family).toBe('Rivera');
  });

  test('without it the Bundle is validated first, and an invalid entry writes nothing', async () => {
    const validation = counting();
    const commit = transactionCommitter(fhirRouter(), { repo: store.repo, validator, validation }, 'http://localhost/fhir');
    await commit(bundleOf(patient('pv-3')));
    expect(validation.calls).toBe(1);
    const bad = { ...patient('pv-4'), gender: 'woman' } as unknown as Patient;
    await expect(commit(bundleOf(patient('pv-5'), bad))).rejects.toMatchObject({ status: 422 });
    await expect(store.repo.read('Patient', 'pv-5')).rejects.toBeDefined();
  });

  test('over HTTP the flag cannot be set: a client transaction is always validated', async () => {
    const app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 } });
    const bad = { ...patient('pv-6'), gender: 'woman' };
    const res = await request(app)
      .post('/fhir?entriesValidated=true')
      .set('content-type', 'application/fhir+json')
      .set('entriesValidated', 'true')
      .send(bundleOf(bad as Patient));
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('gender');
  });
});
