/**
 * Rules as data (docs/domain.md#rules-as-data): billing units and the daily cap, Kleene
 * three-valued eligibility determinations with their deciding criteria, recovery capital totals and
 * changes, and the checks a rule file gets when it is loaded. Cases are tables.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Criterion, CriterionStatus, EligibilityResult, ReviewType } from '../../src/domain/codes';
import { billingUnits, cappedUnits, determine, loadRules, recoveryCapitalChanges, recoveryCapitalTotal, type RuleSet } from '../../src/domain/rules';

const rules = loadRules();

describe('billing units (default: 15-minute units, a remainder of 8 minutes or more counts)', () => {
  it.each([
    [1, 0],
    [7, 0],
    [8, 1],
    [15, 1],
    [22, 1],
    [23, 2],
    [30, 2],
    [37, 2],
    [38, 3],
    [52, 3],
    [53, 4],
    [60, 4],
    [1440, 96],
  ])('%i minutes -> %i units', (minutes, units) => {
    expect(billingUnits(minutes, rules.billing)).toBe(units);
  });

  it.each([
    [29, 0],
    [30, 1],
    [60, 1],
    [89, 1],
    [90, 2],
  ])('is configurable: hourly units with a 30-minute remainder: %i minutes -> %i units', (minutes, units) => {
    expect(billingUnits(minutes, { ...rules.billing, minutesPerUnit: 60, minimumRemainderMinutes: 30 })).toBe(units);
  });
});

describe('daily cap (default 16 units per person per day, across contacts)', () => {
  it('is 16 by default', () => {
    expect(rules.billing.maxUnitsPerPersonPerDay).toBe(16);
  });

  /** Grants for contacts in order, each `[personDay, units]`, with one shared `used` map. */
  const grant = (contacts: [string, number][], billing: RuleSet['billing'] = rules.billing): number[] => {
    const used = new Map<string, number>();
    return contacts.map(([personDay, units]) => cappedUnits(units, personDay, used, billing));
  };

  it.each<[string, [string, number][], number[]]>([
    [
      'under the cap: everything',
      [
        ['p1|2026-09-15', 4],
        ['p1|2026-09-15', 8],
      ],
      [4, 8],
    ],
    [
      'exactly the cap',
      [
        ['p1|2026-09-15', 10],
        ['p1|2026-09-15', 6],
      ],
      [10, 6],
    ],
    [
      'the contact that crosses it gets the rest, later ones nothing',
      [
        ['p1|2026-09-15', 6],
        ['p1|2026-09-15', 6],
        ['p1|2026-09-15', 6],
        ['p1|2026-09-15', 3],
      ],
      [6, 6, 4, 0],
    ],
    ['one contact over the cap', [['p1|2026-09-15', 96]], [16]],
    [
      'different days are independent',
      [
        ['p1|2026-09-15', 16],
        ['p1|2026-09-16', 16],
        ['p1|2026-09-15', 1],
      ],
      [16, 16, 0],
    ],
    [
      'different people are independent',
      [
        ['p1|2026-09-15', 16],
        ['p2|2026-09-15', 16],
        ['p2|2026-09-15', 2],
      ],
      [16, 16, 0],
    ],
    [
      'zero units use nothing',
      [
        ['p1|2026-09-15', 0],
        ['p1|2026-09-15', 16],
      ],
      [0, 16],
    ],
  ])('%s', (_name, contacts, expected) => {
    expect(grant(contacts)).toEqual(expected);
  });

  it('no cap when maxUnitsPerPersonPerDay is null', () => {
    expect(
      grant(
        [
          ['p1|2026-09-15', 96],
          ['p1|2026-09-15', 96],
        ],
        { ...rules.billing, maxUnitsPerPersonPerDay: null },
      ),
    ).toEqual([96, 96]);
  });

  it('a different cap from the rule set', () => {
    expect(
      grant(
        [
          ['p1|2026-09-15', 3],
          ['p1|2026-09-15', 3],
        ],
        { ...rules.billing, maxUnitsPerPersonPerDay: 4 },
      ),
    ).toEqual([3, 1]);
  });
});

describe('eligibility determinations (three-valued; deciding criteria named)', () => {
  type Statuses = Partial<Record<Criterion, CriterionStatus>>;
  const SERVICE = ['service-A', 'service-B', 'service-C', 'service-D', 'service-E', 'service-F', 'service-G'] as const;
  const all = (status: CriterionStatus, list: readonly Criterion[]): Statuses => Object.fromEntries(list.map((c) => [c, status]));
  const noService = all('not-met', SERVICE);
  const noExclusion: Statuses = { 'exclusion-A': 'not-met', 'exclusion-B': 'not-met' };
  /** `deciding` as `criterion=status` strings, in code-list order. */
  type Row = [string, ReviewType, Statuses, EligibilityResult, string[]];

  const cases: Row[] = [
    // Admission: any service criterion and no exclusion.
    [
      'admission: met service criteria and no exclusion',
      'admission',
      { ...noService, 'service-B': 'met', 'service-C': 'met', ...noExclusion },
      'eligible',
      ['service-B=met', 'service-C=met', 'exclusion-A=not-met', 'exclusion-B=not-met'],
    ],
    [
      'admission: an unknown service criterion that cannot change it',
      'admission',
      { ...noService, 'service-B': 'met', 'service-E': 'unknown', ...noExclusion },
      'eligible',
      ['service-B=met', 'exclusion-A=not-met', 'exclusion-B=not-met'],
    ],
    [
      'admission: unanswered service criteria that cannot change it',
      'admission',
      { 'service-F': 'met', ...noExclusion },
      'eligible',
      ['service-F=met', 'exclusion-A=not-met', 'exclusion-B=not-met'],
    ],
    [
      'admission: an exclusion met',
      'admission',
      { ...noService, 'service-A': 'met', 'exclusion-A': 'met', 'exclusion-B': 'not-met' },
      'not-eligible',
      ['exclusion-A=met'],
    ],
    [
      'admission: an exclusion met, the other unknown',
      'admission',
      { 'service-A': 'met', 'exclusion-A': 'unknown', 'exclusion-B': 'met' },
      'not-eligible',
      ['exclusion-B=met'],
    ],
    ['admission: an exclusion met, services unknown', 'admission', { ...all('unknown', SERVICE), 'exclusion-B': 'met' }, 'not-eligible', ['exclusion-B=met']],
    ['admission: no service criterion met', 'admission', { ...noService, ...noExclusion }, 'not-eligible', SERVICE.map((c) => `${c}=not-met`)],
    [
      'admission: no service criterion met, an exclusion unknown (cannot change it)',
      'admission',
      { ...noService, 'exclusion-A': 'unknown' },
      'not-eligible',
      SERVICE.map((c) => `${c}=not-met`),
    ],
    [
      'admission: the only possible service criterion unknown',
      'admission',
      { ...noService, 'service-E': 'unknown', ...noExclusion },
      'indeterminate',
      ['service-E=unknown'],
    ],
    [
      'admission: the only possible service criterion missing',
      'admission',
      { ...noService, 'service-G': undefined, ...noExclusion },
      'indeterminate',
      ['service-G=unknown'],
    ],
    [
      'admission: two unknown service criteria',
      'admission',
      { ...noService, 'service-A': 'unknown', 'service-D': 'unknown', ...noExclusion },
      'indeterminate',
      ['service-A=unknown', 'service-D=unknown'],
    ],
    [
      'admission: a service criterion met, an exclusion unknown',
      'admission',
      { ...noService, 'service-C': 'met', 'exclusion-A': 'not-met', 'exclusion-B': 'unknown' },
      'indeterminate',
      ['exclusion-B=unknown'],
    ],
    [
      'admission: a service criterion met, an exclusion missing',
      'admission',
      { 'service-C': 'met', 'exclusion-A': 'not-met' },
      'indeterminate',
      ['exclusion-B=unknown'],
    ],
    ['admission: nothing answered', 'admission', {}, 'indeterminate', [...SERVICE, 'exclusion-A', 'exclusion-B'].map((c) => `${c}=unknown`)],
    // Continued stay: B and (A or C).
    [
      'continued stay: B and A',
      'continued-stay',
      { 'continued-stay-A': 'met', 'continued-stay-B': 'met', 'continued-stay-C': 'not-met' },
      'continue',
      ['continued-stay-A=met', 'continued-stay-B=met'],
    ],
    [
      'continued stay: B and C, A unknown (cannot change it)',
      'continued-stay',
      { 'continued-stay-A': 'unknown', 'continued-stay-B': 'met', 'continued-stay-C': 'met' },
      'continue',
      ['continued-stay-B=met', 'continued-stay-C=met'],
    ],
    [
      'continued stay: B and both A and C',
      'continued-stay',
      { 'continued-stay-A': 'met', 'continued-stay-B': 'met', 'continued-stay-C': 'met' },
      'continue',
      ['continued-stay-A=met', 'continued-stay-B=met', 'continued-stay-C=met'],
    ],
    [
      'continued stay: B not met (does not wish to continue)',
      'continued-stay',
      { 'continued-stay-A': 'met', 'continued-stay-B': 'not-met', 'continued-stay-C': 'met' },
      'discharge',
      ['continued-stay-B=not-met'],
    ],
    [
      'continued stay: B not met, A and C unknown (cannot change it)',
      'continued-stay',
      { 'continued-stay-A': 'unknown', 'continued-stay-B': 'not-met' },
      'discharge',
      ['continued-stay-B=not-met'],
    ],
    [
      'continued stay: B met, neither A nor C',
      'continued-stay',
      { 'continued-stay-A': 'not-met', 'continued-stay-B': 'met', 'continued-stay-C': 'not-met' },
      'discharge',
      ['continued-stay-A=not-met', 'continued-stay-C=not-met'],
    ],
    [
      'continued stay: B unknown, A met',
      'continued-stay',
      { 'continued-stay-A': 'met', 'continued-stay-B': 'unknown', 'continued-stay-C': 'not-met' },
      'indeterminate',
      ['continued-stay-B=unknown'],
    ],
    [
      'continued stay: B met, A unknown, C not met',
      'continued-stay',
      { 'continued-stay-A': 'unknown', 'continued-stay-B': 'met', 'continued-stay-C': 'not-met' },
      'indeterminate',
      ['continued-stay-A=unknown'],
    ],
    [
      'continued stay: B met, A and C missing',
      'continued-stay',
      { 'continued-stay-B': 'met' },
      'indeterminate',
      ['continued-stay-A=unknown', 'continued-stay-C=unknown'],
    ],
    // Discharge: any discharge criterion.
    ['discharge: A met', 'discharge', { 'discharge-A': 'met', 'discharge-B': 'not-met' }, 'discharge', ['discharge-A=met']],
    ['discharge: both met', 'discharge', { 'discharge-A': 'met', 'discharge-B': 'met' }, 'discharge', ['discharge-A=met', 'discharge-B=met']],
    ['discharge: B met, A unknown (cannot change it)', 'discharge', { 'discharge-A': 'unknown', 'discharge-B': 'met' }, 'discharge', ['discharge-B=met']],
    ['discharge: neither met', 'discharge', { 'discharge-A': 'not-met', 'discharge-B': 'not-met' }, 'continue', ['discharge-A=not-met', 'discharge-B=not-met']],
    ['discharge: A unknown, B not met', 'discharge', { 'discharge-A': 'unknown', 'discharge-B': 'not-met' }, 'indeterminate', ['discharge-A=unknown']],
    ['discharge: B missing, A not met', 'discharge', { 'discharge-A': 'not-met' }, 'indeterminate', ['discharge-B=unknown']],
  ];

  it.each(cases)('%s', (_name, type, statuses, result, deciding) => {
    const clean = Object.fromEntries(Object.entries(statuses).filter(([, v]) => v !== undefined)) as Statuses;
    const det = determine(type, clean, rules.eligibility);
    expect(det.reviewType).toBe(type);
    expect(det.result).toBe(result);
    expect(det.deciding.map((d) => `${d.criterion}=${d.status}`)).toEqual(deciding);
  });

  it('follows a program rule set: continued stay needs all three', () => {
    const custom: RuleSet['eligibility'] = {
      ...rules.eligibility,
      'continued-stay': { ...rules.eligibility['continued-stay'], rule: { all: ['continued-stay-A', 'continued-stay-B', 'continued-stay-C'] } },
    };
    expect(determine('continued-stay', { 'continued-stay-A': 'met', 'continued-stay-B': 'met', 'continued-stay-C': 'not-met' }, custom).result).toBe(
      'discharge',
    );
    expect(determine('continued-stay', { 'continued-stay-A': 'met', 'continued-stay-B': 'met', 'continued-stay-C': 'met' }, custom).result).toBe('continue');
  });
});

describe('recovery capital (Idaho Recovery Capital Scale: 23 items rated 1-5)', () => {
  const answers = (fill: number | null, overrides: Record<number, number | null> = {}): (number | null)[] =>
    Array.from({ length: 23 }, (_, i) => (i + 1 in overrides ? overrides[i + 1] : fill));

  it.each<[string, (number | null)[], { total: number | undefined; missing: number[] }]>([
    ['all 1: the minimum', answers(1), { total: 23, missing: [] }],
    ['all 5: the maximum', answers(5), { total: 115, missing: [] }],
    ['all 3', answers(3), { total: 69, missing: [] }],
    ['mixed', answers(2, { 1: 5, 23: 4 }), { total: 2 * 21 + 5 + 4, missing: [] }],
    ['item 1 missing', answers(4, { 1: null }), { total: undefined, missing: [1] }],
    ['items 7 and 23 missing (1-based)', answers(4, { 7: null, 23: null }), { total: undefined, missing: [7, 23] }],
    ['nothing answered', answers(null), { total: undefined, missing: Array.from({ length: 23 }, (_, i) => i + 1) }],
  ])('%s', (_name, list, expected) => {
    expect(recoveryCapitalTotal(list)).toEqual(expected);
  });

  it('change since the same person’s previous administration, in date order', () => {
    const changes = recoveryCapitalChanges([
      { personId: 'p1', administrationId: 'a3', date: '2026-11-01T09:00:00Z', total: 80 },
      { personId: 'p2', administrationId: 'b1', date: '2026-09-01T09:00:00-05:00', total: 40 },
      { personId: 'p1', administrationId: 'a1', date: '2026-09-01T09:00:00-05:00', total: 52 },
      // 23:00-05:00 is 04:00Z the next day: after a2 (01:00Z) although its local date is earlier.
      { personId: 'p2', administrationId: 'b3', date: '2026-10-01T23:00:00-05:00', total: 45 },
      { personId: 'p2', administrationId: 'b2', date: '2026-10-02T01:00:00Z', total: 60 },
      { personId: 'p1', administrationId: 'a2', date: '2026-10-01T09:00:00+02:00', total: 71 },
    ]);
    const byPerson = (p: string) =>
      changes.filter((c) => c.personId === p).map((c) => [c.administrationId, c.total, c.previousAdministrationId, c.previousTotal, c.change]);
    expect(byPerson('p1')).toEqual([
      ['a1', 52, undefined, undefined, undefined],
      ['a2', 71, 'a1', 52, 19],
      ['a3', 80, 'a2', 71, 9],
    ]);
    expect(byPerson('p2')).toEqual([
      ['b1', 40, undefined, undefined, undefined],
      ['b2', 60, 'b1', 40, 20],
      ['b3', 45, 'b2', 60, -15],
    ]);
    expect(changes).toHaveLength(6);
    expect(changes.find((c) => c.administrationId === 'a1')).not.toHaveProperty('change');
  });

  it('no administrations, no changes', () => {
    expect(recoveryCapitalChanges([])).toEqual([]);
  });
});

describe('loadRules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pb-rules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const defaults = (): Record<string, any> => structuredClone(loadRules()) as Record<string, any>;
  const write = (name: string, content: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };

  it('loads rules/default.json by default, and an equal copy from elsewhere', () => {
    expect(loadRules(write('copy.json', defaults()))).toEqual(rules);
  });

  it.each<[string, (r: Record<string, any>) => void, string[]]>([
    ['a unit of 0 minutes', (r) => (r.billing.minutesPerUnit = 0), ['billing.minutesPerUnit']],
    ['a fractional remainder', (r) => (r.billing.minimumRemainderMinutes = 7.5), ['billing.minimumRemainderMinutes']],
    ['a cap given as a string', (r) => (r.billing.maxUnitsPerPersonPerDay = '16'), ['billing.maxUnitsPerPersonPerDay']],
    ['no billing code', (r) => delete r.billing.code, ['billing.code']],
    ['an unknown criterion in a rule', (r) => (r.eligibility.discharge.rule = { any: ['discharge-A', 'discharge-Z'] }), ['eligibility.discharge.rule']],
    ['an unknown criterion in a criteria list', (r) => r.eligibility.admission.criteria.push('service-H'), ['eligibility.admission.criteria.9']],
    ['an unknown result', (r) => (r.eligibility['continued-stay'].whenTrue = 'stay'), ['eligibility.continued-stay.whenTrue']],
    ['a review type missing', (r) => delete r.eligibility.discharge, ['eligibility.discharge']],
    ['an unknown property', (r) => (r.billing.roundUp = true), ['billing']],
    [
      'a rule naming a criterion its review does not answer',
      (r) => (r.eligibility.discharge.rule = { any: ['discharge-A', 'service-A'] }),
      ['eligibility.discharge.rule'],
    ],
    [
      'two bad fields: both named',
      (r) => ((r.billing.minutesPerUnit = -15), (r.eligibility.admission.whenFalse = 'nope')),
      ['billing.minutesPerUnit', 'eligibility.admission.whenFalse'],
    ],
  ])('rejects %s, naming the file and the field', (name, change, fields) => {
    const r = defaults();
    change(r);
    const file = write(`${name.replace(/\W+/g, '-')}.json`, r);
    let message = '';
    try {
      loadRules(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(file);
    expect(message).toMatch(/invalid/);
    for (const field of fields) {
      expect(message).toMatch(new RegExp(`^  ${field.replace(/[.]/g, '\\.')}: `, 'm'));
    }
  });

  it('rejects a file that is not JSON, naming it', () => {
    const file = write('broken.json', '{ "billing": ');
    expect(() => loadRules(file)).toThrow(file);
  });

  it('rejects a missing file, naming it', () => {
    const file = join(dir, 'no-such-file.json');
    expect(() => loadRules(file)).toThrow(file);
  });
});
