/**
 * `peerbridge validate`: exit codes 0/1/2, text and JSON output, directories, bad input.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run-cli';

const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-cli-'));
  mkdirSync(join(tmp, 'dir', 'nested'), { recursive: true });
  writeFileSync(join(tmp, 'good.json'), JSON.stringify({ resourceType: 'Patient', id: 'p1', text: narrative }));
  writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ resourceType: 'Patient', id: 'p 1', text: narrative }));
  writeFileSync(join(tmp, 'dir', 'a.json'), JSON.stringify({ resourceType: 'Patient', id: 'a', text: narrative }));
  writeFileSync(join(tmp, 'dir', 'nested', 'b.json'), JSON.stringify({ resourceType: 'Patient', id: 'b', text: narrative, gender: 'x' }));
  writeFileSync(join(tmp, 'dir', 'notes.txt'), 'not json, and not a .json file');
  writeFileSync(join(tmp, 'notjson.json'), '{"resourceType": "Patient",\n  "id": }');
  writeFileSync(join(tmp, 'array.json'), '[{"resourceType":"Patient"}]');
  writeFileSync(join(tmp, 'empty.json'), '');
  writeFileSync(join(tmp, 'unknown.json'), '{"resourceType":"PeerSupportThing"}');
  writeFileSync(join(tmp, 'deep.json'), '{"resourceType":"Patient","extension":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}');
  const bundle = {
    resourceType: 'Bundle',
    id: 'b',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:0b6c2d43-5d4e-4f7e-9a45-3c1f2b7d8e90',
        resource: {
          resourceType: 'Encounter',
          id: 'e9',
          text: narrative,
          status: 'done',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        },
      },
    ],
  };
  writeFileSync(join(tmp, 'bundle.json'), JSON.stringify(bundle));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('exit 0 for a valid file', async () => {
  const r = await run('validate', join(tmp, 'good.json'));
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^VALID/);
});

test('exit 1 and a readable line: file, resource, path, message', async () => {
  const r = await run('validate', join(tmp, 'bad.json'));
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/INVALID .*bad\.json/);
  expect(r.out).toMatch(/error +\[Patient\/p 1\] Patient\.id: Invalid resource id/);
});

test('issues inside a Bundle name the entry resource', async () => {
  const r = await run('validate', join(tmp, 'bundle.json'));
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/\[Encounter\/e9\] Bundle\.entry\[0\]\.resource\.status: Code 'done'/);
});

test('directories recurse and only .json files are read', async () => {
  const r = await run('validate', '--format', 'json', join(tmp, 'dir'));
  expect(r.code).toBe(1);
  const lines = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { file: string; valid: boolean; outcome: { resourceType: string } });
  expect(lines.map((l) => l.file.replace(tmp, ''))).toEqual(['/dir/a.json', '/dir/nested/b.json']);
  expect(lines.map((l) => l.valid)).toEqual([true, false]);
  expect(lines[0].outcome.resourceType).toBe('OperationOutcome');
});

test.each([
  ['notjson.json', /Not valid JSON: line 2, column \d+/],
  ['array.json', /got a JSON array/],
  ['empty.json', /File is empty/],
  ['unknown.json', /Unknown resourceType 'PeerSupportThing'/],
  ['deep.json', /nested more than/],
])('bad input %s gets an invalid verdict with a clear message', async (file, message) => {
  const r = await run('validate', join(tmp, file));
  expect(r.code).toBe(1);
  expect(r.out).toMatch(message);
});

test('a file over the size limit is refused, not read', async () => {
  const big = join(tmp, 'big.json');
  writeFileSync(big, Buffer.alloc(50 * 1024 * 1024, 0x20));
  const r = await run('validate', big);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/over the limit/);
  rmSync(big);
});

test('exit 2 for a missing file or bad usage', async () => {
  expect((await run('validate', join(tmp, 'missing.json'))).code).toBe(2);
  expect((await run('validate')).code).toBe(2);
  expect((await run('validate', '--format', 'xml', join(tmp, 'good.json'))).code).toBe(2);
  expect((await run('frobnicate')).code).toBe(2);
});
