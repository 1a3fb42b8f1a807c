/**
 * Search filters to SQL (https://hl7.org/fhir/R4/search.html): each filter becomes an indexed
 * `EXISTS` over a side table keyed by the resource, so filters AND together and comma-separated
 * values OR inside one filter. Modifiers: `:missing`, `:not` (token), `:exact`/`:contains`
 * (string), `:text` and `:of-type` (token), `:above`/`:below` (uri by prefix; token through the
 * stored CodeSystems, src/store/code-hierarchy.ts), `:[type]` and `:identifier` (reference);
 * prefixes on dates and numbers; one level of chaining (`patient.identifier`,
 * `subject:Patient.identifier`). Any other modifier is ignored with a warning, or a 400 under
 * `handling=strict`. An absolute reference URL is a local reference only on this server's base
 * (src/store/local-refs.ts).
 *
 * Why it is one file of about 400 lines: every value condition (token, string, uri, date, number,
 * reference, chain) writes into the same `SqlParams` and `FilterContext` and returns one SQL
 * fragment; together they are the one search-to-SQL translation, read top to bottom beside the
 * spec's search page. The side tables' columns are in search-values.ts, the visibility clause in
 * access-sql.ts.
 */
import type { Filter, SortRule } from '@medplum/core';
import { badRequest } from '../outcomes';
import { COLUMN_PARAMS, definedParams, paramsOf, type ParamDef } from './search-params';
import { visibleCondition } from './access-sql';
import type { RepositoryAccess } from './repository';
import { subsumed, type CodeHierarchy } from './code-hierarchy';
import { isAbsolute, localTarget, type ServerBase } from './local-refs';
import { dateRange, MAX_INDEXED, modifierCode, normalizeString } from './search-values';
import { dateRangeGroups } from './search-date-ranges';

/** Collects `$n` parameters for one statement. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  /** Drops the parameters added since `mark` (the length then), for a condition given up on. */
  rollback(mark: number): void {
    this.values.length = mark;
  }
}

/** What a compiled set of filters needs besides SQL: warnings for ignored parameters. */
export interface FilterContext {
  params: SqlParams;
  strict: boolean;
  warnings: string[];
  /** A client's view: chained targets must be visible to it (src/store/access-sql.ts). */
  access?: RepositoryAccess;
  /** This server's FHIR base: absolute references on it are local. */
  base?: ServerBase;
  /** Hierarchies of the CodeSystems `:above`/`:below` filters name, loaded beforehand (by url). */
  hierarchies?: Map<string, CodeHierarchy>;
  /**
   * The first merged date range on the searched resources themselves (alias `r`): its filters,
   * and the SQL of its code and bounds on `fhir_date x`, for a page in id order to be read from
   * the dates (sql-search.ts, `drivenByDates`).
   */
  dateRange?: { type: string; filters: Filter[]; code: string; bounds: string; condition: string };
}

const TABLES: Record<ParamDef['type'], string> = {
  token: 'fhir_token',
  uri: 'fhir_token',
  string: 'fhir_string',
  date: 'fhir_date',
  reference: 'fhir_reference',
  number: 'fhir_number',
  quantity: 'fhir_number',
};

/** Ignores an unsupported parameter with a warning, or refuses it under `handling=strict`. */
export function unsupported(ctx: FilterContext, text: string): undefined {
  if (ctx.strict) {
    throw badRequest(text);
  }
  ctx.warnings.push(text);
  return undefined;
}

/** SQL conditions (AND-ed) for the filters of a search on `resourceType`, against alias `a`. */
export function filterConditions(resourceType: string, filters: Filter[], a: string, ctx: FilterContext): string[] {
  const out: string[] = [];
  const ranges = dateRangeGroups(resourceType, filters, paramsOf(resourceType));
  for (const f of filters) {
    if (ranges.merged.has(f)) {
      continue;
    }
    const group = ranges.groups.get(f);
    const cond = group ? dateRangeCondition(resourceType, group, a, ctx) : filterCondition(resourceType, f, a, ctx);
    if (cond) {
      out.push(cond);
    }
  }
  return out;
}

function filterCondition(type: string, f: Filter, a: string, ctx: FilterContext): string | undefined {
  const chainAt = f.code.indexOf('.');
  if (chainAt > 0) {
    return chainCondition(type, f, chainAt, a, ctx);
  }
  if (f.code === '_id') {
    const ids = splitValues(f.value);
    const cond = `${a}.id = ANY(${ctx.params.add(ids)}::text[])`;
    return f.operator === 'not' || f.operator === 'ne' ? `NOT (${cond})` : cond;
  }
  if (f.code === '_lastUpdated') {
    return orJoin(splitValues(f.value).map((v) => dateCondition(`${a}.last_updated`, `${a}.last_updated`, f.operator, v, f.code, ctx)));
  }
  const def = paramsOf(type).get(f.code);
  if (!def) {
    const known = definedParams(type).some((p) => p.code === f.code);
    return unsupported(
      ctx,
      known ? `Search parameter '${f.code}' of ${type} is not supported; ignored` : `Unknown search parameter '${f.code}' for ${type}; ignored`,
    );
  }
  // Parameters of a condition given up on (an unsupported modifier) are dropped: a statement must use every one.
  const mark = ctx.params.values.length;
  const cond = paramCondition(def, f, a, ctx);
  if (cond === undefined) {
    ctx.params.rollback(mark);
  }
  return cond;
}

/** Date filters on one single-valued parameter (search-date-ranges.ts): all of their bounds on one row. */
function dateRangeCondition(type: string, group: Filter[], a: string, ctx: FilterContext): string {
  const code = ctx.params.add(group[0].code);
  const owner = `x.resource_type = ${a}.resource_type AND x.id = ${a}.id AND x.code = ${code}`;
  const bounds = group.map((f) => `(${dateCondition('x.low', 'x.high', f.operator, f.value, group[0].code, ctx)})`).join(' AND ');
  const condition = `EXISTS (SELECT 1 FROM fhir_date x WHERE ${owner} AND ${bounds})`;
  if (a === 'r' && !ctx.dateRange) {
    ctx.dateRange = { type, filters: group, code, bounds, condition };
  }
  return condition;
}

/** The side table and code a modifier searches: its own rows for `:text`, `:of-type`, `:identifier`. */
function rowsOf(def: ParamDef, op: string): { table: string; code: string } {
  if (def.type === 'token' && op === 'text') {
    return { table: 'fhir_string', code: modifierCode(def.code, 'text') };
  }
  if (def.type === 'token' && op === 'of-type') {
    return { table: 'fhir_token', code: modifierCode(def.code, 'of-type') };
  }
  if (def.type === 'reference' && op === 'identifier') {
    return { table: 'fhir_token', code: modifierCode(def.code, 'identifier') };
  }
  return { table: TABLES[def.type], code: def.code };
}

function paramCondition(def: ParamDef, f: Filter, a: string, ctx: FilterContext): string | undefined {
  const { table, code } = rowsOf(def, f.operator);
  const owner = `x.resource_type = ${a}.resource_type AND x.id = ${a}.id AND x.code = ${ctx.params.add(code)}`;
  if (f.operator === 'missing' || f.operator === 'present') {
    const missing = (f.value === 'true') === (f.operator === 'missing');
    if (f.value !== 'true' && f.value !== 'false') {
      throw badRequest(`:${f.operator} takes true or false, not '${f.value}'`, f.code);
    }
    return `${missing ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} x WHERE ${owner})`;
  }
  const negate = f.operator === 'not' || (f.operator === 'ne' && def.type !== 'date' && def.type !== 'number' && def.type !== 'quantity');
  const values = splitValues(f.value);
  const alternatives = values.map((v) => valueCondition(def, f.operator, v, ctx));
  if (alternatives.some((c) => c === undefined)) {
    return undefined;
  }
  const cond = `EXISTS (SELECT 1 FROM ${table} x WHERE ${owner} AND ${orJoin(alternatives as string[])})`;
  return negate ? `NOT ${cond}` : cond;
}

/** Splits comma-separated alternatives, honouring `\,` escapes. */
function splitValues(value: string): string[] {
  return value.split(/(?<!\\),/).map((v) => v.replace(/\\([,|$\\])/g, '$1'));
}

/** ORs alternatives, each parenthesised: an alternative may itself hold OR, and the result is AND-ed with more. */
const orJoin = (parts: string[]): string => `(${parts.map((p) => `(${p})`).join(' OR ')})`;

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const cut = (s: string): string => (s.length > MAX_INDEXED ? s.slice(0, MAX_INDEXED) : s);

function valueCondition(def: ParamDef, op: string, value: string, ctx: FilterContext): string | undefined {
  const p = (v: unknown): string => ctx.params.add(v);
  switch (def.type) {
    case 'token':
    case 'uri': {
      if (op === 'above' || op === 'below') {
        return def.type === 'uri' ? uriPrefixCondition(op, value, ctx) : subsumptionCondition(def, op, value, ctx);
      }
      if (op === 'text' && def.type === 'token') {
        return `x.norm LIKE ${p(`${likeEscape(cut(normalizeString(value)))}%`)}`;
      }
      if (op === 'of-type' && def.type === 'token') {
        const parts = value.split('|');
        if (parts.length !== 3 || parts.some((x) => x === '')) {
          throw badRequest(`${def.code}:of-type takes system|code|value (the identifier's type and value), not '${value}'`, def.code);
        }
        return `x.system = ${p(cut(parts[0]))} AND x.value = ${p(cut(`${parts[1]}|${parts[2]}`))}`;
      }
      if (!['eq', 'not', 'ne', 'exact'].includes(op)) {
        return unsupported(ctx, `Modifier :${op} is not supported on ${def.code}; parameter ignored`);
      }
      return def.type === 'uri' ? `x.value = ${p(cut(value))}` : tokenCondition(value, ctx);
    }
    case 'string': {
      if (op === 'exact') {
        return `x.value = ${p(cut(value))}`;
      }
      const norm = likeEscape(cut(normalizeString(value)));
      if (op === 'contains') {
        return `x.norm LIKE ${p(`%${norm}%`)}`;
      }
      if (op !== 'eq' && op !== 'sw') {
        return unsupported(ctx, `Modifier :${op} is not supported on ${def.code}; parameter ignored`);
      }
      return `x.norm LIKE ${p(`${norm}%`)}`;
    }
    case 'date':
      return dateCondition('x.low', 'x.high', op, value, def.code, ctx);
    case 'reference':
      return op === 'identifier' ? tokenCondition(value, ctx) : referenceCondition(def, op, value, ctx);
    case 'number':
    case 'quantity':
      return numberCondition(def, op, value, ctx);
  }
}

/** `code`, `system|code`, `|code` (no system), `system|` against token rows. */
function tokenCondition(value: string, ctx: FilterContext): string {
  const p = (v: unknown): string => ctx.params.add(v);
  const bar = value.indexOf('|');
  if (bar < 0) {
    return `x.value = ${p(cut(value))}`;
  }
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (system === '') {
    return `x.system IS NULL AND x.value = ${p(cut(code))}`;
  }
  return code === '' ? `x.system = ${p(cut(system))}` : `x.system = ${p(cut(system))} AND x.value = ${p(cut(code))}`;
}

/** uri `:below` (stored URIs starting with the value) and `:above` (stored URIs the value starts with): https://hl7.org/fhir/R4/search.html#uri */
function uriPrefixCondition(op: 'above' | 'below', value: string, ctx: FilterContext): string {
  const v = ctx.params.add(cut(value));
  return op === 'below' ? `starts_with(x.value, ${v}::text)` : `starts_with(${v}::text, x.value)`;
}

/** token `:below`/`:above` with `system|code`: the codes the system's stored hierarchy subsumes (or that subsume it). */
function subsumptionCondition(def: ParamDef, op: 'above' | 'below', value: string, ctx: FilterContext): string | undefined {
  const bar = value.indexOf('|');
  const system = bar > 0 ? value.slice(0, bar) : '';
  const code = bar > 0 ? value.slice(bar + 1) : '';
  if (!system || !code) {
    return unsupported(ctx, `${def.code}:${op} needs system|code (got '${value}'); parameter ignored`);
  }
  const hierarchy = ctx.hierarchies?.get(system);
  if (!hierarchy) {
    return unsupported(ctx, `${def.code}:${op}: the code system '${system}' is not held by this server, so its hierarchy is unknown; parameter ignored`);
  }
  return `x.system = ${ctx.params.add(system)} AND x.value = ANY(${ctx.params.add(subsumed(hierarchy, code, op).map(cut))}::text[])`;
}

/**
 * A date filter against a stored range [low, high]; the search value is itself a range at its
 * precision (https://hl7.org/fhir/R4/search.html#prefix).
 */
function dateCondition(low: string, high: string, op: string, value: string, code: string, ctx: FilterContext): string {
  let prefix = op;
  let text = value;
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=\d)/.exec(value);
  if (m) {
    prefix = m[1];
    text = value.slice(2);
  }
  const range = dateRange(text);
  if (!range) {
    throw badRequest(`Invalid date '${value}' for search parameter '${code}' (expected YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)`, code);
  }
  // Parameters are added only when used: PostgreSQL refuses a statement with an unused, untyped one.
  const pl = (): string => `${ctx.params.add(range.low)}::timestamptz`;
  const ph = (): string => `${ctx.params.add(range.high)}::timestamptz`;
  switch (prefix) {
    case 'eq':
      return `${low} >= ${pl()} AND ${high} <= ${ph()}`;
    case 'ne':
      return `NOT (${low} >= ${pl()} AND ${high} <= ${ph()})`;
    case 'gt':
      return `${high} > ${ph()}`;
    case 'lt':
      return `${low} < ${pl()}`;
    case 'ge':
      return `${high} >= ${pl()}`;
    case 'le':
      return `${low} <= ${ph()}`;
    case 'sa':
      return `${low} > ${ph()}`;
    case 'eb':
      return `${high} < ${pl()}`;
    case 'ap': {
      // Approximately: within 10% of the distance from now, at least a day (the spec leaves the margin to the server).
      const margin = Math.max(86_400_000, Math.abs(Date.now() - Date.parse(range.low)) * 0.1);
      const wl = ctx.params.add(new Date(Date.parse(range.low) - margin).toISOString());
      const wh = ctx.params.add(new Date(Date.parse(range.high) + margin).toISOString());
      return `${low} <= ${wh}::timestamptz AND ${high} >= ${wl}::timestamptz`;
    }
    default:
      throw badRequest(`Modifier :${op} is not supported on date parameter '${code}'`, code);
  }
}

function referenceCondition(def: ParamDef, op: string, value: string, ctx: FilterContext): string | undefined {
  const p = (v: unknown): string => ctx.params.add(v);
  let typeModifier: string | undefined;
  if (/^[A-Z][A-Za-z]+$/.test(op)) {
    typeModifier = op;
  } else if (op !== 'eq') {
    return unsupported(ctx, `Modifier :${op} is not supported on ${def.code}; parameter ignored`);
  }
  const local = localTarget(value, ctx.base);
  if (isAbsolute(value)) {
    // An absolute URL or canonical matches the stored text (an unversioned canonical every version);
    // on this server's base it is also the local reference, however it was written.
    const byText = `x.ref = ${p(cut(value))} OR x.ref LIKE ${p(`${likeEscape(cut(value))}|%`)}`;
    return local && (!typeModifier || typeModifier === local.type)
      ? `${byText} OR (x.target_type = ${p(local.type)} AND x.target_id = ${p(local.id)})`
      : byText;
  }
  if (local) {
    return typeModifier && typeModifier !== local.type ? 'false' : `x.target_type = ${p(local.type)} AND x.target_id = ${p(local.id)}`;
  }
  const type = typeModifier ?? (def.targets.length === 1 ? def.targets[0] : undefined);
  return type ? `x.target_type = ${p(type)} AND x.target_id = ${p(value)}` : `x.target_id = ${p(value)}`;
}

function numberCondition(def: ParamDef, op: string, value: string, ctx: FilterContext): string {
  let prefix = op;
  let text = value;
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[-\d.])/.exec(value);
  if (m) {
    prefix = m[1];
    text = value.slice(2);
  }
  const [num, system, unit] = text.split('|');
  const n = Number(num);
  if (num === '' || !Number.isFinite(n)) {
    throw badRequest(`Invalid number '${value}' for search parameter '${def.code}'`, def.code);
  }
  const v = `${ctx.params.add(n)}::numeric`;
  const cmp: Record<string, string> = {
    eq: `x.low = ${v}`,
    ne: `x.low <> ${v}`,
    gt: `x.high > ${v}`,
    lt: `x.low < ${v}`,
    ge: `x.high >= ${v}`,
    le: `x.low <= ${v}`,
    sa: `x.low > ${v}`,
    eb: `x.high < ${v}`,
    ap: `x.low <= ${v} * 1.1 AND x.high >= ${v} * 0.9`,
  };
  const c = cmp[prefix];
  if (!c) {
    throw badRequest(`Modifier :${op} is not supported on number parameter '${def.code}'`, def.code);
  }
  const parts = [c];
  if (system) {
    parts.push(`x.system = ${ctx.params.add(system)}`);
  }
  if (unit) {
    parts.push(`x.unit = ${ctx.params.add(unit)}`);
  }
  return parts.join(' AND ');
}

/** `patient.identifier=...`: the reference parameter's targets must match the chained filter. */
function chainCondition(type: string, f: Filter, dot: number, a: string, ctx: FilterContext): string | undefined {
  const [refCode, typeModifier] = f.code.slice(0, dot).split(':');
  const rest = f.code.slice(dot + 1);
  if (rest.includes('.')) {
    return unsupported(ctx, `Chains longer than one step are not supported ('${f.code}'); ignored`);
  }
  const def = paramsOf(type).get(refCode);
  if (!def || def.type !== 'reference') {
    return unsupported(ctx, `'${refCode}' is not a reference search parameter of ${type}; chain '${f.code}' ignored`);
  }
  const targets = typeModifier ? [typeModifier] : def.targets;
  const perTarget: string[] = [];
  for (const target of targets) {
    if (!paramsOf(target).has(rest) && !COLUMN_PARAMS.has(rest)) {
      continue;
    }
    const inner = filterConditions(target, [{ code: rest, operator: f.operator, value: f.value }], 't', ctx);
    perTarget.push(`t.resource_type = ${ctx.params.add(target)} AND ${inner.join(' AND ') || 'true'}`);
  }
  if (perTarget.length === 0) {
    return unsupported(ctx, `No target of '${refCode}' has a search parameter '${rest}'; chain '${f.code}' ignored`);
  }
  // A client's chain only goes through targets it may see: another tenant's data must not decide what matches.
  const visible = ctx.access ? ` AND ${visibleCondition(ctx.access, 't', (v) => ctx.params.add(v))}` : '';
  return `EXISTS (SELECT 1 FROM fhir_reference c JOIN fhir_resource t ON t.resource_type = c.target_type AND t.id = c.target_id AND NOT t.deleted${visible}
    WHERE c.resource_type = ${a}.resource_type AND c.id = ${a}.id AND c.code = ${ctx.params.add(refCode)} AND ${orJoin(perTarget)})`;
}

/** ORDER BY terms for `_sort` (https://hl7.org/fhir/R4/search.html#_sort); ties broken by id. */
export function sortTerms(type: string, rules: SortRule[], a: string, ctx: FilterContext): string[] {
  const terms: string[] = [];
  for (const rule of rules) {
    const dir = rule.descending ? 'DESC' : 'ASC';
    if (rule.code === '_id') {
      terms.push(`${a}.id ${dir}`);
      continue;
    }
    if (rule.code === '_lastUpdated') {
      terms.push(`${a}.last_updated ${dir}`);
      continue;
    }
    const def = paramsOf(type).get(rule.code);
    if (!def) {
      unsupported(ctx, `Cannot sort by unknown search parameter '${rule.code}'; ignored`);
      continue;
    }
    const column = { token: 'value', uri: 'value', string: 'norm', date: rule.descending ? 'high' : 'low', reference: 'ref', number: 'low', quantity: 'low' }[
      def.type
    ];
    const agg = rule.descending ? 'max' : 'min';
    terms.push(
      `(SELECT ${agg}(s.${column}) FROM ${TABLES[def.type]} s WHERE s.resource_type = ${a}.resource_type AND s.id = ${a}.id AND s.code = ${ctx.params.add(def.code)}) ${dir} NULLS LAST`,
    );
  }
  return terms;
}
