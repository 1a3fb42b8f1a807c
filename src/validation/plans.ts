/**
 * Per-profile facts the walker needs for every value, worked out once instead of per value: for a
 * scope (the elements of a type or profile), the JSON property names it accepts (every `value[x]`
 * spelling and the `_` shadows), its required elements, and for each element its cardinality,
 * type facts, slicing, fixed/pattern values, required binding and the invariants to evaluate.
 *
 * Plans hang off the scope and element objects @medplum/core parsed (WeakMaps, per Definitions),
 * so they live as long as the profiles do: memory stays flat however many resources are checked.
 */
import { type InternalSchemaElement, type InternalTypeSchema, type SliceDefinition, type TypedValue, validationRegexes } from '@medplum/core';
import type { CodeIndex } from './terminology';
import type { Definitions, LoadedProfile } from './definitions';
import { type NativeInvariant } from './fhirpath-native';
import { invariantExpression } from './rules/invariant-fixes';

export type Scope = Record<string, InternalSchemaElement>;
type Constraint = NonNullable<InternalTypeSchema['constraints']>[number];

const PRIMITIVE_JS_TYPE: Record<string, 'string' | 'number' | 'boolean'> = {
  base64Binary: 'string',
  boolean: 'boolean',
  canonical: 'string',
  code: 'string',
  date: 'string',
  dateTime: 'string',
  decimal: 'number',
  id: 'string',
  instant: 'string',
  integer: 'number',
  markdown: 'string',
  oid: 'string',
  positiveInt: 'number',
  string: 'string',
  time: 'string',
  unsignedInt: 'number',
  uri: 'string',
  url: 'string',
  uuid: 'string',
  xhtml: 'string',
  'http://hl7.org/fhirpath/System.String': 'string',
};

/** R4's base64Binary pattern allows whitespace between groups (line-wrapped data). */
const BASE64 = /^(\s*[0-9a-zA-Z+/=]{4}\s*)*$/;

/** Invariants the FHIRPath engine cannot evaluate (descendants(), htmlChecks(), resolve()); checked natively or skipped. */
const NATIVE_INVARIANTS = new Set(['ele-1', 'txt-1', 'txt-2', 'dom-3', 'que-2', 'csd-1', 'ctm-1', 'per-1', 'ref-1', 'sdf-19', 'bdl-7']);

/** R4's ext-1, evaluated natively (see `ext1Verdict` in checks/invariants.ts) when the extension has no `_` shadow keys. */
export const EXT_1 = 'extension.exists() != value.exists()';

/** What the walker needs to know about a type code, whatever the data. */
export interface TypeFacts {
  code: string;
  /** A primitive type (checked as a JSON value, not walked). */
  primitive: boolean;
  /** JSON type of a primitive. */
  jsType: 'string' | 'number' | 'boolean' | undefined;
  /** The primitive type checked (`System.String` is checked as `string`). */
  effective: string;
  /** Format of the primitive, if any. */
  regex: RegExp | undefined;
  /** `Resource` or a resource type: validated as a resource of its own. */
  isResource: boolean;
}

/** An invariant to evaluate (the engine-skipped ones are left out), with its message ready. */
export interface ConstraintPlan {
  expression: string;
  severity: 'error' | 'warning';
  text: string;
  /** ext-1 on an Extension has its own native check. */
  ext1: boolean;
  /** Compiled forms by type (null: not compilable). */
  compiled: Map<string, NativeInvariant | null>;
}

/** fixed/pattern, required binding and invariants of an element or a slice; undefined when it has none. */
export interface RulePlan {
  fixed: TypedValue | undefined;
  pattern: TypedValue | undefined;
  /** A required binding with a value set. */
  binding: { valueSet: string; display: string; index: CodeIndex | null | undefined } | undefined;
  constraints: ConstraintPlan[];
}

export interface SlicingPlan {
  slices: SliceDefinition[];
  discriminator: { path: string; type: string }[];
  closed: boolean;
  /** Index of the first slice with the same name (counts are kept by name). */
  nameIndex: number[];
  /** `a, b, c`: the slice names for the closed-slicing message. */
  names: string;
  /** Rules of each slice (undefined: none). */
  rules: (RulePlan | undefined)[];
  /** True when the slice constrains its children. */
  hasElements: boolean[];
}

/** Where the children of a value are checked: the type schema, the profile for inner types, the scope. */
export interface ChildTarget {
  typeSchema: InternalTypeSchema;
  profile: LoadedProfile | undefined;
  scope: ScopePlan;
  /** The scope for values that fell in a slice with child rules of its own. */
  sliced?: Map<SliceDefinition, ScopePlan>;
  /** The type's own invariants, planned once (null: none). */
  typeConstraints?: ConstraintPlan[] | null;
  /** JSON texts of values found valid here, by the slice they fell in (-1: none): walker.ts, validateObject. */
  valid?: Map<number, Set<string>>;
  /** Deep-frozen values found valid here, by slice, remembered by identity (walker.ts, validateObject). */
  validFrozen?: Map<number, WeakSet<object>>;
}

/** Bound of PlanCache's memo of values found valid, in values (each at most walker.ts's MEMO_MAX_CHARS of JSON). */
const VALID_MEMO_MAX = 50_000;

export class ElementPlan {
  readonly isArray: boolean;
  readonly min: number;
  readonly max: number;
  /** Name without `[x]`, for messages. */
  readonly display: string;
  /** The element's only type, when it has one. */
  readonly single: TypeFacts | undefined;
  readonly rules: RulePlan | undefined;
  readonly slicing: SlicingPlan | undefined;
  /** Bit in the scope's required mask (0: not required, or the scope uses a set). */
  requiredBit = 0;
  /** Children of values of this element by type, then by the profile in force. */
  readonly children = new Map<string, Map<LoadedProfile | undefined, ChildTarget>>();
  /** Children of extensions by their definition. */
  readonly extensions = new Map<LoadedProfile, ChildTarget>();
  /** Allowed reference target types and the list for the message; null: any target (or unknown). */
  referenceTargets: { allowed: Set<string>; list: string } | null | undefined;

  constructor(
    /** The scope the element belongs to (its children's overlays are read from it). */
    readonly scope: Scope,
    readonly name: string,
    readonly el: InternalSchemaElement,
    plans: PlanCache,
  ) {
    this.isArray = !!el.isArray;
    this.min = el.min;
    this.max = el.max;
    this.display = name.replace('[x]', '');
    this.single = el.type.length === 1 ? plans.typeFacts(el.type[0].code) : undefined;
    this.rules = plans.rules(el);
    this.slicing = el.slicing ? plans.slicing(el.slicing) : undefined;
  }
}

export interface KeyPlan {
  element: ElementPlan;
  /** The type picked by a choice key (`valueQuantity` -> `Quantity`); never set for `_` keys. */
  choice: TypeFacts | undefined;
}

export class ScopePlan {
  /** JSON property name -> element, for names without a leading `_`. */
  readonly keys = new Map<string, KeyPlan>();
  /** `_name` -> element, for the primitive shadows. */
  readonly shadows = new Map<string, KeyPlan>();
  readonly byName = new Map<string, ElementPlan>();
  /** Required elements, in the scope's order. */
  readonly required: ElementPlan[] = [];
  /** Required elements are tracked with a bit mask (else with a set of names). */
  readonly useMask: boolean;
  /** Choice elements in the scope's order (dotted ones included), for unknown-key messages. */
  readonly choices: { name: string; base: string; allowed: string }[] = [];

  constructor(
    readonly scope: Scope,
    plans: PlanCache,
  ) {
    for (const [name, el] of Object.entries(scope)) {
      if (name.endsWith('[x]')) {
        this.choices.push({ name, base: name.slice(0, -3), allowed: el.type.map((t) => t.code).join(', ') });
      }
      if (name.includes('.')) {
        continue;
      }
      const element = new ElementPlan(scope, name, el, plans);
      this.byName.set(name, element);
      if (el.min > 0) {
        this.required.push(element);
      }
      if (name.endsWith('[x]')) {
        const base = name.slice(0, -3);
        for (const t of el.type) {
          this.keys.set(base + capitalize(t.code), { element, choice: plans.typeFacts(t.code) });
        }
      } else {
        this.keys.set(name, { element, choice: undefined });
      }
    }
    for (const [key, kp] of this.keys) {
      this.shadows.set('_' + key, { element: kp.element, choice: undefined });
    }
    this.useMask = this.required.length <= 30;
    if (this.useMask) {
      this.required.forEach((e, i) => {
        e.requiredBit = 1 << i;
      });
    }
  }
}

/** All plans of one Definitions (profiles differ between validators; @medplum/core's registry is global). */
export class PlanCache {
  private readonly scopes = new WeakMap<Scope, ScopePlan>();
  private readonly rulePlans = new WeakMap<object, RulePlan | null>();
  private readonly constraintPlans = new WeakMap<Constraint[], ConstraintPlan[]>();
  private readonly slicingPlans = new WeakMap<object, SlicingPlan>();
  private readonly types = new Map<string, TypeFacts>();
  /** The sets of ChildTarget.valid, and how many values they hold together. */
  private readonly validSets: Set<string>[] = [];
  private validCount = 0;
  /** JSON texts of contained resources found valid (walker.ts, validateContained); one of validSets. */
  readonly validContained = new Set<string>();
  /** Deep-frozen contained resources found valid, by identity (walker.ts, deepFrozen). */
  readonly frozenValidContained = new WeakSet<object>();

  constructor(readonly defs: Definitions) {
    this.validSets.push(this.validContained);
  }

  /**
   * The set of values found valid at a target for values in slice `sliceIndex` (-1: none). All
   * the sets are emptied when they hold VALID_MEMO_MAX values together, so memory stays bounded
   * however many resources are checked.
   */
  validSet(target: ChildTarget, sliceIndex: number): Set<string> {
    target.valid ??= new Map();
    let set = target.valid.get(sliceIndex);
    if (!set) {
      set = new Set();
      target.valid.set(sliceIndex, set);
      this.validSets.push(set);
    }
    return set;
  }

  /**
   * The deep-frozen values found valid at a target for values in slice `sliceIndex`, by identity:
   * a frozen value cannot change, so nothing bounds this set but the values' own lives (weak).
   */
  frozenValidSet(target: ChildTarget, sliceIndex: number): WeakSet<object> {
    target.validFrozen ??= new Map();
    let set = target.validFrozen.get(sliceIndex);
    if (!set) {
      set = new WeakSet();
      target.validFrozen.set(sliceIndex, set);
    }
    return set;
  }

  /** Adds `json` to `set`; `weight`: how many values of MEMO_MAX_CHARS it counts as in the bound (a contained resource may be longer). */
  rememberValid(set: Set<string>, json: string, weight = 1): void {
    if (this.validCount >= VALID_MEMO_MAX) {
      for (const s of this.validSets) {
        s.clear();
      }
      this.validCount = 0;
    }
    set.add(json);
    this.validCount += weight;
  }

  scope(scope: Scope): ScopePlan {
    let plan = this.scopes.get(scope);
    if (!plan) {
      plan = new ScopePlan(scope, this);
      this.scopes.set(scope, plan);
    }
    return plan;
  }

  /** Facts about a type code from a schema (cached: the codes are the schemas' own). */
  typeFacts(code: string): TypeFacts {
    let facts = this.types.get(code);
    if (!facts) {
      facts = this.computeTypeFacts(code);
      this.types.set(code, facts);
    }
    return facts;
  }

  /** Facts about a type code read from the data (not cached: the data can say anything). */
  computeTypeFacts(code: string): TypeFacts {
    // The same look-ups as a per-value check would make (`in` and plain property reads).
    const primitive = code in PRIMITIVE_JS_TYPE;
    const effective = code === 'http://hl7.org/fhirpath/System.String' ? 'string' : code;
    const jsType = primitive ? PRIMITIVE_JS_TYPE[effective] : undefined;
    const regex = primitive ? (effective === 'base64Binary' ? BASE64 : (validationRegexes as Record<string, RegExp | undefined>)[effective]) : undefined;
    return { code, primitive, jsType, effective, regex, isResource: code === 'Resource' || this.defs.isResourceType(code) };
  }

  /** The invariants of a list that the walker evaluates (shared lists: type, element, slice). */
  constraints(list: Constraint[] | undefined): ConstraintPlan[] | undefined {
    if (!list?.length) {
      return undefined;
    }
    let plans = this.constraintPlans.get(list);
    if (!plans) {
      plans = [];
      for (const c of list) {
        if (NATIVE_INVARIANTS.has(c.key) || !c.expression) {
          continue;
        }
        plans.push({
          expression: invariantExpression(c.key, c.expression),
          severity: c.severity === 'warning' ? 'warning' : 'error',
          text: `${c.description || c.expression} (${c.key})`,
          ext1: c.expression === EXT_1,
          compiled: new Map(),
        });
      }
      this.constraintPlans.set(list, plans);
    }
    return plans.length > 0 ? plans : undefined;
  }

  rules(el: InternalSchemaElement | SliceDefinition): RulePlan | undefined {
    let plan = this.rulePlans.get(el);
    if (plan === undefined) {
      const b = el.binding;
      const binding = b?.valueSet && b.strength === 'required' ? { valueSet: b.valueSet, display: b.valueSet.split('|')[0], index: undefined } : undefined;
      const constraints = this.constraints(el.constraints) ?? [];
      plan = el.fixed || el.pattern || binding || constraints.length > 0 ? { fixed: el.fixed, pattern: el.pattern, binding, constraints } : null;
      this.rulePlans.set(el, plan);
    }
    return plan ?? undefined;
  }

  slicing(slicing: NonNullable<InternalSchemaElement['slicing']>): SlicingPlan {
    let plan = this.slicingPlans.get(slicing);
    if (!plan) {
      const slices = slicing.slices;
      plan = {
        slices,
        discriminator: slicing.discriminator,
        closed: slicing.rule === 'closed',
        nameIndex: slices.map((s) => slices.findIndex((o) => o.name === s.name)),
        names: slices.map((s) => s.name).join(', '),
        rules: slices.map((s) => this.rules(s)),
        hasElements: slices.map((s) => Object.keys(s.elements).length > 0),
      };
      this.slicingPlans.set(slicing, plan);
    }
    return plan;
  }
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
