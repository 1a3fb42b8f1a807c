/**
 * Batched store lookups (src/pipeline/stored-context.ts `prefetch`, translate-source.ts
 * LOOKUP_BATCH): a run asks the lookup port once per kind for a batch of records, not per record,
 * and the records then go through exactly as with per-record answers. A fake port stands in for
 * the store (the store's own answers are tested in test/store/stored-records.test.ts, on both drivers).
 */
import { join } from 'node:path';
import type { Encounter, Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import type { StoredEpisode, StoredRecord, StoredRecords } from '../../src/domain/stored-records';
import { loadPackageTerms } from '../../src/fhir/context';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { LOOKUP_BATCH, translateSource, type RejectRecord } from '../../src/pipeline/translate-source';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';

const SOURCE = loadSource(join(__dirname, '..', '..', 'mappings', 'riverbend-csv'));
const CONTACTS =
  'CONTACT_ID,EPISODE_ID,CLIENT_ID,Svc Date,Start Time,Duration (min),Contact Type,Appt Status,Location,Group Session,Staff ID,Interventions,Support Types,ICRC Tasks,Progress Note';

/** A store holding episodes E-<n> of people P-<n> at RB-CCBHC and staff S-1001, counting the questions asked by method. */
function fakeStore(): { port: StoredRecords; calls: Record<string, number>; asked: Record<string, number> } {
  const calls: Record<string, number> = {};
  const asked: Record<string, number> = {};
  const count = (name: string, n: number): void => {
    calls[name] = (calls[name] ?? 0) + 1;
    asked[name] = (asked[name] ?? 0) + n;
  };
  const single = (): never => {
    throw new Error('a single lookup: the run should ask in batches');
  };
  const port: StoredRecords = {
    find: single,
    episode: single,
    anyUnitsBilled: single,
    unitsBilled: () => Promise.resolve([]),
    findMany(_source, kind, ids) {
      count(`findMany ${kind}`, ids.length);
      const stored = (id: string): boolean => (kind === 'practitioner' ? id === 'S-1001' : kind === 'organization' ? id === 'RB-CCBHC' : /^P-\d+$/.test(id));
      return Promise.resolve(new Map(ids.filter(stored).map((id): [string, StoredRecord] => [id, { part2: false }])));
    },
    episodes(_source, asks) {
      count('episodes', asks.length);
      return Promise.resolve(
        new Map(
          asks
            .filter((a) => /^E-\d+$/.test(a.id))
            .map((a): [string, StoredEpisode] => [a.id, { id: a.id, personId: a.id.replace('E-', 'P-'), organizationId: 'RB-CCBHC', part2: false }]),
        ),
      );
    },
    openEpisodes(_source, personIds) {
      count('openEpisodes', personIds.length);
      return Promise.resolve(new Map());
    },
    billedAmong(_source, personIds) {
      count('billedAmong', personIds.length);
      return Promise.resolve(new Set());
    },
  };
  return { port, calls, asked };
}

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-12-01T00:00:00Z') };
});

async function run(rows: string[], port: StoredRecords): Promise<{ encounters: Encounter[]; rejects: RejectRecord[] }> {
  const resources: Resource[] = [];
  const rejects: RejectRecord[] = [];
  await translateSource(
    SOURCE,
    [{ name: 'contacts.csv', chunks: [Buffer.from(`${[CONTACTS, ...rows].join('\n')}\n`)] }],
    { ...deps, stored: port },
    (made) => void resources.push(...made),
    { onReject: (r) => void rejects.push(r) },
  );
  return { encounters: resources.filter((r): r is Encounter => r.resourceType === 'Encounter'), rejects };
}

const row = (i: number, staff = 'S-1001', episode = `E-${i}`): string =>
  `C-${i},${episode},P-${i},01/12/2026,10:00 AM,50,F2F,KEPT,CLINIC,N,${staff},SH,EMO,I4,`;

test('contacts of stored episodes: one question per kind per batch of records, every contact attached to its stored episode', async () => {
  const n = 2 * LOOKUP_BATCH + 10;
  const { port, calls, asked } = fakeStore();
  const { encounters, rejects } = await run(
    Array.from({ length: n }, (_, i) => row(i)),
    port,
  );
  expect(rejects).toEqual([]);
  expect(encounters).toHaveLength(n);
  const batches = Math.ceil(n / LOOKUP_BATCH);
  // Episodes and the people billed: once a batch; the one staff member and the one program: once a run.
  expect(calls).toEqual({ episodes: batches, billedAmong: batches, 'findMany practitioner': 1, 'findMany organization': 1 });
  expect(asked).toMatchObject({ episodes: n, billedAmong: n, 'findMany practitioner': 1 });
  expect(encounters[n - 1].episodeOfCare?.[0].reference).toMatch(/^EpisodeOfCare\//);
});

test('what the batch does not find makes its records wait, each with its own reason, as per-record lookups did', async () => {
  const { port } = fakeStore();
  const { encounters, rejects } = await run([row(1), row(2, 'S-7777'), row(3, 'S-1001', 'X-3')], port);
  expect(encounters).toHaveLength(1);
  expect(rejects.map((r) => [r.id, r.errors.map((e) => e.reason)])).toEqual([
    ['C-2', ['awaiting practitioner S-7777']],
    ['C-3', ['awaiting episode X-3']],
  ]);
});
