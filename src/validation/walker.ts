/**
 * The structure walker: checks one resource against a base type or a profile, element by element.
 *
 * It reads the schemas that @medplum/core parses from StructureDefinition snapshots
 * (parseStructureDefinition, cached per profile) and evaluates invariants with @medplum/core's FHIRPath
 * engine, but does the walking itself, because validateResource alone misses what the reference
 * validator checks: empty arrays and objects, rules inside slices, closed slicing, extension
 * definitions and value types, Period order, resource id format, required bindings, and it re-parses
 * a profile on every call. Rules: https://hl7.org/fhir/R4/validation.html, https://hl7.org/fhir/R4/json.html
 *
 * This file is the traversal only: JSON structure (unknown and choice keys, arrays, nulls, empty
 * values, cardinality, required elements, `_` shadows) and the order in which the checks run. The
 * checks live in checks/ and see the walker only as a CheckContext (checks/context.ts says where a
 * new one goes); whole-resource rules come in through the hook (resource-rules.ts). What can be
 * worked out per profile rather than per value (property names, required elements, type facts,
 * rules) comes from plans.ts, which definition governs a value's children from child-targets.ts.
 *
 * Why it is over 400 lines: walkObject, visitProperty, validateValue and validateResource recurse
 * into each other over one run's state (issues, resource frames, plans, invariant verdicts);
 * splitting them would hand that state around or make an import circle.
 *
 * Caches: `planCaches`, one PlanCache per Definitions (weak: it dies with the Definitions), which
 * also holds the values found valid (memoJson: by JSON text; deepFrozen: frozen values by identity).
 */
import type { InternalSchemaElement } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Definitions, LoadedProfile } from './definitions';
import { childTarget, extensionTarget } from './child-targets';
import { issue, type IssueCode, type Severity } from './issues';
import type { CheckContext, Json, Policy } from './checks/context';
import { DATATYPE_CHECKS } from './checks/datatypes';
import { applyRules } from './checks/element-rules';
import { checkExtensionContexts, extensionDefinition } from './checks/extensions';
import { Invariants } from './checks/invariants';
import { checkPrimitive } from './checks/primitives';
import { checkReferenceTarget } from './checks/references';
import { checkResourceId, resourceTargets } from './checks/resources';
import { assignSlice, checkSliceCounts, sliceChildScope } from './checks/slicing';
import { type ChildTarget, type ConstraintPlan, type ElementPlan, type KeyPlan, PlanCache, type Scope, type ScopePlan, type TypeFacts } from './plans';

/** Object.keys(obj).length === 0, without building the array. */
function hasNoOwnKeys(obj: object): boolean {
  for (const k in obj) {
    if (Object.prototype.hasOwnProperty.call(obj, k)) {
      return false;
    }
  }
  return true;
}

export interface ResourceFrame {
  resource: Resource;
  path: string;
  /** True for a resource inside another's `contained`. */
  contained: boolean;
}

/**
 * Hook for checks that need the whole resource (Bundle, Questionnaire, ...), called by the walker
 * after the resource's elements (the validator passes resource-rules.ts's checkResourceRules).
 */
export type ResourceValidatorHook = (resource: Resource, path: string, ctx: CheckContext) => void;

/** One PlanCache per Definitions: profiles differ between validators. */
const planCaches = new WeakMap<Definitions, PlanCache>();
const EMPTY_SCOPE: Scope = {};

/**
 * Types whose values repeat from resource to resource (coded values, and the extensions holding
 * them): validateObject remembers, per child target (element, type, and profile in force or
 * extension definition) and slice, the JSON text of each value it found valid, and skips a value
 * with the same text the next time.
 */
const MEMO_TYPES = new Set(['Extension', 'CodeableConcept', 'Coding']);
/** Longer values are rarely repeated, and their text would cost more than it saves. */
const MEMO_MAX_CHARS = 1000;
/**
 * A contained resource is remembered up to this length (a pipeline Encounter's Location, with its
 * narrative, is ~600 characters); it counts as one value per MEMO_MAX_CHARS in the memo's bound.
 */
const CONTAINED_MEMO_MAX_CHARS = 4000;

/**
 * A value's memo key, its JSON text, or undefined when it is not kept (too long, or not JSON: a
 * cycle or a BigInt, checked and reported the long way). A value is remembered only when its
 * check reported nothing and read nothing outside it (`contextReads`: the resources being walked,
 * which the engine's invariants and `#id` references read), so its verdict is the same wherever
 * it appears. An in-process value holding an `undefined` property is judged as its JSON text
 * (without that property) would be, once a value with that text has been found valid.
 */
function memoJson(obj: Json, maxChars = MEMO_MAX_CHARS): string | undefined {
  let json: string;
  try {
    json = JSON.stringify(obj);
  } catch {
    return undefined;
  }
  return json.length <= maxChars ? json : undefined;
}

/** Deepest value deepFrozen looks into. */
const FROZEN_MAX_DEPTH = 32;

/**
 * Whether `v` can never change: primitives, and frozen plain objects and arrays whose own
 * properties are all data properties (a getter could answer differently each time) holding such
 * values. Freezing cannot be undone, so a value found so once stays so: a builder that shares
 * frozen constants (src/fhir) lets the walker remember them by identity instead of by JSON text.
 */
function deepFrozen(v: unknown, depth = 0): boolean {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) {
    return true;
  }
  if (typeof v === 'function' || depth > FROZEN_MAX_DEPTH || !Object.isFrozen(v)) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (Array.isArray(v) ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) {
    return false;
  }
  const descriptors = Object.getOwnPropertyDescriptors(v);
  for (const key of Reflect.ownKeys(descriptors)) {
    const d = descriptors[key as string];
    if (d.get || d.set || !deepFrozen(d.value, depth + 1)) {
      return false;
    }
  }
  return true;
}

/** One validation run: collects issues over a resource and everything nested in it. */
export class Walker implements CheckContext {
  readonly issues: OperationOutcomeIssue[] = [];
  private readonly frames: ResourceFrame[] = [];
  private readonly plans: PlanCache;
  private readonly invariants = new Invariants(this);
  /** Calls that read the resources being walked (what makes a value's verdict depend on where it is: memoJson). */
  private contextReads = 0;

  constructor(
    readonly defs: Definitions,
    private readonly resourceHook: ResourceValidatorHook,
    readonly policy: Policy = { strictProfiles: false },
  ) {
    let plans = planCaches.get(defs);
    if (!plans) {
      plans = new PlanCache(defs);
      planCaches.set(defs, plans);
    }
    this.plans = plans;
  }

  report(severity: Severity, code: IssueCode, text: string, path: string): void {
    this.issues.push(issue(severity, code, text, path));
  }

  /**
   * Validates a resource at `path`: against its base definition, or against each profile given (a
   * profile's snapshot already carries the base rules), then the whole-resource checks.
   */
  validateResource(resource: unknown, path: string, extraProfiles: string[] = [], contained = false): void {
    if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
      this.report('error', 'structure', 'Expected a resource (a JSON object with a resourceType)', path);
      return;
    }
    const res = resource as Resource;
    const type = (res as unknown as Json).resourceType;
    if (typeof type !== 'string' || !type) {
      this.report('error', 'structure', 'Missing resourceType: a FHIR resource must say what type it is', path);
      return;
    }
    if (!this.defs.isResourceType(type)) {
      this.report('error', 'not-found', `Unknown resourceType '${type}': not a FHIR R4 resource type`, path);
      return;
    }
    const targets = resourceTargets(this, res, type, path, extraProfiles);
    if (!targets) {
      return;
    }
    this.frames.push({ resource: res, path, contained });
    try {
      const seen = new Set<string>();
      for (const target of targets) {
        const before = this.issues.length;
        this.walkObject(
          res as unknown as Json,
          this.plans.scope(target.schema.elements),
          target,
          type,
          path,
          type,
          undefined,
          this.plans.constraints(target.schema.constraints),
        );
        // Several profiles repeat the base rules: keep each message once.
        if (this.issues.length > before) {
          const fresh = this.issues.splice(before);
          for (const i of fresh) {
            const key = `${i.expression?.[0]}\u0000${i.details?.text}`;
            if (!seen.has(key)) {
              seen.add(key);
              this.issues.push(i);
            }
          }
        }
      }
      checkResourceId(this, res, path);
      this.resourceHook(res, path, this);
    } finally {
      this.frames.pop();
    }
  }

  /** The resources being walked, outermost first (a Bundle, then its entry, ...). */
  enclosingResources(): Resource[] {
    this.contextReads++;
    return this.frames.map((f) => f.resource);
  }

  /** The resource being walked (innermost). */
  currentResource(): Resource | undefined {
    this.contextReads++;
    return this.frames[this.frames.length - 1]?.resource;
  }

  /** FHIRPath's %rootResource: the innermost resource that is not itself contained. */
  rootResource(): Resource | undefined {
    this.contextReads++;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      if (!this.frames[i].contained) {
        return this.frames[i].resource;
      }
    }
    return undefined;
  }

  /**
   * Walks the properties of one JSON object.
   * @param obj - the object
   * @param plan - its scope's plan (elements, with profile constraints on nested datatypes as dotted keys)
   * @param profile - the profile whose inner types apply
   * @param typeName - the FHIR type of the object
   * @param path - FHIRPath of the object
   * @param ctxPath - element path of the object, for extension context checks
   * @param ctxType - type of the object for extension context checks (undefined for a resource)
   * @param typeConstraints - invariants on the type itself (e.g. Period per-1)
   */
  private walkObject(
    obj: Json,
    plan: ScopePlan,
    profile: LoadedProfile | undefined,
    typeName: string,
    path: string,
    ctxPath: string,
    ctxType: string | undefined,
    typeConstraints: ConstraintPlan[] | undefined,
  ): void {
    // Elements present (for the required check): a bit each, or names when the scope has many required elements.
    let mask = 0;
    const present = plan.useMask ? undefined : new Set<string>();
    let choiceKeys: Map<string, string> | undefined;
    for (const key of Object.keys(obj)) {
      if (key === 'resourceType' && this.defs.isResourceType(typeName)) {
        continue;
      }
      const isShadow = key.charCodeAt(0) === 0x5f;
      const kp = isShadow ? plan.shadows.get(key) : plan.keys.get(key);
      if (!kp) {
        const choice = this.reportUnknownKey(key, plan, path);
        if (choice) {
          // reported once as a wrong type, not again as missing
          if (present) {
            present.add(choice);
          } else {
            mask |= plan.byName.get(choice)?.requiredBit ?? 0;
          }
        }
        continue;
      }
      const element = kp.element;
      if (kp.choice) {
        const other = choiceKeys?.get(element.name);
        if (other) {
          this.report('error', 'structure', `Only one of '${other}' and '${key}' may be given: ${element.name} takes a single type`, `${path}.${key}`);
        }
        (choiceKeys ??= new Map()).set(element.name, key);
      }
      if (present) {
        present.add(element.name);
      } else {
        mask |= element.requiredBit;
      }
      const value = obj[key];
      if (isShadow) {
        this.walkShadow(value, element, key, path, obj[key.slice(1)]);
        continue;
      }
      this.visitProperty(value, kp, `${path}.${key}`, profile, obj);
      if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(value)) {
        checkExtensionContexts(this, value, path, key, ctxPath, ctxType, ctxType === 'Extension' ? obj.url : undefined);
      }
    }
    for (const element of plan.required) {
      if (present ? !present.has(element.name) : (mask & element.requiredBit) === 0) {
        this.report('error', 'required', `Missing required element '${element.name}' (minimum cardinality ${element.el.min})`, `${path}.${element.display}`);
      }
    }
    if (typeConstraints) {
      this.invariants.check(typeConstraints, obj, typeName, path);
    }
    const checks = DATATYPE_CHECKS.get(typeName);
    if (checks) {
      for (const check of checks) {
        check(this, obj, path);
      }
    }
  }

  /** Reports a property the scope does not define; returns the choice element it was a wrong type for, if any. */
  private reportUnknownKey(key: string, plan: ScopePlan, path: string): string | undefined {
    for (const c of plan.choices) {
      if (key.startsWith(c.base) && /^[A-Z]/.test(key.slice(c.base.length))) {
        this.report('error', 'structure', `'${key}' is not allowed here: ${c.name} may only be ${c.allowed}`, `${path}.${key}`);
        return c.name;
      }
    }
    this.report('error', 'structure', `Unknown element '${key}': not part of this type or profile`, `${path}.${key}`);
    return undefined;
  }

  /** `_field`: the id/extensions of a primitive (or of each item of a primitive array). */
  private walkShadow(value: unknown, element: ElementPlan, key: string, parentPath: string, partner: unknown): void {
    const el = element.el;
    const path = `${parentPath}.${key}`;
    const elementScope = this.plans.scope(this.defs.baseType('Element')?.elements ?? EMPTY_SCOPE);
    const ctxType = el.type[0]?.code ?? 'Element';
    const walkOne = (v: unknown, p: string): void => {
      if (v === null) {
        return;
      }
      if (typeof v !== 'object' || Array.isArray(v)) {
        this.report('error', 'structure', 'Expected an object holding the id or extensions of a primitive value', p);
        return;
      }
      if (hasNoOwnKeys(v)) {
        this.report('error', 'structure', 'Empty object: an element must have a value or children', p);
        return;
      }
      this.walkObject(v as Json, elementScope, undefined, 'Element', p, el.path, ctxType, undefined);
    };
    if (el.isArray) {
      if (!Array.isArray(value)) {
        this.report('error', 'structure', `Expected an array for '${key}'`, path);
        return;
      }
      if (Array.isArray(partner) && partner.length !== value.length) {
        this.report('error', 'structure', `'${key}' must have as many items as '${key.slice(1)}'`, path);
      }
      for (let i = 0; i < value.length; i++) {
        if (i in value) {
          walkOne(value[i], `${path}[${i}]`);
        }
      }
    } else {
      walkOne(value, path);
    }
  }

  private visitProperty(value: unknown, kp: KeyPlan, path: string, profile: LoadedProfile | undefined, parent: Json): void {
    const element = kp.element;
    const el = element.el;
    const name = element.display;
    let items: unknown[] | undefined;
    let n = 1;
    if (element.isArray) {
      if (!Array.isArray(value)) {
        this.report('error', 'structure', `Expected an array for '${name}' (it can repeat), got a single value`, path);
        return;
      }
      if (value.length === 0) {
        this.report('error', 'structure', `Empty array for '${name}': leave the element out instead`, path);
        return;
      }
      items = value;
      n = value.length;
    } else if (Array.isArray(value)) {
      this.report('error', 'structure', `Expected a single value for '${name}', got an array`, path);
      return;
    }
    if (n < element.min || n > element.max) {
      this.report('error', 'structure', `'${name}' has ${n} value(s); allowed ${el.min}..${Number.isFinite(el.max) ? el.max : '*'}`, path);
    }
    const slicing = element.slicing;
    const counts = slicing ? new Array<number>(slicing.slices.length).fill(0) : undefined;
    for (let i = 0; i < n; i++) {
      if (items && !(i in items)) {
        continue; // a hole in a sparse array (never in parsed JSON)
      }
      const item = items ? items[i] : value;
      const itemPath = items ? `${path}[${i}]` : path;
      if (item === null) {
        // Looked up only here: slicing the (long, concatenated) path on every property cost ~10% of a run.
        const shadow = parent['_' + path.slice(path.lastIndexOf('.') + 1)];
        const hasShadow = Array.isArray(shadow) ? shadow[i] != null : shadow != null;
        if (!hasShadow) {
          this.report('error', 'structure', 'Null is not a valid FHIR value: leave the element out instead', itemPath);
        }
        continue;
      }
      const facts = kp.choice ?? element.single ?? this.pickType(el, item);
      let slice = -1;
      if (slicing && counts) {
        slice = assignSlice(this, item, slicing, facts.code, counts, name, itemPath);
      }
      this.validateValue(item, element, facts, itemPath, profile, slice, parent);
    }
    if (slicing && counts) {
      checkSliceCounts(this, slicing, counts, name, path);
    }
  }

  /** Several types without [x]: only happens for Resource-like elements. */
  private pickType(el: InternalSchemaElement, item: unknown): TypeFacts {
    const rt = item && typeof item === 'object' ? (item as Json).resourceType : undefined;
    return typeof rt === 'string' ? this.plans.computeTypeFacts(rt) : this.plans.typeFacts(el.type[0]?.code ?? 'Element');
  }

  /** Validates one value of an element (held by `holder`): type, pattern/fixed, binding, invariants, children. */
  private validateValue(
    item: unknown,
    element: ElementPlan,
    facts: TypeFacts,
    path: string,
    profile: LoadedProfile | undefined,
    sliceIndex: number,
    holder: Json,
  ): void {
    if (facts.primitive) {
      if (checkPrimitive(this, item, facts, path, element.el)) {
        this.checkElementRules(element, sliceIndex, item, facts.effective, path);
      }
      return;
    }
    const type = facts.code;
    if (facts.isResource) {
      if (element.name === 'contained') {
        this.validateContained(item, path);
      } else {
        this.validateResource(item, path, [], false);
      }
      return;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      this.report('error', 'structure', `Expected an object of type ${type}, got ${Array.isArray(item) ? 'an array' : typeof item}`, path);
      return;
    }
    const obj = item as Json;
    if (hasNoOwnKeys(obj)) {
      this.report('error', 'structure', 'Empty object: an element must have a value or children', path);
      return;
    }
    this.validateObject(obj, element, type, path, profile, sliceIndex, holder);
  }

  /**
   * A resource in `contained`. Its verdict depends on its own JSON and, through the counted reads
   * (`contextReads`: `#id` references, invariants the engine evaluates with %resource or
   * %rootResource), on the resources around it; never on the container's profile or the path,
   * which only name where issues go. So one found valid without such reads, as memoJson says, is
   * valid again wherever the same text is contained (each contact's Location, from a few places).
   */
  private validateContained(item: unknown, path: string): void {
    const memo = this.policy.strictProfiles || item === null || typeof item !== 'object' ? undefined : this.plans.validContained;
    const frozen = memo && Object.isFrozen(item) ? this.plans.frozenValidContained : undefined;
    if (frozen?.has(item as object)) {
      return;
    }
    const json = memo && memoJson(item as Json, CONTAINED_MEMO_MAX_CHARS);
    if (json !== undefined && memo?.has(json)) {
      if (frozen && deepFrozen(item)) {
        frozen.add(item as object);
      }
      return;
    }
    const issuesBefore = this.issues.length;
    const readsBefore = this.contextReads;
    this.validateResource(item, path, [], true);
    if (memo && this.issues.length === issuesBefore && this.contextReads === readsBefore) {
      if (json !== undefined) {
        this.plans.rememberValid(memo, json, Math.ceil(json.length / MEMO_MAX_CHARS));
      }
      if (frozen && deepFrozen(item)) {
        frozen.add(item as object);
      }
    }
  }

  /** validateValue's part for a non-empty object of a complex type (not a resource). */
  private validateObject(
    obj: Json,
    element: ElementPlan,
    type: string,
    path: string,
    profile: LoadedProfile | undefined,
    sliceIndex: number,
    holder: Json,
  ): void {
    const slicing = element.slicing;
    const slice = sliceIndex >= 0 && slicing ? slicing.slices[sliceIndex] : undefined;
    const issuesBefore = this.issues.length;
    const readsBefore = this.contextReads;
    // Which definition governs the children?
    let target: ChildTarget | undefined;
    if (type === 'Extension') {
      const ext = extensionDefinition(this, obj, path, element.el, this.subExtension(element, profile, holder, sliceIndex));
      target = ext ? extensionTarget(this.plans, element, ext) : childTarget(this.plans, element, type, profile, false);
    } else {
      target = childTarget(this.plans, element, type, profile, true);
    }
    if (!target) {
      this.report('error', 'structure', `Unknown type '${type}'`, path);
      return;
    }
    let scope = target.scope;
    if (slice && slicing?.hasElements[sliceIndex]) {
      target.sliced ??= new Map();
      let sliced = target.sliced.get(slice);
      if (!sliced) {
        sliced = this.plans.scope(sliceChildScope(slice, scope.scope));
        target.sliced.set(slice, sliced);
      }
      scope = sliced;
    }
    if (target.typeConstraints === undefined) {
      target.typeConstraints = this.plans.constraints(target.typeSchema.constraints) ?? null;
    }
    // A value found valid here before is valid again (memoJson says why); the same frozen value
    // (deepFrozen) is known by identity, without its text.
    const memoOn = MEMO_TYPES.has(type) && !this.policy.strictProfiles;
    const frozen = memoOn && Object.isFrozen(obj) ? this.plans.frozenValidSet(target, sliceIndex) : undefined;
    if (frozen?.has(obj)) {
      return;
    }
    const memo = memoOn ? this.plans.validSet(target, sliceIndex) : undefined;
    const json = memo && memoJson(obj);
    if (json !== undefined && memo?.has(json)) {
      if (frozen && deepFrozen(obj)) {
        frozen.add(obj);
      }
      return;
    }
    this.walkObject(obj, scope, target.profile, type, path, element.el.path, type, target.typeConstraints ?? undefined);
    this.checkElementRules(element, sliceIndex, obj, type, path);
    if (type === 'Reference') {
      checkReferenceTarget(this, obj, element, path);
    }
    if (memo && this.issues.length === issuesBefore && this.contextReads === readsBefore) {
      if (json !== undefined) {
        this.plans.rememberValid(memo, json);
      }
      if (frozen && deepFrozen(obj)) {
        frozen.add(obj);
      }
    }
  }

  /**
   * For an extension inside an extension (`Extension.extension`): the holder's definition when
   * the holder is the extension `profile` defines (its url slices name the sub-extensions), and
   * whether the value fell in one of them; undefined for an extension on anything else.
   */
  private subExtension(
    element: ElementPlan,
    profile: LoadedProfile | undefined,
    holder: Json,
    sliceIndex: number,
  ): { parent: LoadedProfile | undefined; inSlice: boolean } | undefined {
    const p = element.el.path;
    if (!p.startsWith('Extension.') || !p.endsWith('.extension')) {
      return undefined;
    }
    const parent = profile?.sd.type === 'Extension' && holder.url === profile.url ? profile : undefined;
    return { parent, inSlice: sliceIndex >= 0 };
  }

  /** fixed/pattern, required binding and invariants of an element (and of the slice the value fell in, `sliceIndex` >= 0). */
  private checkElementRules(element: ElementPlan, sliceIndex: number, value: unknown, type: string, path: string): void {
    if (element.rules) {
      applyRules(this, this.invariants, element.rules, value, type, path);
    }
    const slicing = element.slicing;
    const slice = sliceIndex >= 0 && slicing ? slicing.slices[sliceIndex] : undefined;
    const sliceRules = sliceIndex >= 0 && slicing ? slicing.rules[sliceIndex] : undefined;
    if (slice && sliceRules) {
      const before = this.issues.length;
      applyRules(this, this.invariants, sliceRules, value, type, path);
      for (let i = before; i < this.issues.length; i++) {
        const found = this.issues[i];
        found.details = { text: `${found.details?.text} (slice '${slice.name}')` };
      }
    }
  }
}
