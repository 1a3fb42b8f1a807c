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
import { dateRange } from '../fhir/date-range';
import { localTarget, relativeReferences, type ServerBase } from './local-refs';
import { mayHaveValues, paramsOf, patientCompartmentParams, type ParamDef } from './search-params';
import { nativeValuesOf } from './search-native';
import { FALLBACK } from '../validation/fhirpath-native';

export { dateRange };

/** Longest text kept in an index column (btree entries must stay well under 2.7 kB). */
export const MAX_INDEXED = 1000;

export interface TokenRow {
  code: string;
  system: string | null;
  value: string;
}
export interface StringRow {
  code: string;
  value: string;
  norm: string;
}
export interface DateRow {
  code: string;
  low: string;
  high: string;
}
export interface ReferenceRow {
  code: string;
  targetType: string | null;
  targetId: string | null;
  ref: string;
}
export interface NumberRow {
  code: string;
  low: number | null;
  high: number | null;
  system: string | null;
  unit: string | null;
}

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
 * `engineOnly`: every expression through the FHIRPath engine (the reference the compiled ones are tested against).
 */
export function extractSearchValues(resource: Resource, base?: ServerBase, options: { engineOnly?: boolean } = {}): SearchValues {
  const out: SearchValues = { tokens: [], strings: [], dates: [], references: [], numbers: [], patientIds: [] };
  // Local absolute references are indexed as the relative ones they mean (the stored resource is unchanged).
  const local = relativeReferences(resource, base);
  let typed: TypedValue[] | undefined;
  const input = (): TypedValue[] => (typed ??= [toTypedValue(local)]);
  const obj = local as unknown as Record<string, unknown>;
  for (const def of paramsOf(resource.resourceType).values()) {
    if (!mayHaveValues(def, obj)) {
      continue;
    }
    // Compiled to plain JavaScript where the expression allows (most do), else the FHIRPath engine.
    const native = options.engineOnly ? null : nativeValuesOf(def, resource.resourceType);
    const direct = native ? native(local) : FALLBACK;
    if (direct !== FALLBACK) {
      for (const v of direct) {
        addValue(out, def, v, base);
      }
      continue;
    }
    let values: TypedValue[];
    try {
      values = evalFhirPathTyped(def.atom, input());
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
        out.tokens.push({
          code: modifierCode(def.code, 'identifier'),
          system: str(id.system) ? cut(id.system as string) : null,
          value: cut(id.value as string),
        });
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
        out.tokens.push({
          code: modifierCode(code, 'of-type'),
          system: str(c.system) ? cut(c.system as string) : null,
          value: cut(`${c.code as string}|${v.value as string}`),
        });
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
  // Keys joined with a separator no index column holds (JSON.stringify of every row was a third of the extraction).
  const uniq = <T>(rows: T[], key: (r: T) => string): T[] => {
    if (rows.length < 2) {
      return rows;
    }
    const seen = new Set<string>();
    return rows.filter((r) => {
      const k = key(r);
      return seen.has(k) ? false : (seen.add(k), true);
    });
  };
  const n = (x: string | number | null): string => (x === null ? '\u0001' : String(x));
  return {
    tokens: uniq(v.tokens, (r) => `${r.code}\u0000${n(r.system)}\u0000${r.value}`),
    strings: uniq(v.strings, (r) => `${r.code}\u0000${r.value}`),
    dates: uniq(v.dates, (r) => `${r.code}\u0000${r.low}\u0000${r.high}`),
    references: uniq(v.references, (r) => `${r.code}\u0000${n(r.targetType)}\u0000${n(r.targetId)}\u0000${r.ref}`),
    numbers: uniq(v.numbers, (r) => `${r.code}\u0000${n(r.low)}\u0000${n(r.high)}\u0000${n(r.system)}\u0000${n(r.unit)}`),
    patientIds: v.patientIds,
  };
}
