/**
 * Runs a search (https://hl7.org/fhir/R4/search.html) as SQL: filters (search-sql.ts), `_sort`,
 * `_count`, `_total`, paging and `_include` / `_revinclude`.
 *
 * Paging: without `_sort` results are ordered by id and the cursor is the last id seen (keyset:
 * stable while resources are written, and cheap on deep pages); with `_sort` the cursor is an
 * offset. `_count` above MAX_COUNT is clamped to it with a warning; a negative one is a 400.
 */
import type { IncludeTarget, SearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';
import { releasedCondition, releaseRows, tenantCondition } from './access-sql';
import type { RepositoryAccess, SearchResult, SqlDriver } from './repository';
import { loadHierarchies, subsumptionSystems } from './code-hierarchy';
import type { ServerBase } from './local-refs';
import { paramsOf } from './search-params';
import { filterConditions, sortTerms, SqlParams, unsupported, type FilterContext } from './search-sql';

/** Page size when `_count` is absent. */
export const DEFAULT_COUNT = 20;
/** Largest page served; a larger `_count` is clamped (with a warning in the answer). */
export const MAX_COUNT = 1000;
/** Resources `_include`/`_revinclude` may add to one page. */
const MAX_INCLUDED = 5000;

interface Cursor {
  /** keyset: last id of the previous page */
  k?: string;
  /** offset */
  o?: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string | undefined): Cursor {
  if (!text) {
    return {};
  }
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (c && typeof c === 'object' && ((typeof c.k === 'string' && !c.k.includes('\0')) || (Number.isInteger(c.o) && (c.o as number) >= 0))) {
      return c;
    }
  } catch {
    // fall through
  }
  throw badRequest(`Invalid paging cursor '${text}'`, '_cursor');
}

/** Checks `_count`: 400 when negative or not a number; clamps large values to MAX_COUNT. */
export function pageSize(count: number | undefined | null, warnings: string[]): number {
  if (count === undefined) {
    return DEFAULT_COUNT;
  }
  if (count === null || !Number.isInteger(count) || count < 0) {
    throw badRequest(`_count must be a whole number from 0 to ${MAX_COUNT}`, '_count');
  }
  if (count > MAX_COUNT) {
    warnings.push(`_count=${count} is more than ${MAX_COUNT}; pages hold ${MAX_COUNT} resources`);
    return MAX_COUNT;
  }
  return count;
}

function where(request: SearchRequest, ctx: FilterContext): string {
  const conds = [`r.resource_type = ${ctx.params.add(request.resourceType)}`, 'NOT r.deleted'];
  const tenant = ctx.access && tenantCondition(ctx.access, 'r', (v) => ctx.params.add(v));
  if (tenant) {
    conds.push(tenant);
  }
  conds.push(...filterConditions(request.resourceType, request.filters ?? [], 'r', ctx));
  return conds.join(' AND ');
}

/** The columns the 42 CFR Part 2 gate needs (checked in JS by `releaseRows`), for a client's search of alias `a`. */
function gateColumns(ctx: FilterContext, a: string): string {
  return ctx.access ? `, ${a}.owner, ${a}.part2, ${a}.patient_ids` : '';
}

/**
 * A NUL byte cannot be in PostgreSQL text (nor in any stored value): refused before it reaches a
 * query, naming the parameter (https://hl7.org/fhir/R4/search.html#errors).
 */
function refuseNul(request: SearchRequest): void {
  const named: [string, string][] = [
    ...(request.filters ?? []).map((f): [string, string] => [f.code, `${f.code}${f.operator}${f.value}`]),
    ...(request.sortRules ?? []).map((r): [string, string] => ['_sort', r.code]),
    ...[...(request.include ?? []), ...(request.revInclude ?? [])].map((t, i): [string, string] => [
      i < (request.include?.length ?? 0) ? '_include' : '_revinclude',
      `${t.resourceType}:${t.searchParam}:${t.targetType ?? ''}`,
    ]),
  ];
  for (const [name, text] of named) {
    if (text.includes('\0')) {
      const shown = name.replace(/\0/g, '\\0');
      throw badRequest(`Search parameter '${shown}' contains a NUL character (%00), which no stored value can hold`, shown);
    }
  }
}

/**
 * The FROM of a page in id order of a search whose only filter is a date range (`date=ge...&
 * date=lt...`): the ids of the date rows in the range, in id order, each joined to its resource by
 * primary key. `fhir_date_id_range` holds type, parameter, id and both bounds, so the ids come
 * from an index-only scan that stops when the page is full. The other conditions (not deleted,
 * the tenant's) apply to the joined row, and the range's own EXISTS is dropped, as the dates hold
 * it, so the page is the same as without it. Without it PostgreSQL walked the resources in id order and probed each for a date
 * in the range: a one-week window read ~50 resource rows per row of the page, more as the store
 * grew. Only for a range alone: with another filter (a patient) the planner's own order is better.
 */
function drivenByDates(range: NonNullable<FilterContext['dateRange']>, ctx: FilterContext, after: string | undefined): string {
  const start = after !== undefined ? ` AND x.id > ${ctx.params.add(after)}` : '';
  const type = ctx.params.add(range.type);
  return `(SELECT DISTINCT x.id FROM fhir_date x WHERE x.resource_type = ${type} AND x.code = ${range.code} AND ${range.bounds}${start} ORDER BY x.id) d
    CROSS JOIN LATERAL (SELECT * FROM fhir_resource r0 WHERE r0.resource_type = ${type} AND r0.id = d.id) r`;
}

/** Runs one page of a search. `base` is this server's FHIR base (absolute references on it are local). */
export async function runSearch(
  driver: SqlDriver,
  request: SearchRequest,
  options: { strict: boolean; cursor?: string; access?: RepositoryAccess; base?: ServerBase },
): Promise<SearchResult> {
  refuseNul(request);
  const warnings: string[] = [];
  const hierarchies = await loadHierarchies(driver, subsumptionSystems(request.filters ?? []), options.access);
  const context = (w: string[]): FilterContext => ({
    params: new SqlParams(),
    strict: options.strict,
    warnings: w,
    access: options.access,
    base: options.base,
    hierarchies,
  });
  const ctx = context(warnings);
  const count = pageSize(request.count, warnings);
  const cursor = decodeCursor(options.cursor);
  let conditions = where(request, ctx);
  const sort = sortTerms(request.resourceType, request.sortRules ?? [], 'r', ctx);
  const keyset = sort.length === 0;

  let total: number | undefined;
  if (request.total === 'accurate' || request.total === 'estimate') {
    // A fresh parameter list: the page query below adds sort and cursor parameters this one does not use.
    const countCtx = context([]);
    let countWhere = where(request, countCtx);
    if (options.access) {
      countWhere += ` AND ${releasedCondition(options.access, 'r', (v) => countCtx.params.add(v))}`;
    }
    const res = await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource r WHERE ${countWhere}`, countCtx.params.values);
    total = res.rows[0].n;
  }
  if (count === 0) {
    return { resources: [], included: [], total, warnings };
  }

  let offset = 0;
  if (keyset && cursor.k !== undefined) {
    conditions += ` AND r.id > ${ctx.params.add(cursor.k)}`;
  } else {
    offset = cursor.o ?? request.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw badRequest('_offset must be a whole number', '_offset');
    }
  }
  const order = keyset ? 'r.id' : [...sort, 'r.id'].join(', ');
  const range = ctx.dateRange;
  let from = 'fhir_resource r';
  if (keyset && range && (request.filters ?? []).every((f) => range.filters.includes(f))) {
    from = drivenByDates(range, ctx, cursor.k);
    // The dates read already hold the range: kept, its EXISTS made PostgreSQL hash every match and sort them.
    conditions = conditions.replace(range.condition, 'true');
  }
  // Part 2 records without consent stay in the page's window (so paging is unchanged) but are not returned.
  const rows = await driver.query<{ id: string; content: Resource; owner: string | null; part2: boolean; patient_ids: string[] }>(
    `SELECT r.id, r.content${gateColumns(ctx, 'r')} FROM ${from} WHERE ${conditions} ORDER BY ${order} LIMIT ${count + 1}${offset ? ` OFFSET ${offset}` : ''}`,
    ctx.params.values,
  );
  const page = await releaseRows(driver, ctx.access, rows.rows.slice(0, count));
  const resources = page.rows.map((r) => r.content);
  let next: string | undefined;
  if (rows.rows.length > count) {
    next = encodeCursor(keyset ? { k: rows.rows[count - 1].id } : { o: offset + count });
  }
  const inc = await includes(driver, request, resources, ctx);
  return { resources, included: inc.rows.map((r) => r.content), total, next, warnings };
}

/** A client's include query: the tenant condition on alias `i` and the columns of the Part 2 gate. */
function includeAccess(ctx: FilterContext, params: unknown[]): { column: string; where: string } {
  if (!ctx.access) {
    return { column: '', where: '' };
  }
  const tenant = tenantCondition(ctx.access, 'i', (v) => {
    params.push(v);
    return `$${params.length}`;
  });
  return { column: ', i.owner, i.part2, i.patient_ids', where: tenant ? ` AND ${tenant}` : '' };
}

/** An included row, with the columns of the Part 2 gate when the search is a client's. */
interface IncRow {
  content: Resource;
  owner: string | null;
  part2: boolean;
  patient_ids: string[];
}

const keyOf = (r: Resource): string => `${r.resourceType}/${r.id}`;

/**
 * `_include` and `_revinclude` (https://hl7.org/fhir/R4/search.html#include); `:iterate` repeats
 * over what was added. Returns the rows the client may see (the Part 2 gate checked once per
 * round).
 */
async function includes(driver: SqlDriver, request: SearchRequest, matches: Resource[], ctx: FilterContext): Promise<{ rows: IncRow[] }> {
  if (matches.length === 0 || (!request.include?.length && !request.revInclude?.length)) {
    return { rows: [] };
  }
  const rows: IncRow[] = [];
  const released = new Set<IncRow>();
  const seen = new Set(matches.map(keyOf));
  let frontier = matches;
  for (let round = 0; round < 4 && frontier.length > 0 && rows.length < MAX_INCLUDED; round++) {
    const added: IncRow[] = [];
    const targets = [...(request.include ?? []).map((t) => ({ t, rev: false })), ...(request.revInclude ?? []).map((t) => ({ t, rev: true }))].filter(
      ({ t }) => round === 0 || t.modifier === 'iterate',
    );
    for (const { t, rev } of targets) {
      const got = rev ? await revIncluded(driver, t, frontier, ctx) : await included1(driver, t, frontier, ctx);
      for (const r of got) {
        if (!seen.has(keyOf(r.content))) {
          seen.add(keyOf(r.content));
          added.push(r);
        }
      }
    }
    rows.push(...added);
    const gate = (await releaseRows(driver, ctx.access, added)).rows;
    for (const r of gate) released.add(r);
    // Iterating from a withheld record would reveal what it references: go on from released ones only.
    frontier = gate.map((r) => r.content);
  }
  return { rows: rows.slice(0, MAX_INCLUDED).filter((r) => released.has(r)) };
}

function idsOfType(resources: Resource[], type: string): string[] {
  return resources.filter((r) => r.resourceType === type && r.id).map((r) => r.id as string);
}

const NONE: IncRow[] = [];

async function included1(driver: SqlDriver, t: IncludeTarget, from: Resource[], ctx: FilterContext): Promise<IncRow[]> {
  const def = paramsOf(t.resourceType).get(t.searchParam);
  if (!def || def.type !== 'reference') {
    unsupported(ctx, `_include=${t.resourceType}:${t.searchParam}: not a reference search parameter; ignored`);
    return NONE;
  }
  const ids = idsOfType(from, t.resourceType);
  if (ids.length === 0) {
    return NONE;
  }
  const targets = t.targetType ? [t.targetType] : def.targets;
  const params: unknown[] = [t.resourceType, ids, def.code, targets];
  const acc = includeAccess(ctx, params);
  // Literal references by type/id, and canonical references (QuestionnaireResponse.questionnaire) by url.
  const res = await driver.query<IncRow>(
    `SELECT i.content${acc.column} FROM fhir_reference x
       JOIN fhir_resource i ON i.resource_type = x.target_type AND i.id = x.target_id AND NOT i.deleted${acc.where}
      WHERE x.resource_type = $1 AND x.id = ANY($2::text[]) AND x.code = $3 AND x.target_type = ANY($4::text[])
     UNION ALL
     SELECT i.content${acc.column} FROM fhir_reference x
       JOIN fhir_token u ON u.code = 'url' AND u.value = split_part(x.ref, '|', 1) AND u.resource_type = ANY($4::text[])
       JOIN fhir_resource i ON i.resource_type = u.resource_type AND i.id = u.id AND NOT i.deleted${acc.where}
      WHERE x.resource_type = $1 AND x.id = ANY($2::text[]) AND x.code = $3 AND x.target_id IS NULL
     LIMIT ${MAX_INCLUDED}`,
    params,
  );
  return res.rows;
}

async function revIncluded(driver: SqlDriver, t: IncludeTarget, from: Resource[], ctx: FilterContext): Promise<IncRow[]> {
  const def = paramsOf(t.resourceType).get(t.searchParam);
  if (!def || def.type !== 'reference') {
    unsupported(ctx, `_revinclude=${t.resourceType}:${t.searchParam}: not a reference search parameter; ignored`);
    return NONE;
  }
  const byType = new Map<string, string[]>();
  for (const r of from) {
    if (r.id && (!t.targetType || t.targetType === r.resourceType)) {
      byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r.id]);
    }
  }
  const out: IncRow[] = [];
  for (const [type, ids] of byType) {
    const params: unknown[] = [ids, type, def.code, t.resourceType];
    const acc = includeAccess(ctx, params);
    const res = await driver.query<IncRow>(
      `SELECT i.content${acc.column} FROM fhir_reference x
         JOIN fhir_resource i ON i.resource_type = x.resource_type AND i.id = x.id AND NOT i.deleted${acc.where}
        WHERE x.target_id = ANY($1::text[]) AND x.target_type = $2 AND x.code = $3 AND x.resource_type = $4
        LIMIT ${MAX_INCLUDED}`,
      params,
    );
    out.push(...res.rows);
  }
  return out;
}
