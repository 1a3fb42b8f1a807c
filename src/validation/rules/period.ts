/**
 * per-1: "If present, start SHALL have a lower value than end", evaluated as the reference
 * validator evaluates `start <= end` in FHIRPath: values compare component by component down to
 * the coarser precision; when they agree that far but their precisions differ (start `2023-06-21`,
 * end `2023-06-21T06:20:00Z`) the comparison is empty, and the reference counts an invariant that
 * evaluates to empty as failed. https://hl7.org/fhir/R4/datatypes.html#Period,
 * https://hl7.org/fhirpath/N1/#comparison (date/time precision).
 */
import type { Json, Report } from './types';

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Components of a date/dateTime, most significant first (time ones in UTC when a zone is given). */
function components(s: string): number[] | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) {
    return undefined;
  }
  const parts: number[] = [];
  for (let i = 1; i <= 6 && m[i] !== undefined; i++) {
    parts.push(Number(m[i]));
  }
  if (parts.length === 6) {
    // Seconds with or without a fraction are one precision in FHIRPath.
    parts.push(m[7] !== undefined ? Number(`0.${m[7]}`) * 1000 : 0);
  }
  if (parts.length > 3 && m[8] && m[8] !== 'Z') {
    // Shift to UTC so two zoned times compare (a time met with a date is cut to its date first).
    const sign = m[8][0] === '-' ? 1 : -1;
    const d = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4] + sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)))));
    parts.splice(0, 5, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
  }
  return parts;
}

/** `a <= b` in FHIRPath: true, false, or undefined (empty: precisions differ and agree as far as both go). */
export function lessOrEqual(a: string, b: string): boolean | undefined {
  const aTime = a.includes('T');
  const bTime = b.includes('T');
  // Same shape (precision, and zone for times): the text order is the time order.
  if (a.length === b.length && aTime === bTime && (!aTime || a.endsWith(b.slice(a.length - 6)))) {
    return a <= b;
  }
  // A time against a date compares the time's own calendar day (the date carries no zone), and is
  // always of a finer precision than it.
  const x = components(aTime && !bTime ? a.slice(0, 10) : a);
  const y = components(bTime && !aTime ? b.slice(0, 10) : b);
  if (!x || !y) {
    return true; // malformed values are reported as such, not here
  }
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) {
      return x[i] < y[i];
    }
  }
  if (aTime !== bTime) {
    return undefined;
  }
  return x.length === y.length ? true : undefined;
}

/** per-1 on one Period. */
export function checkPeriod(period: Json, path: string, report: Report): void {
  const { start, end } = period;
  if (typeof start !== 'string' || typeof end !== 'string') {
    return;
  }
  const ok = lessOrEqual(start, end);
  if (ok === false) {
    report('error', 'invariant', `Period starts (${start}) after it ends (${end}) (per-1)`, path);
  } else if (ok === undefined) {
    report(
      'error',
      'invariant',
      `Period start (${start}) and end (${end}) have different precisions and agree as far as both go, so start <= end is empty and per-1 fails as the reference validator evaluates it; give both to the same precision (per-1)`,
      path,
    );
  }
}
