/**
 * A date range on one parameter (`date=ge2026-03-01&date=lt2026-04-01`) as ONE condition on one
 * date row (issue 15 item 3): each filter alone is its own `EXISTS`, and two of them made the
 * planner gather every row after the lower bound and probe each for the upper one (70 ms over
 * 18k Observations on PostgreSQL); one `EXISTS` with both bounds is one scan of the
 * `(resource_type, code, low, high)` index.
 *
 * Only where it means the same: the FHIR rule is that each filter may match a different value of
 * the resource, so the filters are merged only for a parameter that holds at most one value per
 * resource, i.e. its expression is one element (`Observation.effective`, `Encounter.period`) of
 * max cardinality 1 whose types all index as one row (date, dateTime, instant, Period; not
 * Timing, whose events are several rows).
 */
import { getElementDefinition, getExpressionForResourceType, type Filter } from '@medplum/core';
import { ensureSchema } from '../validation/schema-loader';
import type { ParamDef } from './search-params';

const ONE_ROW_TYPES = new Set(['date', 'dateTime', 'instant', 'Period']);
const MERGED_PREFIXES = new Set(['eq', 'gt', 'lt', 'ge', 'le', 'sa', 'eb']);

const singleValued = new Map<string, boolean>();

/** True when the parameter yields at most one date row per resource of `type`. */
export function oneDateRow(type: string, def: ParamDef): boolean {
  const key = `${type}.${def.code}`;
  let known = singleValued.get(key);
  if (known === undefined) {
    known = false;
    const expression = def.definition.expression ? getExpressionForResourceType(type, def.definition.expression) : undefined;
    const m = expression ? new RegExp(`^${type}\\.(\\w+)$`).exec(expression) : null;
    if (m && ensureSchema(type)) {
      const el = getElementDefinition(type, m[1]);
      known = !!el && el.max === 1 && el.type.length > 0 && el.type.every((t) => ONE_ROW_TYPES.has(t.code));
      singleValued.set(key, known);
    } else if (m === null) {
      singleValued.set(key, false);
    }
  }
  return known;
}

/** A filter that can join a range: one value, a plain comparison (no `ne`, `ap`, `:missing`). */
function rangePart(f: Filter): boolean {
  const prefix = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=\d)/.exec(f.value)?.[1] ?? f.operator;
  return MERGED_PREFIXES.has(prefix) && !/(?<!\\),/.test(f.value);
}

/**
 * Groups of filters to merge: the first filter of each group maps to the whole group, the
 * others are in `merged` (left out where they stand).
 */
export function dateRangeGroups(type: string, filters: Filter[], defs: Map<string, ParamDef>): { groups: Map<Filter, Filter[]>; merged: Set<Filter> } {
  const byCode = new Map<string, Filter[]>();
  for (const f of filters) {
    const def = defs.get(f.code);
    if (def?.type === 'date' && rangePart(f) && oneDateRow(type, def)) {
      byCode.set(f.code, [...(byCode.get(f.code) ?? []), f]);
    }
  }
  const groups = new Map<Filter, Filter[]>();
  const merged = new Set<Filter>();
  for (const group of byCode.values()) {
    if (group.length > 1) {
      groups.set(group[0], group);
      for (const f of group.slice(1)) merged.add(f);
    }
  }
  return { groups, merged };
}
