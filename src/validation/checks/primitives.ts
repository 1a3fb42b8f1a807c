/**
 * A primitive's JSON value against its FHIR type: the JSON type, empty and blank strings, length,
 * the type's format, real calendar dates, time zones, integer ranges.
 * https://hl7.org/fhir/R4/datatypes.html#primitive
 */
import type { InternalSchemaElement } from '@medplum/core';
import type { TypeFacts } from '../plans';
import { checkHtmlInString } from '../rules/html-in-strings';
import { type IssueSink, reporter, truncate } from './context';

/**
 * Checks one primitive value; false when it is unusable (its element's fixed/pattern, binding and
 * invariants are then not checked).
 */
export function checkPrimitive(sink: IssueSink, value: unknown, facts: TypeFacts, path: string, el: InternalSchemaElement): boolean {
  const type = facts.effective;
  const jsType = facts.jsType;
  if (typeof value !== jsType) {
    sink.report('error', 'structure', `Expected a JSON ${jsType} for ${type}, got ${Array.isArray(value) ? 'an array' : typeof value}`, path);
    return false;
  }
  if (jsType === 'string') {
    return checkString(sink, value as string, facts, path, el);
  }
  if (jsType === 'number') {
    return checkNumber(sink, value as number, type, path);
  }
  return true;
}

/**
 * Values of these types that passed the format checks, per type: code systems, URLs and codes
 * repeat on every record, and a Set look-up is cheaper than the format's regex. Only types that
 * name things, never free text or dates (no person's data is kept); short values only, and the set
 * is emptied when full, so memory stays bounded.
 */
const REMEMBERED_TYPES = new Set(['uri', 'url', 'canonical', 'code', 'id', 'oid', 'uuid']);
const REMEMBERED_MAX = 2048;
const REMEMBERED_LENGTH = 160;
const formatPassed = new Map<string, Set<string>>();

function checkString(sink: IssueSink, s: string, facts: TypeFacts, path: string, el: InternalSchemaElement): boolean {
  const type = facts.effective;
  const passed = formatPassed.get(type);
  if (passed?.has(s)) {
    // The format checks below depend on the value and type only; the element's length limit does not.
    const max = (el as InternalSchemaElement & { maxLength?: number }).maxLength;
    if (max && s.length > max) {
      sink.report('error', 'too-long', `Value longer than the maximum of ${max} characters`, path);
    }
    return true;
  }
  if (!checkStringFormat(sink, s, facts, path, el)) {
    return false;
  }
  if (REMEMBERED_TYPES.has(type) && s.length <= REMEMBERED_LENGTH && facts.regex) {
    let set = passed;
    if (!set) {
      set = new Set();
      formatPassed.set(type, set);
    } else if (set.size >= REMEMBERED_MAX) {
      set.clear();
    }
    set.add(s);
  }
  return true;
}

function checkStringFormat(sink: IssueSink, s: string, facts: TypeFacts, path: string, el: InternalSchemaElement): boolean {
  const type = facts.effective;
  if (s.length === 0) {
    sink.report('error', 'value', 'Empty string: leave the element out instead', path);
    return false;
  }
  // A first character that is not whitespace settles it without trim()'s copy (JS whitespace is
  // <= U+0020, U+00A0, U+1680 and up).
  const c0 = s.charCodeAt(0);
  if (type !== 'xhtml' && (c0 <= 0x20 || c0 === 0xa0 || c0 >= 0x1680) && !s.trim()) {
    sink.report('error', 'value', 'Value has only whitespace', path);
    return false;
  }
  if (s.length > 1024 * 1024 && (type === 'string' || type === 'markdown')) {
    sink.report('error', 'too-long', 'String longer than 1 MB', path);
    return false;
  }
  const max = (el as InternalSchemaElement & { maxLength?: number }).maxLength;
  if (max && s.length > max) {
    sink.report('error', 'too-long', `Value longer than the maximum of ${max} characters`, path);
  }
  const re = facts.regex;
  if (re && type !== 'xhtml' && !re.test(s)) {
    sink.report('error', 'value', `'${truncate(s)}' is not a valid ${type}`, path);
    return false;
  }
  if ((type === 'date' || type === 'dateTime' || type === 'instant') && !validCalendarDate(s)) {
    sink.report('error', 'value', `'${truncate(s)}' is not a real calendar date`, path);
    return false;
  }
  if ((type === 'dateTime' || type === 'instant') && /T/.test(s) && !/(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    sink.report('error', 'value', `'${truncate(s)}': a dateTime with a time must have a time zone`, path);
    return false;
  }
  // Not ids (R4 types them as strings; they have their own format check).
  if ((type === 'string' || type === 'markdown') && s.indexOf('<') >= 0 && !el.path.endsWith('.id')) {
    checkHtmlInString(s, type, path, reporter(sink));
  }
  return true;
}

function checkNumber(sink: IssueSink, n: number, type: string, path: string): boolean {
  if (!Number.isFinite(n)) {
    sink.report('error', 'value', 'Not a finite number', path);
    return false;
  }
  if ((type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') && !Number.isInteger(n)) {
    sink.report('error', 'value', `${n} is not an integer`, path);
    return false;
  }
  if (type === 'integer' && (n > 2147483647 || n < -2147483648)) {
    sink.report('error', 'value', `${n} is outside the 32-bit integer range`, path);
    return false;
  }
  if (type === 'positiveInt' && n < 1) {
    sink.report('error', 'value', `${n} is not a positive integer`, path);
    return false;
  }
  if (type === 'unsignedInt' && n < 0) {
    sink.report('error', 'value', `${n} is negative`, path);
    return false;
  }
  return true;
}

/** False for a date that does not exist (2023-02-30); true for anything else, partial dates included. */
function validCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) {
    return true;
  }
  const [y, mo, d] = [+m[1], +m[2], +m[3]];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}
