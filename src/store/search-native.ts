/**
 * Search parameters' expressions compiled to plain JavaScript (src/validation/fhirpath-native.ts,
 * which mirrors @medplum/core's FHIRPath engine step by step and falls back to it on anything it
 * does not mirror): extracting an AuditEvent's search values through the engine took about 300 µs
 * of a read's audit cost (issue 15); compiled, the same values come out in a few µs.
 *
 * The compiler needs the resource type's schema in @medplum/core, which the validator's definitions
 * load on first use (src/validation/schema-loader.ts); without definitions in the process an
 * expression is left to the engine and tried again on the next write.
 */
import { tryGetDataType } from '@medplum/core';
import { compileNativeValues, type NativeValues } from '../validation/fhirpath-native';
import { ensureSchema } from '../validation/schema-loader';
import type { ParamDef } from './search-params';

const compiled = new WeakMap<ParamDef, NativeValues | null>();

/** The compiled expression of a parameter (null: the engine evaluates it). */
export function nativeValuesOf(def: ParamDef, resourceType: string): NativeValues | null {
  const known = compiled.get(def);
  if (known !== undefined) {
    return known;
  }
  if (!tryGetDataType(resourceType) && !ensureSchema(resourceType)) {
    return null; // schemas not loaded yet: decide later
  }
  const fn = compileNativeValues(def.atom, resourceType) ?? null;
  compiled.set(def, fn);
  return fn;
}
