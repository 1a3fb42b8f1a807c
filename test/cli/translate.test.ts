/**
 * `peerbridge translate --mapping canonical`: the Bundle (stdout or --out), the report, exit codes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { run } from './run-cli';
import { Validator } from '../../src/validation';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'canonical', 'riverbend-dana-whitfield.json');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-translate-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('writes a valid transaction Bundle to stdout and the summary to stderr; exit 0', async () => {
  const r = await run('translate', '--mapping', 'canonical', EXAMPLE);
  expect(r.code).toBe(0);
  const bundle = JSON.parse(r.out) as Bundle;
  expect(bundle.type).toBe('transaction');
  expect(bundle.entry).toHaveLength(27);
  expect(Validator.create().validate(bundle).valid).toBe(true);
  expect(r.err).toMatch(/Records: 15 read, 15 accepted, 0 rejected; 27 FHIR resources/);
  expect(r.err).toMatch(/recovery capital: person RB-204117 52 -> 71 \(\+19\)/);
});

test('--out and --report files; a rejected record gives exit 1 and its path', async () => {
  const doc = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  doc.episodes[0].contacts[0].end = '2026-09-15T09:00:00-05:00';
  const input = join(tmp, 'one-bad.json');
  writeFileSync(input, JSON.stringify(doc));
  const out = join(tmp, 'bundle.json');
  const report = join(tmp, 'report.json');
  const r = await run('translate', '--mapping=canonical', input, '--out', out, '--report', report);
  expect(r.code).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/ERROR +\$\.episodes\[0\]\.contacts\[0\]\.end: The contact ends/);
  const saved = JSON.parse(readFileSync(report, 'utf8'));
  expect(saved.summary.byKind.contact).toEqual({ read: 5, accepted: 4, rejected: 1 });
  // The rejected contact's Encounter and ChargeItem are missing, the rest is there.
  expect((JSON.parse(readFileSync(out, 'utf8')) as Bundle).entry).toHaveLength(25);
});

test('a file cut short: the records before the cut are kept, exit 1, the report says where', async () => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const input = join(tmp, 'cut.json');
  writeFileSync(input, text.slice(0, text.indexOf('"episodes"') + 40));
  const r = await run('translate', '--mapping', 'canonical', input, '--format', 'json');
  expect(r.code).toBe(1);
  const report = JSON.parse(r.err);
  expect(report.summary.accepted).toBe(4);
  expect(report.outcome.issue.at(-1).severity).toBe('fatal');
  expect(report.outcome.issue.at(-1).details.text).toMatch(/line \d+, column \d+/);
  expect((JSON.parse(r.out) as Bundle).entry).toHaveLength(6);
});

test('usage and I/O errors: exit 2', async () => {
  expect((await run('translate', EXAMPLE)).code).toBe(2);
  const unknown = await run('translate', '--mapping', 'nosuch', EXAMPLE);
  expect(unknown.code).toBe(2);
  expect(unknown.err).toMatch(/Unknown mapping 'nosuch'/);
  expect((await run('translate', '--mapping', 'canonical', join(tmp, 'missing.json'))).code).toBe(2);
  expect((await run('translate', '--mapping', 'canonical', '--bogus', EXAMPLE)).code).toBe(2);
});
