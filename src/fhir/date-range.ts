/**
 * The instants a FHIR date, dateTime or instant covers at its precision
 * (https://hl7.org/fhir/R4/search.html#date): what date search (src/store/search-values.ts,
 * search-sql.ts) and Consent periods (src/access/consent.ts) compare.
 */

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The instant range a FHIR date, dateTime or instant covers at its precision
 * (https://hl7.org/fhir/R4/search.html#date): `2026-09` is all of September. Without a time
 * zone UTC is assumed. Undefined when the text is not a valid date.
 */
export function dateRange(text: string): { low: string; high: string } | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31 || (h && (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59))) {
    return undefined;
  }
  const start = utc(year, month, day, Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), frac ? Math.floor(Number(frac) * 1000) : 0);
  const check = new Date(start);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month) {
    return undefined;
  }
  let end: number;
  if (!mo) {
    end = utc(year + 1, 0, 1);
  } else if (!d) {
    end = utc(year, month + 1, 1);
  } else if (!h) {
    end = utc(year, month, day + 1);
  } else if (!s) {
    end = start + 60_000;
  } else if (!frac) {
    end = start + 1000;
  } else {
    end = start + 1;
  }
  let offset = 0;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    offset = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
  }
  return { low: new Date(start - offset).toISOString(), high: new Date(end - offset - 1).toISOString() };
}

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
function utc(year: number, month: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(h, mi, s, ms);
  return d.getTime();
}
