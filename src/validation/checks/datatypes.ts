/**
 * Checks tied to a datatype rather than to a profile, run on every object of that type once its
 * children have been walked (whatever profile is in force): the rule list per type.
 *
 * To add one (e.g. Attachment size/hash, UCUM units on Quantity, Coding displays), write the check
 * in the file of its kind (references.ts, bindings.ts, or a new one) as a `DatatypeCheck` and list
 * it here under its type; the checks of a type run in the order listed.
 */
import { checkNarrative } from '../narrative';
import { checkCodingInCodeSystem } from './bindings';
import type { CheckContext, Json } from './context';
import { checkReference } from './references';

/** A check on one object of a datatype, at `path`. */
export type DatatypeCheck = (ctx: CheckContext, obj: Json, path: string) => void;

/** The checks of each datatype (a Map: type names come from schemas, never Object.prototype). */
export const DATATYPE_CHECKS: ReadonlyMap<string, readonly DatatypeCheck[]> = new Map<string, DatatypeCheck[]>([
  ['Period', [checkPeriodOrder]],
  ['Reference', [checkReference]],
  ['Narrative', [checkNarrativeDiv]],
  ['Coding', [checkCodingInCodeSystem]],
]);

/** per-1: a Period does not end before it starts. */
export function checkPeriodOrder(ctx: CheckContext, obj: Json, path: string): void {
  // Two zone-less dates compare as dates; a date against a dateTime is widened by the largest zone offset.
  const bothDates = typeof obj.start === 'string' && typeof obj.end === 'string' && !obj.start.includes('T') && !obj.end.includes('T');
  const s = typeof obj.start === 'string' ? dateRange(obj.start, !bothDates) : undefined;
  const e = typeof obj.end === 'string' ? dateRange(obj.end, !bothDates) : undefined;
  if (s && e && s[0] > e[1]) {
    ctx.report('error', 'invariant', `Period starts (${obj.start}) after it ends (${obj.end}) (per-1)`, path);
  }
}

/** The narrative's XHTML (txt-1, txt-2 and well-formedness; narrative.ts). */
export function checkNarrativeDiv(ctx: CheckContext, obj: Json, path: string): void {
  for (const problem of checkNarrative(obj.div)) {
    ctx.report('error', problem.code, problem.message, `${path}.div`);
  }
}

/** Earliest and latest instants a FHIR date/dateTime can denote (for comparing partial dates). */
export function dateRange(value: string, widen = true): [number, number] | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(value);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (h !== undefined) {
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ? '.' + frac.slice(0, 3) : ''}${tz ?? 'Z'}`;
    const t = Date.parse(iso);
    const span = s === undefined ? 60_000 - 1 : 0;
    return Number.isNaN(t) ? undefined : [t, t + span];
  }
  // Dates without a time zone: widen by +/-14h so comparisons never guess the zone.
  const zone = widen ? 14 * 3600_000 : 0;
  const start = Date.UTC(+y, mo ? +mo - 1 : 0, d ? +d : 1);
  const end = d ? Date.UTC(+y, +mo - 1, +d + 1) : mo ? Date.UTC(+y, +mo, 1) : Date.UTC(+y + 1, 0, 1);
  return [start - zone, end - 1 + zone];
}
