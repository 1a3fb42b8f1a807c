/**
 * The supervisor self-assessment is not a patient record (issue 18): its subject is the
 * supervisor (a PractitionerRole), so it is in no Patient's compartment, and Patient- and
 * Group-level exports and `$everything` (what an HIE fetches per patient) leave it out; only a
 * system-level export, which holds every resource the client may read, carries it. Both drivers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { downloadAll, exportApp, GROUP_ID, loadFixtures, runExport, type TestApp } from './helpers';

const VALID = join(__dirname, '..', '..', 'examples', 'valid');
const example = (file: string): Resource => JSON.parse(readFileSync(join(VALID, file), 'utf8')) as Resource;
const SUPERVISOR_QR = 'QuestionnaireResponse-ana-ortiz-supervisor-self-assessment-2026-10.json';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('the supervisor self-assessment and patient-facing exports on %s', (driver) => {
  let store: TestStore;
  let t: TestApp;
  let id: string;
  beforeAll(async () => {
    store = await openTestStore(driver);
    await loadFixtures(store.repo);
    await store.repo.update(example('PractitionerRole-ana-ortiz-supervisor.json'));
    id = (await store.repo.update(example(SUPERVISOR_QR))).resource.id as string;
    t = await exportApp(validator, store.repo);
  });
  afterAll(async () => {
    await t?.bulk.close();
    await store?.close();
  });

  const responseIds = (byType: Record<string, Resource[]>): string[] => (byType.QuestionnaireResponse ?? []).map((r) => r.id as string);

  test('in the system-level export, in no Patient- or Group-level one', async () => {
    expect(responseIds(await downloadAll(t.app, await runExport(t.app, '/fhir/$export?_type=QuestionnaireResponse')))).toContain(id);
    const patientLevel = responseIds(await downloadAll(t.app, await runExport(t.app, '/fhir/Patient/$export')));
    expect(patientLevel.length).toBeGreaterThan(0);
    expect(patientLevel).not.toContain(id);
    expect(responseIds(await downloadAll(t.app, await runExport(t.app, `/fhir/Group/${GROUP_ID}/$export`)))).not.toContain(id);
  });

  test('not in a patient’s $everything', async () => {
    const res = await request(t.app).get('/fhir/Patient/dana-whitfield/$everything?_count=1000').expect(200);
    const ids = ((res.body as Bundle).entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
    expect(ids).toContain('Patient/dana-whitfield');
    expect(ids).not.toContain(`QuestionnaireResponse/${id}`);
  });
});
