/**
 * Which definition governs a value's children: for an element's value of a given type, the
 * profile on the type (`type.profile`), the profile's inner type or the base type; for an
 * extension, its definition. Profile constraints on nested elements (`period.start` in the
 * parent's scope) overlay the child's scope. Worked out once per element, type and profile and
 * kept on the element's plan (plans.ts).
 *
 * Cache: `childScopes`, the overlaid child scope per parent scope, element name and base scope;
 * the scope keys are schema objects (weak), the names are the schema's own: bounded by the
 * loaded definitions.
 */
import type { InternalTypeSchema } from '@medplum/core';
import type { LoadedProfile } from './definitions';
import type { ChildTarget, ElementPlan, PlanCache, Scope } from './plans';

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

/**
 * The children's definition for a non-extension value (or an extension without a definition):
 * the profile on the element's type when it has one, else the profile's inner type or the base
 * type. Kept per element, type and profile; not kept when unknown.
 */
export function childTarget(
  plans: PlanCache,
  element: ElementPlan,
  type: string,
  profile: LoadedProfile | undefined,
  typeProfiles: boolean,
): ChildTarget | undefined {
  let byProfile = element.children.get(type);
  let target = byProfile?.get(profile);
  if (target) {
    return target;
  }
  const el = element.el;
  let typeSchema: InternalTypeSchema | undefined;
  let childProfile = profile;
  if (typeProfiles && el.type.find((t) => t.code === type)?.profile?.[0]) {
    const p = plans.defs.profile(el.type.find((t) => t.code === type)?.profile?.[0] as string);
    if (p && p.sd.type === type) {
      typeSchema = p.schema;
      childProfile = p;
    }
  }
  typeSchema ??= profile?.innerTypes.get(type) ?? plans.defs.baseType(type);
  if (!typeSchema) {
    return undefined;
  }
  target = { typeSchema, profile: childProfile, scope: plans.scope(childScope(element.scope, element.name, typeSchema.elements)) };
  if (!byProfile) {
    byProfile = new Map();
    element.children.set(type, byProfile);
  }
  byProfile.set(profile, target);
  return target;
}

/** The children's definition for an extension with a known definition. */
export function extensionTarget(plans: PlanCache, element: ElementPlan, ext: LoadedProfile): ChildTarget {
  let target = element.extensions.get(ext);
  if (!target) {
    target = { typeSchema: ext.schema, profile: ext, scope: plans.scope(childScope(element.scope, element.name, ext.schema.elements)) };
    element.extensions.set(ext, target);
  }
  return target;
}
