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
 * What can be worked out per profile rather than per value (property names, required elements,
 * type facts, rules, child scopes) comes from plans.ts; simple invariants are compiled
 * (fhirpath-native.ts).
 */
import {
  evalFhirPathTyped,
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  parseFhirPath,
  type SliceDefinition,
  type TypedValue,
} from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { Definitions, LoadedProfile } from './definitions';
import { compileNative, FALLBACK, type NativeInvariant } from './fhirpath-native';
import { issue, type IssueCode, type Severity } from './issues';
import { checkNarrative } from './narrative';
import { checkAttachment } from './rules/attachment';
import { checkCodingDisplay } from './rules/coding-display';
import { checkAttachmentUrl } from './rules/example-urls';
import { checkHtmlInString } from './rules/html-in-strings';
import { checkPeriod } from './rules/period';
import type { Report } from './rules/types';
import { checkUcumQuantity } from './rules/ucum';
import {
  capitalize,
  type ChildTarget,
  EXT_1,
  type ConstraintPlan,
  type ElementPlan,
  type KeyPlan,
  PlanCache,
  type RulePlan,
  type Scope,
  type ScopePlan,
  type SlicingPlan,
  type TypeFacts,
} from './plans';

type Json = Record<string, unknown>;

const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * Extension contexts the R4 core package itself does not follow: its snapshots put
 * structuredefinition-fhir-type on ElementDefinition.type although the context says
 * ElementDefinition.type.code. The reference validator accepts this; so do we.
 */
const EXTRA_CONTEXTS: Record<string, string[]> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': ['ElementDefinition.type'],
};

/** FHIRPath emptiness as @medplum/core's engine decides it (isEmpty): null, '', [] and {} are empty. */
function fhirPathEmpty(v: unknown): boolean {
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
  return fhirPathEmpty(ext) !== fhirPathEmpty(value);
}

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

/** Compiled invariants by expression and type (null: not compilable, the engine evaluates it). Bounded by the schemas. */
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

const childScopes = new WeakMap<Scope, Map<string, WeakMap<Scope, Scope>>>();

/** Constraints a profile puts on children of a complex element (`period.start`) become the child's overlay. */
function childScope(parent: Scope, name: string, base: Scope): Scope {
  let perParent = childScopes.get(parent);
  if (!perParent) {
    perParent = new Map();
    childScopes.set(parent, perParent);
  }
  let perName = perParent.get(name);
  if (!perName) {
    perName = new WeakMap();
    perParent.set(name, perName);
  }
  let scope = perName.get(base);
  if (!scope) {
    const prefix = name + '.';
    let overlay: Scope | undefined;
    for (const [k, el] of Object.entries(parent)) {
      if (k.startsWith(prefix)) {
        overlay ??= {};
        overlay[k.slice(prefix.length)] = el;
      }
    }
    scope = overlay ? { ...base, ...overlay } : base;
    perName.set(base, scope);
  }
  return scope;
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

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as Json);
    const kb = Object.keys(b as Json);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Json)[k], (b as Json)[k]));
  }
  return false;
}

/** Object.keys(obj).length === 0, without building the array. */
function hasNoOwnKeys(obj: object): boolean {
  for (const k in obj) {
    if (Object.prototype.hasOwnProperty.call(obj, k)) {
      return false;
    }
  }
  return true;
}

/** Earliest and latest instants a FHIR date/dateTime can denote (for comparing partial dates). */
export function dateRange(value: string, widen = true): [number, number] | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(value);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (h !== undefined) {
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ? '.' + frac.slice(0, 3) : ''}${tz ?? 'Z'}`;
    const t = Date.parse(iso);
    const span = s === undefined ? 60_000 - 1 : 0;
    return Number.isNaN(t) ? undefined : [t, t + span];
  }
  // Dates without a time zone: widen by +/-14h so comparisons never guess the zone.
  const zone = widen ? 14 * 3600_000 : 0;
  const start = Date.UTC(+y, mo ? +mo - 1 : 0, d ? +d : 1);
  const end = d ? Date.UTC(+y, +mo - 1, +d + 1) : mo ? Date.UTC(+y, +mo, 1) : Date.UTC(+y + 1, 0, 1);
  return [start - zone, end - 1 + zone];
}

export interface ResourceFrame {
  resource: Resource;
  path: string;
  /** True for a resource inside another's `contained`. */
  contained: boolean;
}

/** Hook for checks that need the whole resource (Bundle, Questionnaire, ...), called by the walker. */
export type ResourceValidatorHook = (resource: Resource, path: string, walker: Walker) => void;

/** A context check's outcome: null when the extension may sit there. */
type ContextVerdict = { severity: 'error' | 'warning'; text: string } | null;

const planCaches = new WeakMap<Definitions, PlanCache>();
const EMPTY_SCOPE: Scope = {};

/** One validation run: collects issues over a resource and everything nested in it. */
export class Walker {
  readonly issues: OperationOutcomeIssue[] = [];
  private readonly frames: ResourceFrame[] = [];
  /**
   * Invariant verdicts the engine already reached on an object in this run (null: it could not
   * evaluate it), keyed by type and expression: the type, the element and the slice each list the
   * same invariants, so each is evaluated once per value.
   */
  private readonly verdicts = new WeakMap<object, { type: string; current: Resource | undefined; root: Resource | undefined; byExpression: Map<string, boolean | null> }>();
  private readonly plans: PlanCache;

  constructor(
    readonly defs: Definitions,
    private readonly resourceHook: ResourceValidatorHook,
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

  /** `report` as a callback, for the rules in ./rules. */
  private readonly reportTo: Report = (severity, code, text, path) => this.report(severity, code, text, path);

  /** Displays of the code systems we hold in full, for ./rules/coding-display. */
  private readonly displaysOf = (system: string): Record<string, string[]> | undefined => this.defs.codeDisplays(system);

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
    const profileUrls = [...new Set([...(metaProfiles(res) ?? []), ...extraProfiles])];
    const targets: LoadedProfile[] = [];
    for (const url of profileUrls) {
      const p = this.defs.profile(url);
      if (!p || p.sd.kind !== 'resource') {
        const where = (metaProfiles(res) ?? []).indexOf(url);
        this.report(
          'error',
          'not-found',
          `Unknown profile '${url}': PeerBridge does not know this StructureDefinition, so the resource cannot be checked against it`,
          where >= 0 ? `${path}.meta.profile[${where}]` : path,
        );
        continue;
      }
      if (p.sd.type !== type) {
        this.report('error', 'invalid', `Profile '${url}' is for ${p.sd.type} resources, not ${type}`, path);
        continue;
      }
      targets.push(p);
    }
    if (targets.length === 0) {
      const base = this.defs.profile(HL7_SD + type);
      if (!base) {
        this.report('error', 'not-found', `No definition loaded for ${type}`, path);
        return;
      }
      targets.push(base);
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
      this.checkResourceId(res, path);
      this.resourceHook(res, path, this);
    } finally {
      this.frames.pop();
    }
  }

  /** The resources being walked, outermost first (a Bundle, then its entry, ...). */
  enclosingResources(): Resource[] {
    return this.frames.map((f) => f.resource);
  }

  /** The resource being walked (innermost). */
  currentResource(): Resource | undefined {
    return this.frames[this.frames.length - 1]?.resource;
  }

  /** FHIRPath's %rootResource: the innermost resource that is not itself contained. */
  private rootResource(): Resource | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      if (!this.frames[i].contained) {
        return this.frames[i].resource;
      }
    }
    return undefined;
  }

  private checkResourceId(res: Resource, path: string): void {
    // R4 types Resource.id as System.String in the snapshot, so the id pattern must be applied here.
    const id = (res as unknown as Json).id;
    if (typeof id === 'string' && !RESOURCE_ID.test(id)) {
      this.report(
        'error',
        'value',
        `Invalid resource id '${id}': ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`,
        `${path}.id`,
      );
    }
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
        for (let i = 0; i < value.length; i++) {
          if (i in value) {
            this.checkExtensionContext(value[i], path, key, i, ctxPath, ctxType);
          }
        }
      }
    }
    for (const element of plan.required) {
      if (present ? !present.has(element.name) : (mask & element.requiredBit) === 0) {
        this.report(
          'error',
          'required',
          `Missing required element '${element.name}' (minimum cardinality ${element.el.min})`,
          `${path}.${element.display}`,
        );
      }
    }
    if (typeConstraints) {
      this.checkConstraints(typeConstraints, obj, typeName, path);
    }
    this.typeChecks(obj, typeName, path);
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
      this.report(
        'error',
        'structure',
        `'${name}' has ${n} value(s); allowed ${el.min}..${Number.isFinite(el.max) ? el.max : '*'}`,
        path,
      );
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
        slice = this.matchSlice(item, slicing, facts.code);
        if (slice >= 0) {
          counts[slicing.nameIndex[slice]]++;
        } else if (slicing.closed) {
          this.report(
            'error',
            'structure',
            `This '${name}' matches none of the allowed slices (${slicing.names}) and the slicing is closed`,
            itemPath,
          );
        }
      }
      this.validateValue(item, element, facts, itemPath, profile, slice);
    }
    if (slicing && counts) {
      slicing.slices.forEach((s, i) => {
        const count = counts[slicing.nameIndex[i]];
        if (count < s.min || count > s.max) {
          this.report(
            'error',
            'structure',
            `Slice '${s.name}' of '${name}' has ${count} value(s); allowed ${s.min}..${Number.isFinite(s.max) ? s.max : '*'}`,
            path,
          );
        }
      });
    }
  }

  /** Several types without [x]: only happens for Resource-like elements. */
  private pickType(el: InternalSchemaElement, item: unknown): TypeFacts {
    const rt = item && typeof item === 'object' ? (item as Json).resourceType : undefined;
    return typeof rt === 'string' ? this.plans.computeTypeFacts(rt) : this.plans.typeFacts(el.type[0]?.code ?? 'Element');
  }

  /** Validates one value of an element: type, pattern/fixed, binding, invariants, children. */
  private validateValue(item: unknown, element: ElementPlan, facts: TypeFacts, path: string, profile: LoadedProfile | undefined, sliceIndex: number): void {
    const slicing = element.slicing;
    const slice = sliceIndex >= 0 && slicing ? slicing.slices[sliceIndex] : undefined;
    const sliceRules = sliceIndex >= 0 && slicing ? slicing.rules[sliceIndex] : undefined;
    if (facts.primitive) {
      if (this.checkPrimitive(item, facts, path, element.el)) {
        this.checkElementRules(element.rules, slice, sliceRules, item, facts.effective, path);
      }
      return;
    }
    const type = facts.code;
    if (facts.isResource) {
      this.validateResource(item, path, [], element.name === 'contained');
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
    // Which definition governs the children?
    let target: ChildTarget | undefined;
    if (type === 'Extension') {
      const ext = this.extensionDefinition(obj, path, element.el);
      target = ext ? this.extensionTarget(element, ext) : this.childTarget(element, type, profile, false);
    } else {
      target = this.childTarget(element, type, profile, true);
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
    this.walkObject(obj, scope, target.profile, type, path, element.el.path, type, this.plans.constraints(target.typeSchema.constraints));
    this.checkElementRules(element.rules, slice, sliceRules, obj, type, path);
    if (type === 'Reference') {
      this.checkReferenceTarget(obj, element, path);
    }
  }

  /**
   * The children's definition for a non-extension value (or an extension without a definition):
   * the profile on the element's type when it has one, else the profile's inner type or the base
   * type. Kept per element, type and profile; not kept when unknown.
   */
  private childTarget(element: ElementPlan, type: string, profile: LoadedProfile | undefined, typeProfiles: boolean): ChildTarget | undefined {
    let byProfile = element.children.get(type);
    let target = byProfile?.get(profile);
    if (target) {
      return target;
    }
    const el = element.el;
    let typeSchema: InternalTypeSchema | undefined;
    let childProfile = profile;
    if (typeProfiles && el.type.find((t) => t.code === type)?.profile?.[0]) {
      const p = this.defs.profile(el.type.find((t) => t.code === type)?.profile?.[0] as string);
      if (p && p.sd.type === type) {
        typeSchema = p.schema;
        childProfile = p;
      }
    }
    typeSchema ??= (profile?.innerTypes.get(type) as InternalTypeSchema | undefined) ?? this.defs.baseType(type);
    if (!typeSchema) {
      return undefined;
    }
    target = { typeSchema, profile: childProfile, scope: this.plans.scope(childScope(element.scope, element.name, typeSchema.elements)) };
    if (!byProfile) {
      byProfile = new Map();
      element.children.set(type, byProfile);
    }
    byProfile.set(profile, target);
    return target;
  }

  /** The children's definition for an extension with a known definition. */
  private extensionTarget(element: ElementPlan, ext: LoadedProfile): ChildTarget {
    let target = element.extensions.get(ext);
    if (!target) {
      target = { typeSchema: ext.schema, profile: ext, scope: this.plans.scope(childScope(element.scope, element.name, ext.schema.elements)) };
      element.extensions.set(ext, target);
    }
    return target;
  }

  /** fixed/pattern, required binding and invariants of an element (and of the slice the value fell in). */
  private checkElementRules(
    rules: RulePlan | undefined,
    slice: SliceDefinition | undefined,
    sliceRules: RulePlan | undefined,
    value: unknown,
    type: string,
    path: string,
  ): void {
    if (rules) {
      this.applyRules(rules, value, type, path);
    }
    if (slice && sliceRules) {
      const before = this.issues.length;
      this.applyRules(sliceRules, value, type, path);
      for (let i = before; i < this.issues.length; i++) {
        const found = this.issues[i];
        found.details = { text: `${found.details?.text} (slice '${slice.name}')` };
      }
    }
  }

  private applyRules(r: RulePlan, value: unknown, type: string, path: string): void {
    if (r.fixed && !deepEqual(value, r.fixed.value)) {
      this.report('error', 'value', `Value must be exactly ${JSON.stringify(r.fixed.value)}`, path);
    }
    if (r.pattern && !matchesPattern(value, r.pattern.value)) {
      this.report('error', 'value', `Value must match the pattern ${JSON.stringify(r.pattern.value)}`, path);
    }
    if (r.binding) {
      this.checkBinding(value, type, r.binding, path);
    }
    if (r.constraints.length > 0) {
      this.checkConstraints(r.constraints, value, type, path);
    }
  }

  /** The first slice every discriminator matches, as an index (-1: none). */
  private matchSlice(item: unknown, slicing: SlicingPlan, type: string): number {
    const slices = slicing.slices;
    const discriminators = slicing.discriminator;
    for (let i = 0; i < slices.length; i++) {
      if (discriminators.every((d) => this.matchDiscriminator(item, slices[i], d, type))) {
        return i;
      }
    }
    return -1;
  }

  private matchDiscriminator(item: unknown, slice: SliceDefinition, d: { path: string; type: string }, type: string): boolean {
    if (d.type === 'type') {
      return slice.type.some((t) => t.code === type);
    }
    if (d.type !== 'value' && d.type !== 'pattern') {
      return false;
    }
    if (d.path === 'url' && type === 'Extension') {
      // SUSHI snapshots carry the extension's url only as the slice's type profile, not as a fixed `url` child.
      const url = slice.elements['url']?.fixed?.value ?? slice.type.find((t) => t.profile?.length)?.profile?.[0];
      return !!url && !!item && typeof item === 'object' && (item as Json).url === url;
    }
    const values = d.path === '$this' ? [item] : getPath(item, d.path);
    const sliceEl = d.path === '$this' ? (slice as InternalSchemaElement) : slice.elements[d.path];
    if (!sliceEl) {
      return false;
    }
    if (sliceEl.fixed) {
      return values.some((v) => deepEqual(v, sliceEl.fixed?.value));
    }
    if (sliceEl.pattern) {
      return values.some((v) => matchesPattern(v, sliceEl.pattern?.value));
    }
    if (sliceEl.binding?.strength === 'required' && sliceEl.binding.valueSet) {
      const idx = this.defs.codeIndex(sliceEl.binding.valueSet);
      return !!idx && values.some((v) => this.inValueSet(v, idx));
    }
    return false;
  }

  private inValueSet(v: unknown, idx: NonNullable<ReturnType<Definitions['codeIndex']>>): boolean {
    if (typeof v === 'string') {
      return idx.hasCode(v);
    }
    const o = v as Json;
    if (Array.isArray(o?.coding)) {
      return (o.coding as unknown[]).some((c) => c !== null && typeof c === 'object' && idx.hasCoding((c as Json).system as string, (c as Json).code as string));
    }
    return idx.hasCoding(o?.system as string, o?.code as string);
  }

  /** Returns the extension's definition (profile), reporting unknown ones. */
  private extensionDefinition(obj: Json, path: string, el: InternalSchemaElement): LoadedProfile | undefined {
    const url = obj.url;
    if (typeof url !== 'string' || !url) {
      return undefined; // the missing url is reported as a missing required element
    }
    const declared = el.type.find((t) => t.code === 'Extension')?.profile?.[0];
    const def = this.defs.profile(url) ?? (declared ? this.defs.profile(declared) : undefined);
    if (!def || def.sd.type !== 'Extension') {
      const known = url.startsWith(HL7_SD) || url.startsWith('http://peerbridge.org/fhir/');
      this.report(
        known ? 'error' : 'warning',
        'extension',
        known
          ? `Unknown extension '${url}': no such extension definition`
          : `Unknown extension '${url}': its content is not checked`,
        path,
      );
      return undefined;
    }
    return def;
  }

  private checkPrimitive(value: unknown, facts: TypeFacts, path: string, el: InternalSchemaElement): boolean {
    const type = facts.effective;
    const jsType = facts.jsType;
    if (typeof value !== jsType) {
      this.report(
        'error',
        'structure',
        `Expected a JSON ${jsType} for ${type}, got ${Array.isArray(value) ? 'an array' : typeof value}`,
        path,
      );
      return false;
    }
    if (jsType === 'string') {
      const s = value as string;
      if (s.length === 0) {
        this.report('error', 'value', 'Empty string: leave the element out instead', path);
        return false;
      }
      if (type !== 'xhtml' && !s.trim()) {
        this.report('error', 'value', 'Value has only whitespace', path);
        return false;
      }
      if (s.length > 1024 * 1024 && (type === 'string' || type === 'markdown')) {
        this.report('error', 'too-long', 'String longer than 1 MB', path);
        return false;
      }
      const max = (el as InternalSchemaElement & { maxLength?: number }).maxLength;
      if (max && s.length > max) {
        this.report('error', 'too-long', `Value longer than the maximum of ${max} characters`, path);
      }
      const re = facts.regex;
      if (re && type !== 'xhtml' && !re.test(s)) {
        this.report('error', 'value', `'${truncate(s)}' is not a valid ${type}`, path);
        return false;
      }
      if ((type === 'date' || type === 'dateTime' || type === 'instant') && !validCalendarDate(s)) {
        this.report('error', 'value', `'${truncate(s)}' is not a real calendar date`, path);
        return false;
      }
      if ((type === 'dateTime' || type === 'instant') && /T/.test(s) && !/(Z|[+-]\d{2}:\d{2})$/.test(s)) {
        this.report('error', 'value', `'${truncate(s)}': a dateTime with a time must have a time zone`, path);
        return false;
      }
      // Not ids (R4 types them as strings; they have their own format check).
      if ((type === 'string' || type === 'markdown') && s.indexOf('<') >= 0 && !el.path.endsWith('.id')) {
        checkHtmlInString(s, type, path, this.reportTo);
      }
      return true;
    }
    if (jsType === 'number') {
      const n = value as number;
      if (!Number.isFinite(n)) {
        this.report('error', 'value', 'Not a finite number', path);
        return false;
      }
      if ((type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') && !Number.isInteger(n)) {
        this.report('error', 'value', `${n} is not an integer`, path);
        return false;
      }
      if (type === 'integer' && (n > 2147483647 || n < -2147483648)) {
        this.report('error', 'value', `${n} is outside the 32-bit integer range`, path);
        return false;
      }
      if (type === 'positiveInt' && n < 1) {
        this.report('error', 'value', `${n} is not a positive integer`, path);
        return false;
      }
      if (type === 'unsignedInt' && n < 0) {
        this.report('error', 'value', `${n} is negative`, path);
        return false;
      }
    }
    return true;
  }

  /** Required bindings, checked against offline expansions. */
  private checkBinding(value: unknown, type: string, binding: NonNullable<RulePlan['binding']>, path: string): void {
    if (binding.index === undefined) {
      binding.index = this.defs.codeIndex(binding.valueSet) ?? null;
    }
    const idx = binding.index;
    if (!idx || idx.size === 0) {
      return;
    }
    const vs = binding.display;
    const fail = (text: string, p = path): void => {
      this.report(idx.complete ? 'error' : 'warning', 'code-invalid', idx.complete ? text : `${text} (value set only partly known offline)`, p);
    };
    if (type === 'code' || type === 'string' || type === 'uri') {
      if (typeof value === 'string' && !idx.hasCode(value)) {
        fail(`Code '${value}' is not in the required value set ${vs}`);
      }
    } else if (type === 'Coding' || type === 'Quantity') {
      const c = value as Json;
      if (c.code !== undefined && !idx.hasCoding(c.system as string, c.code as string)) {
        fail(`Code '${c.system ?? ''}#${c.code}' is not in the required value set ${vs}`);
      }
    } else if (type === 'CodeableConcept') {
      // Null items are reported where the array is walked; here only the codings there are count.
      const codings = Array.isArray((value as Json).coding) ? ((value as Json).coding as unknown[]).filter((c): c is Json => c !== null && typeof c === 'object') : [];
      if (codings.length === 0) {
        fail(`A code from the required value set ${vs} is needed; found only text`);
      } else if (!codings.some((c) => idx.hasCoding(c.system as string, c.code as string))) {
        const list = codings.map((c) => `${c.system ?? ''}#${c.code ?? ''}`).join(', ');
        fail(`None of the codes (${list}) is in the required value set ${vs}`);
      }
    }
  }

  private checkConstraints(constraints: ConstraintPlan[], value: unknown, type: string, path: string): void {
    let typed: TypedValue | undefined;
    let vars: Record<string, TypedValue> | undefined;
    // A verdict depends on the expression, the value and its type, and %resource / %rootResource.
    let known: Map<string, boolean | null> | undefined;
    for (const c of constraints) {
      // ext-1 keeps its own native check (which the compiled form must not second-guess); other
      // invariants are compiled when simple enough and decided without the engine or the memo.
      let decided: boolean | typeof FALLBACK = FALLBACK;
      if (c.ext1 && type === 'Extension') {
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          decided = ext1Verdict(value as Json, this.defs.baseType('Extension')) ?? FALLBACK;
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
          this.report(c.severity, 'invariant', c.text, path);
        }
        continue;
      }
      if (!known && value !== null && typeof value === 'object') {
        const current = this.currentResource();
        const root = this.rootResource();
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
        ok = this.evaluateInvariant(c.expression, value, type, () => {
          // The input and variables depend only on the value and the resource frame: build them once per call.
          if (!typed || !vars) {
            typed = { type, value };
            vars = { '%context': typed, '%ucum': { type: 'string', value: 'http://unitsofmeasure.org' } };
            const current = this.currentResource();
            const root = this.rootResource();
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
        this.report(c.severity, 'invariant', c.text, path);
      }
    }
  }

  /** True / false: the invariant holds or not; null: it cannot be evaluated (not a verdict). */
  private evaluateInvariant(
    expression: string,
    value: unknown,
    type: string,
    input: () => { typed: TypedValue; vars: Record<string, TypedValue> },
  ): boolean | null {
    if (expression === EXT_1 && type === 'Extension' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const native = ext1Verdict(value as Json, this.defs.baseType('Extension'));
      if (native !== undefined) {
        return native;
      }
    }
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

  /** Checks tied to a datatype rather than to a profile. */
  private typeChecks(obj: Json, type: string, path: string): void {
    switch (type) {
      case 'Period':
        checkPeriod(obj, path, this.reportTo);
        break;
      case 'Attachment':
        checkAttachment(obj, path, this.reportTo);
        checkAttachmentUrl(obj.url, `${path}.url`, this.reportTo);
        break;
      case 'Quantity':
      case 'Age':
      case 'Count':
      case 'Distance':
      case 'Duration':
      case 'MoneyQuantity':
      case 'SimpleQuantity':
        checkUcumQuantity(obj, path, this.reportTo);
        break;
      case 'Reference':
        this.checkReference(obj, path);
        break;
      case 'Narrative':
        for (const problem of checkNarrative(obj.div)) {
          this.report('error', problem.code, problem.message, `${path}.div`);
        }
        break;
      case 'Coding':
        this.checkCodingInCodeSystem(obj, path);
        break;
      default:
        break;
    }
  }

  /** Format of Reference.reference; contained targets must exist. */
  private checkReference(obj: Json, path: string): void {
    const ref = obj.reference;
    if (typeof ref !== 'string') {
      return;
    }
    if (ref.startsWith('#')) {
      const id = ref.slice(1);
      const contained = (this.containerOf()?.contained ?? []) as Resource[];
      if (id && !contained.some((c) => c.id === id)) {
        this.report('error', 'not-found', `Reference '${ref}' points to no contained resource with id '${id}'`, `${path}.reference`);
      }
      return;
    }
    if (/^[a-z][a-z0-9+.-]*:/.test(ref) || ref.includes('?')) {
      return;
    }
    const m = RELATIVE_REFERENCE.exec(ref);
    if (!m) {
      this.report('error', 'value', `Reference '${truncate(ref)}' is not of the form Type/id, #id, or an absolute URL`, `${path}.reference`);
    } else if (!this.defs.isResourceType(m[1])) {
      this.report('error', 'value', `Reference '${truncate(ref)}' names an unknown resource type '${m[1]}'`, `${path}.reference`);
    }
  }

  /** The resource type a reference points to, when it can be told without resolving it. */
  private referenceType(obj: Json): string | undefined {
    const ref = obj.reference;
    if (typeof ref !== 'string') {
      return typeof obj.type === 'string' ? obj.type : undefined;
    }
    if (ref.startsWith('#')) {
      const contained = (this.containerOf()?.contained ?? []) as Resource[];
      return contained.find((c) => c.id === ref.slice(1))?.resourceType;
    }
    if (ref.includes('?')) {
      return ref.slice(0, ref.indexOf('?'));
    }
    const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[^/]+)?$/.exec(ref);
    if (m && this.defs.isResourceType(m[1])) {
      return m[1];
    }
    return typeof obj.type === 'string' ? obj.type : undefined;
  }

  /** Reference target type against the element's targetProfile list (worked out once per element). */
  private checkReferenceTarget(obj: Json, element: ElementPlan, path: string): void {
    const targetType = this.referenceType(obj);
    if (typeof obj.type === 'string' && typeof obj.reference === 'string' && targetType && obj.type !== targetType) {
      this.report('error', 'value', `Reference.type '${obj.type}' does not match the reference '${truncate(obj.reference)}'`, `${path}.type`);
      return;
    }
    if (!targetType) {
      return;
    }
    let targets = element.referenceTargets;
    if (targets === undefined) {
      targets = this.referenceTargets(element.el);
      element.referenceTargets = targets;
    }
    if (targets && !targets.allowed.has(targetType)) {
      this.report('error', 'value', `Reference to ${article(targetType)} ${targetType} is not allowed here; expected ${targets.list}`, `${path}.reference`);
    }
  }

  /** The resource types an element's references may point to; null when any may (or a target is unknown). */
  private referenceTargets(el: InternalSchemaElement): { allowed: Set<string>; list: string } | null {
    const targets = el.type.find((t) => t.code === 'Reference')?.targetProfile;
    if (!targets?.length) {
      return null;
    }
    const allowed = new Set<string>();
    for (const t of targets) {
      const base = t.startsWith(HL7_SD) ? t.slice(HL7_SD.length) : undefined;
      if (base === 'Resource' || base === 'DomainResource') {
        return null;
      }
      const type = base && this.defs.isResourceType(base) ? base : this.defs.profile(t)?.sd.type;
      if (!type) {
        return null; // a target profile we do not know: cannot judge
      }
      allowed.add(type);
    }
    return { allowed, list: [...allowed].join(' or ') };
  }

  /** The resource whose `contained` list `#id` references point into. */
  private containerOf(): (Resource & { contained?: Resource[] }) | undefined {
    return this.rootResource() as (Resource & { contained?: Resource[] }) | undefined;
  }

  /**
   * An extension may only sit where its definition's context allows. The holder is given by its
   * element path and type (`ctxType` undefined for a resource). Verdicts are kept per known
   * definition, holder path and type.
   */
  private checkExtensionContext(ext: unknown, path: string, key: string, i: number, ctxPath: string, ctxType: string | undefined): void {
    const url = (ext as Json | null)?.url;
    if (typeof url !== 'string') {
      return;
    }
    const def = this.defs.profile(url);
    const ctx = def?.sd.context;
    if (!def || !ctx?.length) {
      return;
    }
    let verdict: ContextVerdict;
    if (url === def.url) {
      const cache = this.plans.contextVerdicts(def);
      let byType = cache.get(ctxPath);
      if (!byType) {
        byType = new Map();
        cache.set(ctxPath, byType);
      }
      let v = byType.get(ctxType);
      if (v === undefined) {
        v = contextVerdict(url, ctx, ctxPath, ctxType);
        byType.set(ctxType, v);
      }
      verdict = v;
    } else {
      verdict = contextVerdict(url, ctx, ctxPath, ctxType);
    }
    if (verdict) {
      this.report(verdict.severity, 'extension', verdict.text, `${path}.${key}[${i}]`);
    }
  }

  private checkCodingInCodeSystem(obj: Json, path: string): void {
    const system = obj.system;
    const code = obj.code;
    if (typeof system !== 'string' || typeof code !== 'string') {
      return;
    }
    const cs = this.defs.codeSystemCodes(system);
    if (cs && !cs.has(code)) {
      this.report('error', 'code-invalid', `Unknown code '${code}' in code system ${system}`, `${path}.code`);
    } else if (cs && typeof obj.display === 'string') {
      checkCodingDisplay(obj, path, this.reportTo, this.displaysOf);
    }
  }
}

/**
 * Whether an extension with this definition context may sit on a holder with this element path
 * and type; the report when not.
 */
function contextVerdict(url: string, ctx: NonNullable<StructureDefinition['context']>, rawPath: string, typeName: string | undefined): ContextVerdict {
  // Recursive elements (contentReference) keep their definition's context: Questionnaire.item.item is Questionnaire.item.
  const elementPath = rawPath?.split('.').filter((seg, i, all) => i === 0 || seg !== all[i - 1]).join('.');
  const extra = EXTRA_CONTEXTS[url] ?? [];
  const ok = extra.includes(elementPath) || ctx.some((c) => {
    const e = c.expression ?? '';
    return (
      e === 'Element' ||
      e === 'Resource' ||
      e === 'DomainResource' ||
      e === elementPath ||
      e === typeName ||
      (!!elementPath && elementPath.endsWith('.' + e)) ||
      (!!elementPath && e.endsWith('.' + elementPath)) ||
      (c.type === 'extension' && e === elementPath)
    );
  });
  if (ok) {
    return null;
  }
  // HL7's own R4 content does not always follow the contexts of HL7's core extensions; hold those to a warning.
  return {
    severity: url.startsWith(HL7_SD) ? 'warning' : 'error',
    text: `Extension '${url}' is not allowed on ${elementPath ?? typeName}; it may be used on ${ctx.map((c) => c.expression).join(', ')}`,
  };
}

/** Children of a value that fell in a slice: the slice's own child rules override the element's. */
function sliceChildScope(slice: SliceDefinition, children: Scope): Scope {
  let perSlice = sliceScopes.get(slice);
  if (!perSlice) {
    perSlice = new WeakMap();
    sliceScopes.set(slice, perSlice);
  }
  let scope = perSlice.get(children);
  if (!scope) {
    scope = { ...children, ...slice.elements };
    perSlice.set(children, scope);
  }
  return scope;
}
const sliceScopes = new WeakMap<SliceDefinition, WeakMap<Scope, Scope>>();

function metaProfiles(res: Resource): string[] | undefined {
  const p = res.meta?.profile;
  return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : undefined;
}

/** Values at a dotted path below an object, flattening arrays. */
function getPath(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c && typeof c === 'object' && !Array.isArray(c)) {
        const v = (c as Json)[part];
        if (Array.isArray(v)) {
          next.push(...v);
        } else if (v !== undefined) {
          next.push(v);
        }
      }
    }
    current = next;
  }
  return current;
}

function validCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) {
    return true;
  }
  const [y, mo, d] = [+m[1], +m[2], +m[3]];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

export function article(word: string): string {
  return /^[AEIOUaeiou]/.test(word) ? 'an' : 'a';
}

function truncate(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '...' : s;
}
