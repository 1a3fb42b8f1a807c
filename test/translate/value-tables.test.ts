import { conceptMaps, loadSource, mapRecord, MappingLoadError } from '../../src/translate';
import { csvRecords, sourceYaml, writeMapping } from './helpers';

const TABLES = `tables:
  id-system:
    target: uri
    codes:
      MCD: https://medicaid.state.example.gov/member-id
      SSA: urn:oid:2.16.840.1.113883.4.1
  program:
    target: text
    unmapped: default
    default: Other program
    codes:
      "01": Peer Recovery Center
      "02": Crisis Respite
  mode:
    target: contact-mode
    codes: { PH: telephone }
`;
const FEED = `match: "*.csv"
records:
  - record: person
    fields:
      id: ClientNo
      name.family: { from: Program, table: program }
      identifiers[0].system: { from: IdType, table: id-system }
      identifiers[0].value: IdValue
`;

function loadError(tables: string): MappingLoadError {
  try {
    loadSource(writeMapping({ 'source.yaml': sourceYaml(), 'tables.yaml': tables, 'feed.yaml': FEED }));
  } catch (e) {
    if (e instanceof MappingLoadError) return e;
    throw e;
  }
  throw new Error('expected a MappingLoadError');
}

describe('tables that map to any value: text and uri', () => {
  const source = loadSource(writeMapping({ 'source.yaml': sourceYaml(), 'tables.yaml': TABLES, 'feed.yaml': FEED }));
  const feed = source.feeds[0];

  test('a code becomes an identifier system (a URI) and a free text', () => {
    const [a, b] = csvRecords(
      ['ClientNo', 'Program', 'IdType', 'IdValue'],
      [
        ['1', '01', 'MCD', 'M123'],
        ['2', '07', 'SSA', '123-45-6789'],
      ],
    );
    expect(mapRecord(source, feed, a).results[0].value).toEqual({
      id: '1',
      name: { family: 'Peer Recovery Center' },
      identifiers: [{ system: 'https://medicaid.state.example.gov/member-id', value: 'M123' }],
    });
    expect(mapRecord(source, feed, b).results[0].value).toEqual({
      id: '2',
      name: { family: 'Other program' },
      identifiers: [{ system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789' }],
    });
  });

  test('an unknown code of a uri table rejects the record, as a code table does', () => {
    const [c] = csvRecords(['ClientNo', 'Program', 'IdType', 'IdValue'], [['3', '01', 'XX', 'v']]);
    const r = mapRecord(source, feed, c).results[0];
    expect(r.issues).toEqual([
      expect.objectContaining({ severity: 'error', field: 'identifiers[0].system', message: expect.stringMatching(/Code 'XX' is not in table id-system/) }),
    ]);
  });

  test('value tables are not ConceptMaps; code tables still are', () => {
    expect(conceptMaps(source).map((m) => m.id)).toEqual(['test-src-mode']);
  });

  test('a uri table refuses a value that is not an absolute URI, at its line', () => {
    const bad = TABLES.replace('urn:oid:2.16.840.1.113883.4.1', 'social security');
    const e = loadError(bad);
    expect(e.field).toBe('tables.id-system.codes.SSA');
    expect(e.line).toBe(bad.split('\n').findIndex((l) => l.includes('social security')) + 1);
    expect(e.reason).toMatch(/maps to uri: give an absolute URI/);
  });

  test('a text table refuses true/false', () => {
    expect(loadError(TABLES.replace('Crisis Respite', 'true')).reason).toMatch(/maps to text: give any text, not true/);
  });
});
