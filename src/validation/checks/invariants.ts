/**
 * Invariants (ElementDefinition.constraint): each is decided natively when it can be (ext-1 by
 * its own check, simple expressions compiled by fhirpath-native.ts), else by @medplum/core's
 * FHIRPath engine with %context, %resource, %rootResource and %ucum, its verdicts kept per value
 * for the run. An invariant the engine cannot evaluate is no verdict (nothing is reported).
 * https://hl7.org/fhir/R4/conformance-rules.html#constraints
 *
 * Caches (module level, shared by all validators; all bounded by the loaded definitions, since
 * expressions and type codes come from the schemas, never from the data):
 *   - `extensionValueKeys`: one small map per Extension type schema (weak: dies with the schema);
 *   - `atomCache`: one parsed expression per distinct invariant expression of the loaded profiles;
 *   - `nativeCache`: per expression, one compiled form per type, at most MAX_NATIVE_TYPES types.
 * Per run (an `Invariants` per walker): the engine's verdicts per value object (weak).
 */
import { evalFhirPathTyped, type FhirPathAtom, type InternalTypeSchema, parseFhirPath, type TypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { compileNative, FALLBACK, isEmptyValue, type NativeInvariant } from '../fhirpath-native';
import { capitalize, type ConstraintPlan } from '../plans';
import type { CheckContext, Json } from './context';

/** Position of each `value<Type>` key in the order of Extension.value[x]'s types. */
const extensionValueKeys = new WeakMap<InternalTypeSchema, Map<string, number>>();

/**
 * ext-1 on an Extension object, with the engine's semantics: `value` is the first `value<Type>`
 * key present in the order of Extension.value[x]'s types, and exists unless empty. Returns
 * undefined (evaluate with the engine) for anything unusual: `_` shadow keys, a null or array
 * value, an `extension` that is not an array of objects. The engine looks `value` up by building
 * and trying each of the ~50 type names per call; here the object's few keys are looked up instead.
 */
function ext1Verdict(obj: Json, extensionSchema: InternalTypeSchema | undefined): boolean | undefined {
  const valueEl = extensionSchema?.elements['value[x]'];
  if (!extensionSchema || !valueEl) {
    return undefined;
  }
  let keys = extensionValueKeys.get(extensionSchema);
  if (!keys) {
    keys = new Map();
    for (const t of valueEl.type) {
      const k = 'value' + capitalize(t.code);
      if (!keys.has(k)) {
        keys.set(k, keys.size);
      }
    }
    extensionValueKeys.set(extensionSchema, keys);
  }
  let best = Infinity;
  let value: unknown;
  for (const k in obj) {
    if (k.charCodeAt(0) === 0x5f) {
      return undefined;
    }
    const at = keys.get(k);
    if (at !== undefined && at < best && obj[k] !== undefined) {
      best = at;
      value = obj[k];
    }
  }
  const ext = obj.extension;
  if (ext !== undefined && (!Array.isArray(ext) || ext.some((e) => e === null || typeof e !== 'object'))) {
    return undefined;
  }
  if (value === null || Array.isArray(value)) {
    return undefined;
  }
  return isEmptyValue(ext) !== isEmptyValue(value);
}

/** Parsed expressions (null: the engine cannot parse it). */
const atomCache = new Map<string, FhirPathAtom | null>();
function compile(expression: string): FhirPathAtom | null {
  let atom = atomCache.get(expression);
  if (atom === undefined) {
    try {
      atom = parseFhirPath(expression);
    } catch {
      atom = null;
    }
    atomCache.set(expression, atom);
  }
  return atom;
}

/** Compiled invariants by expression and type (null: not compilable, the engine evaluates it). */
const nativeCache = new Map<string, Map<string, NativeInvariant | null>>();
const MAX_NATIVE_TYPES = 2000;
function nativeInvariant(expression: string, type: string): NativeInvariant | null {
  let byType = nativeCache.get(expression);
  if (!byType) {
    byType = new Map();
    nativeCache.set(expression, byType);
  }
  let fn = byType.get(type);
  if (fn === undefined) {
    const atom = compile(expression);
    fn = (atom && compileNative(atom, type)) ?? null;
    if (byType.size < MAX_NATIVE_TYPES) {
      byType.set(type, fn);
    }
  }
  return fn;
}

/** The invariants of one validation run. */
export class Invariants {
  /**
   * Invariant verdicts the engine already reached on an object in this run (null: it could not
   * evaluate it), keyed by type and expression: the type, the element and the slice each list the
   * same invariants, so each is evaluated once per value.
   */
  private readonly verdicts = new WeakMap<
    object,
    { type: string; current: Resource | undefined; root: Resource | undefined; byExpression: Map<string, boolean | null> }
  >();

  constructor(private readonly ctx: CheckContext) {}

  /** Checks `value` (of `type`, at `path`) against a list of invariants, reporting each that fails. */
  check(constraints: ConstraintPlan[], value: unknown, type: string, path: string): void {
    const ctx = this.ctx;
    let typed: TypedValue | undefined;
    let vars: Record<string, TypedValue> | undefined;
    // A verdict depends on the expression, the value and its type, and %resource / %rootResource.
    let known: Map<string, boolean | null> | undefined;
    for (const c of constraints) {
      // ext-1 on an Extension is decided here and only here, by its own native check (which the
      // compiled form must not second-guess; when it cannot decide, the engine does); other
      // invariants are compiled when simple enough and decided without the engine or the memo.
      let decided: boolean | typeof FALLBACK = FALLBACK;
      if (c.ext1 && type === 'Extension') {
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          decided = ext1Verdict(value as Json, ctx.defs.baseType('Extension')) ?? FALLBACK;
        }
      } else {
        let native = c.compiled.get(type);
        if (native === undefined) {
          native = nativeInvariant(c.expression, type);
          if (c.compiled.size < MAX_NATIVE_TYPES) {
            c.compiled.set(type, native);
          }
        }
        if (native) {
          decided = native(value);
        }
      }
      if (decided !== FALLBACK) {
        if (!decided) {
          ctx.report(c.severity, 'invariant', c.text, path);
        }
        continue;
      }
      if (!known && value !== null && typeof value === 'object') {
        const current = ctx.currentResource();
        const root = ctx.rootResource();
        const entry = this.verdicts.get(value);
        if (entry && entry.type === type && entry.current === current && entry.root === root) {
          known = entry.byExpression;
        } else {
          known = new Map();
          this.verdicts.set(value, { type, current, root, byExpression: known });
        }
      }
      let ok = known?.get(c.expression);
      if (ok === undefined) {
        ok = this.evaluateInvariant(c.expression, () => {
          // The input and variables depend only on the value and the resource frame: build them once per call.
          if (!typed || !vars) {
            typed = { type, value };
            vars = { '%context': typed, '%ucum': { type: 'string', value: 'http://unitsofmeasure.org' } };
            const current = ctx.currentResource();
            const root = ctx.rootResource();
            if (current) {
              vars['%resource'] = { type: current.resourceType, value: current };
            }
            if (root) {
              vars['%rootResource'] = { type: root.resourceType, value: root };
            }
          }
          return { typed, vars };
        });
        known?.set(c.expression, ok);
      }
      if (ok === null) {
        // The engine lacks some functions; an invariant it cannot evaluate is not a verdict.
        continue;
      }
      if (!ok) {
        ctx.report(c.severity, 'invariant', c.text, path);
      }
    }
  }

  /** True / false: the invariant holds or not; null: it cannot be evaluated (not a verdict). */
  private evaluateInvariant(expression: string, input: () => { typed: TypedValue; vars: Record<string, TypedValue> }): boolean | null {
    const atom = compile(expression);
    if (!atom) {
      return null;
    }
    try {
      const { typed, vars } = input();
      const r = evalFhirPathTyped(atom, [typed], vars);
      return !(r.length === 1 && r[0].value === false);
    } catch {
      return null;
    }
  }
}
