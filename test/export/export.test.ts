/**
 * Bulk Data export over HTTP on both store drivers
 * (https://hl7.org/fhir/uv/bulkdata/export.html): system, Patient and Group kick-offs, the
 * manifest, files read back line by line, `_type`, `_since`, the snapshot at `transactionTime`,
 * POST with Parameters, lenient handling, and bad requests answered with OperationOutcomes.
 */
import type { Encounter, Goal, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { EXPORT_DEFINITIONS } from '../../src/export';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import {
  countsOf,
  download,
  downloadAll,
  exportApp,
  GROUP_ID,
  kickoff,
  loadFixtures,
  OTHER_PATIENT,
  pathOf,
  poll,
  runExport,
  storedCounts,
  type TestApp,
} from './helpers';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

/** Types outside the Patient compartment (a Group is inside it, through `member`). */
const COMPARTMENT_FREE = ['Practitioner', 'PractitionerRole', 'Organization', 'Location'];
const idsOf = (rs: Resource[] | undefined): string[] => (rs ?? []).map((r) => r.id as string).sort();

describe.each(DRIVERS)('Bulk Data export on %s', (driver) => {
  let store: TestStore;
  let t: TestApp;
  beforeAll(async () => {
    store = await openTestStore(driver);
    await loadFixtures(store.repo);
    t = await exportApp(validator, store.repo);
  });
  afterAll(async () => {
    await t?.bulk.close();
    await store?.close();
  });

  test('the CapabilityStatement lists the three export operations', async () => {
    const res = await request(t.app).get('/fhir/metadata');
    const rest = res.body.rest[0];
    expect(rest.operation).toContainEqual({ name: 'export', definition: EXPORT_DEFINITIONS.system });
    const ops = (type: string) => rest.resource.find((r: { type: string }) => r.type === type)?.operation ?? [];
    expect(ops('Patient')).toContainEqual({ name: 'export', definition: EXPORT_DEFINITIONS.patient });
    expect(ops('Group')).toContainEqual({ name: 'export', definition: EXPORT_DEFINITIONS.group });
  });

  test('system export: 202 + Content-Location, then the manifest; every file read back line by line', async () => {
    const expected = await storedCounts(store.repo);
    const kick = await kickoff(t.app, '/fhir/$export?_outputFormat=application%2Ffhir%2Bndjson');
    expect(kick.status).toBe(202);
    expect(kick.headers['content-location']).toMatch(/^http:\/\/localhost:8080\/fhir\/bulkstatus\/[0-9a-f-]{36}$/);
    const done = await poll(t.app, pathOf(kick.headers['content-location']));
    expect(done.status).toBe(200);
    expect(done.headers['content-type']).toMatch(/^application\/json/);
    expect(Date.parse(done.headers.expires)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const manifest = done.body;
    expect(Date.parse(manifest.transactionTime)).not.toBeNaN();
    expect(manifest.request).toMatch(/\/fhir\/\$export\?_outputFormat=application%2Ffhir%2Bndjson$/);
    expect(manifest.requiresAccessToken).toBe(false);
    expect(manifest.error).toEqual([]);
    const byType = await downloadAll(t.app, manifest);
    expect(countsOf(byType)).toEqual(expected);
    const all = Object.values(byType).flat();
    expect(new Set(all.map((r) => `${r.resourceType}/${r.id}`)).size).toBe(all.length);
  });

  test('_type limits the files to the types asked for (comma-separated and repeated)', async () => {
    const manifest = await runExport(t.app, '/fhir/$export?_type=Patient,Encounter&_type=Group');
    expect(manifest.output.map((f) => f.type).sort()).toEqual(['Encounter', 'Group', 'Patient']);
    const byType = await downloadAll(t.app, manifest);
    expect(idsOf(byType.Patient)).toEqual(['dana-whitfield', OTHER_PATIENT]);
    expect(byType.Encounter).toHaveLength(4);
  });

  test('Patient-level export: the patients and their compartments, nothing else', async () => {
    const byType = await downloadAll(t.app, await runExport(t.app, '/fhir/Patient/$export'));
    for (const type of COMPARTMENT_FREE) {
      expect(byType[type]).toBeUndefined();
    }
    expect(idsOf(byType.Patient)).toEqual(['dana-whitfield', OTHER_PATIENT]);
    expect(byType.Encounter).toHaveLength(4);
    expect(byType.QuestionnaireResponse).toHaveLength(3);
  });

  test("Group export: only the Group's active Patient members", async () => {
    const byType = await downloadAll(t.app, await runExport(t.app, `/fhir/Group/${GROUP_ID}/$export`));
    expect(idsOf(byType.Patient)).toEqual(['dana-whitfield']);
    expect(idsOf(byType.Encounter)).not.toContain(`${OTHER_PATIENT}-contact-1`);
    expect(byType.Encounter).toHaveLength(3);
    for (const type of COMPARTMENT_FREE) {
      expect(byType[type]).toBeUndefined();
    }
  });

  test('POST kick-off with a Parameters body (_type, patient)', async () => {
    const res = await request(t.app)
      .post('/fhir/Patient/$export')
      .set('Content-Type', 'application/fhir+json')
      .set('Prefer', 'respond-async')
      .send({
        resourceType: 'Parameters',
        parameter: [
          { name: '_outputFormat', valueString: 'ndjson' },
          { name: '_type', valueString: 'Patient,Encounter' },
          { name: 'patient', valueReference: { reference: `Patient/${OTHER_PATIENT}` } },
        ],
      });
    expect(res.status).toBe(202);
    const done = await poll(t.app, pathOf(res.headers['content-location']));
    const byType = await downloadAll(t.app, done.body);
    expect(idsOf(byType.Patient)).toEqual([OTHER_PATIENT]);
    expect(idsOf(byType.Encounter)).toEqual([`${OTHER_PATIENT}-contact-1`]);
  });

  test('lenient handling ignores unsupported parameters and lists a warning in the error array', async () => {
    const manifest = await runExport(t.app, '/fhir/$export?_type=Patient,Nope&_elements=id', 'respond-async, handling=lenient');
    expect(manifest.output.map((f) => f.type)).toEqual(['Patient']);
    expect(manifest.error).toHaveLength(1);
    expect(manifest.error[0].type).toBe('OperationOutcome');
    const outcomes = await download(t.app, manifest.error[0].url);
    const texts = outcomes.flatMap((o) => (o.resourceType === 'OperationOutcome' ? o.issue.map((i) => i.details?.text) : []));
    expect(texts).toEqual(
      expect.arrayContaining([expect.stringMatching(/'Nope' is not a resource type/), expect.stringMatching(/_elements is not supported/)]),
    );
  });

  test.each<[string, string, Record<string, string>, RegExp]>([
    ['no Prefer: respond-async', '/fhir/$export', { Prefer: '' }, /Prefer: respond-async/],
    ['an unsupported _outputFormat', '/fhir/$export?_outputFormat=text/csv', {}, /_outputFormat 'text\/csv'/],
    ['a _since that is not an instant', '/fhir/$export?_since=yesterday', {}, /_since must be/],
    ['an unknown _type', '/fhir/$export?_type=Nope', {}, /'Nope' is not a resource type/],
    ['_elements', '/fhir/$export?_elements=id', {}, /_elements is not supported/],
    ['_typeFilter', '/fhir/$export?_typeFilter=Encounter%3Fstatus%3Dfinished', {}, /_typeFilter is not supported/],
    ['includeAssociatedData', '/fhir/$export?includeAssociatedData=LatestProvenanceResources', {}, /includeAssociatedData is not supported/],
    ['a type outside the Patient compartment at Patient level', '/fhir/Patient/$export?_type=Practitioner', {}, /outside the Patient compartment/],
    ['patient at system level', '/fhir/$export?patient=Patient/dana-whitfield', {}, /Patient and Group exports only/],
  ])('400 OperationOutcome for %s', async (_name, path, headers, text) => {
    const res = await kickoff(t.app, path, headers.Prefer ?? 'respond-async');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toMatch(text);
  });

  test('a POST body that is not Parameters is a 400', async () => {
    const res = await request(t.app)
      .post('/fhir/$export')
      .set('Content-Type', 'application/fhir+json')
      .set('Prefer', 'respond-async')
      .send({ resourceType: 'Patient' });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/Parameters/);
  });

  test('Group export of an unknown Group is a 404', async () => {
    const res = await kickoff(t.app, '/fhir/Group/no-such-group/$export');
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('files are the snapshot at transactionTime: later updates, deletes and creates do not show', async () => {
    const enc = await store.repo.read<Encounter>('Encounter', `${OTHER_PATIENT}-contact-1`);
    const statusPath = pathOf((await kickoff(t.app, '/fhir/$export?_type=Encounter,Goal,Patient')).headers['content-location']);
    // Written after the kick-off, before (or while) the job is planned and the files are read.
    await store.repo.update<Encounter>({ ...enc, status: 'cancelled' });
    await store.repo.delete('Goal', 'dana-whitfield-goal-wrap');
    await store.repo.update({ resourceType: 'Patient', id: 'created-after-kickoff' });
    const byType = await downloadAll(t.app, (await poll(t.app, statusPath)).body);
    const exported = byType.Encounter.find((r) => r.id === enc.id) as Encounter;
    expect(exported.status).toBe(enc.status);
    expect(exported.meta?.versionId).toBe(enc.meta?.versionId);
    expect(idsOf(byType.Goal)).toContain('dana-whitfield-goal-wrap');
    expect(idsOf(byType.Patient)).not.toContain('created-after-kickoff');
    // A new export sees the changes.
    const now = await downloadAll(t.app, await runExport(t.app, '/fhir/$export?_type=Encounter,Goal,Patient'));
    expect((now.Encounter.find((r) => r.id === enc.id) as Encounter).status).toBe('cancelled');
    expect(idsOf(now.Goal)).not.toContain('dana-whitfield-goal-wrap');
    expect(idsOf(now.Patient)).toContain('created-after-kickoff');
  });

  test('_since: only resources written after the instant', async () => {
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const goal = await store.repo.read<Goal>('Goal', 'dana-whitfield-goal-volunteering');
    await store.repo.update<Goal>({ ...goal, lifecycleStatus: 'completed' });
    const manifest = await runExport(t.app, `/fhir/$export?_since=${encodeURIComponent(since)}`);
    const byType = await downloadAll(t.app, manifest);
    expect(countsOf(byType)).toEqual({ Goal: 1 });
    expect((byType.Goal[0] as Goal).lifecycleStatus).toBe('completed');
  });

  test('no errors were logged', () => {
    expect(t.errors).toEqual([]);
  });
});
