/**
 * The rules an element (or a slice) states about its values: fixed[x], pattern[x], a required
 * binding and its invariants.
 * https://hl7.org/fhir/R4/elementdefinition-definitions.html#ElementDefinition.fixed_x_
 */
import type { RulePlan } from '../plans';
import { checkBinding } from './bindings';
import type { CheckContext, Json } from './context';
import type { Invariants } from './invariants';

/** Checks one value against the rules of its element or slice. */
export function applyRules(ctx: CheckContext, invariants: Invariants, r: RulePlan, value: unknown, type: string, path: string): void {
  if (r.fixed && !deepEqual(value, r.fixed.value)) {
    ctx.report('error', 'value', `Value must be exactly ${JSON.stringify(r.fixed.value)}`, path);
  }
  if (r.pattern && !matchesPattern(value, r.pattern.value)) {
    ctx.report('error', 'value', `Value must match the pattern ${JSON.stringify(r.pattern.value)}`, path);
  }
  if (r.binding) {
    checkBinding(ctx, value, type, r.binding, path);
  }
  if (r.constraints.length > 0) {
    invariants.check(r.constraints, value, type, path);
  }
}

/** True when `value` contains everything in `pattern` (FHIR pattern[x] semantics). */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return false;
    }
    return Object.entries(pattern as Json).every(([k, p]) => matchesPattern((value as Json)[k], p));
  }
  return value === pattern;
}

/** Deep equality of JSON values (FHIR fixed[x] semantics: exactly this value). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Json)[k], (b as Json)[k]));
  }
  return false;
}
