import { DateString, DateTimeString } from '../../src/domain/datetime';
import { compileFormat, type DateParts, toDateString, toDateTimeString } from '../../src/translate/dates';
import { offsetAt } from '../../src/translate/time-zones';

function dt(format: string, text: string, zone = 'America/Chicago'): string {
  const p = compileFormat(format, 'datetime')(text);
  if (typeof p === 'string') throw new Error(p);
  return toDateTimeString(p, zone);
}

function d(format: string, text: string): string {
  const p = compileFormat(format, 'date')(text);
  if (typeof p === 'string') throw new Error(p);
  return toDateString(p);
}

describe('date formats', () => {
  test.each([
    ['MM/dd/yyyy', '09/15/2026', '2026-09-15'],
    ['M/d/yyyy', '9/5/2026', '2026-09-05'],
    ['M/d/yyyy', '12/25/2026', '2026-12-25'],
    ['yyyy-MM-dd', '2026-09-15', '2026-09-15'],
    ['dd.MM.yy', '15.09.26', '2026-09-15'],
    ['dd.MM.yy', '15.09.68', '2068-09-15'],
    ['dd.MM.yy', '15.09.69', '1969-09-15'],
    ['d-MMM-yyyy', '5-sep-2026', '2026-09-05'],
    ['yyyyMMdd', '20260915', '2026-09-15'],
    ['MM/dd/yyyy HH:mm', '09/15/2026 10:30', '2026-09-15'],
    ['hl7', '20260915', '2026-09-15'],
    ['hl7', '202609151030-0500', '2026-09-15'],
    ['iso', '2026-09-15', '2026-09-15'],
    ['iso', '2026-09-15T23:30:00+09:00', '2026-09-15'],
    ['MM/dd/yyyy', '02/29/2028', '2028-02-29'],
  ])('%s reads %s as %s', (format, text, expected) => {
    expect(d(format, text)).toBe(expected);
    expect(DateString.safeParse(expected).success).toBe(true);
  });

  test.each([
    ['MM/dd/yyyy', '13/45/2026', "'13/45/2026' does not match the date format MM/dd/yyyy (no month 13)"],
    ['MM/dd/yyyy', '02/30/2026', "'02/30/2026' does not match the date format MM/dd/yyyy (no day 30 in 2026-02)"],
    ['MM/dd/yyyy', '02/29/2026', "'02/29/2026' does not match the date format MM/dd/yyyy (no day 29 in 2026-02)"],
    ['MM/dd/yyyy', '9/15/2026', "'9/15/2026' does not match the date format MM/dd/yyyy"],
    ['MM/dd/yyyy', '2026-09-15', "'2026-09-15' does not match the date format MM/dd/yyyy"],
    ['d-MMM-yyyy', '5-Sept-2026', "'5-Sept-2026' does not match the date format d-MMM-yyyy"],
    ['hl7', '202609', "'202609' has no day (HL7 date/time YYYYMMDD...)"],
    ['hl7', '2026-09-15', "'2026-09-15' is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+/-ZZZZ])"],
    ['iso', '09/15/2026', "'09/15/2026' is not an ISO 8601 date or date-time (YYYY-MM-DD[Thh:mm[:ss][±hh:mm]])"],
  ])('%s refuses %s', (format, text, message) => {
    expect(compileFormat(format, 'date')(text)).toBe(message);
  });

  test.each([
    ['MM/dd/yyyy Q', 'date', "bad date format token 'Q'"],
    ['MM/dd/yyyy hh:mm', 'datetime', "12-hour 'h'/'hh' and AM/PM 'a' go together"],
    ['MM/dd/yyyy HH:mm a', 'datetime', "'a' needs 12-hour 'h' or 'hh', not 'HH'"],
    ['MM/dd/yyyy', 'datetime', 'needs an hour (HH, or h with a)'],
    ['MM/yyyy', 'date', 'needs a day (dd)'],
    ["yyyy-MM-dd'T", 'date', 'unclosed quote'],
    ['yyyy-MM-dd-yyyy', 'date', "has 'yyyy' twice"],
    ['YYYY-MM-DD', 'date', "bad date format token 'YYYY'"],
  ] as const)('format %s (%s) is refused at load', (format, need, message) => {
    expect(() => compileFormat(format, need)).toThrow(message);
  });

  test("literal letters are quoted: yyyy-MM-dd'T'HH:mm", () => {
    expect(dt("yyyy-MM-dd'T'HH:mm", '2026-09-15T10:00')).toBe('2026-09-15T10:00:00-05:00');
  });
});

describe('date-times', () => {
  test.each([
    ['MM/dd/yyyy h:mm a', '09/15/2026 10:00 AM', '2026-09-15T10:00:00-05:00'],
    ['MM/dd/yyyy h:mm a', '09/15/2026 12:00 AM', '2026-09-15T00:00:00-05:00'],
    ['MM/dd/yyyy h:mm a', '09/15/2026 12:30 PM', '2026-09-15T12:30:00-05:00'],
    ['MM/dd/yyyy h:mm a', '09/15/2026 1:05 pm', '2026-09-15T13:05:00-05:00'],
    ['MM/dd/yyyy h:mm a', '09/15/2026 11:59 p.m.', '2026-09-15T23:59:00-05:00'],
    ['MM/dd/yyyy hh:mm:ss a', '12/15/2026 03:04:05 PM', '2026-12-15T15:04:05-06:00'],
    ['MM/dd/yyyy  HH:mm', '09/15/2026   10:00', '2026-09-15T10:00:00-05:00'],
    ['yyyy-MM-dd HH:mm:ss.SSS', '2026-09-15 10:00:00.250', '2026-09-15T10:00:00.250-05:00'],
    ['yyyy-MM-dd HH:mm Z', '2026-09-15 10:00 +0200', '2026-09-15T10:00:00+02:00'],
    ['yyyy-MM-dd HH:mm Z', '2026-09-15 10:00 Z', '2026-09-15T10:00:00Z'],
    ['hl7', '20260915103000', '2026-09-15T10:30:00-05:00'],
    ['hl7', '202609151030', '2026-09-15T10:30:00-05:00'],
    ['hl7', '2026091510', '2026-09-15T10:00:00-05:00'],
    ['hl7', '20260915103000.1234', '2026-09-15T10:30:00.1234-05:00'],
    ['hl7', '20260915103000-0400', '2026-09-15T10:30:00-04:00'],
    ['hl7', '20260915103000+0000', '2026-09-15T10:30:00+00:00'],
    ['iso', '2026-09-15T10:30', '2026-09-15T10:30:00-05:00'],
    ['iso', '2026-09-15 10:30:15', '2026-09-15T10:30:15-05:00'],
    ['iso', '2026-09-15T10:30:15.5Z', '2026-09-15T10:30:15.5Z'],
    ['iso', '2026-09-15T10:30:15-0700', '2026-09-15T10:30:15-07:00'],
    ['iso', '2026-09-15T10:30:15+05:30', '2026-09-15T10:30:15+05:30'],
  ])('%s reads %s as %s', (format, text, expected) => {
    const out = dt(format, text);
    expect(out).toBe(expected);
    expect(DateTimeString.safeParse(out).success).toBe(true);
  });

  test('12-hour clock: hour 13 and 0 are refused', () => {
    expect(compileFormat('MM/dd/yyyy h:mm a', 'datetime')('09/15/2026 13:00 PM')).toMatch(/hour 13 on a 12-hour clock/);
    expect(compileFormat('MM/dd/yyyy h:mm a', 'datetime')('09/15/2026 0:00 AM')).toMatch(/hour 0 on a 12-hour clock/);
    expect(compileFormat('MM/dd/yyyy HH:mm', 'datetime')('09/15/2026 24:00')).toMatch(/hour 24/);
  });

  test('a date without a time is refused by datetime; an offset out of range too', () => {
    expect(() => toDateTimeString(compileFormat('hl7', 'datetime')('20260915') as DateParts, 'UTC')).toThrow('no time of day');
    expect(() => toDateTimeString(compileFormat('hl7', 'datetime')('202609151000+1500') as DateParts, 'UTC')).toThrow('out of range');
  });

  test('other zones and the southern hemisphere', () => {
    expect(dt('iso', '2026-01-15T10:00', 'Australia/Sydney')).toBe('2026-01-15T10:00:00+11:00');
    expect(dt('iso', '2026-07-15T10:00', 'Australia/Sydney')).toBe('2026-07-15T10:00:00+10:00');
    expect(dt('iso', '2026-07-15T10:00', 'Asia/Kolkata')).toBe('2026-07-15T10:00:00+05:30');
    expect(dt('iso', '2026-07-15T10:00', 'UTC')).toBe('2026-07-15T10:00:00+00:00');
    expect(dt('iso', '2026-07-15T10:00', 'America/Phoenix')).toBe('2026-07-15T10:00:00-07:00');
  });
});

describe('daylight-saving changes (America/New_York, 2026)', () => {
  const ny = (text: string, notes: string[] = []) => {
    const p = compileFormat('yyyy-MM-dd HH:mm', 'datetime')(text) as DateParts;
    return toDateTimeString(p, 'America/New_York', (m) => notes.push(m));
  };

  test('the hours around the spring-forward change on 2026-03-08', () => {
    expect(ny('2026-03-08 01:59')).toBe('2026-03-08T01:59:00-05:00');
    expect(ny('2026-03-08 03:00')).toBe('2026-03-08T03:00:00-04:00');
    expect(ny('2026-03-07 02:30')).toBe('2026-03-07T02:30:00-05:00');
    expect(ny('2026-03-09 02:30')).toBe('2026-03-09T02:30:00-04:00');
  });

  test('02:30 on 2026-03-08 does not exist: moved forward by the gap to 03:30-04:00 (same instant as 02:30-05:00), with a note', () => {
    const notes: string[] = [];
    const out = ny('2026-03-08 02:30', notes);
    expect(out).toBe('2026-03-08T03:30:00-04:00');
    expect(Date.parse(out)).toBe(Date.parse('2026-03-08T02:30:00-05:00'));
    expect(notes).toEqual(['2026-03-08 02:30 does not exist in America/New_York (clocks moved forward); read as 2026-03-08T03:30:00-04:00']);
  });

  test('01:30 on 2026-11-01 happens twice: the first (EDT, -04:00) is taken, with a note', () => {
    const notes: string[] = [];
    expect(ny('2026-11-01 01:30', notes)).toBe('2026-11-01T01:30:00-04:00');
    expect(notes).toEqual(['2026-11-01 01:30 happens twice in America/New_York (clocks moved back); read as the first, 2026-11-01T01:30:00-04:00']);
    expect(ny('2026-11-01 00:59')).toBe('2026-11-01T00:59:00-04:00');
    expect(ny('2026-11-01 02:00')).toBe('2026-11-01T02:00:00-05:00');
  });

  test('an offset in the input is kept, even in the gap', () => {
    expect(dt('iso', '2026-03-08T02:30:00-05:00', 'America/New_York')).toBe('2026-03-08T02:30:00-05:00');
  });

  test('offsetAt agrees with the zone either side of the changes', () => {
    expect(offsetAt('America/New_York', Date.parse('2026-03-08T06:59:00Z'))).toBe(-300);
    expect(offsetAt('America/New_York', Date.parse('2026-03-08T07:00:00Z'))).toBe(-240);
    expect(offsetAt('America/New_York', Date.parse('2026-11-01T05:59:00Z'))).toBe(-240);
    expect(offsetAt('America/New_York', Date.parse('2026-11-01T06:00:00Z'))).toBe(-300);
  });

  test('every quarter hour of a year in Chicago matches Intl (the day cache included)', () => {
    const f = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Chicago', timeZoneName: 'longOffset' });
    for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2027-01-01T00:00:00Z'); t += 15 * 60_000) {
      const name = f.formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? '';
      const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
      const expected = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
      const local = new Date(t + expected * 60_000).toISOString().slice(0, 16).replace('T', ' ');
      const out = dt('yyyy-MM-dd HH:mm', local);
      // In the fall-back hour, the wall time is the first of the two.
      if (Date.parse(out) !== t) {
        expect(local.startsWith('2026-11-01 01:')).toBe(true);
      }
    }
  });
});
