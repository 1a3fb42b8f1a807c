/**
 * Invariants compiled to plain functions, for the common, simple ones (dom-2, dom-4..dom-6,
 * qty-3, drt-1, qrs-1, our profiles' pb-* rules ...): member paths, exists(), empty(), not(),
 * count(), and/or/implies, =, != and comparisons, %ucum. Everything else stays with
 * @medplum/core's FHIRPath engine, which is the reference: each step below mirrors what the
 * engine does (src/fhirpath/atoms.ts, functions.ts and utils.ts of @medplum/core 4.5) for plain
 * JSON, and gives up (FALLBACK: let the engine decide) on anything it does not mirror exactly,
 * such as primitive extensions (`_x`), choice-typed or Resource-typed values that would need
 * their runtime type, singletons of the wrong type (the engine throws), or objects where a
 * primitive is expected. Why: the engine builds typed wrappers, contexts and property names on
 * every step, which made invariants a quarter of validate(); most verdicts are decided here now.
 * https://hl7.org/fhirpath/N1/
 *
 * Why one file of over 400 lines: it is one recursive-descent compiler. compileAtom dispatches on
 * the atom class, and every case (paths, functions, and/or/implies, equality, arithmetic) compiles
 * its operands through compileAtom again and shares the FALLBACK protocol and the Node type, so
 * its parts cannot be imported from each other without a circle or a third module of shared
 * types. Read top-down it follows @medplum/core's atom classes one by one, which is how it is
 * checked against the engine (test/validation/fhirpath-native.test.ts).
 */
import {
  AndAtom,
  ArithemticOperatorAtom,
  AsAtom,
  type Atom,
  DotAtom,
  EqualsAtom,
  FhirPathAtom,
  FunctionAtom,
  getElementDefinition,
  ImpliesAtom,
  IsAtom,
  LiteralAtom,
  NotEqualsAtom,
  OrAtom,
  SymbolAtom,
  UnionAtom,
} from '@medplum/core';

/** The compiled expression could not decide: evaluate with the engine. */
export const FALLBACK = Symbol('fallback');
type Fallback = typeof FALLBACK;
type Collection = unknown[];
type Step = (input: Collection) => Collection | Fallback;

/** A compiled invariant: true / false (the verdict), or FALLBACK. */
export type NativeInvariant = (value: unknown) => boolean | Fallback;

/** Static type of a node's result: a FHIR type code, or null when only known at run time. */
interface Node {
  run: Step;
  type: string | null;
}

const UCUM = 'http://unitsofmeasure.org';

/** @medplum/core's isEmpty: null, undefined, '', [] and {} (and objects with a zero `length` and no keys). */
export function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) {
    return true;
  }
  if (typeof v === 'string') {
    return v === '';
  }
  if (typeof v === 'object') {
    return !(('length' in v && (v as { length: number }).length > 0) || Object.keys(v).length > 0);
  }
  return false;
}

function isQuantityValue(v: unknown): v is { value: number } {
  return !!(v && typeof v === 'object' && 'value' in v && typeof v.value === 'number');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Compiles `atom` (the parsed `expression`) for values of `type`, or returns undefined when the
 * expression uses anything this compiler does not mirror (the engine then evaluates it).
 */
export function compileNative(atom: FhirPathAtom, type: string): NativeInvariant | undefined {
  const run = compileRoot(atom, type);
  if (!run) {
    return undefined;
  }
  return (value: unknown): boolean | Fallback => {
    // FhirPathAtom.eval: the child runs once per input item; ours is always the one value.
    const r = run([value]);
    if (r === FALLBACK) {
      return FALLBACK;
    }
    // The walker's rule: an invariant fails only on a single `false`.
    return !(r.length === 1 && r[0] === false);
  };
}

/** A compiled expression that yields its collection (search values), or FALLBACK. */
export type NativeValues = (value: unknown) => unknown[] | Fallback;

/**
 * Compiles `atom` to a function returning the expression's collection of plain values (what the
 * engine's TypedValues hold in `value`), or undefined when the expression uses anything not
 * mirrored. Search parameters' expressions (src/store/search-values.ts) use the path subset:
 * member paths, `|`, `as T`, `where(...)` and `resolve() is T`.
 */
export function compileNativeValues(atom: FhirPathAtom, type: string): NativeValues | undefined {
  const run = compileRoot(atom, type);
  return run && ((value: unknown) => run([value]));
}

/** The whole expression compiled for values of `type` (FhirPathAtom.eval runs its child once per input item), or undefined. */
function compileRoot(atom: FhirPathAtom, type: string): Step | undefined {
  try {
    return compileAtom(atom.child, type)?.run;
  } catch {
    return undefined;
  }
}

/** Compiles one atom whose input collection has static type `inputType` (null: run-time type). */
function compileAtom(atom: Atom, inputType: string | null): Node | undefined {
  if (atom instanceof SymbolAtom) {
    return compileSymbol(atom.name, inputType);
  }
  if (atom instanceof DotAtom) {
    const left = compileAtom(atom.left, inputType);
    if (!left) {
      return undefined;
    }
    const right = compileAtom(atom.right, left.type);
    if (!right) {
      return undefined;
    }
    const l = left.run;
    const r = right.run;
    return {
      type: right.type,
      run: (input) => {
        const x = l(input);
        return x === FALLBACK ? FALLBACK : r(x);
      },
    };
  }
  if (atom instanceof FunctionAtom) {
    return compileFunction(atom, inputType);
  }
  if (atom instanceof LiteralAtom) {
    const v: unknown = atom.value.value;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      return undefined;
    }
    const out = [v];
    return { type: atom.value.type, run: () => out };
  }
  if (atom instanceof AndAtom || atom instanceof OrAtom || atom instanceof ImpliesAtom) {
    return compileBoolean(atom, inputType);
  }
  if (atom instanceof EqualsAtom || atom instanceof NotEqualsAtom) {
    return compileEquality(atom, inputType, atom instanceof NotEqualsAtom);
  }
  if (atom instanceof ArithemticOperatorAtom) {
    return compileArithmetic(atom, inputType);
  }
  if (atom instanceof UnionAtom) {
    return compileUnion(atom, inputType);
  }
  if (atom instanceof AsAtom) {
    return compileAs(atom, inputType);
  }
  if (atom instanceof IsAtom) {
    return compileResolveIs(atom, inputType);
  }
  return undefined;
}

/**
 * SymbolAtom: `$this`, `%ucum`, or a child element. The engine's getTypedPropertyValueWithSchema
 * tries the element's candidate property names in type order and takes the first present one.
 */
function compileSymbol(name: string, inputType: string | null, asType?: string): Node | undefined {
  if (name === '$this') {
    return { type: inputType, run: (input) => input };
  }
  if (name === '%ucum') {
    const out = [UCUM];
    return { type: 'string', run: () => out };
  }
  if (name.startsWith('%') || name.startsWith('$')) {
    return undefined;
  }
  if (name === inputType && /^[A-Z]/.test(name)) {
    // A resource's own type name (`Patient.name`): SymbolAtom.evalValue returns a resource of that type itself.
    return {
      type: inputType,
      run: (input) => {
        for (const item of input) {
          if (!item || typeof item !== 'object' || (item as { resourceType?: unknown }).resourceType !== name) {
            return FALLBACK;
          }
        }
        return input;
      },
    };
  }
  if (inputType === null) {
    return compileRuntimeSymbol(name);
  }
  const el = getElementDefinition(inputType, name);
  if (!el || !el.type?.length) {
    return undefined; // the engine would look the property up without a schema
  }
  const last = el.path.substring(el.path.lastIndexOf('.') + 1);
  const keys = el.type.map((t) => last.replace('[x]', capitalize(t.code)));
  const codes = el.type.map((t) => (t.code === 'Element' || t.code === 'BackboneElement' ? el.type[0].code : t.code));
  const single = new Set(codes).size === 1 && codes[0] !== 'Resource' ? codes[0] : null;
  const shadows = keys.map((k) => '_' + k);
  const n = keys.length;
  if (asType !== undefined && (codes.includes('Resource') || !codes.includes(asType))) {
    return undefined;
  }
  return {
    type: asType ?? single,
    run: (input) => {
      let out: Collection | undefined;
      for (const item of input) {
        if (!item || typeof item !== 'object') {
          continue; // SymbolAtom.evalValue skips non-objects
        }
        if (Array.isArray(item) || ('resourceType' in item && item.resourceType === name)) {
          return FALLBACK;
        }
        const obj = item as Record<string, unknown>;
        let value: unknown;
        let shadow: unknown;
        let found = -1;
        for (let i = 0; i < n; i++) {
          value = obj[keys[i]];
          shadow = obj[shadows[i]];
          if (value !== undefined || shadow !== undefined) {
            found = i;
            break;
          }
        }
        if (shadow !== undefined) {
          return FALLBACK; // primitive extensions are merged into the value by the engine
        }
        if (asType !== undefined && found >= 0 && codes[found] !== asType) {
          continue; // `as T` (ofType): the value the engine found is of another type
        }
        if (isEmptyValue(value)) {
          continue;
        }
        out ??= [];
        if (Array.isArray(value)) {
          for (const v of value) {
            if (v !== undefined) {
              out.push(v);
            }
          }
        } else {
          out.push(value);
        }
      }
      return out ?? [];
    },
  };
}

/**
 * Members every resource (Resource) or every domain resource (DomainResource) has, with their one
 * type: the static type after a run-time member, checked again against each type's own element.
 */
const SHARED_MEMBER_TYPES: Record<string, string> = {
  meta: 'Meta',
  implicitRules: 'uri',
  language: 'code',
  text: 'Narrative',
  extension: 'Extension',
  modifierExtension: 'Extension',
};

/** Resource types the run-time dispatch compiles a member for, at most (types come from the data). */
const MAX_RUNTIME_TYPES = 256;

/**
 * A member of values whose type is known only at run time (`contained.meta`): the engine types a
 * resource by its `resourceType` (toTypedValueWithType), so each item that is a resource of a
 * known type is looked up with that type's member, compiled once per type. Anything else (no
 * resourceType, an unknown one, a non-object) falls back. The result's static type is the member's
 * type on DomainResource (`meta`: Meta) when it has one, else run-time again.
 */
function compileRuntimeSymbol(name: string): Node {
  const byType = new Map<string, Node | undefined>();
  const memberOf = (resourceType: string): Node | undefined => {
    if (byType.has(resourceType)) {
      return byType.get(resourceType);
    }
    // A type not (yet) known to the engine is not remembered: it may be loaded later.
    if (!getElementDefinition(resourceType, 'id')) {
      return undefined;
    }
    const node = compileSymbol(name, resourceType);
    if (byType.size < MAX_RUNTIME_TYPES) {
      byType.set(resourceType, node);
    }
    return node;
  };
  const type = SHARED_MEMBER_TYPES[name] ?? null;
  return {
    type,
    run: (input) => {
      let out: Collection | undefined;
      for (const item of input) {
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          return FALLBACK;
        }
        const rt = (item as { resourceType?: unknown }).resourceType;
        const member = typeof rt === 'string' ? memberOf(rt) : undefined;
        if (!member || (type !== null && member.type !== type)) {
          return FALLBACK;
        }
        const r = member.run([item]);
        if (r === FALLBACK) {
          return FALLBACK;
        }
        if (r.length > 0) {
          (out ??= []).push(...r);
        }
      }
      return out ?? [];
    },
  };
}

function compileFunction(atom: FunctionAtom, inputType: string | null): Node | undefined {
  if (atom.name === 'where' && atom.args.length === 1) {
    return compileWhere(atom.args[0], inputType);
  }
  if (atom.name === 'all' && atom.args.length === 1) {
    return compileAll(atom.args[0], inputType);
  }
  if (atom.args.length > 0) {
    return undefined;
  }
  switch (atom.name) {
    case 'resolve':
      return { type: null, run: (input) => input.map(resolved).filter((v) => v !== undefined) };
    case 'exists':
      return {
        type: 'boolean',
        run: (input) => {
          if (input.length === 0) {
            return [false];
          }
          for (const v of input) {
            if (isEmptyValue(v)) {
              return [false];
            }
          }
          return [true];
        },
      };
    case 'empty':
      return {
        type: 'boolean',
        run: (input) => {
          for (const v of input) {
            if (!isEmptyValue(v)) {
              return [false];
            }
          }
          return [true];
        },
      };
    case 'count':
      return { type: 'integer', run: (input) => [input.length] };
    case 'not':
      // toBoolean() of a single boolean, negated; other inputs convert or throw in the engine.
      return {
        type: 'boolean',
        run: (input) => {
          if (input.length === 0) {
            return input;
          }
          if (input.length !== 1 || typeof input[0] !== 'boolean') {
            return FALLBACK;
          }
          return [!input[0]];
        },
      };
    default:
      return undefined;
  }
}

/** singleton(collection, 'boolean'): undefined when empty; the engine throws on anything but one boolean. */
function booleanOperand(node: Node): (input: Collection) => boolean | undefined | Fallback {
  const run = node.run;
  const isBoolean = node.type === 'boolean';
  return (input) => {
    const r = run(input);
    if (r === FALLBACK) {
      return FALLBACK;
    }
    if (r.length === 0) {
      return undefined;
    }
    if (r.length !== 1 || !isBoolean || typeof r[0] !== 'boolean') {
      return FALLBACK;
    }
    return r[0];
  };
}

const TRUE = [true];
const FALSE = [false];
const EMPTY: Collection = [];

function compileBoolean(atom: AndAtom | OrAtom | ImpliesAtom, inputType: string | null): Node | undefined {
  const left = compileAtom(atom.left, inputType);
  const right = compileAtom(atom.right, inputType);
  if (!left || !right) {
    return undefined;
  }
  const l = booleanOperand(left);
  const r = booleanOperand(right);
  // Both operands are always evaluated, as the engine does (one may throw even when the other decides).
  if (atom instanceof AndAtom) {
    return {
      type: 'boolean',
      run: (input) => {
        const a = l(input);
        const b = r(input);
        if (a === FALLBACK || b === FALLBACK) {
          return FALLBACK;
        }
        if (a === true && b === true) {
          return TRUE.slice();
        }
        return a === false || b === false ? FALSE.slice() : EMPTY.slice();
      },
    };
  }
  if (atom instanceof OrAtom) {
    return {
      type: 'boolean',
      run: (input) => {
        const a = l(input);
        const b = r(input);
        if (a === FALLBACK || b === FALLBACK) {
          return FALLBACK;
        }
        if (a === false && b === false) {
          return FALSE.slice();
        }
        return a || b ? TRUE.slice() : EMPTY.slice();
      },
    };
  }
  return {
    type: 'boolean',
    run: (input) => {
      const a = l(input);
      const b = r(input);
      if (a === FALLBACK || b === FALLBACK) {
        return FALLBACK;
      }
      if (b === true || a === false) {
        return TRUE.slice();
      }
      return a === undefined || b === undefined ? EMPTY.slice() : FALSE.slice();
    },
  };
}

/** fhirPathEquals for primitives (objects, quantities included, are left to the engine). */
function primitiveEquals(x: unknown, y: unknown): boolean | Fallback {
  if ((x !== null && typeof x === 'object') || (y !== null && typeof y === 'object')) {
    return FALLBACK;
  }
  if (typeof x === 'number' && typeof y === 'number') {
    return Math.abs(x - y) < 1e-8;
  }
  // x.value?.valueOf(): null becomes undefined
  return (x === null ? undefined : x) === (y === null ? undefined : y);
}

function compileEquality(atom: EqualsAtom | NotEqualsAtom, inputType: string | null, negate: boolean): Node | undefined {
  const left = compileAtom(atom.left, inputType);
  const right = compileAtom(atom.right, inputType);
  if (!left || !right) {
    return undefined;
  }
  const l = left.run;
  const r = right.run;
  return {
    type: 'boolean',
    run: (input) => {
      const x = l(input);
      const y = r(input);
      if (x === FALLBACK || y === FALLBACK) {
        return FALLBACK;
      }
      if (x.length === 0 || y.length === 0) {
        return [];
      }
      if (x.length !== y.length) {
        return [negate];
      }
      let all = true;
      for (let i = 0; i < x.length; i++) {
        const e = primitiveEquals(x[i], y[i]);
        if (e === FALLBACK) {
          return FALLBACK;
        }
        if (!e) {
          all = false;
        }
      }
      return [negate ? !all : all];
    },
  };
}

/** Comparisons and arithmetic on single numbers (or quantities' values), with the engine's own operator. */
function compileArithmetic(atom: ArithemticOperatorAtom, inputType: string | null): Node | undefined {
  const left = compileAtom(atom.left, inputType);
  const right = compileAtom(atom.right, inputType);
  if (!left || !right) {
    return undefined;
  }
  const comparison = atom.operator === '<' || atom.operator === '<=' || atom.operator === '>' || atom.operator === '>=';
  const l = left.run;
  const r = right.run;
  const impl = atom.impl;
  return {
    type: comparison ? 'boolean' : null,
    run: (input) => {
      const x = l(input);
      if (x === FALLBACK) {
        return FALLBACK;
      }
      if (x.length !== 1) {
        return [];
      }
      const y = r(input);
      if (y === FALLBACK) {
        return FALLBACK;
      }
      if (y.length !== 1) {
        return [];
      }
      const xq = isQuantityValue(x[0]);
      const a = xq ? (x[0] as { value: number }).value : x[0];
      const b = isQuantityValue(y[0]) ? y[0].value : y[0];
      if ((a !== null && typeof a === 'object') || (b !== null && typeof b === 'object')) {
        return FALLBACK;
      }
      const result = impl(a as number, b as number);
      if (typeof result === 'boolean') {
        return [result];
      }
      if (xq || typeof result !== 'number') {
        return FALLBACK;
      }
      return [result];
    },
  };
}

/** `where(criteria)`: the items for which the criteria's first value is truthy (toJsBoolean). */
function compileWhere(criteria: Atom, inputType: string | null): Node | undefined {
  const c = compileAtom(criteria, inputType);
  if (!c) {
    return undefined;
  }
  const run = c.run;
  return {
    type: inputType,
    run: (input) => {
      const out: Collection = [];
      for (const item of input) {
        const r = run([item]);
        if (r === FALLBACK) {
          return FALLBACK;
        }
        if (r.length > 0 && !!r[0]) {
          out.push(item);
        }
      }
      return out;
    },
  };
}

/** `all(criteria)`: true when the criteria's first value is truthy for every item (toJsBoolean), true on an empty input. */
function compileAll(criteria: Atom, inputType: string | null): Node | undefined {
  const c = compileAtom(criteria, inputType);
  if (!c) {
    return undefined;
  }
  const run = c.run;
  return {
    type: 'boolean',
    run: (input) => {
      // Array.every in the engine stops at the first item that fails; so does this.
      for (const item of input) {
        const r = run([item]);
        if (r === FALLBACK) {
          return FALLBACK;
        }
        if (!(r.length > 0 && !!r[0])) {
          return [false];
        }
      }
      return [true];
    },
  };
}

/** The engine's `resolve()` without a server: a contained `resource`, else a stub `{ resourceType, id }` read off the reference. */
function resolved(v: unknown): unknown {
  let ref: string | undefined;
  if (typeof v === 'string') {
    ref = v;
  } else if (v && typeof v === 'object') {
    const r = v as { resource?: unknown; reference?: string; type?: string; identifier?: { system?: string; value?: string } };
    if (r.resource) {
      return r.resource;
    }
    if (r.reference) {
      ref = r.reference;
    } else if (r.type && r.identifier) {
      ref = `${r.type}?identifier=${r.identifier.system}|${r.identifier.value}`;
    }
  }
  if (ref?.includes('?')) {
    return { resourceType: ref.split('?')[0] };
  }
  if (ref?.includes('/')) {
    const [resourceType, id] = ref.split('/');
    return { resourceType, id };
  }
  return undefined;
}

/** fhirPathIs names with a rule of their own (the rest compare the type or resourceType). */
const IS_SPECIAL = new Set(['Boolean', 'Decimal', 'Integer', 'Date', 'DateTime', 'Time', 'Period', 'Quantity']);

/** `resolve() is T` (search parameters' target filter): true when the one resolved value is a T resource. */
function compileResolveIs(atom: IsAtom, inputType: string | null): Node | undefined {
  if (!(atom.left instanceof FunctionAtom) || atom.left.name !== 'resolve' || !(atom.right instanceof SymbolAtom)) {
    return undefined;
  }
  const name = atom.right.name.replace(/^(System|FHIR)\./, '');
  if (IS_SPECIAL.has(name)) {
    return undefined;
  }
  const left = compileAtom(atom.left, inputType);
  if (!left) {
    return undefined;
  }
  const run = left.run;
  return {
    type: 'boolean',
    run: (input) => {
      const r = run(input);
      if (r === FALLBACK) {
        return FALLBACK;
      }
      if (r.length !== 1) {
        return [];
      }
      const v = r[0] as { resourceType?: unknown } | null | undefined;
      return [!!v && typeof v === 'object' && v.resourceType === name];
    },
  };
}

/** `a | b`: both collections (duplicates are left in: search values are de-duplicated as rows). */
function compileUnion(atom: UnionAtom, inputType: string | null): Node | undefined {
  const left = compileAtom(atom.left, inputType);
  const right = compileAtom(atom.right, inputType);
  if (!left || !right) {
    return undefined;
  }
  const l = left.run;
  const r = right.run;
  return {
    type: left.type === right.type ? left.type : null,
    run: (input) => {
      const x = l(input);
      if (x === FALLBACK) {
        return FALLBACK;
      }
      const y = r(input);
      return y === FALLBACK ? FALLBACK : [...x, ...y];
    },
  };
}

/** `path as T` on a member (ofType): the member's value when the engine would type it T. */
function compileAs(atom: AsAtom, inputType: string | null): Node | undefined {
  if (!(atom.right instanceof SymbolAtom)) {
    return undefined;
  }
  const type = atom.right.name;
  if (atom.left instanceof SymbolAtom) {
    return compileSymbol(atom.left.name, inputType, type);
  }
  if (!(atom.left instanceof DotAtom) || !(atom.left.right instanceof SymbolAtom)) {
    return undefined;
  }
  const prefix = compileAtom(atom.left.left, inputType);
  if (!prefix) {
    return undefined;
  }
  const member = compileSymbol(atom.left.right.name, prefix.type, type);
  if (!member) {
    return undefined;
  }
  const p = prefix.run;
  const m = member.run;
  return {
    type,
    run: (input) => {
      const x = p(input);
      return x === FALLBACK ? FALLBACK : m(x);
    },
  };
}
