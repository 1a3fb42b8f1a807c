/**
 * `peerbridge translate --out-dir`: a series of transaction Bundles under the limits, references
 * resolvable in the same or an earlier Bundle, nothing dropped; a resource over the limit is an
 * error naming it; `--help`; the rejects file next to the input.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { run } from './run-cli';
import { readSeries, seriesProblems } from '../support/bundle-series';
import { generateRiverbendCsv } from '../../bench/translate-generate';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-translate-bundles-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `Type/id` of a Bundle's entries: its PUTs (the resources), or its placeholders (conditional creates). */
const keysOf = (b: Bundle, placeholders = false): string[] =>
  (b.entry ?? []).filter((e) => (e.request?.method === 'POST') === placeholders).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);

// The goldens: each input and the one Bundle it translates to.
const GOLDENS: [string, string, string][] = [
  ['riverbend-csv', 'outside/riverbend-csv', 'outside/riverbend-csv/expected/export.json'],
  ['vendor-json', 'outside/vendor-json/payload.json', 'outside/vendor-json/expected/payload.json'],
  ['hl7v2', 'outside/hl7v2/feed.hl7', 'outside/hl7v2/expected/feed.json'],
  ['hl7v2', 'outside/hl7v2/updates.hl7', 'outside/hl7v2/expected/updates.json'],
  ['canonical', 'canonical/riverbend-dana-whitfield.json', 'canonical/riverbend-dana-whitfield.expected.json'],
];

test.each(GOLDENS)('%s %s: small Bundles, references resolvable, the golden resources all there', async (mapping, input, expected) => {
  const dir = join(tmp, input.replace(/\W/g, '_'));
  const r = await run(
    'translate',
    '--mapping',
    mapping,
    join(EXAMPLES, input),
    '--out-dir',
    dir,
    '--bundle-size',
    '7',
    '--bundle-bytes',
    '24KB',
    '--no-progress',
  );
  expect(r.code).toBe(0);
  expect(r.out).toBe('');
  const series = readSeries(dir);
  expect(seriesProblems(dir)).toEqual([]);
  const golden = JSON.parse(readFileSync(join(EXAMPLES, expected), 'utf8')) as Bundle;
  expect([...series.keys].sort()).toEqual(keysOf(golden).sort());
  // The records referred to but not in the output: the same placeholders as the one Bundle, carried by each Bundle that refers to them.
  expect([...series.placeholders].sort()).toEqual(keysOf(golden, true).sort());
  expect(series.manifest.placeholders).toBe(series.placeholders.length);
  expect(series.manifest.outsideReferences.count).toBe(0);
  expect(series.manifest.bundles.length).toBeGreaterThanOrEqual(Math.ceil(series.keys.length / 7));
  expect(series.manifest.totals.entries).toBe(series.keys.length + series.placeholderEntries);
  expect(series.manifest.bundles.map((b) => b.file)).toEqual(series.manifest.bundles.map((_, i) => `${String(i + 1).padStart(4, '0')}.json`));
  expect(r.err).toMatch(new RegExp(`Bundles: ${series.manifest.bundles.length} in `));
});

test('a canonical file: urn:uuid references become Type/id, so they resolve across Bundles', async () => {
  const dir = join(tmp, 'canonical-refs');
  await run(
    'translate',
    '--mapping',
    'canonical',
    join(EXAMPLES, 'canonical/riverbend-dana-whitfield.json'),
    '--out-dir',
    dir,
    '--bundle-size',
    '3',
    '--no-progress',
  );
  const text = readdirSync(dir)
    .filter((f) => f !== 'manifest.json')
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');
  expect(text).not.toMatch(/"reference":"urn:uuid:/);
  expect(seriesProblems(dir)).toEqual([]);
});

test('a generated 5,000-row CSV export: every reference resolvable within the limits', async () => {
  const input = join(tmp, 'gen');
  generateRiverbendCsv(input, { seed: 7, contacts: 5000 });
  const dir = join(tmp, 'gen-bundles');
  const r = await run(
    'translate',
    '--mapping',
    'riverbend-csv',
    input,
    '--out-dir',
    dir,
    '--bundle-size',
    '250',
    '--bundle-bytes',
    '200KB',
    '--no-progress',
    '--format',
    'json',
  );
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.err.trim());
  const series = readSeries(dir);
  expect(new Set(series.keys).size).toBe(series.keys.length);
  expect(summary.bundles).toMatchObject({ files: series.manifest.bundles.length, entries: series.keys.length });
  expect(series.manifest.bundles.length).toBeGreaterThan(20);
  expect(seriesProblems(dir)).toEqual([]);
  // The byte limit, not only the entry limit, decided some Bundles.
  expect(series.manifest.bundles.some((b) => b.entries < 250 && b.bytes > 150 * 1024)).toBe(true);
}, 120_000);

test('a resource bigger than the limit: an error naming it, no Bundles written', async () => {
  const dir = join(tmp, 'too-small');
  const r = await run(
    'translate',
    '--mapping',
    'riverbend-csv',
    join(EXAMPLES, 'outside/riverbend-csv'),
    '--out-dir',
    dir,
    '--bundle-bytes',
    '1KB',
    '--no-progress',
  );
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/a Bundle cannot hold [A-Za-z]+\/[0-9a-f-]+ is \d+ bytes and \d+ JSON values as a Bundle, over the limit of 1024 bytes/);
  expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
});

test('usage: --out with --out-dir, --bundle-size alone, a bad size, --token without --post', async () => {
  const input = join(EXAMPLES, 'outside/vendor-json/payload.json');
  expect((await run('translate', '--mapping', 'vendor-json', input, '--out', 'x.json', '--out-dir', 'd')).err).toMatch(/--out writes one Bundle/);
  expect((await run('translate', '--mapping', 'vendor-json', input, '--bundle-size', '10')).err).toMatch(/need --out-dir or --post/);
  const bad = await run('translate', '--mapping', 'vendor-json', input, '--out-dir', 'd', '--bundle-bytes', '12 parsecs');
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--bundle-bytes must be a number of bytes/);
  expect((await run('translate', '--mapping', 'vendor-json', input, '--token', 't')).err).toMatch(/--token is for --post/);
  expect((await run('translate', '--mapping', 'vendor-json', input, '--post', 'ftp://x')).err).toMatch(/--post needs the FHIR base URL/);
});

test('--help describes every option', async () => {
  const r = await run('translate', '--help');
  expect(r.code).toBe(0);
  for (const option of [
    '--mapping',
    '--feed',
    '--out ',
    '--out-dir',
    '--bundle-size',
    '--bundle-bytes',
    '--bundle-values',
    '--post',
    '--token',
    '--client-id',
    '--key',
    '--token-url',
    '--scope',
    '--retries',
    '--checkpoint',
    '--post-report',
    '--report',
    '--rejects',
    '--format',
    '--no-progress',
    '--help',
  ]) {
    expect(r.out).toContain(option);
  }
});

test('the rejects file goes next to the input when --rejects is not given', async () => {
  const folder = join(tmp, 'mapping-mini');
  cpSync(join(__dirname, '..', 'fixtures', 'mapping-mini'), folder, { recursive: true });
  const r = await run('translate', '--mapping', folder, join(folder, 'contacts.csv'), '--out', join(tmp, 'mini.json'), '--no-progress');
  expect(r.code).toBe(1);
  const file = join(folder, 'contacts.rejects.ndjson');
  expect(existsSync(file)).toBe(true);
  expect(r.err).toContain(file);
  const whole = await run('translate', '--mapping', folder, folder, '--out', join(tmp, 'mini.json'), '--no-progress');
  expect(whole.code).toBe(1);
  expect(existsSync(join(tmp, 'mapping-mini.rejects.ndjson'))).toBe(true);
});

test.each(GOLDENS.filter(([mapping]) => mapping !== 'canonical'))(
  '%s %s --out: the one Bundle is the golden, placeholders included',
  async (mapping, input, expected) => {
    const out = join(tmp, `${input.replace(/\W/g, '_')}.one.json`);
    const r = await run('translate', '--mapping', mapping, join(EXAMPLES, input), '--out', out, '--no-progress');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(readFileSync(join(EXAMPLES, expected), 'utf8')));
    const placeholders = keysOf(JSON.parse(readFileSync(out, 'utf8')) as Bundle, true).length;
    if (placeholders) expect(r.err).toContain(`References: ${placeholders} records referred to but not in the output are carried as placeholders`);
  },
);
