import type { SourceRecord } from '../../src/inbound/source';
import { type Feed, type LoadedSource, loadSource, mapRecord, MappingLoadError } from '../../src/translate';
import { csvRecords, jsonRecord, sourceYaml, writeMapping } from './helpers';

function load(feed: string, format: 'csv' | 'json' = 'csv'): { source: LoadedSource; feed: Feed } {
  const source = loadSource(writeMapping({ 'source.yaml': sourceYaml(format), 'feed.yaml': feed }));
  return { source, feed: source.feeds[0] };
}

function loadError(feed: string): MappingLoadError {
  try {
    load(feed);
  } catch (e) {
    if (e instanceof MappingLoadError) return e;
    throw e;
  }
  throw new Error('expected a MappingLoadError');
}

function values(source: LoadedSource, feed: Feed, record: SourceRecord) {
  const out = mapRecord(source, feed, record);
  expect(out.issues).toEqual([]);
  return out.results.map((r) => r.value);
}

const HEADER = ['ContactID', 'EpisodeID', 'SvcDate', 'StartTime', 'EndTime', 'Status', 'Phone', 'Mobile'];
const NO_SHOW = `match: "*.csv"
records:
  - record: contact
    fields:
      id: ContactID
      episode.id: EpisodeID
      start: { from: [SvcDate, StartTime], transform: [{ join: " " }, { datetime: "MM/dd/yyyy HH:mm" }] }
      end:
        from: [SvcDate, EndTime]
        when: { path: EndTime, not: { path: StartTime } }
        transform: [{ join: " " }, { datetime: "MM/dd/yyyy HH:mm" }]
      status: { from: Status, when: { path: Status, in: [finished, no-show, cancelled] }, default: finished }
      note: { from: [Phone, Mobile], transform: first }
`;

describe('when on a field rule', () => {
  const { source, feed } = load(NO_SHOW);
  test('a no-show whose end equals its start leaves end out (no regex trick)', () => {
    const [noShow, visit] = csvRecords(HEADER, [
      ['C1', 'E1', '09/15/2026', '10:00', '10:00', 'no-show', '', '555-0101'],
      ['C2', 'E1', '09/15/2026', '10:00', '10:50', 'finished', '555-0100', '555-0101'],
    ]);
    const [a] = values(source, feed, noShow);
    expect(a).toEqual({ id: 'C1', start: '2026-09-15T10:00:00-05:00', status: 'no-show', note: '555-0101' });
    const [b] = values(source, feed, visit);
    expect(b).toEqual({ id: 'C2', start: '2026-09-15T10:00:00-05:00', end: '2026-09-15T10:50:00-05:00', status: 'finished', note: '555-0100' });
  });

  test('a false when sets nothing: neither the value nor its default', () => {
    const [rec] = csvRecords(HEADER, [['C3', 'E1', '09/15/2026', '10:00', '', 'pending', '', '']]);
    const [v] = values(source, feed, rec);
    expect(v).toEqual({ id: 'C3', start: '2026-09-15T10:00:00-05:00' });
  });

  test('a false when does not reject a required rule', () => {
    const { source: s, feed: f } = load(`match: "*.csv"
records:
  - record: person
    fields:
      id: ContactID
      name.family: { from: Phone, when: { path: Status, equals: active }, required: true }
      name.given: Mobile
`);
    const [rec] = csvRecords(HEADER, [['P1', '', '', '', '', 'inactive', '', 'Ann']]);
    const out = mapRecord(s, f, rec);
    expect(out.results[0].issues).toEqual([]);
    expect(out.results[0].value).toEqual({ id: 'P1', name: { given: ['Ann'] } });
  });
});

describe('conditions: equals, not, in, empty, present', () => {
  const feed = (when: string) => `match: "*.csv"
records:
  - record: person
    when: ${when}
    fields:
      id: ContactID
      name.family: Status
`;
  const rows = csvRecords(HEADER, [
    ['1', '', '', '', '', 'active', '', ''],
    ['2', '', '', '', '', 'Closed', '', ''],
    ['3', '', '', '', '', '', '', ''],
  ]);
  const made = (when: string) => {
    const { source, feed: f } = load(feed(when));
    return rows.filter((r) => mapRecord(source, f, r).results.length > 0).map((r) => r.n);
  };
  test.each([
    ['{ path: Status, equals: active }', [1]],
    ['{ path: Status, not: active }', [2, 3]],
    ['{ path: Status, not: [active, closed], ignoreCase: true }', [3]],
    ['{ path: Status, in: [active, Closed] }', [1, 2]],
    ['{ path: Status, empty: true }', [3]],
    ['{ path: Status, empty: false }', [1, 2]],
    ['{ path: Status, present: true }', [1, 2]],
    ['{ path: Status, equals: { path: Phone } }', []],
    ['{ path: Status, not: { path: Phone } }', [1, 2, 3]],
  ])('%s', (when, want) => {
    expect(made(when)).toEqual(want);
  });

  test('two tests in one condition is an error at load', () => {
    const e = loadError(feed('{ path: Status, equals: a, not: b }'));
    expect(e.reason).toMatch(/exactly one of equals, not, in, present, empty/);
  });

  test('JSON: not with a [*] path holds when no repetition is one of the values', () => {
    const { source, feed: f } = load(
      `match: "*.json"
records:
  - record: person
    fields:
      id: id
      name.family: { from: family, when: { path: "flags[*]", not: deceased } }
      name.given: { from: given }
`,
      'json',
    );
    expect(values(source, f, jsonRecord({ id: 'a', family: 'Lopez', given: 'Ann', flags: ['vip'] }))).toEqual([
      { id: 'a', name: { family: 'Lopez', given: ['Ann'] } },
    ]);
    expect(values(source, f, jsonRecord({ id: 'b', family: 'Lopez', given: 'Ann', flags: ['vip', 'deceased'] }))).toEqual([
      { id: 'b', name: { given: ['Ann'] } },
    ]);
  });
});

describe('columns declared in csv.columns are checked at load', () => {
  const feed = (when: string) => `match: "*.csv"
csv:
  columns: [ClientNo, Last, Status]
records:
  - record: person
    fields:
      id: ClientNo
      name.family: { from: Last, when: ${when} }
`;
  test('a conditional that names an unknown column fails with file, line and field', () => {
    const text = feed('{ path: status, equals: active }');
    const e = loadError(text);
    expect(e.file).toMatch(/feed\.yaml$/);
    expect(e.field).toBe('records[0].fields.name.family.when.path');
    expect(e.line).toBe(text.split('\n').findIndex((l) => l.includes('path: status')) + 1);
    expect(e.reason).toBe("unknown column 'status' (did you mean 'Status'?): the header in csv.columns has ClientNo, Last, Status");
  });
  test('the column compared with is checked too', () => {
    expect(loadError(feed('{ path: Status, not: { path: Stat } }')).field).toBe('records[0].fields.name.family.when.not.path');
  });
  test('known columns load', () => {
    expect(() => load(feed('{ path: Status, equals: active }'))).not.toThrow();
  });
});
