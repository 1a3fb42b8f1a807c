/**
 * Dates and date-times of outside records -> the canonical forms of src/domain/datetime.ts:
 * `YYYY-MM-DD` and `YYYY-MM-DDThh:mm:ss[.f]±hh:mm` (FHIR dateTime with seconds and an offset,
 * https://hl7.org/fhir/R4/datatypes.html#dateTime).
 *
 * Formats are compiled once at load into one regular expression. A local time without an offset
 * gets its IANA zone's offset at that wall time, computed with Intl.DateTimeFormat and resolved
 * the way java.time and Temporal ("compatible") do around daylight-saving changes:
 * - a wall time in the spring-forward gap does not exist; it is moved forward by the gap
 *   (America/New_York 2026-03-08 02:30 -> 03:30-04:00, the same instant as 02:30-05:00);
 * - a wall time in the fall-back overlap happens twice; the first (earlier) one is taken
 *   (2026-11-01 01:30 -> 01:30-04:00).
 * Both give a warning through `note`.
 */

import { formatOffset, normalizeOffset, pad2, pad4, resolveLocal, utcOf, wall } from './time-zones';

export interface DateParts {
  y: number;
  mo: number;
  d: number;
  h?: number;
  mi?: number;
  s?: number;
  /** Fraction of a second as written, without the dot. */
  frac?: string;
  /** Offset as written (`Z`, `-0500`, `-05:00`, `-05`). */
  offset?: string;
}

/** Parses one value; a string is the error message. */
export type DateParser = (text: string) => DateParts | string;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

interface Token {
  re: string;
  part: 'y' | 'yy' | 'mo' | 'mon' | 'd' | 'h' | 'h12' | 'mi' | 's' | 'frac' | 'ampm' | 'offset';
}

const TOKENS: Record<string, Token> = {
  yyyy: { re: '(\\d{4})', part: 'y' },
  yy: { re: '(\\d{2})', part: 'yy' },
  MMM: { re: '([A-Za-z]{3})', part: 'mon' },
  MM: { re: '(\\d{2})', part: 'mo' },
  M: { re: '(\\d{1,2})', part: 'mo' },
  dd: { re: '(\\d{2})', part: 'd' },
  d: { re: '(\\d{1,2})', part: 'd' },
  HH: { re: '(\\d{2})', part: 'h' },
  H: { re: '(\\d{1,2})', part: 'h' },
  hh: { re: '(\\d{2})', part: 'h12' },
  h: { re: '(\\d{1,2})', part: 'h12' },
  mm: { re: '(\\d{2})', part: 'mi' },
  ss: { re: '(\\d{2})', part: 's' },
  a: { re: '([AaPp]\\.?[Mm]\\.?)', part: 'ampm' },
  Z: { re: '(Z|[+-]\\d{2}(?::?\\d{2})?)', part: 'offset' },
};
const TOKEN_NAMES = 'yyyy yy MMM MM M dd d HH H hh h mm ss S..SSSSSSSSS a Z';

/**
 * Compiles a format (`MM/dd/yyyy h:mm a`, `hl7`, `iso`); throws an Error naming the bad token.
 * `need` says what the step makes: a date needs y, M, d; a date-time also an hour.
 */
export function compileFormat(format: string, need: 'date' | 'datetime'): DateParser {
  if (format === 'hl7') {
    return parseHl7;
  }
  if (format === 'iso') {
    return parseIso;
  }
  let re = '^';
  const parts: Token['part'][] = [];
  for (let i = 0; i < format.length;) {
    const c = format[i];
    if (c === "'") {
      const end = format.indexOf("'", i + 1);
      if (end < 0) {
        throw new Error(`unclosed quote in date format '${format}'`);
      }
      re += end === i + 1 ? "'" : escapeRe(format.slice(i + 1, end));
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (format[j] === c) {
        j++;
      }
      const run = format.slice(i, j);
      const token = c === 'S' && run.length <= 9 ? { re: `(\\d{${run.length}})`, part: 'frac' as const } : TOKENS[run];
      if (!token) {
        throw new Error(`bad date format token '${run}' in '${format}' (tokens: ${TOKEN_NAMES}; quote literal letters: 'T')`);
      }
      if (parts.includes(token.part) || (token.part === 'yy' && parts.includes('y')) || (token.part === 'y' && parts.includes('yy'))) {
        throw new Error(`date format '${format}' has '${run}' twice`);
      }
      parts.push(token.part === 'mon' ? 'mon' : token.part);
      re += token.re;
      i = j;
    } else if (/\s/.test(c)) {
      while (i < format.length && /\s/.test(format[i])) {
        i++;
      }
      re += '\\s+';
    } else {
      re += escapeRe(c);
      i++;
    }
  }
  const has = (p: Token['part']) => parts.includes(p);
  const missing: string[] = [];
  if (!has('y') && !has('yy')) missing.push('a year (yyyy)');
  if (!has('mo') && !has('mon')) missing.push('a month (MM)');
  if (!has('d')) missing.push('a day (dd)');
  if (need === 'datetime' && !has('h') && !has('h12')) missing.push('an hour (HH, or h with a)');
  if (missing.length > 0) {
    throw new Error(`date format '${format}' needs ${missing.join(', ')}`);
  }
  if (has('h') && has('ampm')) {
    throw new Error(`date format '${format}': 'a' needs 12-hour 'h' or 'hh', not 'HH'`);
  }
  if (has('h12') !== has('ampm')) {
    throw new Error(`date format '${format}': 12-hour 'h'/'hh' and AM/PM 'a' go together (use HH for 24-hour time)`);
  }
  const regex = new RegExp(`${re}$`);
  const mismatch = (text: string, why?: string) => `'${text}' does not match the date format ${format}${why ? ` (${why})` : ''}`;
  return (text: string) => {
    const m = regex.exec(text);
    if (!m) {
      return mismatch(text);
    }
    const out: DateParts = { y: 0, mo: 0, d: 0 };
    let pm: boolean | undefined;
    let h12: number | undefined;
    for (let k = 0; k < parts.length; k++) {
      const v = m[k + 1];
      switch (parts[k]) {
        case 'y':
          out.y = Number(v);
          break;
        // Two-digit years: 00-68 are 2000-2068, 69-99 are 1969-1999 (POSIX strptime).
        case 'yy':
          out.y = Number(v) + (Number(v) < 69 ? 2000 : 1900);
          break;
        case 'mo':
          out.mo = Number(v);
          break;
        case 'mon': {
          const i = MONTHS.indexOf(v.toLowerCase());
          if (i < 0) {
            return mismatch(text, `no month '${v}'`);
          }
          out.mo = i + 1;
          break;
        }
        case 'd':
          out.d = Number(v);
          break;
        case 'h':
          out.h = Number(v);
          break;
        case 'h12':
          h12 = Number(v);
          break;
        case 'mi':
          out.mi = Number(v);
          break;
        case 's':
          out.s = Number(v);
          break;
        case 'frac':
          out.frac = v;
          break;
        case 'ampm':
          pm = v[0] === 'P' || v[0] === 'p';
          break;
        case 'offset':
          out.offset = v;
          break;
      }
    }
    if (h12 !== undefined) {
      if (h12 < 1 || h12 > 12) {
        return mismatch(text, `hour ${h12} on a 12-hour clock`);
      }
      out.h = (h12 % 12) + (pm ? 12 : 0);
    }
    const bad = checkParts(out);
    return bad ? mismatch(text, bad) : out;
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const HL7_RE = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,9}))?)?)?)?)?)?([+-]\d{4})?$/;

/** HL7 v2 DTM: `YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]` (v2.5.1 2A.3.22). */
function parseHl7(text: string): DateParts | string {
  const m = HL7_RE.exec(text);
  if (!m) {
    return `'${text}' is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+/-ZZZZ])`;
  }
  if (m[3] === undefined) {
    return `'${text}' has no day (HL7 date/time YYYYMMDD...)`;
  }
  const out: DateParts = { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]) };
  if (m[4] !== undefined) {
    out.h = Number(m[4]);
    out.mi = m[5] === undefined ? undefined : Number(m[5]);
    out.s = m[6] === undefined ? undefined : Number(m[6]);
    out.frac = m[7];
  }
  out.offset = m[8];
  const bad = checkParts(out);
  return bad ? `'${text}' is not a real HL7 date/time (${bad})` : out;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** ISO 8601 extended: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.f]][Z|±hh[:mm]]` (a space may replace T). */
function parseIso(text: string): DateParts | string {
  const m = ISO_RE.exec(text);
  if (!m) {
    return `'${text}' is not an ISO 8601 date or date-time (YYYY-MM-DD[Thh:mm[:ss][±hh:mm]])`;
  }
  const out: DateParts = { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]) };
  if (m[4] !== undefined) {
    out.h = Number(m[4]);
    out.mi = Number(m[5]);
    out.s = m[6] === undefined ? undefined : Number(m[6]);
    out.frac = m[7];
    out.offset = m[8];
  }
  const bad = checkParts(out);
  return bad ? `'${text}' is not a real ISO 8601 date/time (${bad})` : out;
}

function daysIn(y: number, mo: number): number {
  return mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
}

function checkParts(p: DateParts): string | undefined {
  if (p.mo < 1 || p.mo > 12) return `no month ${p.mo}`;
  if (p.d < 1 || p.d > daysIn(p.y, p.mo)) return `no day ${p.d} in ${p.y}-${pad2(p.mo)}`;
  if (p.h !== undefined && p.h > 23) return `hour ${p.h}`;
  if (p.mi !== undefined && p.mi > 59) return `minute ${p.mi}`;
  if (p.s !== undefined && p.s > 59) return `second ${p.s}`;
  return undefined;
}

/** `YYYY-MM-DD` of parsed parts (the date as written, whatever its offset). */
export function toDateString(p: DateParts): string {
  return `${pad4(p.y)}-${pad2(p.mo)}-${pad2(p.d)}`;
}

/**
 * The canonical dateTime of parsed parts: an offset in the input is kept; otherwise `zone`'s
 * offset at that wall time. Throws an Error for a date without a time or an offset out of range;
 * `note` hears about gaps and overlaps.
 */
export function toDateTimeString(p: DateParts, zone: string, note?: (message: string) => void): string {
  if (p.h === undefined) {
    throw new Error('no time of day (a date-time needs at least an hour)');
  }
  const frac = p.frac ? `.${p.frac}` : '';
  if (p.offset !== undefined) {
    return `${wall(p.y, p.mo, p.d, p.h, p.mi ?? 0, p.s ?? 0)}${frac}${normalizeOffset(p.offset)}`;
  }
  const local = utcOf(p.y, p.mo, p.d, p.h, p.mi ?? 0, p.s ?? 0);
  const r = resolveLocal(zone, local, p.y * 10000 + p.mo * 100 + p.d);
  const out =
    r.wall === local
      ? `${wall(p.y, p.mo, p.d, p.h, p.mi ?? 0, p.s ?? 0)}${frac}${formatOffset(r.offset)}`
      : `${new Date(r.wall).toISOString().slice(0, 19)}${frac}${formatOffset(r.offset)}`;
  if (note && r.kind === 'gap') {
    note(`${new Date(local).toISOString().slice(0, 16).replace('T', ' ')} does not exist in ${zone} (clocks moved forward); read as ${out}`);
  } else if (note && r.kind === 'overlap') {
    note(`${new Date(local).toISOString().slice(0, 16).replace('T', ' ')} happens twice in ${zone} (clocks moved back); read as the first, ${out}`);
  }
  return out;
}
