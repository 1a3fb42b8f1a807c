/**
 * Dates and instants of the canonical model, in FHIR's own lexical forms
 * (https://hl7.org/fhir/R4/datatypes.html#date, #dateTime): a `date` is `YYYY-MM-DD`; an instant
 * is a dateTime with seconds and a time-zone offset, which FHIR requires once a time is given.
 * Offsets are kept as written: a contact at 10:00-05:00 stays at 10:00-05:00 through the round trip.
 */
import { z } from 'zod';

// Offsets as FHIR allows them: -14:00 .. +14:00.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)$/;

/** A calendar date, `YYYY-MM-DD`. */
export const DateString = z.iso.date({ error: 'Expected a date as YYYY-MM-DD' });

/** A dateTime with seconds and an offset, e.g. `2026-09-15T10:00:00-05:00`. */
export const DateTimeString = z
  .string({ error: 'Expected a dateTime string' })
  .regex(DATE_TIME, 'Expected a dateTime with seconds and a time-zone offset, e.g. 2026-09-15T10:00:00-05:00')
  .refine((s) => !DATE_TIME.test(s) || isRealDateTime(s), 'Not a real date and time');

function isRealDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m) {
    return false;
  }
  const [, y, mo, d, h, mi, sec] = m.map(Number);
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d && h < 24 && mi < 60 && sec < 60;
}

/** Milliseconds since the epoch for a date or dateTime (dates at 00:00 UTC). */
export function toMillis(value: string): number {
  return Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
}

/** Whole minutes from `start` to `end` (may be negative or fractional-truncated). */
export function minutesBetween(start: string, end: string): number {
  return (toMillis(end) - toMillis(start)) / 60_000;
}

/** `start` plus whole `minutes`, written in `start`'s own offset, with seconds (and its fraction of a second, which whole minutes leave unchanged). */
export function addMinutes(start: string, minutes: number): string {
  const m = DATE_TIME.exec(start);
  if (!m) {
    throw new Error(`Not a dateTime: ${start}`);
  }
  const zone = m[8];
  const offsetMinutes = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const local = new Date(toMillis(start) + (minutes + offsetMinutes) * 60_000);
  const iso = local.toISOString().slice(0, 19);
  return `${iso}${m[7] ?? ''}${zone}`;
}

/** The local calendar date of a dateTime, in its own offset (the day a contact counts toward). */
export function localDate(value: string): string {
  return value.slice(0, 10);
}
