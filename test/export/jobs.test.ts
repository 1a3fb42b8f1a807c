/**
 * Bulk Data export jobs on both store drivers: they live in the database, so they outlive the app
 * that started them, are resumed when their process dies, are given up after too many attempts,
 * can be cancelled, expire, and large types are split over several files.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import request from 'supertest';
import { MAX_ATTEMPTS, type Manifest } from '../../src/export';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { countsOf, downloadAll, exportApp, loadFixtures, pathOf, poll, runExport, start, storedCounts, type TestApp } from './helpers';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

const jobIdOf = (statusPath: string): string => statusPath.split('/').pop() as string;

describe.each(DRIVERS)('Bulk Data export jobs on %s', (driver) => {
  let store: TestStore;
  let main: TestApp;
  /** Records jobs but never works on them: a process that died right after the kick-off. */
  let idle: TestApp;
  const apps: TestApp[] = [];
  const sql = (text: string, params: unknown[] = []) => store.repo.driver.query(text, params);

  beforeAll(async () => {
    store = await openTestStore(driver);
    await loadFixtures(store.repo);
    main = await exportApp(validator, store.repo);
    idle = await exportApp(validator, store.repo, { worker: false });
    apps.push(main, idle);
  });
  afterAll(async () => {
    for (const a of apps) {
      await a.bulk.close();
    }
    await store?.close();
  });

  test('while a job waits: 202 with X-Progress and Retry-After', async () => {
    const statusPath = await start(idle.app, '/fhir/$export');
    const res = await request(idle.app).get(statusPath);
    expect(res.status).toBe(202);
    expect(res.headers['x-progress']).toBe('queued');
    expect(res.headers['retry-after']).toBe('2');
    await request(idle.app).delete(statusPath).expect(202);
  });

  test('DELETE cancels: 202, then the status and the files are 404', async () => {
    const statusPath = await start(main.app, '/fhir/$export?_type=Patient');
    const manifest = (await poll(main.app, statusPath)).body as Manifest;
    expect((await request(main.app).delete(statusPath)).status).toBe(202);
    const gone = await request(main.app).get(statusPath);
    expect(gone.status).toBe(404);
    expect(gone.body.resourceType).toBe('OperationOutcome');
    expect((await request(main.app).get(pathOf(manifest.output[0].url))).status).toBe(404);
    expect((await request(main.app).delete(statusPath)).status).toBe(404);
    const rows = await sql('SELECT 1 FROM bulk_export_file WHERE job_id = $1', [jobIdOf(statusPath)]);
    expect(rows.rows).toHaveLength(0);
  });

  test('a job cancelled before it runs is never worked on', async () => {
    const statusPath = await start(idle.app, '/fhir/$export');
    await request(idle.app).delete(statusPath).expect(202);
    await main.bulk.sweep();
    expect((await request(main.app).get(statusPath)).status).toBe(404);
  });

  test('unknown jobs and files are 404 OperationOutcomes', async () => {
    const manifest = await runExport(main.app, '/fhir/$export?_type=Patient');
    const id = jobIdOf(new URL(manifest.output[0].url).pathname.replace(/\/[^/]+$/, ''));
    for (const path of [
      '/fhir/bulkstatus/no-such-job',
      '/fhir/bulkfiles/no-such-job/Patient-1.ndjson',
      `/fhir/bulkfiles/${id}/Encounter-1.ndjson`,
      `/fhir/bulkfiles/${id}/Patient-2.ndjson`,
      `/fhir/bulkfiles/${id}/..%2F..%2Fetc.ndjson`,
    ]) {
      const res = await request(main.app).get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  test('a job outlives its app: a new app on the same database answers for it and serves its files', async () => {
    const statusPath = await start(main.app, '/fhir/$export');
    await poll(main.app, statusPath);
    await main.bulk.close();
    const restarted = await exportApp(validator, store.repo);
    apps.push(restarted);
    const res = await poll(restarted.app, statusPath);
    expect(res.status).toBe(200);
    expect(countsOf(await downloadAll(restarted.app, res.body))).toEqual(await storedCounts(store.repo));
    main = restarted;
  });

  test('a job whose process died before finishing is resumed by another once its lease runs out', async () => {
    const statusPath = await start(idle.app, '/fhir/$export?_type=Encounter');
    // A worker claimed it, then died: its lease has run out.
    await sql(
      `UPDATE bulk_export_job SET status = 'in-progress', lease_owner = 'dead-process', lease_until = now() - interval '1 second', attempts = 1 WHERE id = $1`,
      [jobIdOf(statusPath)],
    );
    expect((await request(idle.app).get(statusPath)).status).toBe(202);
    await main.bulk.sweep();
    const res = await poll(idle.app, statusPath);
    expect(res.status).toBe(200);
    expect(res.body.output.map((f: { type: string; count: number }) => [f.type, f.count])).toEqual([['Encounter', 4]]);
  });

  test('a job whose lease is still held is left alone', async () => {
    const statusPath = await start(idle.app, '/fhir/$export?_type=Patient');
    await sql(
      `UPDATE bulk_export_job SET status = 'in-progress', lease_owner = 'busy-process', lease_until = now() + interval '1 hour', attempts = 1 WHERE id = $1`,
      [jobIdOf(statusPath)],
    );
    await main.bulk.sweep();
    expect((await request(main.app).get(statusPath)).status).toBe(202);
    await request(main.app).delete(statusPath).expect(202);
  });

  test(`a job interrupted ${MAX_ATTEMPTS} times is marked failed: the status is a 500 OperationOutcome, never a 202 forever`, async () => {
    const statusPath = await start(idle.app, '/fhir/$export');
    await sql(
      `UPDATE bulk_export_job SET status = 'in-progress', lease_owner = 'dead-process', lease_until = now() - interval '1 second', attempts = $2 WHERE id = $1`,
      [jobIdOf(statusPath), MAX_ATTEMPTS],
    );
    await main.bulk.sweep();
    const res = await request(main.app).get(statusPath);
    expect(res.status).toBe(500);
    const outcome = res.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0].details?.text).toMatch(/interrupted 3 times/);
  });

  test('expired jobs answer 404 and are removed with their files by the sweep (and by any kick-off)', async () => {
    const manifest = await runExport(main.app, '/fhir/$export?_type=Patient');
    const statusPath = pathOf(manifest.output[0].url).replace(/^\/fhir\/bulkfiles\/([^/]+)\/.*$/, '/fhir/bulkstatus/$1');
    const id = jobIdOf(statusPath);
    await sql(`UPDATE bulk_export_job SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    expect((await request(main.app).get(statusPath)).status).toBe(404);
    expect((await request(main.app).get(pathOf(manifest.output[0].url))).status).toBe(404);
    await main.bulk.sweep();
    expect((await sql('SELECT 1 FROM bulk_export_job WHERE id = $1', [id])).rows).toHaveLength(0);
    expect((await sql('SELECT 1 FROM bulk_export_file WHERE job_id = $1', [id])).rows).toHaveLength(0);
    // A kick-off clears expired jobs too, even in a process without a worker.
    const other = jobIdOf(await start(idle.app, '/fhir/$export?_type=Patient'));
    await sql(`UPDATE bulk_export_job SET expires_at = now() - interval '1 second' WHERE id = $1`, [other]);
    await request(idle.app)
      .delete(await start(idle.app, '/fhir/$export?_type=Patient'))
      .expect(202);
    expect((await sql('SELECT 1 FROM bulk_export_job WHERE id = $1', [other])).rows).toHaveLength(0);
  });

  test('EXPORT_TTL_HOURS sets the expiry', async () => {
    const short = await exportApp(validator, store.repo, { config: { EXPORT_TTL_HOURS: 0.5 } });
    apps.push(short);
    const res = await poll(short.app, await start(short.app, '/fhir/$export?_type=Patient'));
    const expires = Date.parse(res.headers.expires);
    expect(expires).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect(expires).toBeLessThan(Date.now() + 31 * 60_000);
  });

  test('types larger than EXPORT_FILE_MAX_RESOURCES are split over several files, each resource once', async () => {
    const small = await exportApp(validator, store.repo, { config: { EXPORT_FILE_MAX_RESOURCES: 2 } });
    apps.push(small);
    const manifest = await runExport(small.app, '/fhir/$export?_type=Encounter,Patient,Organization');
    expect(manifest.output.map((f) => `${f.type}:${f.count}`)).toEqual(['Encounter:2', 'Encounter:2', 'Organization:1', 'Patient:2']);
    expect(new Set(manifest.output.map((f) => f.url)).size).toBe(4);
    const byType = await downloadAll(small.app, manifest);
    const ids = byType.Encounter.map((r) => r.id);
    expect(new Set(ids).size).toBe(4);
  });

  test('no errors were logged', () => {
    expect(apps.flatMap((a) => a.errors)).toEqual([]);
  });
});
