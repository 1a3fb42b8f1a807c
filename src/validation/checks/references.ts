/**
 * References: the form of Reference.reference (Type/id, #id, an absolute URL), contained targets
 * that must exist, and the target's type against the element's targetProfile list.
 * https://hl7.org/fhir/R4/references.html
 */
import type { InternalSchemaElement } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { ElementPlan } from '../plans';
import { article, type CheckContext, HL7_SD, type Json, truncate } from './context';

const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Format of Reference.reference; contained targets must exist. */
export function checkReference(ctx: CheckContext, obj: Json, path: string): void {
  const ref = obj.reference;
  if (typeof ref !== 'string') {
    return;
  }
  if (ref.startsWith('#')) {
    const id = ref.slice(1);
    const contained = containedResources(containerOf(ctx));
    if (id && !contained.some((c) => c.id === id)) {
      ctx.report('error', 'not-found', `Reference '${ref}' points to no contained resource with id '${id}'`, `${path}.reference`);
    }
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:/.test(ref) || ref.includes('?')) {
    return;
  }
  const m = RELATIVE_REFERENCE.exec(ref);
  if (!m) {
    ctx.report('error', 'value', `Reference '${truncate(ref)}' is not of the form Type/id, #id, or an absolute URL`, `${path}.reference`);
  } else if (!ctx.defs.isResourceType(m[1])) {
    ctx.report('error', 'value', `Reference '${truncate(ref)}' names an unknown resource type '${m[1]}'`, `${path}.reference`);
  }
}

/** The resource type a reference points to, when it can be told without resolving it. */
function referenceType(ctx: CheckContext, obj: Json): string | undefined {
  const ref = obj.reference;
  if (typeof ref !== 'string') {
    return typeof obj.type === 'string' ? obj.type : undefined;
  }
  if (ref.startsWith('#')) {
    const contained = containedResources(containerOf(ctx));
    return contained.find((c) => c.id === ref.slice(1))?.resourceType;
  }
  if (ref.includes('?')) {
    return ref.slice(0, ref.indexOf('?'));
  }
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[^/]+)?$/.exec(ref);
  if (m && ctx.defs.isResourceType(m[1])) {
    return m[1];
  }
  return typeof obj.type === 'string' ? obj.type : undefined;
}

/** Reference target type against the element's targetProfile list (worked out once per element). */
export function checkReferenceTarget(ctx: CheckContext, obj: Json, element: ElementPlan, path: string): void {
  const targetType = referenceType(ctx, obj);
  if (typeof obj.type === 'string' && typeof obj.reference === 'string' && targetType && obj.type !== targetType) {
    ctx.report('error', 'value', `Reference.type '${obj.type}' does not match the reference '${truncate(obj.reference)}'`, `${path}.type`);
    return;
  }
  if (!targetType) {
    return;
  }
  let targets = element.referenceTargets;
  if (targets === undefined) {
    targets = referenceTargets(ctx, element.el);
    element.referenceTargets = targets;
  }
  if (targets && !targets.allowed.has(targetType)) {
    ctx.report('error', 'value', `Reference to ${article(targetType)} ${targetType} is not allowed here; expected ${targets.list}`, `${path}.reference`);
  }
}

/** The resource types an element's references may point to; null when any may (or a target is unknown). */
function referenceTargets(ctx: CheckContext, el: InternalSchemaElement): { allowed: Set<string>; list: string } | null {
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
    const type = base && ctx.defs.isResourceType(base) ? base : ctx.defs.profile(t)?.sd.type;
    if (!type) {
      return null; // a target profile we do not know: cannot judge
    }
    allowed.add(type);
  }
  return { allowed, list: [...allowed].join(' or ') };
}

/** The resource whose `contained` list `#id` references point into. */
function containerOf(ctx: CheckContext): (Resource & { contained?: Resource[] }) | undefined {
  return ctx.rootResource();
}

/** The contained resources of a resource, or none when `contained` is not an array of objects (bad input is reported elsewhere, never thrown on). */
export function containedResources(resource: { contained?: unknown } | undefined): Resource[] {
  const contained = resource?.contained;
  return Array.isArray(contained) ? (contained.filter((c) => c !== null && typeof c === 'object') as Resource[]) : [];
}
