/**
 * 42 CFR Part 2 (issue 6 item 4) on both drivers: labels on REST writes, the release gate with
 * and without consent (expired, to another organization, deny, inactive, wrong role, deleted),
 * the withheld warning in searches and `$everything`, 404 on read; and `$export` filtered by
 * tenant and by consent, its job reachable only by the client that started it.
 */
import type { Bundle, Consent, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { openBulkExport, type BulkExport } from '../../src/export';
import { exportFile, exportStatus } from '../../src/export/status';
import { PART2_LABELS } from '../../src/fhir/codes';
import { FhirError } from '../../src/outcomes';
import type { RepositoryAccess, SqlRepository } from '../../src/store';
import { WITHHELD_TEXT } from '../../src/store/access-sql';

/** The 42 CFR Part 2 notice every response to a client carries, whether or not anything was withheld. */
const NOTICE = expect.objectContaining({ severity: 'information', code: 'suppressed', details: { text: WITHHELD_TEXT } });
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import { A, accessA, accessAB, accessB, B, BASE, caller, canonicalBundle, consent, idsOf, lakesideBundle, outcomeOf, serverResources } from './fixtures';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

const LABELLED = [`Patient/${B.patient}`, `Encounter/${B.encounter}`, `Observation/${B.observation}`];

describe.each(DRIVERS)('42 CFR Part 2 on %s', (driver) => {
  let store: TestStore;
  let repo: SqlRepository;
  let bulk: BulkExport;
  let call: ReturnType<typeof caller>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    repo = store.repo;
    bulk = await openBulkExport({ store: repo, env: {}, worker: true });
    call = caller(validator, repo, bulk.routes);
    expect((await call(undefined, 'POST', '/', canonicalBundle())).status).toBe(200);
    expect((await call(accessB, 'POST', '/', lakesideBundle())).status).toBe(200);
    for (const r of serverResources()) {
      await repo.update(r);
    }
  });
  afterAll(async () => {
    await bulk?.close();
    await store?.close();
  });

  /** Writes (or replaces) B's single Consent as B's client; null deletes it. */
  async function setConsent(c: Consent | null): Promise<void> {
    const res = c ? await call(accessB, 'PUT', `/Consent/${c.id}`, c) : await call(accessB, 'DELETE', '/Consent/c1');
    expect([res.status, res.status < 300 ? '' : JSON.stringify(res.body)]).toEqual([expect.any(Number), '']);
  }

  async function released(access: RepositoryAccess): Promise<boolean> {
    const read = await call(access, 'GET', `/Encounter/${B.encounter}`);
    const search = await call(access, 'GET', `/Encounter?_id=${B.encounter}`);
    expect(idsOf(search.body).length === 1).toBe(read.status === 200);
    return read.status === 200;
  }

  test("REST writes of a Part 2 program's patient records are labelled; its Organization and staff are not", async () => {
    for (const key of LABELLED) {
      const r = (await call(undefined, 'GET', `/${key}`)).body as Resource;
      for (const label of PART2_LABELS) {
        expect(r.meta?.security).toContainEqual(expect.objectContaining({ system: label.system, code: label.code }));
      }
    }
    for (const key of [`Organization/${B.org}`, `Practitioner/${B.practitioner}`, `PractitionerRole/${B.role}`]) {
      expect(((await call(undefined, 'GET', `/${key}`)).body as Resource).meta?.security).toBeUndefined();
    }
    // Riverbend is no Part 2 program: nothing of it is labelled.
    expect(((await call(undefined, 'GET', `/Patient/${A.patient}`)).body as Resource).meta?.security).toBeUndefined();
    // The write's answer carries the labels too.
    const created = await call(accessB, 'POST', '/Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      subject: { reference: `Patient/${B.patient}` },
    });
    expect(created.status).toBe(201);
    expect(created.body?.meta?.security?.map((s) => s.code)).toEqual(['R', '42CFRPart2', 'ETH']);
    await call(undefined, 'DELETE', `/Observation/${created.body?.id}`);
  });

  test('without consent: searches leave the records out with a warning, reads and $everything answer 404', async () => {
    const search = await call(accessB, 'GET', '/Encounter');
    expect(idsOf(search.body)).toEqual([]);
    const outcome = outcomeOf(search.body) as OperationOutcome;
    expect(outcome.issue).toEqual([NOTICE]);
    expect(JSON.stringify(outcome)).not.toContain(B.encounter);
    expect((await call(accessB, 'GET', `/Encounter/${B.encounter}`)).status).toBe(404);
    expect((await call(accessB, 'GET', `/Encounter/${B.encounter}/_history/1`)).status).toBe(404);
    expect((await call(accessB, 'GET', `/Patient/${B.patient}/$everything`)).status).toBe(404);
    // _include of a withheld record warns too; unlabelled records of the program are served.
    const inc = await call(accessB, 'GET', `/PractitionerRole?_id=${B.role}&_include=PractitionerRole:practitioner`);
    expect(idsOf(inc.body)).toEqual([`PractitionerRole/${B.role}`]);
    expect((outcomeOf(inc.body) as OperationOutcome).issue).toEqual([NOTICE]);
    const total = await call(accessB, 'GET', '/Observation?_total=accurate');
    expect((total.body as Bundle).total).toBe(0);
    // A client of every organization is gated too; the server's own reads are not.
    expect(await released({ ...accessB, allOrganizations: true })).toBe(false);
    expect((await call(undefined, 'GET', `/Encounter/${B.encounter}`)).status).toBe(200);
  });

  test('an active permit Consent to the client organization releases them; the other shapes do not', async () => {
    await setConsent(consent('c1', B.org));
    expect(await released(accessB)).toBe(true);
    const search = await call(accessB, 'GET', '/Encounter');
    expect(idsOf(search.body)).toEqual([`Encounter/${B.encounter}`]);
    // The same notice whether or not anything was withheld (issue 11 item 7).
    expect((outcomeOf(search.body) as OperationOutcome).issue).toEqual([NOTICE]);
    const everything = await call(accessB, 'GET', `/Patient/${B.patient}/$everything`);
    expect(idsOf(everything.body)).toEqual(expect.arrayContaining([...LABELLED, 'Consent/c1']));
    expect((outcomeOf(everything.body) as OperationOutcome).issue).toEqual([NOTICE]);
    // Still no other tenant: A sees nothing of B whatever the consent says.
    expect((await call(accessA, 'GET', `/Encounter/${B.encounter}`)).status).toBe(404);

    const cases: [string, Consent][] = [
      ['expired', consent('c1', B.org, {}, { period: { start: '2020-01-01', end: '2021-01-01' } })],
      ['not yet in force', consent('c1', B.org, {}, { period: { start: '2098-01-01' } })],
      ['to another organization', consent('c1', A.org)],
      ['a deny provision', consent('c1', B.org, {}, { type: 'deny' })],
      [
        'a nested deny of the recipient',
        consent(
          'c1',
          B.org,
          {},
          {
            provision: [
              {
                type: 'deny',
                actor: [
                  {
                    role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] },
                    reference: { reference: `Organization/${B.org}` },
                  },
                ],
              },
            ],
          },
        ),
      ],
      ['inactive', consent('c1', B.org, { status: 'inactive' })],
      [
        'a custodian, not a recipient',
        consent(
          'c1',
          B.org,
          {},
          {
            actor: [
              {
                role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'CST' }] },
                reference: { reference: `Organization/${B.org}` },
              },
            ],
          },
        ),
      ],
      ['other labels only', consent('c1', B.org, {}, { securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' }] })],
    ];
    for (const [name, c] of cases) {
      await setConsent(c);
      expect([name, await released(accessB)]).toEqual([name, false]);
    }
    // To A: a client of both organizations gets them, B's own client still does not.
    await setConsent(consent('c1', A.org));
    expect(await released(accessAB)).toBe(true);
    expect(await released(accessB)).toBe(false);
    // Open-ended, no label list: released; deleted: withheld again.
    await setConsent(consent('c1', B.org, {}, { period: undefined, securityLabel: undefined }));
    expect(await released(accessB)).toBe(true);
    await setConsent(null);
    expect(await released(accessB)).toBe(false);
    expect((await repo.driver.query('SELECT * FROM fhir_consent_grant')).rows).toEqual([]);
  });

  describe('$export', () => {
    async function exportAs(access: RepositoryAccess, path: string): Promise<{ id: string; files: Record<string, Resource[]>; errors: OperationOutcome[] }> {
      const kick = await call(access, 'GET', path, undefined, { prefer: 'respond-async' });
      expect(kick.status).toBe(202);
      const id = (kick.headers?.['content-location'] ?? '').split('/').pop() as string;
      await bulk.sweep();
      await bulk.idle();
      const status = await exportStatus(bulk.jobs, id, BASE, access);
      expect(status.status).toBe(200);
      const read = async (url: string): Promise<Resource[]> => {
        const file = await exportFile(bulk.jobs, repo.driver, id, url.split('/').pop() as string, access);
        const out: Resource[] = [];
        for await (const lines of file.lines) out.push(...lines.map((l) => JSON.parse(l) as Resource));
        return out;
      };
      const files: Record<string, Resource[]> = {};
      for (const f of status.manifest?.output ?? []) files[f.type] = [...(files[f.type] ?? []), ...(await read(f.url))];
      const errors: OperationOutcome[] = [];
      for (const f of status.manifest?.error ?? []) errors.push(...((await read(f.url)) as OperationOutcome[]));
      return { id, files, errors };
    }
    const keys = (files: Record<string, Resource[]>): string[] =>
      Object.values(files)
        .flat()
        .map((r) => `${r.resourceType}/${r.id}`);

    test('system, Patient and Group exports hold only the tenant; Part 2 records only with consent, else a warning in the error file', async () => {
      const a = await exportAs(accessA, '/$export');
      const ka = keys(a.files);
      expect(ka).toContain(`Patient/${A.patient}`);
      expect(ka).toContain('Questionnaire/shared-q');
      expect(ka.filter((k) => k.includes('lakeside'))).toEqual([]);
      expect(a.errors).toEqual([expect.objectContaining({ issue: [NOTICE] })]);

      const b = await exportAs(accessB, '/$export');
      const kb = keys(b.files);
      expect(kb).toEqual(expect.arrayContaining([`Organization/${B.org}`, `Practitioner/${B.practitioner}`]));
      expect(kb.filter((k) => LABELLED.includes(k))).toEqual([]);
      expect(kb.filter((k) => k.includes(A.org) || k.includes(A.patient))).toEqual([]);
      expect(b.errors).toEqual([expect.objectContaining({ issue: [NOTICE] })]);
      // Another client cannot poll or download the job.
      await expect(exportStatus(bulk.jobs, b.id, BASE, accessA)).rejects.toThrow(FhirError);
      await expect(exportFile(bulk.jobs, repo.driver, b.id, 'Organization-1.ndjson', accessA)).rejects.toThrow(FhirError);

      const group = await exportAs(accessA, '/Group/mixed-cohort/$export');
      expect(keys(group.files)).toContain(`Patient/${A.patient}`);
      expect(keys(group.files).filter((k) => k.includes('lakeside'))).toEqual([]);
      expect((await call(accessB, 'GET', '/Group/mixed-cohort/$export', undefined, { prefer: 'respond-async' })).status).toBe(404);

      await setConsent(consent('c1', B.org));
      const withConsent = await exportAs(accessB, '/Patient/$export');
      expect(keys(withConsent.files)).toEqual(expect.arrayContaining(LABELLED));
      expect(withConsent.errors).toEqual([expect.objectContaining({ issue: [NOTICE] })]);
      await setConsent(null);
    });
  });
});
