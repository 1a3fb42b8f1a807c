/**
 * The README's Bulk Data walkthrough, request for request, for the README's first client (issue 16
 * item 7): registered with `--scope "system/*.*" --org '*'`, it loads the example episode Bundle,
 * PUTs the Group (which names no managing organization), kicks off the Group export, polls,
 * downloads and deletes. A Group that names no owner takes its members' organization
 * (src/access/owner-rules.ts), so the PUT is no longer a 422 for a client of every organization.
 * Both store drivers, supertest against the listening app.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Group, OperationOutcome } from '@medplum/fhirtypes';
import { ALL_ORGANIZATIONS } from '../../src/auth';
import { openFullApp, ORG, type FullApp } from '../audit/full-app';
import { DRIVERS } from '../support/stores';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'valid');
/** The README's Group body, byte for byte. */
const README_GROUP =
  '{"resourceType":"Group","id":"riverbend-peer-cohort","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/dana-whitfield"}}]}';

interface BulkFile {
  type: string;
  url: string;
  count: number;
}

/** supertest parser: the body as text (NDJSON is not JSON). */
const text = (res: request.Response, done: (err: Error | null, body: string) => void): void => {
  let body = '';
  const stream = res as unknown as NodeJS.ReadableStream;
  stream.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  stream.on('end', () => done(null, body));
};

describe.each(DRIVERS)('README Bulk Data walkthrough on %s', (driver) => {
  let app: FullApp;
  let token: string;

  beforeAll(async () => {
    app = await openFullApp(driver, { exportWorker: true });
    token = (await app.token(['system/*.*'], 'My HIE', [ALL_ORGANIZATIONS])).token;
  }, 120_000);
  afterAll(() => app?.close());

  const auth = () => ({ Authorization: `Bearer ${token}` });

  test('load the episode, PUT the Group, kick off, poll, download, delete', async () => {
    const bundle = readFileSync(join(EXAMPLES, 'Bundle-peer-support-episode.json'), 'utf8');
    const loaded = await request(app.server).post('/fhir').set(auth()).set('Content-Type', 'application/fhir+json').send(bundle);
    expect(loaded.status).toBe(200);

    const put = await request(app.server).put('/fhir/Group/riverbend-peer-cohort').set(auth()).set('Content-Type', 'application/fhir+json').send(README_GROUP);
    expect({ status: put.status, body: put.status === 201 ? 'created' : put.body }).toEqual({ status: 201, body: 'created' });

    const kick = await request(app.server)
      .get('/fhir/Group/riverbend-peer-cohort/$export?_type=Patient,Encounter')
      .set(auth())
      .set('Accept', 'application/fhir+json')
      .set('Prefer', 'respond-async');
    expect(kick.status).toBe(202);
    const statusPath = new URL(kick.headers['content-location']).pathname;
    expect(statusPath).toMatch(/^\/fhir\/bulkstatus\/[0-9a-f-]{36}$/);

    await app.bulk.sweep();
    await app.bulk.idle();
    const status = await request(app.server).get(statusPath).set(auth());
    expect(status.status).toBe(200);
    const manifest = status.body as { requiresAccessToken: boolean; output: BulkFile[]; error: BulkFile[] };
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.output.map((f) => [f.type, f.count]).sort()).toEqual([
      ['Encounter', 3],
      ['Patient', 1],
    ]);
    // The error file holds the 42 CFR Part 2 notice (information) that every answer to a client carries, nothing else.
    expect(manifest.error.map((f) => [f.type, f.count])).toEqual([['OperationOutcome', 1]]);
    const notice = await request(app.server).get(new URL(manifest.error[0].url).pathname).set(auth()).buffer(true).parse(text);
    expect((JSON.parse(notice.body as string) as OperationOutcome).issue.map((i) => i.severity)).toEqual(['information']);

    const encounters = manifest.output.find((f) => f.type === 'Encounter') as BulkFile;
    const file = await request(app.server).get(new URL(encounters.url).pathname).set(auth()).buffer(true).parse(text);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    const lines = (file.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { resourceType: string });
    expect(lines).toHaveLength(3);
    expect(lines.every((r) => r.resourceType === 'Encounter')).toBe(true);

    expect((await request(app.server).delete(statusPath).set(auth())).status).toBe(202);
    expect((await request(app.server).get(statusPath).set(auth())).status).toBe(404);
  });

  test("the Group belongs to its members' organization: a client of that organization reads it, one of another does not", async () => {
    const own = (await app.token(['system/*.read'], 'Riverbend HIE', [ORG])).token;
    const other = (await app.token(['system/*.read'], 'Other HIE', ['some-other-ccbhc'])).token;
    const mine = await request(app.server)
      .get('/fhir/Group/riverbend-peer-cohort')
      .set({ Authorization: `Bearer ${own}` });
    expect(mine.status).toBe(200);
    expect((mine.body as Group).member?.[0]?.entity?.reference).toBe('Patient/dana-whitfield');
    expect(
      (
        await request(app.server)
          .get('/fhir/Group/riverbend-peer-cohort')
          .set({ Authorization: `Bearer ${other}` })
      ).status,
    ).toBe(404);
  });

  test('a Group whose members belong to several organizations, naming none, is refused with how to name one', async () => {
    const other = await request(app.server)
      .put('/fhir/Patient/other-ccbhc-person')
      .set(auth())
      .set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Patient', id: 'other-ccbhc-person', managingOrganization: { reference: 'Organization/some-other-ccbhc' } });
    expect(other.status).toBe(201);
    const group = {
      resourceType: 'Group',
      id: 'mixed-cohort',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: 'Patient/dana-whitfield' } }, { entity: { reference: 'Patient/other-ccbhc-person' } }],
    };
    const mixed = await request(app.server).put('/fhir/Group/mixed-cohort').set(auth()).set('Content-Type', 'application/fhir+json').send(group);
    expect(mixed.status).toBe(422);
    expect(JSON.stringify(mixed.body)).toMatch(/Cannot tell which organization owns Group\/mixed-cohort/);
    const named = await request(app.server)
      .put('/fhir/Group/mixed-cohort')
      .set(auth())
      .set('Content-Type', 'application/fhir+json')
      .send({ ...group, managingEntity: { reference: `Organization/${ORG}` } });
    expect(named.status).toBe(201);
  });

  test('a Group naming a member the client cannot see is refused as for any reference', async () => {
    const res = await request(app.server)
      .put('/fhir/Group/ghost-cohort')
      .set(auth())
      .set('Content-Type', 'application/fhir+json')
      .send({ resourceType: 'Group', id: 'ghost-cohort', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/no-such-person' } }] });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toMatch(/Patient\/no-such-person/);
  });
});
