/**
 * Search values extracted from a resource at write time (https://hl7.org/fhir/R4/search.html):
 * each parameter's FHIRPath expression is evaluated and every value becomes one side-table row.
 * Values are recognised by their shape (Coding, CodeableConcept, Identifier, Period, Reference,
 * Quantity...), so no StructureDefinition has to be loaded to index.
 *
 * Modifiers that search other parts of a value get rows of their own, under the parameter's code
 * and the modifier (`code:text`, `identifier:of-type`, `subject:identifier`; `modifierCode`), in
 * the same tables: a code with a colon is never a parameter's, so no other search sees them.
 */
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { localTarget, relativeReferences, type ServerBase } from './local-refs';
import { mayHaveValues, paramsOf, patientCompartmentParams, type ParamDef } from './search-params';

/** Longest text kept in an index column (btree entries must stay well under 2.7 kB). */
export const MAX_INDEXED = 1000;

export interface TokenRow { code: string; system: string | null; value: string }
export interface StringRow { code: string; value: string; norm: string }
export interface DateRow { code: string; low: string; high: string }
export interface ReferenceRow { code: string; targetType: string | null; targetId: string | null; ref: string }
export interface NumberRow { code: string; low: number | null; high: number | null; system: string | null; unit: string | null }

export interface SearchValues {
  tokens: TokenRow[];
  strings: StringRow[];
  dates: DateRow[];
  references: ReferenceRow[];
  numbers: NumberRow[];
  /** Patients whose compartment holds this resource (a Patient holds itself). */
  patientIds: string[];
}

/**
 * The side-table code of a modifier's own rows (https://hl7.org/fhir/R4/search.html#modifiers):
 * `:text` rows in fhir_string (display and text, normalised), `:of-type` rows in fhir_token
 * (Identifier.type system, `code|value`), `:identifier` rows in fhir_token (Reference.identifier).
 */
export const modifierCode = (code: string, modifier: 'text' | 'of-type' | 'identifier'): string => `${code}:${modifier}`;

/**
 * Extracts every indexed search value of a resource. `base` is the server's FHIR base: only
 * references to it (or relative ones) name a local target (src/store/local-refs.ts).
 */
export function extractSearchValues(resource: Resource, base?: ServerBase): SearchValues {
  const out: SearchValues = { tokens: [], strings: [], dates: [], references: [], numbers: [], patientIds: [] };
  // Local absolute references are indexed as the relative ones they mean (the stored resource is unchanged).
  const local = relativeReferences(resource, base);
  const input = [toTypedValue(local)];
  const obj = local as unknown as Record<string, unknown>;
  for (const def of paramsOf(resource.resourceType).values()) {
    if (!mayHaveValues(def, obj)) {
      continue;
    }
    let values: TypedValue[];
    try {
      values = evalFhirPathTyped(def.atom, input);
    } catch {
      // An expression the engine cannot evaluate on this resource indexes nothing rather than failing the write.
      continue;
    }
    for (const v of values) {
      addValue(out, def, v.value, base);
    }
  }
  const patients = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) {
    patients.add(resource.id);
  }
  const compartmentParams = new Set(patientCompartmentParams(resource.resourceType));
  for (const r of out.references) {
    if (compartmentParams.has(r.code) && r.targetType === 'Patient' && r.targetId) {
      patients.add(r.targetId);
    }
  }
  out.patientIds = [...patients];
  return dedupe(out);
}

function addValue(out: SearchValues, def: ParamDef, value: unknown, base: ServerBase | undefined): void {
  if (value === null || value === undefined) {
    return;
  }
  switch (def.type) {
    case 'token':
    case 'uri':
      for (const t of tokensOf(value)) {
        out.tokens.push({ code: def.code, system: t.system ? cut(t.system) : null, value: cut(t.value) });
      }
      if (def.type === 'token') {
        addTokenParts(out, def.code, value);
      }
      return;
    case 'string':
      for (const s of stringsOf(value)) {
        out.strings.push({ code: def.code, value: cut(s), norm: cut(normalizeString(s)) });
      }
      return;
    case 'date':
      for (const r of datesOf(value)) {
        out.dates.push({ code: def.code, ...r });
      }
      return;
    case 'reference': {
      const ref = referenceOf(value, base);
      if (ref) {
        out.references.push({ code: def.code, ...ref, ref: cut(ref.ref) });
      }
      const id = isObj(value) && isObj(value.identifier) ? value.identifier : undefined;
      if (id && str(id.value)) {
        out.tokens.push({ code: modifierCode(def.code, 'identifier'), system: str(id.system) ? cut(id.system as string) : null, value: cut(id.value as string) });
      }
      return;
    }
    case 'number':
    case 'quantity':
      for (const n of numbersOf(value)) {
        out.numbers.push({ code: def.code, ...n });
      }
      return;
  }
}

const cut = (s: string): string => (s.length > MAX_INDEXED ? s.slice(0, MAX_INDEXED) : s);

/** Case- and accent-insensitive form used by string search (https://hl7.org/fhir/R4/search.html#string). */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function tokensOf(v: unknown): { system?: string; value: string }[] {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    return [{ value: String(v) }];
  }
  if (!isObj(v)) {
    return [];
  }
  if (Array.isArray(v.coding)) {
    return v.coding.flatMap((c) => tokensOf(c));
  }
  if (str(v.code)) {
    return [{ system: str(v.system), value: v.code as string }];
  }
  if (v.value !== undefined && (typeof v.value === 'string' || typeof v.value === 'number')) {
    return [{ system: str(v.system), value: String(v.value) }];
  }
  return [];
}

/** The `:text` and `:of-type` rows of a token value (a Coding, CodeableConcept or Identifier). */
function addTokenParts(out: SearchValues, code: string, v: unknown): void {
  if (!isObj(v)) {
    return;
  }
  // A Coding's display; a CodeableConcept's text and its codings' displays; an Identifier's type's.
  const concept = isObj(v.type) ? v.type : v;
  const codings: unknown[] = Array.isArray(concept.coding) ? concept.coding : [];
  const texts = [v.display, concept.text, ...codings.map((c) => (isObj(c) ? c.display : undefined))];
  for (const t of texts) {
    if (str(t)) {
      out.strings.push({ code: modifierCode(code, 'text'), value: cut(t as string), norm: cut(normalizeString(t as string)) });
    }
  }
  // An Identifier with a type: https://hl7.org/fhir/R4/search.html#modifiers (:of-type is system|code|value).
  if (isObj(v.type) && Array.isArray(v.type.coding) && str(v.value)) {
    for (const c of v.type.coding) {
      if (isObj(c) && str(c.code)) {
        out.tokens.push({ code: modifierCode(code, 'of-type'), system: str(c.system) ? cut(c.system as string) : null, value: cut(`${c.code as string}|${v.value as string}`) });
      }
    }
  }
}

const NAME_PARTS = ['text', 'family', 'given', 'prefix', 'suffix'];
const ADDRESS_PARTS = ['text', 'line', 'city', 'district', 'state', 'postalCode', 'country'];

function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') {
    return [v];
  }
  if (!isObj(v)) {
    return [];
  }
  const parts = 'family' in v || 'given' in v ? NAME_PARTS : ADDRESS_PARTS;
  return parts.flatMap((p) => [v[p]].flat().filter((x): x is string => typeof x === 'string'));
}

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

function datesOf(v: unknown): { low: string; high: string }[] {
  if (typeof v === 'string') {
    const r = dateRange(v);
    return r ? [r] : [];
  }
  if (!isObj(v)) {
    return [];
  }
  if ('start' in v || 'end' in v) {
    const start = str(v.start) ? dateRange(v.start as string) : undefined;
    const end = str(v.end) ? dateRange(v.end as string) : undefined;
    if (!start && !end) {
      return [];
    }
    return [{ low: start?.low ?? '-infinity', high: end?.high ?? 'infinity' }];
  }
  if (Array.isArray(v.event)) {
    return v.event.flatMap((e) => datesOf(e));
  }
  return [];
}

function referenceOf(v: unknown, base: ServerBase | undefined): Omit<ReferenceRow, 'code'> | undefined {
  if (typeof v === 'string' && v !== '') {
    // canonical or uri elements (QuestionnaireResponse.questionnaire): kept as text, matched by URL.
    return { targetType: null, targetId: null, ref: v };
  }
  if (!isObj(v) || 'resourceType' in v || !str(v.reference) || (v.reference as string).startsWith('#')) {
    return undefined;
  }
  const ref = v.reference as string;
  // An absolute URL on another base stays foreign: its text is kept, it names no local target.
  const local = localTarget(ref, base);
  return { targetType: local?.type ?? null, targetId: local?.id ?? null, ref };
}

function numbersOf(v: unknown): Omit<NumberRow, 'code'>[] {
  if (typeof v === 'number') {
    return [{ low: v, high: v, system: null, unit: null }];
  }
  if (!isObj(v)) {
    return [];
  }
  if (typeof v.value === 'number') {
    return [{ low: v.value, high: v.value, system: str(v.system) ?? null, unit: str(v.code) ?? str(v.unit) ?? null }];
  }
  if (isObj(v.low) || isObj(v.high)) {
    const low = isObj(v.low) && typeof v.low.value === 'number' ? v.low.value : null;
    const high = isObj(v.high) && typeof v.high.value === 'number' ? v.high.value : null;
    return [{ low, high, system: null, unit: null }];
  }
  return [];
}

function dedupe(v: SearchValues): SearchValues {
  const uniq = <T>(rows: T[]): T[] => {
    const seen = new Set<string>();
    return rows.filter((r) => {
      const k = JSON.stringify(r);
      return seen.has(k) ? false : (seen.add(k), true);
    });
  };
  return {
    tokens: uniq(v.tokens),
    strings: uniq(v.strings),
    dates: uniq(v.dates),
    references: uniq(v.references),
    numbers: uniq(v.numbers),
    patientIds: v.patientIds,
  };
}
