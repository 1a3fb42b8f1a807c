/**
 * Pipeline runs in the server's worker threads (src/pipeline/pool.ts): the same resources,
 * rejects, report and waiting records as a run in this thread, on the sample exports of every
 * outside source (examples/outside) and the canonical examples (examples/canonical); store lookups asked back to this thread and answered by the
 * caller's port only; a mapping changed on disk since it was loaded run here instead; a failing
 * lookup fails the run, never a result made without it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRules } from '../../src/domain/rules';
import type { StoredEpisode, StoredRecords } from '../../src/domain/stored-records';
import { loadPackageTerms } from '../../src/fhir/context';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import * as runs from '../../src/pipeline/runs';
import { translateCanonicalBody, translateForIngest, type SourceTranslation } from '../../src/pipeline/runs';
import { pipelinePool, pooledPipeline, pooledTranslator, sourceSignature } from '../../src/pipeline/pool';
import type { SourceInput } from '../../src/pipeline/source-inputs';
import { loadSource, loadSources } from '../../src/translate';
import { Validator, type ValidationPool } from '../../src/validation';

const ROOT = join(__dirname, '..', '..');
const SOURCES = loadSources(join(ROOT, 'mappings'));
const EXAMPLES: Record<string, string> = { 'riverbend-csv': 'riverbend-csv', hl7v2: 'hl7v2', 'vendor-json': 'vendor-json' };

let deps: PipelineDeps;
let pool: ValidationPool;
beforeAll(() => {
  const validator = Validator.create();
  deps = { validator, rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-12-01T00:00:00Z') };
  pool = pipelinePool({ rules: deps.rules, size: 1, definitions: validator.defs.options });
});
afterAll(() => pool.close());

/** The files of a source's sample export, each as its own input (feeds found by file name, HL7 by message type). */
function sampleInputs(dir: string): SourceInput[] {
  const folder = join(ROOT, 'examples', 'outside', dir);
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, chunks: [readFileSync(join(folder, e.name))] }));
}

/** A port that answers like a store holding episode E-7001 of person 300112, and counts what it is asked. */
function countingPort(): { port: StoredRecords; asked: string[] } {
  const asked: string[] = [];
  const ask = <T>(method: string, value: T): Promise<T> => {
    asked.push(method);
    return Promise.resolve(value);
  };
  const episode: StoredEpisode = { id: 'E-7001', personId: '300112', organizationId: 'RB-CCBHC', part2: false };
  const port: StoredRecords = {
    find: () => ask('find', undefined),
    episode: (_s, id) => ask('episode', id === 'E-7001' ? episode : undefined),
    anyUnitsBilled: () => ask('anyUnitsBilled', false),
    unitsBilled: () => ask('unitsBilled', []),
    findMany: (_s, _k, ids) => ask('findMany', new Map(ids.filter((i) => ['300112', 'RB-CCBHC', 'S-1001'].includes(i)).map((i) => [i, { part2: false }]))),
    episodes: (_s, asks) => ask('episodes', new Map(asks.filter((a) => a.id === 'E-7001').map((a) => [a.id, episode]))),
    openEpisodes: (_s, people) => ask('openEpisodes', new Map(people.filter((p) => p === '300112').map((p) => [p, episode]))),
    billedAmong: () => ask('billedAmong', new Set<string>()),
  };
  return { port, asked };
}

describe.each(Object.entries(EXAMPLES))('%s sample export', (name, dir) => {
  test('in a worker thread: the same resources, rejects, report and waiting records as in this thread', async () => {
    const source = SOURCES.get(name);
    if (!source) throw new Error(`no mapping ${name}`);
    const here = await translateForIngest(source, sampleInputs(dir), deps);
    // The run happens in the worker: this thread's translateForIngest is not called (no fallback).
    const inThisThread = jest.spyOn(runs, 'translateForIngest');
    const there = await pooledTranslator(pool)(source, sampleInputs(dir), deps);
    expect(inThisThread).not.toHaveBeenCalled();
    inThisThread.mockRestore();
    expect(here.report.records.read).toBeGreaterThan(0);
    expect(here.resources.length).toBeGreaterThan(0);
    expect(there).toEqual(here);
  });

  test("with a store: the worker's lookups are answered by the caller's port, and the run is the same as in this thread", async () => {
    const source = SOURCES.get(name);
    if (!source) throw new Error(`no mapping ${name}`);
    const herePort = countingPort();
    const here = await translateForIngest(source, sampleInputs(dir), { ...deps, stored: herePort.port });
    const therePort = countingPort();
    const there = await pooledTranslator(pool)(source, sampleInputs(dir), { ...deps, stored: therePort.port });
    expect(there).toEqual(here);
    expect(therePort.asked).toEqual(herePort.asked);
  });
});

test('contacts alone against a stored episode: attached to it through the lookups asked back from the worker', async () => {
  const source = SOURCES.get('riverbend-csv');
  if (!source) throw new Error('no riverbend-csv');
  const contacts = [
    'CONTACT_ID,EPISODE_ID,CLIENT_ID,Svc Date,Start Time,Duration (min),Contact Type,Appt Status,Location,Group Session,Staff ID,Interventions,Support Types,ICRC Tasks,Progress Note',
    'C-1,E-7001,300112,01/12/2026,10:00 AM,50,F2F,KEPT,CLINIC,N,S-1001,SH,EMO,I4,',
    'C-2,E-9999,300112,01/12/2026,11:00 AM,50,F2F,KEPT,CLINIC,N,S-1001,SH,EMO,I4,',
  ].join('\n');
  const { port, asked } = countingPort();
  const inputs = (): SourceInput[] => [{ name: 'contacts.csv', chunks: [Buffer.from(contacts)] }];
  const there: SourceTranslation = await pooledTranslator(pool)(source, inputs(), { ...deps, stored: port });
  expect(asked).toContain('episodes');
  expect(there.resources.some((r) => r.resourceType === 'Encounter')).toBe(true);
  // E-9999 is nowhere: the contact waits for it, as it does in this thread.
  expect(there.rejects.map((r) => r.errors.map((e) => e.reason))).toEqual([expect.arrayContaining([expect.stringMatching(/^awaiting episode E-9999/)])]);
});

test('a lookup that fails fails the run: nothing is made without the answer', async () => {
  const source = SOURCES.get('riverbend-csv');
  if (!source) throw new Error('no riverbend-csv');
  const { port } = countingPort();
  const broken: StoredRecords = { ...port, episodes: () => Promise.reject(new Error('the store is down')) };
  const inputs: SourceInput[] = [{ name: 'contacts.csv', chunks: [readFileSync(join(ROOT, 'examples', 'outside', 'riverbend-csv', 'contacts.csv'))] }];
  await expect(pooledTranslator(pool)(source, inputs, { ...deps, stored: broken })).rejects.toThrow(/the store is down/);
  // The worker is free again for the next run.
  const again = await pooledTranslator(pool)(source, inputs, { ...deps, stored: port });
  expect(again.report.records.read).toBeGreaterThan(0);
});

test('a mapping changed on disk since it was loaded runs in this thread, with the mapping the server loaded', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pb-pool-mapping-'));
  const dir = join(tmp, 'riverbend-csv');
  mkdirSync(dir);
  try {
    const from = join(ROOT, 'mappings', 'riverbend-csv');
    for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, f));
    const loaded = loadSource(dir);
    const inputs = (): SourceInput[] => sampleInputs('riverbend-csv');
    const before = await translateForIngest(loaded, inputs(), deps);
    // The file changes after the server loaded it: the worker would load the new text.
    const sourceFile = join(dir, 'source.yaml');
    writeFileSync(sourceFile, readFileSync(sourceFile, 'utf8').replace(/^timezone: .*$/m, 'timezone: Pacific/Auckland'));
    expect(sourceSignature(loadSource(dir))).not.toBe(sourceSignature(loaded));
    const inThisThread = jest.spyOn(runs, 'translateForIngest');
    const there = await pooledTranslator(pool)(loaded, inputs(), deps);
    expect(inThisThread).toHaveBeenCalledTimes(1);
    inThisThread.mockRestore();
    expect(there).toEqual(before);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a pool that refuses (503): a post is refused with it; a rerun of kept rejects (`here`) runs in this thread instead', async () => {
  const source = SOURCES.get('riverbend-csv');
  if (!source) throw new Error('no riverbend-csv');
  const closed = pipelinePool({ rules: deps.rules, size: 1, warmAtStart: false, definitions: deps.validator.defs.options });
  await closed.close();
  const inputs = (): SourceInput[] => sampleInputs('riverbend-csv');
  await expect(pooledTranslator(closed)(source, inputs(), deps)).rejects.toMatchObject({ status: 503 });
  expect(await pooledTranslator(closed, 'here')(source, inputs(), deps)).toEqual(await translateForIngest(source, inputs(), deps));
});

describe.each(['riverbend-dana-whitfield.json', 'bad-records.json'])('canonical %s', (file) => {
  test('in a worker thread, with a store: the same resources and report as in this thread, lookups answered by the caller', async () => {
    const body: unknown = JSON.parse(readFileSync(join(ROOT, 'examples', 'canonical', file), 'utf8'));
    const herePort = countingPort();
    const here = await translateCanonicalBody(body, { ...deps, stored: herePort.port });
    const therePort = countingPort();
    const there = await pooledPipeline(pool).canonical(body, { ...deps, stored: therePort.port });
    expect(here.report.summary.read).toBeGreaterThan(0);
    expect(there).toEqual(here);
    expect(therePort.asked).toEqual(herePort.asked);
    expect(herePort.asked.length).toBeGreaterThan(0);
  });
});

test('a lookup that throws, or answers what cannot be sent, fails the run with a reason; the worker serves the next run', async () => {
  const source = SOURCES.get('riverbend-csv');
  if (!source) throw new Error('no riverbend-csv');
  const { port } = countingPort();
  const inputs = (): SourceInput[] => [{ name: 'contacts.csv', chunks: [readFileSync(join(ROOT, 'examples', 'outside', 'riverbend-csv', 'contacts.csv'))] }];
  const throwing: StoredRecords = {
    ...port,
    episodes: () => {
      throw new Error('thrown, not rejected');
    },
  };
  await expect(pooledTranslator(pool)(source, inputs(), { ...deps, stored: throwing })).rejects.toThrow(/thrown, not rejected/);
  const unsendable = { ...port, episodes: () => Promise.resolve(new Map([['E-7001', { part2: false, f: () => 1 }]])) } as unknown as StoredRecords;
  await expect(pooledTranslator(pool)(source, inputs(), { ...deps, stored: unsendable })).rejects.toThrow(/cannot be sent/);
  expect((await pooledTranslator(pool)(source, inputs(), { ...deps, stored: port })).report.records.read).toBeGreaterThan(0);
});
