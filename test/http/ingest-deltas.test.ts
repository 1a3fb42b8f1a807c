/**
 * Nightly deltas (issue 13 item 1, "Context from the store"): an EHR sends what changed, one file
 * at a time, and a record refers to records sent in earlier posts. Over POST /ingest/riverbend-csv
 * on both store drivers: day 1 clients and episodes, day 2 contacts alone (attached to the stored
 * episodes), day 3 a contact before its episode (an `awaiting episode` reject, accepted on its own
 * once the episode arrives); records waiting for a person, organization or practitioner sent
 * later (`awaiting person|organization|practitioner <id>`), retried in rounds when it arrives; the
 * daily billing cap across two posts; Part 2 from a stored organization; and a client of another
 * tenant, for whom a hidden episode is a missing one. Each runs with the pipeline in the request
 * thread and in the server's worker threads (src/pipeline/pool.ts: the store lookups are asked
 * back to the request's thread and answered through the caller's access).
 */
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle, ChargeItem, Encounter, EpisodeOfCare, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { ALL_ORGANIZATIONS, type Auth } from '../../src/auth';
import { resourceId } from '../../src/fhir/ids';
import { RejectStore } from '../../src/store/rejects';
import { loadSource } from '../../src/translate';
import type { LoadedSource } from '../../src/translate/types';
import { Validator, type ValidationPool } from '../../src/validation';
import { loadRules } from '../../src/domain/rules';
import type { PipelineRunner } from '../../src/pipeline/runs';
import { pipelinePool, pooledPipeline } from '../../src/pipeline/pool';
import { FHIR_BASE, jwksOf, makeKey, openTestAuth, signAssertion, tokenForm } from '../auth/helpers';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const SOURCE = loadSource(join(__dirname, '..', '..', 'mappings', 'riverbend-csv'));
const SYSTEM = SOURCE.system;
const id = (type: string, recordId: string): string => resourceId(SYSTEM, type, recordId);

const ORGANIZATIONS = 'ORG_ID,ORG_NAME,NPI,PART2_PROGRAM';
const STAFF =
  'STAFF_ID,LAST_NAME,FIRST_NAME,MIDDLE_NAME,CRED_SUFFIX,SEX,NPI,JOB_ROLE,ORG_ID,CRED_CODE,CERT_NUMBER,CERT_ISSUER,CERT_EFF_DATE,CERT_EXP_DATE,LICENSE,TRAINING_COMPLETED,SUPERVISOR_ID,HIRE_DATE';
// A supervisor and the peer specialist S-1001 she supervises (examples/outside/riverbend-csv/staff.csv).
const SUPERVISOR =
  'S-2001,Mbeki-Harris,Denise,R,LCSW,F,1730518267,SUPV,RB-CCBHC,,,Illinois Department of Financial and Professional Regulation,,,Licensed Clinical Social Worker (LCSW),,,02/14/2019';
const specialist = (staffId: string, supervisor = 'S-2001'): string =>
  `${staffId},Okafor,Jasmine,N,CPS,F,1093817462,PSS,RB-CCBHC,CPS,CPS-IL-20417,Illinois Certification Board,05/01/2022,04/30/2028,,03/18/2022,${supervisor},06/01/2022`;
const CLIENTS = 'CLIENT_ID,MRN,LAST_NAME,FIRST_NAME,MIDDLE_NAME,SUFFIX,DOB,SEX,PRIMARY_PROGRAM';
const EPISODES =
  'EPISODE_ID,CLIENT_ID,PROGRAM_ID,EPISODE_STATUS,ADMIT_DATE,DISCHARGE_DATE,ASSIGNED_PSS,REFERRAL_RECEIVED,REFERRAL_STATUS,REFERRED_BY,REFERRAL_REASONS,REFERRAL_NOTE';
const CONTACTS =
  'CONTACT_ID,EPISODE_ID,CLIENT_ID,Svc Date,Start Time,Duration (min),Contact Type,Appt Status,Location,Group Session,Staff ID,Interventions,Support Types,ICRC Tasks,Progress Note';

const episode = (episodeId: string, client: string, program = 'RB-CCBHC'): string => `${episodeId},${client},${program},OPEN,01/05/2026,,S-1001,,,,,`;
const contact = (contactId: string, episodeId: string, client: string, date = '01/12/2026', minutes = 50, staff = 'S-1001'): string =>
  `${contactId},${episodeId},${client},${date},10:00 AM,${minutes},F2F,KEPT,CLINIC,N,${staff},SH,EMO,I4,`;
const csv = (...lines: string[]): string => `${lines.join('\n')}\n`;

const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
const texts = (p: Parameters): string[] => ((param(p, 'outcome')?.resource as OperationOutcome | undefined)?.issue ?? []).map((i) => i.details?.text ?? '');

let validator: Validator;
let pool: ValidationPool | undefined;
beforeAll(() => {
  validator = Validator.create();
});
afterAll(() => pool?.close());

/** Where the pipeline runs: each scenario runs both ways. */
const WHERE = ['request thread', 'worker threads'] as const;
const CASES = DRIVERS.flatMap((d) => WHERE.map((w) => [d, w] as const));
const translateIn = (where: (typeof WHERE)[number]): { pipelineRunner?: PipelineRunner } => {
  if (where === 'request thread') return {};
  pool ??= pipelinePool({ rules: loadRules(), size: 1, definitions: validator.defs.options });
  return { pipelineRunner: pooledPipeline(pool) };
};

describe.each(CASES)('nightly deltas on %s, the pipeline in the %s', (driver, where) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    const rejects = await RejectStore.open(store.repo.driver);
    app = createApp({
      validator,
      store: store.repo,
      config: { MAX_BODY_BYTES: 1024 * 1024 },
      sources: new Map([[SOURCE.name, SOURCE]]),
      rejects,
      ...translateIn(where),
    });
  });
  afterAll(() => store?.close());

  const post = async (feed: string, body: string, status = 200): Promise<Parameters> => {
    const res = await request(app).post(`/ingest/riverbend-csv?feed=${feed}`).set('Content-Type', 'text/csv').send(body);
    expect({ status: res.status, issues: res.status === status ? [] : texts(res.body as Parameters) }).toEqual({ status, issues: [] });
    return res.body as Parameters;
  };
  const read = async <T>(type: string, fhirId: string): Promise<T> => (await request(app).get(`/fhir/${type}/${fhirId}`).expect(200)).body as T;
  const openRejects = async (): Promise<Parameters[]> =>
    ((await request(app).get('/ingest/rejects?source=riverbend-csv').expect(200)).body as Bundle).entry?.map((e) => e.resource as Parameters) ?? [];

  test('day 1: clients, then episodes, each in a post of its own', async () => {
    await post('organizations', csv(ORGANIZATIONS, 'RB-CCBHC,Riverbend Community Behavioral Health,1548203961,N'));
    await post('staff', csv(STAFF, SUPERVISOR, specialist('S-1001')));
    await post(
      'clients',
      csv(CLIENTS, '300112,RB0300112,Alvarez,Marisol,J,,02/11/1984,F,RB-CCBHC', '300127,RB0300127,Kowalczyk,Peter,A,,07/30/1979,M,RB-CCBHC'),
    );
    const res = await post('episodes', csv(EPISODES, episode('E-7014', '300112'), episode('E-7015', '300127')));
    expect(param(res, 'accepted')?.valueInteger).toBe(2);
  });

  test('day 2: contacts alone are attached to the stored episodes (person and program from the store)', async () => {
    const res = await post('contacts', csv(CONTACTS, contact('C-1', 'E-7014', '300112'), contact('C-2', 'E-7015', '300127')));
    expect(param(res, 'accepted')?.valueInteger).toBe(2);
    const enc = await read<Encounter>('Encounter', id('Encounter', 'C-1'));
    expect(enc.episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-7014')}`);
    expect(enc.subject?.reference).toBe(`Patient/${id('Patient', '300112')}`);
    expect(enc.serviceProvider?.reference).toBe(`Organization/${id('Organization', 'RB-CCBHC')}`);
  });

  test('an episode at an organization not sent yet waits as `awaiting organization`, and so does its contact; both go through when it arrives', async () => {
    const early = await post('episodes', csv(EPISODES, episode('E-7040', '300112', 'RB-EAST')), 422);
    expect(texts(early)).toEqual(['request body line 2, column "PROGRAM_ID": awaiting organization RB-EAST']);
    const contactEarly = await post('contacts', csv(CONTACTS, contact('C-40', 'E-7040', '300112')), 422);
    expect(texts(contactEarly).join('\n')).toMatch(/awaiting episode E-7040/);
    await request(app)
      .get(`/fhir/EpisodeOfCare/${id('EpisodeOfCare', 'E-7040')}`)
      .expect(404);
    // The organization arrives: its episode is retried and stored, then (a second round) the contact waiting for that episode.
    const later = await post('organizations', csv(ORGANIZATIONS, 'RB-EAST,Riverbend East Clinic,1548203979,N'));
    expect([param(later, 'awaitingRetried')?.valueInteger, param(later, 'awaitingResolved')?.valueInteger]).toEqual([2, 2]);
    expect((await read<EpisodeOfCare>('EpisodeOfCare', id('EpisodeOfCare', 'E-7040'))).managingOrganization?.reference).toBe(
      `Organization/${id('Organization', 'RB-EAST')}`,
    );
    expect((await read<Encounter>('Encounter', id('Encounter', 'C-40'))).episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-7040')}`);
    expect((await openRejects()).filter((r) => ['E-7040', 'C-40'].includes(param(r, 'recordId')?.valueString ?? ''))).toHaveLength(0);
  });

  test('a person arriving after the contact: the episode waits as `awaiting person`, the contact for the episode; the client resolves both', async () => {
    const episodeEarly = await post('episodes', csv(EPISODES, episode('E-7050', '300150')), 422);
    expect(texts(episodeEarly)).toEqual(['request body line 2, column "CLIENT_ID": awaiting person 300150']);
    const contactEarly = await post('contacts', csv(CONTACTS, contact('C-50', 'E-7050', '300150', '02/10/2026')), 422);
    expect(texts(contactEarly).join('\n')).toMatch(/awaiting episode E-7050/);
    const later = await post('clients', csv(CLIENTS, '300150,RB0300150,Nguyen,Thao,,,05/05/1990,F,RB-CCBHC'));
    expect([param(later, 'awaitingRetried')?.valueInteger, param(later, 'awaitingResolved')?.valueInteger]).toEqual([2, 2]);
    const enc = await read<Encounter>('Encounter', id('Encounter', 'C-50'));
    expect(enc.subject?.reference).toBe(`Patient/${id('Patient', '300150')}`);
    expect(enc.episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-7050')}`);
  });

  test('a practitioner arriving later: a contact by staff not sent yet waits as `awaiting practitioner`, and goes through with the staff file', async () => {
    const early = await post('contacts', csv(CONTACTS, contact('C-60', 'E-7014', '300112', '02/11/2026', 50, 'S-1060')), 422);
    expect(texts(early)).toEqual(['request body line 2, column "Staff ID": awaiting practitioner S-1060']);
    await request(app)
      .get(`/fhir/Encounter/${id('Encounter', 'C-60')}`)
      .expect(404);
    // A practitioner waits for a supervisor too: both in one staff file, the supervisor after (retried once the file is stored).
    const staff = await post('staff', csv(STAFF, specialist('S-1060', 'S-2060'), SUPERVISOR.replace('S-2001', 'S-2060')));
    expect(texts(staff).join('\n')).toMatch(/awaiting practitioner S-2060/);
    expect([param(staff, 'awaitingRetried')?.valueInteger, param(staff, 'awaitingResolved')?.valueInteger]).toEqual([2, 2]);
    const enc = await read<Encounter>('Encounter', id('Encounter', 'C-60'));
    expect(enc.participant?.[0].individual?.reference).toMatch(/^PractitionerRole\//);
    expect((await openRejects()).filter((r) => ['C-60', 'S-1060'].includes(param(r, 'recordId')?.valueString ?? ''))).toHaveLength(0);
  });

  test('a reference that never arrives stays a visible reject with its reason', async () => {
    await post('contacts', csv(CONTACTS, contact('C-70', 'E-7014', '300112', '02/12/2026', 50, 'S-9999')), 422);
    await post('staff', csv(STAFF, specialist('S-1070')));
    const still = (await openRejects()).filter((r) => param(r, 'recordId')?.valueString === 'C-70');
    expect(still).toHaveLength(1);
    expect((param(still[0], 'outcome')?.resource as OperationOutcome).issue.map((i) => i.details?.text)).toEqual(['awaiting practitioner S-9999']);
  });

  test('a contact that contradicts its stored episode is rejected, naming the conflict', async () => {
    const res = await post('contacts', csv(CONTACTS, contact('C-9', 'E-7014', '300127')), 422);
    expect(texts(res).join('\n')).toMatch(/Episode E-7014 has personId "300112" in the store, not "300127"/);
  });

  test('day 3: a contact before its episode waits as `awaiting episode`, and goes through when the episode arrives', async () => {
    const early = await post('contacts', csv(CONTACTS, contact('C-3', 'E-7020', '300112', '02/03/2026')), 422);
    expect(texts(early).join('\n')).toMatch(/awaiting episode E-7020/);
    const waiting = (await openRejects()).filter((r) => param(r, 'recordId')?.valueString === 'C-3');
    expect(waiting).toHaveLength(1);
    expect((param(waiting[0], 'outcome')?.resource as OperationOutcome).issue.map((i) => i.details?.text)).toContain('awaiting episode E-7020');
    await request(app)
      .get(`/fhir/Encounter/${id('Encounter', 'C-3')}`)
      .expect(404);

    const later = await post('episodes', csv(EPISODES, episode('E-7020', '300112')));
    expect(param(later, 'awaitingRetried')?.valueInteger).toBe(1);
    expect(param(later, 'awaitingResolved')?.valueInteger).toBe(1);
    const enc = await read<Encounter>('Encounter', id('Encounter', 'C-3'));
    expect(enc.episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-7020')}`);
    expect((await openRejects()).filter((r) => param(r, 'recordId')?.valueString === 'C-3')).toHaveLength(0);
  });

  test('an episode that never arrives leaves its contact a visible reject', async () => {
    await post('contacts', csv(CONTACTS, contact('C-5', 'E-9999', '300112', '02/05/2026')), 422);
    await post('episodes', csv(EPISODES, episode('E-7022', '300112')));
    const still = (await openRejects()).filter((r) => param(r, 'recordId')?.valueString === 'C-5');
    expect(still).toHaveLength(1);
  });

  test('the daily cap counts the units already billed for that person-day in the store', async () => {
    // 16 units a day (rules/default.json): 180 minutes (12 units) in one post, 120 (8 units) in the next: 4 billed.
    await post('contacts', csv(CONTACTS, contact('C-10', 'E-7014', '300112', '03/02/2026', 180)));
    const second = await post('contacts', csv(CONTACTS, contact('C-11', 'E-7014', '300112', '03/02/2026', 120)));
    expect(texts(second).join('\n')).toMatch(/Daily cap of 16 units for person 300112 on 2026-03-02: 4 of 8 units billed/);
    expect((await read<ChargeItem>('ChargeItem', id('ChargeItem', 'C-11'))).quantity?.value).toBe(4);
    // Sent again, a contact's own stored units are replaced, not added to: the same answer.
    await post('contacts', csv(CONTACTS, contact('C-11', 'E-7014', '300112', '03/02/2026', 120)));
    expect((await read<ChargeItem>('ChargeItem', id('ChargeItem', 'C-11'))).quantity?.value).toBe(4);
    await post('contacts', csv(CONTACTS, contact('C-10', 'E-7014', '300112', '03/02/2026', 180)));
    expect((await read<ChargeItem>('ChargeItem', id('ChargeItem', 'C-10'))).quantity?.value).toBe(12);
    // Another person's day is not touched.
    await post('contacts', csv(CONTACTS, contact('C-12', 'E-7015', '300127', '03/02/2026', 120)));
    expect((await read<ChargeItem>('ChargeItem', id('ChargeItem', 'C-12'))).quantity?.value).toBe(8);
  });

  test("Part 2 status comes from the stored organization (one the mapping's source.yaml does not list)", async () => {
    await post('organizations', csv(ORGANIZATIONS, 'RB-MAT,Riverbend Medication-Assisted Treatment,1952384711,Y'));
    await post('episodes', csv(EPISODES, episode('E-7030', '300127', 'RB-MAT')));
    const eoc = await read<EpisodeOfCare>('EpisodeOfCare', id('EpisodeOfCare', 'E-7030'));
    expect(eoc.meta?.security?.map((s) => s.code)).toEqual(expect.arrayContaining(['42CFRPart2']));
    // Its contacts, sent later and alone, are Part 2 records too (the stored episode is labelled).
    await post('contacts', csv(CONTACTS, contact('C-30', 'E-7030', '300127', '03/03/2026')));
    const enc = await read<Encounter>('Encounter', id('Encounter', 'C-30'));
    expect(enc.meta?.security?.map((s) => s.code)).toEqual(expect.arrayContaining(['42CFRPart2']));
  });

  test("a re-sent client keeps the Part 2 label its stored Patient has (the lookup of a person record's own stored version)", async () => {
    // A run with the person and their episode at the Part 2 program labels the Patient.
    const doc = {
      source: SYSTEM,
      episodes: [{ id: 'E-7030', personId: '300127', organizationId: 'RB-MAT', status: 'active', start: '2026-01-05' }],
      people: [{ id: '300127', name: { family: 'Kowalczyk', given: ['Peter'] }, organizationId: 'RB-CCBHC' }],
    };
    expect((await request(app).post('/ingest/canonical').set('Content-Type', 'application/fhir+json').send(JSON.stringify(doc))).status).toBe(200);
    const labels = async () => (await read<Patient>('Patient', id('Patient', '300127'))).meta?.security?.map((s) => s.code) ?? [];
    expect(await labels()).toContain('42CFRPart2');
    // clients.csv sent again on its own (managed by the CCBHC, no episode in the run): still labelled.
    await post('clients', csv(CLIENTS, '300127,RB0300127,Kowalczyk,Peter,A,,07/30/1979,M,RB-CCBHC'));
    expect(await labels()).toContain('42CFRPart2');
  });

  test('a canonical file resolves against the store too: its episode at a stored Part 2 program is labelled', async () => {
    const doc = { source: SYSTEM, episodes: [{ id: 'E-7031', personId: '300112', organizationId: 'RB-MAT', status: 'active', start: '2026-01-05' }] };
    const res = await request(app).post('/ingest/canonical').set('Content-Type', 'application/fhir+json').send(JSON.stringify(doc));
    expect(res.status).toBe(200);
    const eoc = await read<EpisodeOfCare>('EpisodeOfCare', id('EpisodeOfCare', 'E-7031'));
    expect(eoc.meta?.security?.map((s) => s.code)).toEqual(expect.arrayContaining(['42CFRPart2']));
  });
});

describe.each(CASES)("lookups through the posting client's access on %s, the pipeline in the %s", (driver, where) => {
  let store: TestStore;
  let auth: Auth;
  let app: ReturnType<typeof createApp>;
  const tokens: Record<'riverbend' | 'other', string> = { riverbend: '', other: '' };
  beforeAll(async () => {
    store = await openTestStore(driver);
    auth = await openTestAuth(store.repo.driver);
    const sources = new Map<string, LoadedSource>([[SOURCE.name, SOURCE]]);
    app = createApp({
      validator,
      store: store.repo,
      auth,
      sources,
      rejects: await RejectStore.open(store.repo.driver),
      config: { MAX_BODY_BYTES: 1024 * 1024, BASE_URL: FHIR_BASE },
      ...translateIn(where),
    });
    for (const [k, orgs] of [
      ['riverbend', [id('Organization', 'RB-CCBHC')]],
      ['other', [resourceId('https://other.example.org', 'Organization', 'X')]],
    ] as const) {
      const key = await makeKey('ES384');
      const client = await auth.clients.add({ name: `Client ${k}`, jwks: jwksOf(key), scopes: ['system/*.cruds'], organizations: [...orgs], assignIds: true });
      const res = await request(app)
        .post('/auth/token')
        .type('form')
        .send(tokenForm(await signAssertion(key, client.id), 'system/*.cruds'));
      tokens[k] = res.body.access_token as string;
    }
    expect(ALL_ORGANIZATIONS).toBeDefined();
  });
  afterAll(() => store?.close());

  const post = (who: keyof typeof tokens, feed: string, body: string) =>
    request(app).post(`/ingest/riverbend-csv?feed=${feed}`).set('Authorization', `Bearer ${tokens[who]}`).set('Content-Type', 'text/csv').send(body);

  test("another tenant's client cannot resolve a hidden episode: the same awaiting reject as a missing one, nothing of it in the answer", async () => {
    expect((await post('riverbend', 'organizations', csv(ORGANIZATIONS, 'RB-CCBHC,Riverbend Community Behavioral Health,1548203961,N'))).status).toBe(200);
    expect((await post('riverbend', 'staff', csv(STAFF, SUPERVISOR, specialist('S-1001')))).status).toBe(200);
    expect((await post('riverbend', 'clients', csv(CLIENTS, '300112,RB0300112,Alvarez,Marisol,J,,02/11/1984,F,RB-CCBHC'))).status).toBe(200);
    expect((await post('riverbend', 'episodes', csv(EPISODES, episode('E-7014', '300112')))).status).toBe(200);
    // The owner resolves it.
    expect((await post('riverbend', 'contacts', csv(CONTACTS, contact('C-1', 'E-7014', '300112')))).status).toBe(200);

    const hidden = await post('other', 'contacts', csv(CONTACTS, contact('C-2', 'E-7014', '300112')));
    const missing = await post('other', 'contacts', csv(CONTACTS, contact('C-2', 'E-7099', '300112')));
    expect(hidden.status).toBe(422);
    expect(missing.status).toBe(422);
    expect(texts(hidden.body as Parameters).join('\n')).toMatch(/awaiting episode E-7014/);
    // Word for word the same answer once the ids the client sent are swapped.
    expect(JSON.stringify(hidden.body).replaceAll('E-7014', 'E-ID')).toBe(JSON.stringify(missing.body).replaceAll('E-7099', 'E-ID'));
    const body = JSON.stringify(hidden.body);
    for (const secret of ['RB-CCBHC', id('EpisodeOfCare', 'E-7014'), id('Organization', 'RB-CCBHC'), 'in the store']) expect(body).not.toContain(secret);
    // Its reject says the same, and is the other client's own.
    const listed = (await request(app).get('/ingest/rejects?source=riverbend-csv').set('Authorization', `Bearer ${tokens.other}`).expect(200)).body as Bundle;
    const rejects = listed.entry?.map((e) => e.resource as Parameters) ?? [];
    const c2 = rejects.filter((r) => param(r, 'raw')?.valueString?.includes('E-7014'));
    expect(c2).toHaveLength(1);
    expect((param(c2[0], 'outcome')?.resource as OperationOutcome).issue.map((i) => i.details?.text)).toEqual(['awaiting episode E-7014']);
    expect(JSON.stringify(c2[0])).not.toContain('RB-CCBHC');
    // The riverbend client does not see the other's reject, and nothing was stored for it.
    const theirs = (await request(app).get('/ingest/rejects?source=riverbend-csv').set('Authorization', `Bearer ${tokens.riverbend}`).expect(200))
      .body as Bundle;
    expect(theirs.total).toBe(0);
    await request(app)
      .get(`/fhir/Encounter/${id('Encounter', 'C-2')}`)
      .set('Authorization', `Bearer ${tokens.riverbend}`)
      .expect(404);
  });
});

/**
 * An HL7 v2 SIU without PV1-19 (issue 13 item 5) names only its person: it goes to that person's
 * open peer support episode in the store (status active; of several, the latest start), stored by
 * the nightly CSV export of the same system, or waits as `awaiting episode for person <id>` until
 * an episode of the person is stored, by either source.
 */
describe.each(CASES)('an SIU without PV1-19 on %s, the pipeline in the %s', (driver, where) => {
  const HL7 = loadSource(join(__dirname, '..', '..', 'mappings', 'hl7v2'));
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    const rejects = await RejectStore.open(store.repo.driver);
    const sources = new Map<string, LoadedSource>([
      [SOURCE.name, SOURCE],
      [HL7.name, HL7],
    ]);
    app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 }, sources, rejects, ...translateIn(where) });
  });
  afterAll(() => store?.close());

  const postCsv = async (feed: string, body: string, status = 200): Promise<Parameters> => {
    const res = await request(app).post(`/ingest/riverbend-csv?feed=${feed}`).set('Content-Type', 'text/csv').send(body);
    expect({ status: res.status, issues: res.status === status ? [] : texts(res.body as Parameters) }).toEqual({ status, issues: [] });
    return res.body as Parameters;
  };
  const postHl7 = async (body: string, status = 200): Promise<Parameters> => {
    const res = await request(app).post('/ingest/hl7v2').set('Content-Type', 'x-application/hl7-v2+er7').send(body);
    expect({ status: res.status, issues: res.status === status ? [] : texts(res.body as Parameters) }).toEqual({ status, issues: [] });
    return res.body as Parameters;
  };
  /** A booked appointment of `client` without PV1-19 (after examples/outside/hl7v2/siu.hl7). */
  const siu = (appointment: string, client: string, visit = ''): string =>
    [
      `MSH|^~\\&|RBEHR|RBCBH|PEERBRIDGE|RBHIE|20261102111205-0600||SIU^S12^SIU_S12|MSG-${appointment}|P|2.5.1|||AL|NE|USA|UNICODE UTF-8`,
      `SCH|${appointment}^RBEHR|${appointment}^RBEHR|||||PEER^Peer support^L|PEER^Peer support^L|60|min^minutes^ANS+|^^60^20261109100000^20261109110000|||||S-1001^OKAFOR^JASMINE^^^^^^RBEHR||||S-1001^OKAFOR^JASMINE^^^^^^RBEHR|||||Booked`,
      `PID|1||${client}^^^RB^MR||ALVAREZ^MARISOL^J^^^^L||19840211|F`,
      `PV1|1|O|PEER^^^RB-CCBHC||||S-1001^OKAFOR^JASMINE^^^^^^RBEHR||||||||||||${visit}`,
      'RGS|1|A',
      'AIS|1|A|PSF2F^Peer support visit, in person^L|20261109100000|0|min|60|min||Booked',
      'AIP|1|A|S-1001^OKAFOR^JASMINE^^^^^^RBEHR|PSS^Peer Support Specialist^L||20261109100000|0|min|60|min||Booked',
    ].join('\r') + '\r';
  const episodeRow = (episodeId: string, client: string, status: string, admit: string, discharge = ''): string =>
    `${episodeId},${client},RB-CCBHC,${status},${admit},${discharge},S-1001,,,,,`;

  test('goes to the open episode of its person that started last (a closed one is not open)', async () => {
    await postCsv('organizations', csv(ORGANIZATIONS, 'RB-CCBHC,Riverbend Community Behavioral Health,1548203961,N'));
    await postCsv('staff', csv(STAFF, SUPERVISOR, specialist('S-1001')));
    await postCsv('clients', csv(CLIENTS, '300112,RB0300112,Alvarez,Marisol,J,,02/11/1984,F,RB-CCBHC'));
    await postCsv(
      'episodes',
      csv(
        EPISODES,
        episodeRow('E-8001', '300112', 'OPEN', '01/05/2026'),
        episodeRow('E-8002', '300112', 'OPEN', '03/01/2026'),
        episodeRow('E-8003', '300112', 'CLOSED', '04/01/2026', '05/01/2026'),
      ),
    );
    const res = await postHl7(siu('A90001', '300112'));
    expect(param(res, 'accepted')?.valueInteger).toBe(1);
    const enc = (
      await request(app)
        .get(`/fhir/Encounter/${id('Encounter', 'A90001')}`)
        .expect(200)
    ).body as Encounter;
    expect(enc.episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-8002')}`);
    expect(enc.subject?.reference).toBe(`Patient/${id('Patient', '300112')}`);
    // With PV1-19 the named episode is taken, open or not.
    await postHl7(siu('A90002', '300112', 'E-8001^^^RBEHR^VN'));
    const named = (
      await request(app)
        .get(`/fhir/Encounter/${id('Encounter', 'A90002')}`)
        .expect(200)
    ).body as Encounter;
    expect(named.episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-8001')}`);
  });

  test('a person without an open episode: the SIU waits, and goes through when the CSV export brings one (another source of the same system)', async () => {
    await postCsv('clients', csv(CLIENTS, '300127,RB0300127,Kowalczyk,Peter,A,,07/30/1979,M,RB-CCBHC'));
    const early = await postHl7(siu('A90003', '300127'), 422);
    expect(texts(early)).toEqual([expect.stringMatching(/PV1-19.*: awaiting episode for person 300127$/)]);
    await request(app)
      .get(`/fhir/Encounter/${id('Encounter', 'A90003')}`)
      .expect(404);
    const later = await postCsv('episodes', csv(EPISODES, episodeRow('E-8010', '300127', 'OPEN', '06/01/2026')));
    expect([param(later, 'awaitingRetried')?.valueInteger, param(later, 'awaitingResolved')?.valueInteger]).toEqual([1, 1]);
    const enc = (
      await request(app)
        .get(`/fhir/Encounter/${id('Encounter', 'A90003')}`)
        .expect(200)
    ).body as Encounter;
    expect(enc.episodeOfCare?.[0].reference).toBe(`EpisodeOfCare/${id('EpisodeOfCare', 'E-8010')}`);
    const open = ((await request(app).get('/ingest/rejects?source=hl7v2').expect(200)).body as Bundle).total;
    expect(open).toBe(0);
  });
});
