/**
 * Whole-resource rules that are not expressible (or not evaluable by our FHIRPath engine) as
 * element invariants: Bundle entry identity (bdl-7 and duplicate ids), dom-3 (contained resources
 * must be referenced), CodeSystem csd-1, and CodeSystem code uniqueness.
 * Questionnaire and QuestionnaireResponse rules live in questionnaire-rules.ts.
 */
import type { Bundle, CodeSystem, Resource } from '@medplum/fhirtypes';
import { checkQuestionnaire, checkQuestionnaireResponse } from './questionnaire-rules';
import { type CheckContext, reporter } from './checks/context';
import { checkBundleEntries } from './rules/bundle-entries';
import { checkBundleReferences } from './rules/bundle-references';
import { checkCapabilityStatement, checkSearchParameter } from './rules/search-parameter';
import type { Json as RuleJson } from './rules/types';

type Json = Record<string, unknown>;

const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A rule on a whole resource of one type, at `path`. */
export type ResourceCheck<T extends Resource = Resource> = (resource: T, path: string, ctx: CheckContext) => void;

/** A check written for one resource type, listed under that type (the table guarantees the type). */
function forType<T extends Resource>(check: ResourceCheck<T>): ResourceCheck {
  return check as ResourceCheck;
}

/** Rules on every resource, run first. */
const EVERY_RESOURCE: readonly ResourceCheck[] = [checkContainedReferenced];

/**
 * The rules of each resource type, run in the order listed. To add one (SearchParameter, more
 * Bundle or Questionnaire rules ...), write it in a file of its own or its type's and list it here.
 */
export const RESOURCE_CHECKS: ReadonlyMap<string, readonly ResourceCheck[]> = new Map<string, ResourceCheck[]>([
  ['Bundle', [forType(checkBundle), bundleEntries, bundleReferences]],
  ['CodeSystem', [forType(checkCodeSystem)]],
  ['Questionnaire', [forType(checkQuestionnaire)]],
  ['QuestionnaireResponse', [forType(checkQuestionnaireResponse)]],
  ['SearchParameter', [searchParameter]],
  ['CapabilityStatement', [capabilityStatement]],
]);

// The reference validator's rules (./rules/), one line each: JSON in, issues out through the context.
const json = (r: Resource): RuleJson => r as unknown as RuleJson;
function bundleEntries(r: Resource, path: string, ctx: CheckContext): void {
  checkBundleEntries(json(r), path, reporter(ctx));
}
function bundleReferences(r: Resource, path: string, ctx: CheckContext): void {
  checkBundleReferences(json(r), path, reporter(ctx));
}
function searchParameter(r: Resource, path: string, ctx: CheckContext): void {
  checkSearchParameter(json(r), path, reporter(ctx), (url) => ctx.defs.searchParameter(url));
}
function capabilityStatement(r: Resource, path: string, ctx: CheckContext): void {
  checkCapabilityStatement(json(r), path, reporter(ctx), (url) => ctx.defs.searchParameter(url));
}

/** Runs the whole-resource rules for one resource. */
export function checkResourceRules(resource: Resource, path: string, ctx: CheckContext): void {
  for (const check of EVERY_RESOURCE) {
    check(resource, path, ctx);
  }
  for (const check of RESOURCE_CHECKS.get(resource.resourceType) ?? []) {
    check(resource, path, ctx);
  }
}

/** bdl-7 (fullUrl unique), one entry per resource identity, fullUrl consistent with the resource id. */
function checkBundle(bundle: Bundle, path: string, ctx: CheckContext): void {
  if (bundle.type === 'history' || !Array.isArray(bundle.entry)) {
    return;
  }
  const fullUrls = new Map<string, number>();
  const identities = new Map<string, number>();
  bundle.entry.forEach((entry, i) => {
    if (!entry || typeof entry !== 'object') {
      return;
    }
    const where = `${path}.entry[${i}]`;
    const fullUrl = entry.fullUrl;
    if (typeof fullUrl === 'string' && fullUrl.startsWith('urn:uuid:') && !UUID.test(fullUrl)) {
      ctx.report('error', 'value', `fullUrl '${fullUrl}' is not a valid urn:uuid (expected urn:uuid: followed by a lowercase UUID)`, `${where}.fullUrl`);
    }
    const req = entry.request;
    const res0 = entry.resource as (Resource & Json) | undefined;
    if ((bundle.type === 'transaction' || bundle.type === 'batch') && req?.method === 'PUT' && typeof req.url === 'string' && res0?.resourceType) {
      const m = /^([A-Z][A-Za-z]+)\/([^/?]+)$/.exec(req.url);
      if (m && (m[1] !== res0.resourceType || (typeof res0.id === 'string' && m[2] !== res0.id))) {
        ctx.report('error', 'invalid', `PUT ${req.url} does not match the resource it sends (${res0.resourceType}/${String(res0.id)})`, `${where}.request.url`);
      }
    }
    if (typeof fullUrl === 'string') {
      // bdl-7: the same fullUrl may appear again only as a different version.
      const key = `${fullUrl}|${String(entry.resource?.meta?.versionId ?? '')}`;
      const first = fullUrls.get(key);
      if (first !== undefined) {
        ctx.report('error', 'duplicate', `Duplicate fullUrl '${fullUrl}': also used by entry[${first}] (bdl-7)`, `${where}.fullUrl`);
      } else {
        fullUrls.set(key, i);
      }
    }
    const r = entry.resource as (Resource & Json) | undefined;
    if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string' || typeof r.id !== 'string') {
      return;
    }
    const identity = `${r.resourceType}/${r.id}${r.meta?.versionId ? `/_history/${String(r.meta.versionId)}` : ''}`;
    const first = identities.get(identity);
    // In a transaction the same identity may legitimately appear only once too (one write per resource).
    if (first !== undefined) {
      ctx.report('error', 'duplicate', `Duplicate resource ${identity}: entry[${first}] has the same type and id`, `${where}.resource.id`);
    } else {
      identities.set(identity, i);
    }
    if (typeof fullUrl === 'string' && /^https?:/.test(fullUrl)) {
      const m = /\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(fullUrl);
      if (m && (m[1] !== r.resourceType || m[2] !== r.id)) {
        ctx.report('error', 'invalid', `fullUrl '${fullUrl}' does not match the resource it holds (${identity})`, `${where}.fullUrl`);
      }
    }
  });
}

/** csd-1 and its cousin: codes must be unique in a CodeSystem, at every level of the hierarchy. */
function checkCodeSystem(cs: CodeSystem, path: string, ctx: CheckContext): void {
  const seen = new Set<string>();
  const visit = (concepts: unknown, p: string): void => {
    if (!Array.isArray(concepts)) {
      return;
    }
    concepts.forEach((c: Json, i) => {
      if (!c || typeof c !== 'object') {
        return;
      }
      if (typeof c.code === 'string') {
        if (seen.has(c.code)) {
          ctx.report('error', 'duplicate', `Code '${c.code}' is defined more than once (csd-1)`, `${p}[${i}].code`);
        }
        seen.add(c.code);
      }
      visit(c.concept, `${p}[${i}].concept`);
    });
  };
  visit(cs.concept, `${path}.concept`);
}

/** dom-3: every contained resource is referenced from the rest of the resource (or refers to it with '#'). */
function checkContainedReferenced(resource: Resource, path: string, ctx: CheckContext): void {
  const contained = (resource as Resource & { contained?: unknown[] }).contained;
  if (!Array.isArray(contained) || contained.length === 0) {
    return;
  }
  const refs = new Set<string>();
  collectLocalRefs(resource, refs, true);
  contained.forEach((c, i) => {
    if (!c || typeof c !== 'object') {
      return;
    }
    const id = (c as Json).id;
    if (typeof id !== 'string') {
      ctx.report('error', 'required', 'A contained resource must have an id', `${path}.contained[${i}]`);
      return;
    }
    const inner = new Set<string>();
    collectLocalRefs(c, inner, false);
    if (!refs.has('#' + id) && !inner.has('#')) {
      ctx.report('error', 'invariant', `Contained resource '${id}' is not referenced from the resource that contains it (dom-3)`, `${path}.contained[${i}]`);
    }
  });
}

/** All '#...' strings in a resource; at the top level the contained list is walked too (cross-references count). */
function collectLocalRefs(value: unknown, out: Set<string>, top: boolean, depth = 0): void {
  if (depth > 200) {
    return;
  }
  if (typeof value === 'string') {
    if (value.startsWith('#')) {
      out.add(value);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) {
      collectLocalRefs(v, out, top, depth + 1);
    }
  } else if (value && typeof value === 'object') {
    const obj = value as Json;
    for (const k in obj) {
      if ((k === 'contained' && !top) || k === 'div' || !Object.prototype.hasOwnProperty.call(obj, k)) {
        continue;
      }
      const v = obj[k];
      // Only strings and containers can hold a '#...' reference.
      if (typeof v === 'string' ? v.charCodeAt(0) === 0x23 : v !== null && typeof v === 'object') {
        collectLocalRefs(v, out, top, depth + 1);
      }
    }
  }
}
