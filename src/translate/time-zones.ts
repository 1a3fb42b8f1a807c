/**
 * Time-zone arithmetic for src/translate/dates.ts: the offset of an IANA zone at an instant
 * (Intl.DateTimeFormat), and the resolution of a local wall time in a zone around daylight-saving
 * changes (a gap moves forward, an overlap takes the earlier instant), plus the small formatters
 * of wall times and offsets.
 */

export const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
export const pad4 = (n: number) => String(n).padStart(4, '0');

export function wall(y: number, mo: number, d: number, h: number, mi: number, s: number): string {
  return `${pad4(y)}-${pad2(mo)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}`;
}

export function normalizeOffset(o: string): string {
  if (o === 'Z') {
    return 'Z';
  }
  const hh = Number(o.slice(1, 3));
  const mm = o.length > 3 ? Number(o.slice(-2)) : 0;
  if (mm > 59 || hh > 14 || (hh === 14 && mm > 0)) {
    throw new Error(`offset ${o} is out of range (-14:00..+14:00)`);
  }
  return `${o[0]}${pad2(hh)}:${pad2(mm)}`;
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Milliseconds of a wall time read as UTC (years 0-99 included, which Date.UTC moves to 19xx). */
export function utcOf(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  if (y >= 100) {
    return t;
  }
  const date = new Date(t);
  date.setUTCFullYear(y);
  return date.getTime();
}

/** The zone's offset from UTC, in whole minutes, at an instant. */
export function offsetAt(zone: string, utc: number): number {
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0;
  for (const part of formatter(zone).formatToParts(utc)) {
    switch (part.type) {
      case 'year':
        y = Number(part.value);
        break;
      case 'month':
        mo = Number(part.value);
        break;
      case 'day':
        d = Number(part.value);
        break;
      case 'hour':
        h = Number(part.value);
        break;
      case 'minute':
        mi = Number(part.value);
        break;
      case 'second':
        s = Number(part.value);
        break;
    }
  }
  return Math.round((utcOf(y, mo, d, h, mi, s) - Math.floor(utc / 1000) * 1000) / 60_000);
}

const DAY = 86_400_000;
/** Per zone, local days (yyyymmdd) whose offset is the same all day; null = a change near that day. */
const dayOffsets = new Map<string, Map<number, number | null>>();

interface Resolved {
  offset: number;
  /** The wall time written (differs from the input only in a gap). */
  wall: number;
  kind: 'ok' | 'gap' | 'overlap';
}

/** Resolves a local wall time (as UTC millis) in `zone`; `day` (yyyymmdd) keys a cache of whole-day offsets. */
export function resolveLocal(zone: string, local: number, day: number): Resolved {
  let days = dayOffsets.get(zone);
  if (!days) {
    days = new Map();
    dayOffsets.set(zone, days);
  }
  let fixed = days.get(day);
  if (fixed === undefined) {
    // Every wall time of the day lies within 14 h either side of its UTC midnight; if the offset
    // is the same a day and a half before and two and a half days after, the day has no change.
    const midnight = local - (((local % DAY) + DAY) % DAY);
    const before = offsetAt(zone, midnight - 1.5 * DAY);
    fixed = before === offsetAt(zone, midnight + 2.5 * DAY) ? before : null;
    if (days.size > 20_000) {
      days.clear();
    }
    days.set(day, fixed);
  }
  if (fixed !== null) {
    return { offset: fixed, wall: local, kind: 'ok' };
  }
  const before = offsetAt(zone, local - DAY);
  const after = offsetAt(zone, local + DAY);
  const candidates = [...new Set([local - before * 60_000, local - after * 60_000])]
    .filter((utc) => offsetAt(zone, utc) === (local - utc) / 60_000)
    .sort((a, b) => a - b);
  if (candidates.length > 0) {
    return { offset: (local - candidates[0]) / 60_000, wall: local, kind: candidates.length > 1 ? 'overlap' : 'ok' };
  }
  const utc = local - before * 60_000;
  const offset = offsetAt(zone, utc);
  return { offset, wall: utc + offset * 60_000, kind: 'gap' };
}
