/**
 * HL7 v2 over MLLP end to end, on both store drivers: the listener (src/mllp) with the shipped
 * hl7v2 mapping (src/pipeline/mllp-ingest.ts). AA only once the records are stored; AE with ERR
 * when a record is rejected (kept in the rejects store); AR for a message no feed takes or that
 * is not HL7 (kept too); and no acknowledgment at all when storing fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encounter } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import { fhirRouter, transactionCommitter } from '../../src/fhir-api';
import { sendMllp, startMllpListener, type MllpListener } from '../../src/mllp/listener';
import { mllpIngest } from '../../src/pipeline/mllp-ingest';
import { MAPPINGS_DIR } from '../../src/pipeline/sources';
import { RejectStore } from '../../src/store/rejects';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import type { LoadedSource } from '../../src/translate/types';

const HL7 = join(__dirname, '..', '..', 'examples', 'outside', 'hl7v2');
/** The messages of a sample file, `\r`-separated as on the wire. */
const messages = (file: string): string[] =>
  readFileSync(join(HL7, file), 'latin1')
    .replace(/\r\n|\n/g, '\r')
    .split(/\r(?=MSH\|)/)
    .filter((m) => m.trim())
    .map((m) => m.replace(/\r*$/, '\r'));
const segment = (ack: string, name: string): string[] => ack.split('\r').filter((s) => s.startsWith(`${name}|`));

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('MLLP ingest on %s', (driver) => {
  let store: TestStore;
  let rejects: RejectStore;
  let listener: MllpListener;
  let failCommits = false;
  let source: LoadedSource;
  beforeAll(async () => {
    store = await openTestStore(driver);
    rejects = await RejectStore.open(store.repo.driver);
    source = loadSource(join(MAPPINGS_DIR, 'hl7v2'));
    const commit = transactionCommitter(fhirRouter(), { repo: store.repo, validator }, 'http://localhost/fhir');
    const handler = mllpIngest(source, {
      validator,
      rules: loadRules(),
      terms: loadPackageTerms(),
      commit: (bundle) => (failCommits ? Promise.reject(new Error('database unavailable')) : commit(bundle)),
      saveRejects: (list) => rejects.add(list),
    });
    listener = await startMllpListener({ port: 0, host: '127.0.0.1', handler, log: () => undefined });
  });
  afterAll(async () => {
    await listener?.close();
    await store?.close();
  });
  const send = (message: string) => sendMllp('127.0.0.1', listener.port, message, 20_000);

  test('AA for each message of the feed, only once its records are stored', async () => {
    const feed = messages('feed.hl7');
    expect(feed.length).toBe(20);
    for (const m of feed) {
      const ack = await send(m);
      const msa = segment(ack, 'MSA')[0].split('|');
      expect(msa[1]).toBe('AA');
      expect(msa[2]).toBe(m.split('\r')[0].split('|')[9]);
    }
    const encounters = await store.repo.search({ resourceType: 'Encounter', count: 100 } as never);
    expect(encounters.resources).toHaveLength(14);
    const noShow = encounters.resources.map((r) => r as Encounter).find((e) => e.identifier?.some((i) => i.value === 'A87972'));
    expect(noShow?.extension?.some((x) => x.url.endsWith('/no-show') && x.valueBoolean === true)).toBe(true);
  });

  test('AE with the reason in ERR when a record is rejected; the message is kept in the rejects store', async () => {
    const [bad] = messages('bad/siu-missing-pid.hl7');
    const ack = await send(bad);
    expect(segment(ack, 'MSA')[0].split('|')[1]).toBe('AE');
    expect(segment(ack, 'ERR').join('\n')).toMatch(/PID-3/);
    const kept = await rejects.list({ source: 'hl7v2' });
    expect(kept.items.some((r) => r.raw.startsWith('MSH|') && r.raw.includes('SIU^S12') && r.errors.some((e) => /PID-3/.test(`${e.source} ${e.reason}`)))).toBe(
      true,
    );
  });

  test('AR for a message type no feed takes, and for input that is not HL7; both kept', async () => {
    const oru = messages('bad/unknown-type.hl7').find((m) => m.includes('ORU^R01')) as string;
    const ack = await send(oru);
    expect(segment(ack, 'MSA')[0].split('|')[1]).toBe('AR');
    expect(segment(ack, 'ERR').join('\n')).toMatch(/ORU\\S\\R01/);
    expect(segment(ack, 'ERR')[0].split('|')[3]).toBe('200^Unsupported message type^HL70357');
    const garbage = await send('this is not an HL7 message');
    expect(segment(garbage, 'MSA')[0].split('|')[1]).toBe('AR');
    expect(segment(garbage, 'ERR')[0].split('|')[3]).toBe('100^Segment sequence error^HL70357');
    const kept = await rejects.list({ source: 'hl7v2' });
    expect(kept.items.some((r) => r.raw.includes('ORU^R01'))).toBe(true);
    expect(kept.items.some((r) => r.raw === 'this is not an HL7 message')).toBe(true);
  });

  test('ERR-3 per HL7 table 0357: 201 unsupported event, 202 unsupported processing id, 203 unsupported version id, 102 for refused data; never 207', async () => {
    const [adt] = messages('adt.hl7');
    const msh = adt.split('\r')[0].split('|');
    const variant = (i: number, value: string, id: string): string => {
      const f = [...msh];
      f[i] = value;
      f[9] = id;
      return [f.join('|'), ...adt.split('\r').slice(1)].join('\r');
    };
    const err3 = async (m: string): Promise<string[]> => {
      const ack = await send(m);
      expect(segment(ack, 'MSA')[0].split('|')[1]).toMatch(/^A[RE]$/);
      return segment(ack, 'ERR').map((e) => e.split('|')[3]);
    };
    expect(await err3(variant(8, 'ADT^A99^ADT_A01', 'T0357A'))).toEqual(['201^Unsupported event code^HL70357']);
    expect(await err3(variant(10, 'X', 'T0357B'))).toEqual(['202^Unsupported processing id^HL70357']);
    expect(await err3(variant(11, '3.0', 'T0357C'))).toEqual(['203^Unsupported version id^HL70357']);
    // a record the canonical checks refuse: the birth date is after the day of the message
    const future = adt.replace('19750318', '29990101').replace('RB202611020001', 'T0357D');
    expect((await err3(future)).every((c) => c.startsWith('102^'))).toBe(true);
  });

  test('a message that starts with a UTF-8 byte-order mark is read (AA), with or without MSH-18', async () => {
    const [adt] = messages('adt.hl7');
    const ack = await send(`\ufeff${adt.replace('RB202611020001', 'BOM0001')}`);
    expect(segment(ack, 'MSA')[0].split('|').slice(1, 3)).toEqual(['AA', 'BOM0001']);
  });

  test('the same message over MLLP and over HTTP POST /ingest/hl7v2 is one open reject (issue 11 item 16)', async () => {
    // The missing-PID SIU under a control id of its own, so no other test has kept it.
    const [bad] = messages('bad/siu-missing-pid.hl7');
    const message = bad.replace('RB202611130002', 'RB2026111316X1');
    expect(segment(await send(message), 'MSA')[0].split('|')[1]).toBe('AE');
    const app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 }, sources: new Map([[source.name, source]]), rejects });
    const res = await request(app).post('/ingest/hl7v2').set('Content-Type', 'x-application/hl7-v2+er7').send(message);
    expect(res.status).toBe(422);
    const open = (await rejects.list({ source: 'hl7v2', count: 1000 })).items.filter((r) => r.raw.includes('RB2026111316X1'));
    expect(open).toHaveLength(1);
    expect(open[0].attempts).toBe(2);
  });

  test('no acknowledgment at all when the store fails: the sender keeps the message and sends it again', async () => {
    const [adt] = messages('adt.hl7');
    failCommits = true;
    try {
      await expect(send(adt)).rejects.toThrow(/closed before an acknowledgement/);
    } finally {
      failCommits = false;
    }
    // Sent again once the store is back: accepted, and an update, not a duplicate.
    const ack = await send(adt);
    expect(segment(ack, 'MSA')[0].split('|')[1]).toBe('AA');
    const patients = await store.repo.search({ resourceType: 'Patient', count: 100 } as never);
    expect(patients.resources).toHaveLength(6);
  });

  test('POST /ingest/hl7v2: a message behind a byte-order mark is stored; an 8859/1 one keeps its accents; an unknown MSH-18 is refused naming it', async () => {
    const [adt] = messages('adt.hl7');
    const app = createApp({ validator, store: store.repo, config: { MAX_BODY_BYTES: 1024 * 1024 }, sources: new Map([[source.name, source]]), rejects });
    const post = (body: Buffer) => request(app).post('/ingest/hl7v2').set('Content-Type', 'x-application/hl7-v2+er7').send(body);
    const bom = await post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(adt.replace('RB202611020001', 'BOM0002'))]));
    expect(bom.status).toBe(200);
    const latin1 = adt
      .replace('RB202611020001', 'LAT0001')
      .replace('UNICODE UTF-8', '8859/1')
      .replace('300241^^^RB^MR||BEGAY^WALTER', '300290^^^RB^MR||PE\xd1A^JOS\xc9');
    expect((await post(Buffer.from(latin1, 'latin1'))).status).toBe(200);
    const found = await request(app).get('/fhir/Patient?identifier=300290');
    expect(found.body.entry?.[0]?.resource?.name?.[0]).toMatchObject({ family: 'PEÑA', given: ['JOSÉ', 'J'] });
    const unknown = await post(Buffer.from(adt.replace('RB202611020001', 'CHR0001').replace('UNICODE UTF-8', 'KLINGON')));
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain('MSH-18 (character set) is \\"KLINGON\\"');
  });
});
