import { createHash } from 'node:crypto';
import { loadSource, mapRecord, MappingLoadError } from '../../src/translate';
import { csvRecords, jsonRecord, sourceYaml, writeMapping } from './helpers';

const HEADER = ['ClientNo', 'SvcDate', 'StartTime', 'Staff'];

function load(fields: string, format: 'csv' | 'json' = 'csv') {
  const source = loadSource(
    writeMapping({ 'source.yaml': sourceYaml(format), 'feed.yaml': `match: "*.${format}"\nrecords:\n  - record: person\n    fields:\n${fields}` }),
  );
  return { source, feed: source.feeds[0] };
}

function loadError(fields: string): MappingLoadError {
  try {
    load(fields);
  } catch (e) {
    if (e instanceof MappingLoadError) return e;
    throw e;
  }
  throw new Error('expected a MappingLoadError');
}

describe('record ids for exports without one', () => {
  test('from: $row is the record number (with a template), traced to the row', () => {
    const { source, feed } = load('      id: { from: $row, transform: { template: "visit-{}" } }\n      name.family: ClientNo\n');
    const rows = csvRecords(HEADER, [
      ['1001', '09/15/2026', '10:00', 'Lopez, Marisol'],
      ['1002', '09/15/2026', '11:00', 'Lopez, Marisol'],
    ]);
    const out = rows.map((r) => mapRecord(source, feed, r).results[0]);
    expect(out.map((r) => r.value.id)).toEqual(['visit-1', 'visit-2']);
    expect(out[1].trace.id).toBe('line 3');
    expect(feed.columns).toEqual(['ClientNo']);
  });

  test('from: $row alone gives the number as the id text; JSON records number their elements', () => {
    const { source, feed } = load('      id: $row\n      name.family: family\n', 'json');
    expect(mapRecord(source, feed, jsonRecord({ family: 'Lopez' }, 4)).results[0].value).toEqual({ id: '4', name: { family: 'Lopez' } });
  });

  test('hash over chosen columns: stable, the same columns give the same id, another value another', () => {
    const { source, feed } = load('      id: { from: [ClientNo, SvcDate, StartTime], transform: hash }\n      name.family: ClientNo\n');
    const rows = csvRecords(HEADER, [
      ['1001', '09/15/2026', '10:00', 'A'],
      ['1001', '09/15/2026', '10:00', 'B'],
      ['1001', '09/15/2026', '11:00', 'A'],
    ]);
    const ids = rows.map((r) => mapRecord(source, feed, r).results[0].value.id);
    const want = createHash('sha256').update(['1001', '09/15/2026', '10:00'].join('\u001f')).digest('hex').slice(0, 16);
    expect(ids).toEqual([want, want, expect.stringMatching(/^[0-9a-f]{16}$/)]);
    expect(ids[2]).not.toBe(want);
  });

  test('hash: an absent column counts as empty; all absent is absent; length is chosen', () => {
    const { source, feed } = load(
      '      id: { from: [ClientNo, Staff], transform: [{ hash: { length: 32 } }, { template: "c-{}" }] }\n      name.family: SvcDate\n',
    );
    const [a, none] = csvRecords(HEADER, [
      ['1001', 'x', '', ''],
      ['', 'x', '', ''],
    ]);
    expect(mapRecord(source, feed, a).results[0].value.id).toBe(`c-${createHash('sha256').update('1001\u001f').digest('hex').slice(0, 32)}`);
    expect(mapRecord(source, feed, none).results[0].value.id).toBeUndefined();
  });

  test('$row inside a list of paths and a hash length out of range are errors at load', () => {
    expect(loadError('      id: { from: [ClientNo, $row], transform: hash }\n').field).toBe('records[0].fields.id.from[1]');
    expect(loadError('      id: { from: [ClientNo], transform: { hash: { length: 4 } } }\n').field).toBe('records[0].fields.id.transform.hash.length');
  });
});
