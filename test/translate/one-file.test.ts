import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveMapping } from '../../src/pipeline/sources';
import { loadSource, loadSources, mapRecords, MappingLoadError } from '../../src/translate';
import { csvRecords } from './helpers';

const ONE_FILE = `name: acme-ehr
title: Acme EHR
system: https://ehr.acme.example.org/peer
format: csv
timezone: America/Chicago
tables:
  mode:
    target: contact-mode
    codes: { F2F: in-person, PH: telephone }
feeds:
  visits:
    match: "visits*.csv"
    records:
      - record: contact
        fields:
          id: VisitNo
          episode.id: EpisodeNo
          mode: { from: Kind, table: mode }
  clients:
    match: "clients*.csv"
    order: 10
    records:
      - record: person
        fields:
          id: ClientNo
          name.family: Last
`;

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-onefile-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function loadError(file: string): MappingLoadError {
  try {
    loadSource(file);
  } catch (e) {
    if (e instanceof MappingLoadError) return e;
    throw e;
  }
  throw new Error('expected a MappingLoadError');
}

describe('a one-file mapping', () => {
  test('loads source settings, tables and feeds from one file whose name matches nothing', async () => {
    const file = tmpFile('my-first-try.yaml', ONE_FILE);
    const s = loadSource(file);
    expect(s).toMatchObject({ name: 'acme-ehr', system: 'https://ehr.acme.example.org/peer', format: 'csv', dir: file });
    expect(s.feeds.map((f) => f.name)).toEqual(['clients', 'visits']);
    expect(s.tables.get('mode')?.codes).toEqual({ F2F: 'in-person', PH: 'telephone' });
    const visits = s.feeds[1];
    const out = [];
    for await (const m of mapRecords(s, visits, csvRecords(['VisitNo', 'EpisodeNo', 'Kind'], [['V1', 'E1', 'PH']]))) out.push(m);
    expect(out[0].results[0]).toMatchObject({ kind: 'contact', value: { id: 'V1', mode: 'telephone' }, episode: { id: 'E1' } });
  });

  test('an error in a feed names the file, its line and the full path in the file', () => {
    const bad = ONE_FILE.replace('mode: { from: Kind, table: mode }', 'mode: { from: Kind, table: modes }');
    const e = loadError(tmpFile('acme.yaml', bad));
    expect(e.file).toMatch(/acme\.yaml$/);
    expect(e.field).toBe('feeds.visits.records[0].fields.mode.table');
    expect(e.line).toBe(bad.split('\n').findIndex((l) => l.includes('table: modes')) + 1);
    expect(e.reason).toMatch(/unknown table 'modes'/);
  });

  test('an unknown key of a feed is named with its line', () => {
    const bad = ONE_FILE.replace('    order: 10\n', '    ordr: 10\n');
    const e = loadError(tmpFile('acme.yaml', bad));
    expect(e.field).toBe('feeds.clients.ordr');
    expect(e.line).toBe(bad.split('\n').findIndex((l) => l.includes('ordr')) + 1);
  });

  test('a bad table code is named at its line', () => {
    const bad = ONE_FILE.replace('PH: telephone', 'PH: telephon');
    const e = loadError(tmpFile('acme.yaml', bad));
    expect(e.field).toBe('tables.mode.codes.PH');
    expect(e.line).toBe(bad.split('\n').findIndex((l) => l.includes('telephon')) + 1);
  });

  test('a feed file of a folder given alone says what it is', () => {
    const e = loadError(tmpFile('contacts.yaml', 'match: "c*.csv"\nrecords:\n  - record: person\n    fields: { id: A }\n'));
    expect(e.reason).toMatch(/feed file of a mapping folder/);
  });

  test('no feeds is an error', () => {
    const e = loadError(tmpFile('acme.yaml', ONE_FILE.replace(/feeds:[\s\S]*$/, 'feeds: {}\n')));
    expect(e.field).toBe('feeds');
  });

  test('--mapping path/to/file.yaml resolves to the file itself, not its parent folder', () => {
    const file = tmpFile('acme.yaml', ONE_FILE);
    expect(resolveMapping(file)).toBe(file);
    expect(loadSource(resolveMapping(file)).name).toBe('acme-ehr');
  });

  test('loadSources reads one-file mappings beside folders, and refuses a name used twice', () => {
    const file = tmpFile('acme.yaml', ONE_FILE);
    const root = path.dirname(file);
    expect([...loadSources(root).keys()]).toEqual(['acme-ehr']);
    fs.writeFileSync(path.join(root, 'again.yaml'), ONE_FILE);
    expect(() => loadSources(root)).toThrow(/mapping name 'acme-ehr' is used by/);
  });
});
