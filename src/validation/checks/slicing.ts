/**
 * Slicing: which slice a repeating element's value falls in (by its discriminators: value,
 * pattern, type, an extension's url), closed slicing, each slice's cardinality, and the child
 * rules a slice adds. Only discriminators that can be told from the value itself are supported
 * (no `profile` or `exists`; a slice with one never matches).
 * https://hl7.org/fhir/R4/profiling.html#slicing
 *
 * Cache: `sliceScopes`, the child scope of each slice per base scope; both keys are schema objects
 * (weak: they die with the definitions), so it is bounded by the loaded definitions.
 */
import type { InternalSchemaElement, SliceDefinition } from '@medplum/core';
import type { Scope, SlicingPlan } from '../plans';
import { inValueSet } from './bindings';
import type { CheckContext, Json } from './context';
import { deepEqual, matchesPattern } from './element-rules';

/**
 * The slice an item of `name` falls in (-1: none; reported when the slicing is closed), counted in
 * `counts` (by slice name).
 */
export function assignSlice(ctx: CheckContext, item: unknown, slicing: SlicingPlan, type: string, counts: number[], name: string, itemPath: string): number {
  const slice = matchSlice(ctx, item, slicing, type);
  if (slice >= 0) {
    counts[slicing.nameIndex[slice]]++;
  } else if (slicing.closed) {
    ctx.report('error', 'structure', `This '${name}' matches none of the allowed slices (${slicing.names}) and the slicing is closed`, itemPath);
  }
  return slice;
}

/** Each slice's cardinality, once all the items of `name` have been assigned. */
export function checkSliceCounts(ctx: CheckContext, slicing: SlicingPlan, counts: number[], name: string, path: string): void {
  slicing.slices.forEach((s, i) => {
    const count = counts[slicing.nameIndex[i]];
    if (count < s.min || count > s.max) {
      ctx.report('error', 'structure', `Slice '${s.name}' of '${name}' has ${count} value(s); allowed ${s.min}..${Number.isFinite(s.max) ? s.max : '*'}`, path);
    }
  });
}

/** The first slice every discriminator matches, as an index (-1: none). */
function matchSlice(ctx: CheckContext, item: unknown, slicing: SlicingPlan, type: string): number {
  const slices = slicing.slices;
  const discriminators = slicing.discriminator;
  for (let i = 0; i < slices.length; i++) {
    if (discriminators.every((d) => matchDiscriminator(ctx, item, slices[i], d, type))) {
      return i;
    }
  }
  return -1;
}

function matchDiscriminator(ctx: CheckContext, item: unknown, slice: SliceDefinition, d: { path: string; type: string }, type: string): boolean {
  if (d.type === 'type') {
    return slice.type.some((t) => t.code === type);
  }
  if (d.type !== 'value' && d.type !== 'pattern') {
    return false;
  }
  if (d.path === 'url' && type === 'Extension') {
    // SUSHI snapshots carry the extension's url only as the slice's type profile, not as a fixed `url` child.
    const url: unknown = slice.elements['url']?.fixed?.value ?? slice.type.find((t) => t.profile?.length)?.profile?.[0];
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
    const idx = ctx.defs.codeIndex(sliceEl.binding.valueSet);
    return !!idx && values.some((v) => inValueSet(v, idx));
  }
  return false;
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
          next.push(...(v as unknown[]));
        } else if (v !== undefined) {
          next.push(v);
        }
      }
    }
    current = next;
  }
  return current;
}

const sliceScopes = new WeakMap<SliceDefinition, WeakMap<Scope, Scope>>();

/** Children of a value that fell in a slice: the slice's own child rules override the element's. */
export function sliceChildScope(slice: SliceDefinition, children: Scope): Scope {
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
