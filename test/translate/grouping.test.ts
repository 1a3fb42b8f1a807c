import type { SourceRecord } from '../../src/inbound/source';
import { groupWhere, loadSource, mapRecords } from '../../src/translate';
import { collect, csvRecords, sourceYaml, writeMapping } from './helpers';

const TABLES = `tables:
  criterion:
    target: criterion
    codes: { A: service-A, B: service-B, X: exclusion-A }
  status:
    target: criterion-status
    codes: { Y: met, N: not-met }
`;

function feedYaml(sorted: boolean): string {
  return `match: "*.csv"
group: { by: [ReviewID], sorted: ${sorted} }
records:
  - record: eligibility-review
    fields:
      id: ReviewID
      episode.id: EpisodeID
      type: { const: admission }
      date: { from: Date, transform: [{ datetime: iso }] }
      criteria: { each: rows, key: { from: Criterion, table: criterion }, value: { from: Result, table: status } }
`;
}

const header = ['ReviewID', 'EpisodeID', 'Date', 'Criterion', 'Result'];
const rows = (): SourceRecord[] =>
  csvRecords(
    header,
    [
      ['R-1', 'E-1', '2026-09-01T09:00', 'A', 'Y'],
      ['R-1', 'E-1', '2026-09-01T09:00', 'B', 'N'],
      { error: 'Unclosed quote' },
      ['R-1', 'E-1', '2026-09-01T09:00', 'X', 'N'],
      ['R-2', 'E-2', '2026-09-02T09:00', 'A', 'N'],
      ['', 'E-3', '2026-09-03T09:00', 'A', 'N'],
      ['R-2', 'E-2', '2026-09-02T09:00', 'B', 'Y'],
    ],
    14,
  );

function load(sorted: boolean) {
  const source = loadSource(writeMapping({ 'source.yaml': sourceYaml(), 'tables.yaml': TABLES, 'reviews.yaml': feedYaml(sorted) }));
  return { source, feed: source.feeds[0] };
}

describe('grouping rows into one record', () => {
  test('sorted: a group ends when the key changes; broken rows and rows without a key pass through on their own', async () => {
    const { source, feed } = load(true);
    expect(feed.columns).toEqual(['ReviewID', 'EpisodeID', 'Date', 'Criterion', 'Result']);
    const out = await collect(mapRecords(source, feed, rows()));
    expect(out.map((m) => [m.record.where, m.results.length, m.issues.map((i) => `${i.severity}: ${i.message}`)])).toEqual([
      ['line 16', 0, ['error: Unclosed quote']],
      ['lines 14-15, 17', 1, []],
      ['line 19', 0, ['error: group key ReviewID is empty']],
      ['lines 18, 20', 1, []],
    ]);
    const r1 = out[1];
    expect(r1.record).toMatchObject({
      n: 1,
      input: 'test.csv',
      where: 'lines 14-15, 17',
      raw: 'R-1,E-1,2026-09-01T09:00,A,Y\nR-1,E-1,2026-09-01T09:00,B,N\nR-1,E-1,2026-09-01T09:00,X,N',
      meta: { header: header.join(',') },
    });
    expect(r1.results[0].value).toEqual({
      id: 'R-1',
      type: 'admission',
      date: '2026-09-01T09:00:00-05:00',
      criteria: { 'service-A': 'met', 'service-B': 'not-met', 'exclusion-A': 'not-met' },
    });
    expect(r1.results[0].episode).toEqual({ id: 'E-1' });
    expect(r1.results[0].trace).toMatchObject({
      id: 'line 14, column "ReviewID"',
      'criteria.service-B': 'line 15, column "Result"',
      'criteria.exclusion-A': 'line 17, column "Result"',
    });
    expect(out[2].issues[0]).toEqual({ severity: 'error', field: '', source: 'line 19', message: 'group key ReviewID is empty' });
  });

  test('sorted: a key that comes back after another group is rejected, so that it does not replace the first group', async () => {
    const { source, feed } = load(true);
    const all = rows();
    const out = await collect(mapRecords(source, feed, [all[0], all[4], all[1]]));
    expect(out.map((m) => [m.record.where, m.results.length, m.issues.map((i) => `${i.severity}: ${i.message}`)])).toEqual([
      ['line 14', 1, []],
      ['line 18', 1, []],
      [
        'line 15',
        0,
        [
          'error: Group key R-1 was also at line 14: rows of a group must be next to each other (or set group.sorted: false); these rows are rejected so that they do not replace the record made there',
        ],
      ],
    ]);
    expect(out[2].record.raw).toBe('R-1,E-1,2026-09-01T09:00,B,N');
  });

  test('unsorted: every row is read first, groups come out in first-seen order', async () => {
    const { source, feed } = load(false);
    const out = await collect(mapRecords(source, feed, rows()));
    expect(out.map((m) => [m.record.where, m.results.map((r) => r.value.criteria)])).toEqual([
      ['line 16', []],
      ['line 19', []],
      ['lines 14-15, 17', [{ 'service-A': 'met', 'service-B': 'not-met', 'exclusion-A': 'not-met' }]],
      ['lines 18, 20', [{ 'service-A': 'not-met', 'service-B': 'met' }]],
    ]);
  });

  test('groups are read from async sources too', async () => {
    const { source, feed } = load(true);
    async function* gen() {
      yield* rows().slice(0, 2);
    }
    const out = await collect(mapRecords(source, feed, gen()));
    expect(out.map((m) => m.record.where)).toEqual(['lines 14-15']);
  });

  test('without group, each record is its own', async () => {
    const source = loadSource(
      writeMapping({ 'source.yaml': sourceYaml(), 'people.yaml': 'match: "*.csv"\nrecords:\n  - record: person\n    fields:\n      id: ReviewID\n' }),
    );
    const out = await collect(mapRecords(source, source.feeds[0], rows()));
    expect(out.map((m) => m.record.where)).toEqual(['line 14', 'line 15', 'line 16', 'line 17', 'line 18', 'line 19', 'line 20']);
  });
});

describe('groupWhere', () => {
  test.each([
    [['line 3'], 'line 3'],
    [['line 3', 'line 4', 'line 5'], 'lines 3-5'],
    [['line 3', 'lines 4-5', 'line 6'], 'lines 3-6'],
    [['line 14', 'line 20', 'line 31'], 'lines 14, 20, 31'],
    [['line 14', 'line 15', 'line 17'], 'lines 14-15, 17'],
    [['lines 14-15', 'line 20'], 'lines 14-15, 20'],
    [['$[0]', '$[1]'], '$[0], $[1]'],
  ])('%j -> %s', (wheres, out) => {
    expect(groupWhere(wheres)).toBe(out);
  });
});
