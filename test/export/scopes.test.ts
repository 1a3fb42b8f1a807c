/**
 * `$export` exports only what the client's scopes let it read (issue 11 item 3), over HTTP with
 * SMART auth on, both drivers. A client registered for `system/Patient.rs` only must never get
 * another type, however it asks: `_type` as any value[x] of a Parameters body, repeated, split
 * between the query and the body, or left out (then the job exports the types its scopes allow,
 * as Bulk Data says: "all supported resources within the scope of the client authorization").
 */
import { ALL_ORGANIZATIONS } from '../../src/auth';
import { openFullApp, type FullApp } from '../audit/full-app';
import { DRIVERS } from '../support/stores';
import { loadFixtures } from './helpers';

type Param = Record<string, unknown> & { name: string };

describe.each(DRIVERS)('$export scopes on %s', (driver) => {
  let app: FullApp;
  let patientOnly: string;
  let reader: string;

  beforeAll(async () => {
    app = await openFullApp(driver, { exportWorker: true });
    await loadFixtures(app.store.repo);
    patientOnly = (await app.token(['system/Patient.rs'], 'Patient-only HIE', [ALL_ORGANIZATIONS])).token;
    reader = (await app.token(['system/*.read'], 'Reader HIE', [ALL_ORGANIZATIONS])).token;
  }, 120_000);
  afterAll(() => app?.close());

  /** Kicks off; on 202 runs the job and answers the manifest's output types too. */
  const kick = async (token: string, path: string, parameters?: Param[]): Promise<{ status: number; types?: string[]; text: string }> => {
    const res = await fetch(`${app.base}${path}`, {
      method: parameters ? 'POST' : 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        prefer: 'respond-async',
        accept: 'application/fhir+json',
        ...(parameters ? { 'content-type': 'application/fhir+json' } : {}),
      },
      body: parameters ? JSON.stringify({ resourceType: 'Parameters', parameter: parameters }) : undefined,
    });
    const text = await res.text();
    if (res.status !== 202) {
      return { status: res.status, text };
    }
    const job = /bulkstatus\/([^/?]+)/.exec(res.headers.get('content-location') ?? '')?.[1] as string;
    await app.bulk.sweep();
    await app.bulk.idle();
    const status = await fetch(`${app.base}/fhir/bulkstatus/${job}`, { headers: { authorization: `Bearer ${token}` } });
    const manifest = (await status.json()) as { output?: { type: string }[] };
    expect(status.status).toBe(200);
    return { status: 202, types: [...new Set((manifest.output ?? []).map((f) => f.type))].sort(), text };
  };

  test.each<[string, Param[]]>([
    ['valueCode', [{ name: '_type', valueCode: 'Encounter,Observation' }]],
    ['valueUri', [{ name: '_type', valueUri: 'Encounter' }]],
    ['valueCanonical', [{ name: '_type', valueCanonical: 'Encounter' }]],
    ['valueId', [{ name: '_type', valueId: 'Encounter' }]],
    ['valueMarkdown', [{ name: '_type', valueMarkdown: 'Encounter' }]],
    ['valueReference', [{ name: '_type', valueReference: { reference: 'Encounter' } }]],
    [
      'a second _type parameter',
      [
        { name: '_type', valueString: 'Patient' },
        { name: '_type', valueCode: 'Encounter' },
      ],
    ],
  ])('a Patient.rs client asking for Encounters through %s in a Parameters body gets 403', async (_name, parameters) => {
    for (const path of ['/fhir/Patient/$export', '/fhir/$export']) {
      const res = await kick(patientOnly, path, parameters);
      expect({ path, status: res.status, types: res.types }).toEqual({ path, status: 403, types: undefined });
      expect(JSON.parse(res.text).issue[0].code).toBe('forbidden');
    }
  });

  test('_type in the query and in the body: both are checked', async () => {
    const res = await kick(patientOnly, '/fhir/Patient/$export?_type=Patient', [{ name: '_type', valueCode: 'Encounter' }]);
    expect(res.status).toBe(403);
    const body = await kick(patientOnly, '/fhir/Patient/$export?_type=Encounter', [{ name: '_type', valueString: 'Patient' }]);
    expect(body.status).toBe(403);
  });

  test('repeated and spaced _type values in the query are all checked', async () => {
    expect((await kick(patientOnly, '/fhir/$export?_type=Patient&_type=Encounter')).status).toBe(403);
    expect((await kick(patientOnly, '/fhir/$export?_type=Patient,%20Encounter')).status).toBe(403);
    expect((await kick(patientOnly, '/fhir/$export?_type=Patient%2CEncounter')).status).toBe(403);
  });

  test('a parameter with two values, or a _type that is not text, is a 400', async () => {
    const two = await kick(patientOnly, '/fhir/Patient/$export', [{ name: '_type', valueString: 'Patient', valueCode: 'Encounter' }]);
    expect(two.status).toBe(400);
    const notText = await kick(patientOnly, '/fhir/Patient/$export', [{ name: '_type', valueInteger: 1 }]);
    expect(notText.status).toBe(400);
    expect(JSON.parse(notText.text).resourceType).toBe('OperationOutcome');
  });

  test('without _type, a Patient.rs client gets Patients only (system and Patient level, GET and POST)', async () => {
    for (const [path, parameters] of [
      ['/fhir/$export', undefined],
      ['/fhir/Patient/$export', undefined],
      ['/fhir/Patient/$export', [{ name: '_outputFormat', valueString: 'ndjson' }]],
    ] as const) {
      const res = await kick(patientOnly, path, parameters as Param[] | undefined);
      expect({ path, status: res.status, types: res.types }).toEqual({ path, status: 202, types: ['Patient'] });
    }
  });

  test('allowed kick-offs still work: Patient by valueCode, and every type for system/*.read', async () => {
    expect((await kick(patientOnly, '/fhir/Patient/$export', [{ name: '_type', valueCode: 'Patient' }])).types).toEqual(['Patient']);
    const all = await kick(reader, '/fhir/$export');
    expect(all.types).toEqual(expect.arrayContaining(['Encounter', 'Group', 'Patient']));
  });

  test('no 500 was logged', () => {
    expect(app.logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});
