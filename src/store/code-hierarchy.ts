/**
 * Subsumption for token `:above` / `:below` (https://hl7.org/fhir/R4/search.html#modifiers,
 * https://hl7.org/fhir/R4/codesystem.html#hierarchy) through the CodeSystems this server holds:
 * a concept's parents are the concept it is nested in and the codes of its `parent` and
 * `subsumedBy` properties; a `child` property names a child. A system the server does not hold
 * cannot be searched this way (the caller says so).
 */
import type { CodeSystem, CodeSystemConcept } from '@medplum/fhirtypes';
import type { Filter } from '@medplum/core';
import { visibleCondition } from './access-sql';
import type { RepositoryAccess, SqlDriver } from './repository';

/** Parents of each code of one code system (every version the server holds, merged). */
export type CodeHierarchy = Map<string, Set<string>>;

const PARENT_PROPERTIES = new Set(['parent', 'subsumedBy']);

/** Systems named by `system|code` values of `:above`/`:below` filters (chained ones included). */
export function subsumptionSystems(filters: Filter[]): string[] {
  const systems = new Set<string>();
  for (const f of filters) {
    if (f.operator === 'above' || f.operator === 'below') {
      for (const v of f.value.split(/(?<!\\),/)) {
        const bar = v.indexOf('|');
        if (bar > 0) {
          systems.add(v.slice(0, bar));
        }
      }
    }
  }
  return [...systems];
}

/** The hierarchies of the stored CodeSystems (those the client may see) whose url is one of `systems`. */
export async function loadHierarchies(driver: SqlDriver, systems: string[], access?: RepositoryAccess): Promise<Map<string, CodeHierarchy>> {
  const out = new Map<string, CodeHierarchy>();
  if (systems.length === 0) {
    return out;
  }
  const params: unknown[] = [systems];
  const visible = access
    ? ` AND ${visibleCondition(access, 'r', (v) => {
        params.push(v);
        return `$${params.length}`;
      })}`
    : '';
  const res = await driver.query<{ content: CodeSystem }>(
    `SELECT r.content FROM fhir_resource r JOIN fhir_token u ON u.resource_type = r.resource_type AND u.id = r.id AND u.code = 'url'
      WHERE r.resource_type = 'CodeSystem' AND NOT r.deleted AND u.value = ANY($1::text[])${visible}`,
    params,
  );
  for (const { content } of res.rows) {
    if (!content.url) {
      continue;
    }
    const h = out.get(content.url) ?? new Map<string, Set<string>>();
    addConcepts(h, content.concept ?? [], undefined);
    out.set(content.url, h);
  }
  return out;
}

function link(h: CodeHierarchy, child: string, parent: string): void {
  const set = h.get(child) ?? new Set<string>();
  set.add(parent);
  h.set(child, set);
}

function addConcepts(h: CodeHierarchy, concepts: CodeSystemConcept[], parent: string | undefined): void {
  for (const c of concepts) {
    if (!c.code) {
      continue;
    }
    if (!h.has(c.code)) {
      h.set(c.code, new Set());
    }
    if (parent) {
      link(h, c.code, parent);
    }
    for (const p of c.property ?? []) {
      if (p.valueCode && PARENT_PROPERTIES.has(p.code)) {
        link(h, c.code, p.valueCode);
      } else if (p.valueCode && p.code === 'child') {
        link(h, p.valueCode, c.code);
      }
    }
    addConcepts(h, c.concept ?? [], c.code);
  }
}

/** The code and every code it subsumes (`below`) or that subsumes it (`above`), cycles tolerated. */
export function subsumed(h: CodeHierarchy, code: string, direction: 'above' | 'below'): string[] {
  let edges: CodeHierarchy = h;
  if (direction === 'below') {
    edges = new Map();
    for (const [child, parents] of h) {
      for (const parent of parents) {
        link(edges, parent, child);
      }
    }
  }
  const next = (c: string): Iterable<string> => edges.get(c) ?? [];
  const seen = new Set([code]);
  const queue = [code];
  while (queue.length > 0) {
    for (const n of next(queue.shift() as string)) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return [...seen];
}
