/**
 * Bulk Data export test fixtures: a store loaded with the peer support episode (through the
 * repository), a second patient outside the cohort, and a Group of the cohort; an app with the
 * export module; kick-off, polling and download helpers that read files back line by line.
 */
import type { Encounter, Group, Patient, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { openBulkExport, type BulkExport, type ExportConfig, type Manifest } from '../../src/export';
import { createApp } from '../../src/http/app';
import type { SqlRepository } from '../../src/store';
import type { Validator } from '../../src/validation';
import { episodeBundle } from '../support/examples';

export const MAX_BODY_BYTES = 16 * 1024 * 1024;
export const OTHER_PATIENT = 'jordan-nguyen';
export const GROUP_ID = 'riverbend-peer-cohort';

/** Stores the episode Bundle's resources (PUT entries, so `update`), another patient with one Encounter, and the cohort Group. */
export async function loadFixtures(repo: SqlRepository): Promise<void> {
  const bundle = episodeBundle();
  for (const entry of bundle.entry ?? []) {
    await repo.update(entry.resource as Resource);
  }
  const encounter = (bundle.entry ?? []).map((e) => e.resource).find((r): r is Encounter => r?.resourceType === 'Encounter');
  if (!encounter) {
    throw new Error('the episode Bundle has no Encounter');
  }
  await repo.update<Patient>({ resourceType: 'Patient', id: OTHER_PATIENT, name: [{ family: 'Nguyen', given: ['Jordan'] }], gender: 'male' });
  await repo.update<Encounter>({ ...encounter, id: `${OTHER_PATIENT}-contact-1`, subject: { reference: `Patient/${OTHER_PATIENT}` } });
  await repo.update<Group>({
    resourceType: 'Group',
    id: GROUP_ID,
    type: 'person',
    actual: true,
    name: 'Riverbend CCBHC peer support cohort',
    member: [{ entity: { reference: 'Patient/dana-whitfield' } }, { entity: { reference: `Patient/${OTHER_PATIENT}` }, inactive: true }],
  });
}

/** Current (non-deleted) resources per type, straight from the store's table: the oracle for counts. */
export async function storedCounts(repo: SqlRepository): Promise<Record<string, number>> {
  const res = await repo.driver.query<{ resource_type: string; n: number }>(
    'SELECT resource_type, count(*)::int AS n FROM fhir_resource WHERE NOT deleted GROUP BY resource_type',
  );
  return Object.fromEntries(res.rows.map((r) => [r.resource_type, Number(r.n)]));
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  bulk: BulkExport;
  errors: string[];
}

/** An app with the export module on `repo`; `worker: false` records jobs without working on them. */
export async function exportApp(
  validator: Validator,
  repo: SqlRepository,
  options: { worker?: boolean; config?: Partial<ExportConfig> } = {},
): Promise<TestApp> {
  const errors: string[] = [];
  const log = (level: string, message: string, meta?: Record<string, unknown>): void => {
    if (level === 'error') {
      errors.push(`${message} ${JSON.stringify(meta)}`);
    }
  };
  const bulk = await openBulkExport({ store: repo, env: {}, worker: options.worker, config: options.config, log });
  const app = createApp({ validator, store: repo, routes: bulk.routes, bulkExport: bulk, config: { MAX_BODY_BYTES }, log });
  return { app, bulk, errors };
}

/** The path of an absolute URL (supertest talks to the app, not to the host in the URL). */
export const pathOf = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** GET kick-off with `Prefer: respond-async`. */
export function kickoff(app: TestApp['app'], path: string, prefer = 'respond-async'): request.Test {
  return request(app).get(path).set('Accept', 'application/fhir+json').set('Prefer', prefer);
}

/** Kicks off (expecting 202) and returns the status path. */
export async function start(app: TestApp['app'], path: string, prefer?: string): Promise<string> {
  const res = await kickoff(app, path, prefer);
  if (res.status !== 202) {
    throw new Error(`kick-off ${path}: ${res.status} ${res.text}`);
  }
  return pathOf(res.headers['content-location']);
}

/** Polls the status URL until it is no longer 202; returns the final response. */
export async function poll(app: TestApp['app'], statusPath: string, tries = 200): Promise<request.Response> {
  for (let i = 0; i < tries; i++) {
    const res = await request(app).get(statusPath).set('Accept', 'application/json');
    if (res.status !== 202) {
      return res;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`export at ${statusPath} still running after ${tries} polls`);
}

/** Kicks off, waits for completion and returns the manifest. */
export async function runExport(app: TestApp['app'], path: string, prefer?: string): Promise<Manifest> {
  const res = await poll(app, await start(app, path, prefer));
  if (res.status !== 200) {
    throw new Error(`export ${path}: ${res.status} ${res.text}`);
  }
  return res.body as Manifest;
}

/** Downloads one file, checks its Content-Type, and parses it line by line. */
export async function download(app: TestApp['app'], url: string): Promise<Resource[]> {
  const res = await request(app)
    .get(pathOf(url))
    .set('Accept', 'application/fhir+ndjson')
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (text += c));
      r.on('end', () => cb(null, text));
    });
  if (res.status !== 200) {
    throw new Error(`download ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
  const text = res.body as string;
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Resource);
}

/** Every output file downloaded, checked (each line a resource of the file's type, counts as announced), by type. */
export async function downloadAll(app: TestApp['app'], manifest: Manifest): Promise<Record<string, Resource[]>> {
  const out: Record<string, Resource[]> = {};
  for (const file of manifest.output) {
    const resources = await download(app, file.url);
    expect(resources).toHaveLength(file.count);
    for (const r of resources) {
      expect(r.resourceType).toBe(file.type);
    }
    out[file.type] = [...(out[file.type] ?? []), ...resources];
  }
  return out;
}

/** Resource counts per type. */
export const countsOf = (byType: Record<string, Resource[]>): Record<string, number> =>
  Object.fromEntries(Object.entries(byType).map(([t, rs]) => [t, rs.length]));
