/**
 * Retrying kept rejects (src/pipeline/retry-rejects.ts) on both drivers: a mapping folder whose
 * code table lacks a code rejects a CSV row; once the table is fixed and the source reloaded, the
 * retry stores the row's resources and resolves the reject. A row the fix does not cure stays
 * open with attempts + 1; a re-run updates, never duplicates; a failed commit keeps it open.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearchRequest } from '@medplum/core';
import type { Bundle, Encounter, OperationOutcome, Parameters, Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { putEntry } from '../../src/fhir/bundle';
import { loadPackageTerms } from '../../src/fhir/context';
import { readJson } from '../../src/inbound/json-source';
import { fhirRouter } from '../../src/fhir-api';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { retryRejects, rerunText, type RetryDeps } from '../../src/pipeline/retry-rejects';
import { translateSource } from '../../src/pipeline/translate-source';
import { RejectStore, type RejectRecord } from '../../src/store/rejects';
import { loadSource } from '../../src/translate';
import type { LoadedSource } from '../../src/translate/types';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const SOURCE = `name: retry-mini
title: A CSV source whose contact-mode table lacks a code
system: https://ehr.retry.example.org/peer
format: csv
timezone: America/Chicago
`;
const CONTACTS = `description: One row per peer support contact
match: "contacts*.csv"
records:
  - record: contact
    fields:
      id: { from: ContactID, required: true }
      episode.id: EpisodeID
      episode.personId: ClientID
      episode.organizationId: { const: retry-ccbhc }
      start: { from: [Date, Time], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }] }
      durationMinutes: { from: Minutes, transform: [integer] }
      mode: { from: Type, table: contact-mode }
      specialistId: Staff
`;
const tables = (extra: string): string => `tables:
  contact-mode:
    target: contact-mode
    unmapped: reject
    codes:
      F2F: in-person
      PH: telephone
${extra}`;
const HEADER = 'ContactID,EpisodeID,ClientID,Date,Time,Minutes,Type,Staff';
const CSV = [
  HEADER,
  'C-1,E-1,P-1,09/15/2026,10:00 AM,45,F2F,S-1',
  'C-2,E-1,P-1,09/22/2026,2:30 PM,4O,F2F,S-1', // not a number: no table fix cures it
  'C-3,E-1,P-1,09/29/2026,9:00 AM,60,TELE,S-1', // TELE is not in the table (yet)
].join('\n');

const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
const all = (p: Parameters, name: string) => (p.parameter ?? []).filter((x) => x.name === name);

let validator: Validator;
let pipeline: PipelineDeps;
beforeAll(() => {
  validator = Validator.create();
  pipeline = { validator, rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-12-01T00:00:00Z') };
});

describe.each(DRIVERS)('retrying rejects on %s', (driver) => {
  let store: TestStore;
  let rejects: RejectStore;
  let root: string;
  let dir: string;
  let sources: Map<string, LoadedSource>;
  let deps: RetryDeps;
  const router = fhirRouter();
  const commit = async (bundle: Bundle): Promise<Bundle> =>
    (
      await router.handle(
        { method: 'POST', path: '/', query: {}, headers: {}, body: bundle, baseUrl: 'http://test.local/fhir' },
        { repo: store.repo, validator },
      )
    ).body as Bundle;

  const load = (extra: string): void => {
    writeFileSync(join(dir, 'tables.yaml'), tables(extra));
    const source = loadSource(dir);
    sources.set(source.name, source);
  };
  const encounters = async (): Promise<Encounter[]> => (await store.repo.search(parseSearchRequest('Encounter', { _count: '100' }))).resources as Encounter[];
  const contactIds = (list: Encounter[]): string[] =>
    list
      .flatMap((e) => (e.identifier ?? []).map((i) => i.value ?? ''))
      .filter((v) => v.startsWith('C-'))
      .sort();

  beforeAll(async () => {
    store = await openTestStore(driver);
    rejects = await RejectStore.open(store.repo.driver);
    // The folder's name is the source's name.
    root = mkdtempSync(join(tmpdir(), 'pb-retry-'));
    dir = join(root, 'retry-mini');
    mkdirSync(dir);
    writeFileSync(join(dir, 'source.yaml'), SOURCE);
    writeFileSync(join(dir, 'contacts.yaml'), CONTACTS);
    sources = new Map();
    load('');
    deps = { rejects, sources, pipeline, commit };
  });
  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await store?.close();
  });

  /** Translates the CSV with the current mapping, commits what goes through and keeps the rejects. */
  async function ingest(): Promise<RejectRecord[]> {
    const found: RejectRecord[] = [];
    const resources: Resource[] = [];
    await translateSource(
      sources.get('retry-mini') as LoadedSource,
      [{ name: 'contacts.csv', chunks: [Buffer.from(CSV)] }],
      pipeline,
      (made) => {
        resources.push(...made);
      },
      {
        onReject: (r) => {
          found.push(r);
        },
      },
    );
    await commit({ resourceType: 'Bundle', type: 'transaction', entry: resources.map(putEntry) });
    await rejects.add(found);
    return found;
  }

  test('a fixed table resolves its reject and stores the row; an uncured row stays open with attempts 2', async () => {
    const found = await ingest();
    expect(found.map((r) => r.id).sort()).toEqual(['C-2', 'C-3']);
    expect(found.find((r) => r.id === 'C-3')).toMatchObject({ header: HEADER, where: 'line 4', feed: 'contacts' });
    expect(contactIds(await encounters())).toEqual(['C-1']);
    const [c2, c3] = (await rejects.list({ source: 'retry-mini' })).items.sort((a, b) => (a.recordId ?? '').localeCompare(b.recordId ?? ''));

    // Retrying before the fix changes nothing but the attempts.
    const early = await retryRejects({ source: 'retry-mini', ids: [c3.id] }, deps);
    expect(param(early.body, 'stillRejected')?.valueInteger).toBe(1);
    expect((await rejects.get([c3.id]))[0]).toMatchObject({ status: 'open', attempts: 2 });

    load('      TELE: video\n');
    const answer = await retryRejects({ source: 'retry-mini' }, deps);
    expect(answer.status).toBe(200);
    expect(param(answer.body, 'retried')?.valueInteger).toBe(2);
    expect(param(answer.body, 'resolved')?.valueInteger).toBe(1);
    expect(param(answer.body, 'stillRejected')?.valueInteger).toBe(1);
    expect(all(answer.body, 'resolvedId').map((p) => p.valueString)).toEqual([c3.id]);
    const outcome = param(answer.body, 'outcome')?.resource as OperationOutcome;
    expect(outcome.issue).toHaveLength(1);
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', expression: ['durationMinutes'] });
    expect(outcome.issue[0].details?.text).toContain('4O');
    // Located in the original input (line 3), not in the one-row re-run.
    expect(outcome.issue[0].diagnostics).toContain(`reject ${c2.id} (contacts.csv line 3, contact C-2)`);
    expect(outcome.issue[0].diagnostics).toContain('line 3');
    expect(outcome.issue[0].diagnostics).not.toContain('line 2');

    expect(contactIds(await encounters())).toEqual(['C-1', 'C-3']);
    const [resolved, still] = [(await rejects.get([c3.id]))[0], (await rejects.get([c2.id]))[0]];
    expect(resolved).toMatchObject({ status: 'resolved' });
    expect(still).toMatchObject({ status: 'open', attempts: 2 });
    expect(still.lastTriedAt).toBeDefined();
    expect(still.errors[0].reason).toContain('4O');
    expect((await rejects.list({ source: 'retry-mini' })).total).toBe(1);
  });

  test('named ids: unknown and resolved ones are warnings; a re-run updates, never duplicates', async () => {
    const [c2] = (await rejects.list({ source: 'retry-mini' })).items;
    const [c3] = (await rejects.list({ source: 'retry-mini', status: 'resolved' })).items;
    const answer = await retryRejects({ source: 'retry-mini', ids: [c3.id, c2.id, 'nope', c2.id] }, deps);
    expect(param(answer.body, 'retried')?.valueInteger).toBe(1);
    const issues = (param(answer.body, 'outcome')?.resource as OperationOutcome).issue;
    expect(issues.filter((i) => i.severity === 'warning').map((i) => i.details?.text)).toEqual([
      `Reject ${c3.id} was not retried: it is already resolved`,
      'Reject nope was not retried: no such reject',
    ]);
    expect((await rejects.get([c2.id]))[0].attempts).toBe(3);

    // The same rows sent again: C-3 now goes through (an update), C-2 updates its open reject.
    const before = (await encounters()).length;
    await ingest();
    expect((await encounters()).length).toBe(before);
    expect((await rejects.list({ source: 'retry-mini' })).items.map((r) => [r.recordId, r.attempts])).toEqual([['C-2', 4]]);
    // A reject of C-3 stored again (as if from an older run) resolves to the same resources.
    const [again] = await rejects.add([
      {
        source: 'retry-mini',
        feed: 'contacts',
        record: 3,
        input: 'contacts.csv',
        where: 'line 4',
        kind: 'contact',
        id: 'C-3',
        errors: [{ reason: 'old', stage: 'mapping' }],
        raw: CSV.split('\n')[3],
        header: HEADER,
      },
    ]);
    const rerun = await retryRejects({ source: 'retry-mini', ids: [again.id] }, deps);
    expect(param(rerun.body, 'resolved')?.valueInteger).toBe(1);
    expect((await encounters()).length).toBe(before);
  });

  test("a failed commit keeps the reject open with the store's reason", async () => {
    const [r] = await rejects.add([
      {
        source: 'retry-mini',
        feed: 'contacts',
        record: 1,
        input: 'late.csv',
        where: 'line 2',
        kind: 'contact',
        id: 'C-9',
        errors: [{ reason: 'old', stage: 'mapping' }],
        raw: 'C-9,E-1,P-1,09/29/2026,9:00 AM,60,TELE,S-1',
        header: HEADER,
      },
    ]);
    const failing: RetryDeps = { ...deps, commit: () => Promise.reject(new Error('database is down')) };
    const answer = await retryRejects({ source: 'retry-mini', ids: [r.id] }, failing);
    expect(param(answer.body, 'stillRejected')?.valueInteger).toBe(1);
    const [kept] = await rejects.get([r.id]);
    expect(kept).toMatchObject({ status: 'open', attempts: 2, errors: [{ stage: 'store', reason: expect.stringContaining('database is down') }] });
    // With the store back, it goes through.
    expect(param((await retryRejects({ source: 'retry-mini', ids: [r.id], feed: 'contacts' }, deps)).body, 'resolved')?.valueInteger).toBe(1);
  });

  test('unknown source 404, no open rejects 200 with zeros, no store 501', async () => {
    await expect(retryRejects({ source: 'nobody' }, deps)).rejects.toMatchObject({ status: 404 });
    const none = await retryRejects({ source: 'retry-mini', feed: 'episodes' }, deps);
    expect(none.status).toBe(200);
    expect(['retried', 'resolved', 'stillRejected'].map((n) => param(none.body, n)?.valueInteger)).toEqual([0, 0, 0]);
    expect((param(none.body, 'outcome')?.resource as OperationOutcome).issue[0].severity).toBe('information');
    await expect(retryRejects({ source: 'retry-mini' }, { ...deps, commit: undefined })).rejects.toMatchObject({ status: 501 });
  });
});

test('rerunText: a CSV row under its header, a JSON record where the feed finds records, HL7 as is', async () => {
  const source = (format: LoadedSource['format'], records?: string): LoadedSource =>
    ({
      name: 's',
      system: 'x',
      format,
      timezone: 'UTC',
      part2Organizations: [],
      dir: '.',
      tables: new Map(),
      feeds: [{ name: 'f', json: records ? { records } : undefined }],
    }) as unknown as LoadedSource;
  expect(rerunText(source('csv'), { raw: 'a,b', header: 'A,B' })).toBe('A,B\na,b');
  expect(rerunText(source('csv'), { raw: 'a,b' })).toBe('a,b');
  expect(JSON.parse(rerunText(source('json', '$.data.clients[*]'), { raw: '{"id":1}', feed: 'f' }))).toEqual({ data: { clients: [{ id: 1 }] } });
  expect(JSON.parse(rerunText(source('json', '$[*]'), { raw: '{"id":1}', feed: 'f' }))).toEqual([{ id: 1 }]);
  expect(JSON.parse(rerunText(source('json', '$.payload'), { raw: '{"id":1}', feed: 'f' }))).toEqual({ payload: { id: 1 } });
  expect(rerunText(source('json', '$'), { raw: '{"id":1}', feed: 'f' })).toBe('{"id":1}');
  expect(rerunText(source('hl7v2'), { raw: 'MSH|^~\\&|\rPID|1' })).toBe('MSH|^~\\&|\rPID|1');
  // The JSON reader finds the record alone.
  const raw = '{ "id": "K-7", "sessions": [ { "minutes": 45 } ] }';
  const records = [];
  async function* chunks(): AsyncGenerator<string> {
    yield rerunText(source('json', '$.data.clients[*]'), { raw, feed: 'f' });
  }
  for await (const r of readJson(chunks(), { input: 'clients.json', records: '$.data.clients[*]' })) records.push(r);
  expect(records.map((r) => [r.n, JSON.parse(r.raw), r.where])).toEqual([[1, JSON.parse(raw), '$.data.clients[0]']]);
});
