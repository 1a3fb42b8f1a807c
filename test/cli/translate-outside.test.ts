/**
 * `peerbridge translate --mapping <folder>`: an outside export through a mapping folder; the
 * summary, the rejects NDJSON (record number, location, field, source path, reason, raw input)
 * and the exit codes.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { run } from './run-cli';
import { Validator } from '../../src/validation';

const MINI = join(__dirname, '..', 'fixtures', 'mapping-mini');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-translate-outside-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('a folder of exports: files read in feed order, rejects as NDJSON, exit 1', async () => {
  const out = join(tmp, 'bundle.json');
  const rejects = join(tmp, 'rejects.ndjson');
  const r = await run('translate', '--mapping', MINI, MINI, '--out', out, '--rejects', rejects);
  expect(r.code).toBe(1);
  // clients.csv (order 10) before contacts.csv (order 40); the YAML files are no feed's input.
  expect(r.err).toMatch(/clients\.csv \(feed people\): 1 read[\s\S]*contacts\.csv \(feed contacts\): 4 read/);
  expect(r.err).toMatch(/Source records: 5 read, 3 accepted, 2 rejected/);
  expect(r.err).toMatch(/contact +4 read +2 accepted +2 rejected/);
  const bundle = JSON.parse(readFileSync(out, 'utf8')) as Bundle;
  expect(Validator.create().validate(bundle).valid).toBe(true);
  expect(bundle.entry?.filter((e) => e.resource?.resourceType === 'Encounter')).toHaveLength(2);
  const lines = readFileSync(rejects, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ source: 'mapping-mini', feed: 'contacts', record: 2, input: 'contacts.csv', where: 'line 3', kind: 'contact', id: 'C-2' });
  expect(lines[0].errors[0]).toMatchObject({ field: 'durationMinutes', stage: 'mapping' });
  expect(lines[0].errors[0].source).toMatch(/line 3.*Minutes/);
  expect(lines[0].errors[0].reason).toMatch(/4O/);
  expect(lines[0].raw).toBe('C-2,E-1,P-1,09/22/2026,2:30 PM,4O,F2F,S-1,SH,');
  expect(lines[0].header).toMatch(/^ContactID,EpisodeID/);
  expect(lines[1]).toMatchObject({ record: 3, id: 'C-3' });
  expect(lines[1].errors[0].reason).toMatch(/XX/);
});

test('all accepted: exit 0 and no rejects file', async () => {
  const rejects = join(tmp, 'none.ndjson');
  const r = await run('translate', '--mapping', MINI, join(MINI, 'clients.csv'), '--rejects', rejects, '--format', 'json');
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.err.trim());
  expect(summary.records).toEqual({ read: 1, accepted: 1, rejected: 0, skipped: 0 });
  expect(existsSync(rejects)).toBe(false);
  const bundle = JSON.parse(r.out) as Bundle;
  expect(bundle.entry?.[0]?.resource?.resourceType).toBe('Patient');
});

test('HL7 v2 files that start with a UTF-8 byte-order mark are read (issue 13: 27 of 139 real-world samples do)', async () => {
  const adt = readFileSync(join(__dirname, '..', '..', 'examples', 'outside', 'hl7v2', 'adt.hl7'));
  const file = join(tmp, 'bom.hl7');
  writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), adt]));
  const r = await run('translate', '--mapping', 'hl7v2', file, '--format', 'json');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.err.trim()).records).toEqual({ read: 6, accepted: 6, rejected: 0, skipped: 0 });
  const bundle = JSON.parse(r.out) as Bundle;
  expect(bundle.entry?.filter((e) => e.resource?.resourceType === 'Patient')).toHaveLength(6);
});

test('a missing column stops that file at the header, naming it', async () => {
  const { writeFileSync } = await import('node:fs');
  const file = join(tmp, 'contacts-bad.csv');
  writeFileSync(file, 'ContactID,EpisodeID,ClientID\nC-1,E-1,P-1\n');
  const r = await run('translate', '--mapping', MINI, file, '--no-progress');
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/Minutes/);
  expect(r.err).toMatch(/header/);
});

test('usage errors: unknown mapping, feed of another source', async () => {
  const r = await run('translate', '--mapping', 'no-such-mapping', join(MINI, 'clients.csv'));
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/Unknown mapping 'no-such-mapping'/);
  const f = await run('translate', '--mapping', MINI, '--feed', 'nope', join(MINI, 'clients.csv'));
  expect(f.code).toBe(1);
  expect(f.err).toMatch(/No feed "nope"/);
});
