import { Missing, type StepContext, TRANSFORM_NAMES, TRANSFORMS } from '../../src/translate/transforms';
import { type Env, type Got, type Item, StepFailure } from '../../src/translate/values';

const ctx: StepContext = {
  timezone: 'America/Chicago',
  table: () => {
    throw new Error('no tables here');
  },
};

function env(): Env {
  return { format: 'csv', issues: [], trace: {}, field: 'f', at: undefined };
}

/** Runs one step on a value (a list when `v` is an array) and gives back the value, or the failure message. */
function run(name: string, arg: unknown, v: Item | Item[] | undefined, e = env()): unknown {
  const def = TRANSFORMS[name];
  const arg2 = def.arg && arg !== undefined ? def.arg.parse(arg) : arg;
  const step = def.build(arg2, ctx).step;
  const g: Got | undefined = v === undefined || v === null ? undefined : Array.isArray(v) ? { v, at: 'A', ats: v.map((_, i) => `A${i}`) } : { v, at: 'A' };
  try {
    return step(g, e)?.v;
  } catch (err) {
    if (err instanceof StepFailure) return `${err.message} @${err.at}`;
    if (err instanceof Missing) return 'MISSING';
    throw err;
  }
}

describe('the registry', () => {
  test('has every step of the README table', () => {
    expect(TRANSFORM_NAMES).toEqual([
      'trim',
      'upper',
      'lower',
      'number',
      'integer',
      'boolean',
      'date',
      'datetime',
      'split',
      'join',
      'first',
      'compact',
      'template',
      'replace',
      'null-if',
      'default',
      'required',
      'person-name',
      'hash',
      'lookup',
    ]);
  });
});

describe('text steps', () => {
  test.each([
    ['trim', undefined, '  a b  ', 'a b'],
    ['upper', undefined, 'f2f', 'F2F'],
    ['lower', undefined, 'F2F', 'f2f'],
    ['upper', undefined, 12, '12'],
    ['template', 'rb-{}', '1001', 'rb-1001'],
    ['template', '{}-{}', 'x', 'x-x'],
    ['replace', { pattern: '^0+', with: '' }, '000123', '123'],
    ['replace', { pattern: '(\\d{3})(\\d{4})', with: '$1-$2' }, '5551234', '555-1234'],
    ['replace', { pattern: 'x', with: 'y', ignoreCase: true }, 'XxX', 'yyy'],
    ['replace', { pattern: '^0+', with: '' }, '000', undefined],
    ['null-if', ['N/A', 'UNK'], 'n/a', undefined],
    ['null-if', ['N/A', 'UNK'], 'Dana', 'Dana'],
    ['null-if', 0, '0', undefined],
  ])('%s %j: %j -> %j', (name, arg, v, out) => {
    expect(run(name, arg, v)).toEqual(out);
  });

  test('steps apply to each item of a list, skipping nulls and keeping positions', () => {
    expect(run('upper', undefined, ['a', null, 'c'])).toEqual(['A', null, 'C']);
    expect(run('null-if', ['x'], ['a', 'x', 'c'])).toEqual(['a', null, 'c']);
  });

  test('template needs {}', () => {
    expect(TRANSFORMS.template.arg?.safeParse('rb-').success).toBe(false);
  });
});

describe('number, integer, boolean', () => {
  test.each([
    ['number', '52', 52],
    ['number', '-1.5', -1.5],
    ['number', '.5', 0.5],
    ['number', '1e3', 1000],
    ['number', 7, 7],
    ['number', '1,234.5', "Not a number: '1,234.5' @A"],
    ['number', 'abc', "Not a number: 'abc' @A"],
    ['number', true, 'Not a number: true @A'],
    ['integer', '52', 52],
    ['integer', '+7', 7],
    ['integer', '052', 52],
    ['integer', '52.0', 52],
    ['integer', 52, 52],
    ['integer', '4O', "Not a whole number: '4O' @A"],
    ['integer', '52.5', "Not a whole number: '52.5' @A"],
    ['integer', 52.5, 'Not a whole number: 52.5 @A'],
    ['boolean', 'Yes', true],
    ['boolean', 'N', false],
    ['boolean', '1', true],
    ['boolean', 'F', false],
    ['boolean', false, false],
    ['boolean', 'maybe', "Not a yes/no value: 'maybe' (true: true, yes, y, 1, t; false: false, no, n, 0, f) @A"],
  ])('%s: %j -> %j', (name, v, out) => {
    expect(run(name, undefined, v)).toEqual(out);
  });

  test('boolean with its own words replaces the defaults', () => {
    const arg = { true: ['Active', 'A'], false: ['Inactive', 'I'] };
    expect(run('boolean', arg, 'active')).toBe(true);
    expect(run('boolean', arg, 'I')).toBe(false);
    expect(run('boolean', arg, 'yes')).toBe("Not a yes/no value: 'yes' (true: active, a; false: inactive, i) @A");
    expect(() => TRANSFORMS.boolean.build({ true: ['x'], false: ['X'] }, ctx)).toThrow("'x' is both true and false");
  });

  test('a failing item names its own place', () => {
    expect(run('integer', undefined, ['1', 'x', '3'])).toBe("Not a whole number: 'x' @A1");
  });
});

describe('date and datetime steps', () => {
  test('date', () => {
    expect(run('date', { format: 'MM/dd/yyyy' }, '09/15/2026')).toBe('2026-09-15');
    expect(run('date', 'MM/dd/yyyy', '09/15/2026')).toBe('2026-09-15');
    expect(run('date', { format: 'hl7' }, 20260915)).toBe('2026-09-15');
    expect(run('date', { format: 'MM/dd/yyyy' }, '13/45/2026')).toBe("'13/45/2026' does not match the date format MM/dd/yyyy (no month 13) @A");
  });

  test('datetime uses the source zone, or its own', () => {
    expect(run('datetime', { format: 'MM/dd/yyyy HH:mm' }, '09/15/2026 10:00')).toBe('2026-09-15T10:00:00-05:00');
    expect(run('datetime', { format: 'MM/dd/yyyy HH:mm', zone: 'America/New_York' }, '09/15/2026 10:00')).toBe('2026-09-15T10:00:00-04:00');
    expect(run('datetime', { format: 'hl7' }, '20260915')).toBe("'20260915': no time of day (a date-time needs at least an hour) @A");
    expect(() => TRANSFORMS.datetime.build({ format: 'iso', zone: 'Mars/Olympus' }, ctx)).toThrow("'Mars/Olympus' is not an IANA time zone");
  });

  test('a wall time in a gap gives a warning with the field and source', () => {
    const e = env();
    expect(run('datetime', { format: 'iso', zone: 'America/New_York' }, '2026-03-08T02:30', e)).toBe('2026-03-08T03:30:00-04:00');
    expect(e.issues).toEqual([{ severity: 'warning', field: 'f', source: 'A', message: expect.stringContaining('does not exist in America/New_York') }]);
  });
});

describe('list steps', () => {
  test('split makes a list of trimmed, non-empty items', () => {
    expect(run('split', ';', ' a; b ;;c ')).toEqual(['a', 'b', 'c']);
    expect(run('split', ';', ' ; ')).toBeUndefined();
  });

  test('join skips absent items; a list of nothing is absent', () => {
    expect(run('join', ' ', ['09/15/2026', null, '10:00 AM'])).toBe('09/15/2026 10:00 AM');
    expect(run('join', ' ', [null, null])).toBeUndefined();
    expect(run('join', ' ', 'one')).toBe('one');
  });

  test('first and compact', () => {
    expect(run('first', undefined, [null, 'b', 'c'])).toBe('b');
    expect(run('first', undefined, [null, null])).toBeUndefined();
    expect(run('compact', undefined, ['a', null, 'c'])).toEqual(['a', 'c']);
    expect(run('compact', undefined, [null])).toBeUndefined();
  });

  test('first keeps the place of the item it took', () => {
    const g = TRANSFORMS.first.build(undefined, ctx).step({ v: [null, 'b'], at: 'A1', ats: [undefined, 'A1'] }, env());
    expect(g).toEqual({ v: 'b', at: 'A1' });
  });
});

describe('default and required', () => {
  test('default fills an absent value, or a list with nothing in it', () => {
    expect(run('default', 'in-person', undefined)).toBe('in-person');
    expect(run('default', 'in-person', 'video')).toBe('video');
    expect(run('default', 'x', [null, null])).toBe('x');
    expect(run('default', 'x', [null, 'y'])).toEqual([null, 'y']);
  });

  test('required refuses an absent value', () => {
    expect(run('required', undefined, undefined)).toBe('MISSING');
    expect(run('required', undefined, [null])).toBe('MISSING');
    expect(run('required', undefined, 'x')).toBe('x');
  });
});
