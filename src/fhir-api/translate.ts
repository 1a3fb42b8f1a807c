/**
 * `$translate` on ConceptMap (https://hl7.org/fhir/R4/conceptmap-operation-translate.html), over
 * the ConceptMaps in the store (the mapping folders' code tables are published there, see
 * src/pipeline/concept-maps.ts):
 * `POST|GET [base]/ConceptMap/$translate` and `POST|GET [base]/ConceptMap/{id}/$translate`.
 *
 * Which maps: the instance's; else the one with `url` (`conceptMapVersion`, or `url|version`;
 * the highest version when several); else one given in the body (`conceptMap`); else every map
 * with a group for the code's system (its target system with `reverse`), narrowed by `source`
 * and `target` value sets. Unknown id or url: 404.
 *
 * What matches, per group whose source is the code's system (and `version`, `targetsystem`):
 * each target of the element with that code (`equivalence` as mapped, R4 default `equivalent`),
 * else the group's `unmapped` fallback (R4 leaves its equivalence open, we say):
 * - `provided`: the same code in the target system, `equal`;
 * - `fixed`: the fixed code, `inexact`: a catch-all is not a claim that the meanings agree (Medplum
 *   answers `equivalent`; HAPI does not apply `unmapped`);
 * - `other-map`: the code translated with the map at `unmapped.url` (at most 3 maps deep).
 * An element whose targets are all `unmatched` is a statement that nothing maps: `unmapped` is not
 * applied (R4 ConceptMap.group.unmapped). With `reverse=true` the map is read backwards (target ->
 * source) with wider/narrower and subsumes/specializes swapped; `unmapped` does not apply.
 *
 * `result` is true when some match has an equivalence other than `unmatched` or `disjoint`;
 * `message` says why not otherwise.
 */
import { Operator, type Filter } from '@medplum/core';
import type { CodeableConcept, Coding, ConceptMap, ConceptMapGroup, ConceptMapGroupElementTarget, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, FhirError, notFound } from '../outcomes';
import type { Repository } from '../store/repository';
import type { FhirHandler, FhirRequest, Route } from './types';

export const TRANSLATE_OPERATION = 'http://hl7.org/fhir/OperationDefinition/ConceptMap-translate';

/** The operation's inputs (R4 OperationDefinition ConceptMap-translate). */
export interface TranslateInput {
  url?: string;
  conceptMap?: ConceptMap;
  conceptMapVersion?: string;
  code?: string;
  system?: string;
  version?: string;
  source?: string;
  coding?: Coding;
  codeableConcept?: CodeableConcept;
  target?: string;
  targetsystem?: string;
  reverse: boolean;
}

type Equivalence = NonNullable<ConceptMapGroupElementTarget['equivalence']>;

export interface TranslateMatch {
  equivalence: Equivalence;
  concept?: Coding;
  /** The ConceptMap's url (its reference when it has none). */
  source: string;
  product?: { element?: string; concept: Coding }[];
}

/** Parameter name -> the value[x] properties accepted for it (R4 types first). */
const PRIMITIVES: Record<string, string[]> = {
  url: ['valueUri', 'valueCanonical', 'valueUrl', 'valueString'],
  conceptMapVersion: ['valueString'],
  code: ['valueCode', 'valueString'],
  system: ['valueUri', 'valueCanonical', 'valueString'],
  version: ['valueString'],
  source: ['valueUri', 'valueCanonical', 'valueString'],
  target: ['valueUri', 'valueCanonical', 'valueString'],
  targetsystem: ['valueUri', 'valueCanonical', 'valueString'],
};

/** Reads the inputs from a Parameters body. */
export function inputFromParameters(body: unknown): TranslateInput {
  const params = body as Parameters | undefined;
  if (!params || typeof params !== 'object' || params.resourceType !== 'Parameters') {
    throw badRequest('$translate takes a Parameters resource (https://hl7.org/fhir/R4/conceptmap-operation-translate.html)');
  }
  if (params.parameter !== undefined && !Array.isArray(params.parameter)) {
    throw badRequest('Parameters.parameter must be an array', 'Parameters.parameter');
  }
  const input: TranslateInput = { reverse: false };
  const seen = new Set<string>();
  (params.parameter ?? []).forEach((p: ParametersParameter, i) => {
    const at = `Parameters.parameter[${i}]`;
    const name = String(p?.name);
    if (seen.has(name)) throw badRequest(`${name} must be given once`, at);
    seen.add(name);
    const record = p as unknown as Record<string, unknown>;
    const want = (keys: string[], type: string): unknown => {
      const key = keys.find((k) => record[k] !== undefined);
      if (key === undefined) throw badRequest(`${name} must have a ${type}`, at);
      return record[key];
    };
    if (name in PRIMITIVES) {
      const value = want(PRIMITIVES[name], PRIMITIVES[name][0]);
      if (typeof value !== 'string' || value === '') throw badRequest(`${name} must be a non-empty ${PRIMITIVES[name][0]}`, at);
      (input as unknown as Record<string, string>)[name] = value;
    } else if (name === 'reverse') {
      const value = want(['valueBoolean'], 'valueBoolean');
      if (typeof value !== 'boolean') throw badRequest('reverse must be a valueBoolean', at);
      input.reverse = value;
    } else if (name === 'coding') {
      const value = want(['valueCoding'], 'valueCoding');
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest('coding must be a valueCoding', at);
      input.coding = value;
    } else if (name === 'codeableConcept') {
      const value = want(['valueCodeableConcept'], 'valueCodeableConcept');
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest('codeableConcept must be a valueCodeableConcept', at);
      input.codeableConcept = value;
    } else if (name === 'conceptMap') {
      const value = p.resource;
      if (!value || value.resourceType !== 'ConceptMap') throw badRequest('conceptMap must be a ConceptMap resource', at);
      input.conceptMap = value;
    } else if (name === 'dependency') {
      throw badRequest('dependency is not supported by this server', at);
    } else {
      throw badRequest(`Unknown parameter '${name}' for $translate`, at);
    }
  });
  return input;
}

/** Reads the inputs from a GET query (primitive parameters only). */
export function inputFromQuery(query: FhirRequest['query']): TranslateInput {
  const input: TranslateInput = { reverse: false };
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined || name === '_format' || name === '_pretty') continue;
    if (Array.isArray(raw)) throw badRequest(`${name} must be given once`, name);
    if (name in PRIMITIVES) {
      if (raw === '') throw badRequest(`${name} must not be empty`, name);
      (input as unknown as Record<string, string>)[name] = raw;
    } else if (name === 'reverse') {
      if (raw !== 'true' && raw !== 'false') throw badRequest(`reverse must be true or false (got '${raw}')`, name);
      input.reverse = raw === 'true';
    } else if (name === 'coding' || name === 'codeableConcept' || name === 'conceptMap' || name === 'dependency') {
      throw badRequest(`${name} is not a primitive: send it in a Parameters body with POST`, name);
    } else {
      throw badRequest(`Unknown parameter '${name}' for $translate`, name);
    }
  }
  return input;
}

/** The (system, code) pairs to translate: `code` + `system`, or `coding`, or `codeableConcept`. */
function codings(input: TranslateInput): { system: string; code: string }[] {
  const given = [input.code !== undefined, input.coding !== undefined, input.codeableConcept !== undefined].filter(Boolean).length;
  if (given === 0) throw badRequest('Give the code to translate: code and system, or coding, or codeableConcept', 'code');
  if (given > 1) throw badRequest('Give only one of code (with system), coding or codeableConcept', 'code');
  if (input.code !== undefined) {
    if (input.system === undefined) throw badRequest('system is required with code', 'system');
    return [{ system: input.system, code: input.code }];
  }
  const list = input.coding ? [input.coding] : (input.codeableConcept?.coding ?? []);
  const name = input.coding ? 'coding' : 'codeableConcept.coding';
  if (list.length === 0) throw badRequest(`${name} has no coding to translate`, name);
  return list.map((c, i) => {
    if (typeof c?.code !== 'string' || !c.code || typeof c.system !== 'string' || !c.system) {
      throw badRequest(`${name}${input.coding ? '' : `[${i}]`} needs both system and code`, name);
    }
    return { system: c.system, code: c.code };
  });
}

const MAX_MAPS = 10_000;

async function searchMaps(repo: Repository, filters: Filter[]): Promise<ConceptMap[]> {
  const maps: ConceptMap[] = [];
  let cursor: string | undefined;
  do {
    const page = await repo.search({ resourceType: 'ConceptMap', filters, count: 1000 }, cursor !== undefined ? { cursor } : {});
    maps.push(...(page.resources as ConceptMap[]));
    cursor = page.next;
  } while (cursor !== undefined && maps.length < MAX_MAPS);
  return maps;
}

/** Numeric-aware comparison of version strings (`1.10` after `1.9`). */
const byVersion = (a: ConceptMap, b: ConceptMap): number =>
  (b.version ?? '').localeCompare(a.version ?? '', undefined, { numeric: true }) || (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? '');

/** The map with a canonical url (`url|version` allowed), the highest version unless one is named; 404 when none. */
async function mapByUrl(repo: Repository, canonical: string, version?: string): Promise<ConceptMap> {
  const bar = canonical.indexOf('|');
  const url = bar >= 0 ? canonical.slice(0, bar) : canonical;
  const wanted = version ?? (bar >= 0 ? canonical.slice(bar + 1) : undefined);
  const filters: Filter[] = [{ code: 'url', operator: Operator.EQUALS, value: url }];
  const maps = (await searchMaps(repo, filters)).filter((m) => m.url === url && (wanted === undefined || m.version === wanted));
  if (maps.length === 0) {
    throw notFound(`No ConceptMap with url ${url}${wanted !== undefined ? ` and version ${wanted}` : ''}`);
  }
  return maps.sort(byVersion)[0];
}

const mapSource = (m: ConceptMap): string | undefined => m.sourceUri ?? m.sourceCanonical;
const mapTarget = (m: ConceptMap): string | undefined => m.targetUri ?? m.targetCanonical;

/** The maps the request names, or every map with a group for one of the systems. */
async function selectMaps(input: TranslateInput, id: string | undefined, repo: Repository, systems: string[]): Promise<{ maps: ConceptMap[]; named: boolean }> {
  if (id !== undefined) return { maps: [await repo.read<ConceptMap>('ConceptMap', id)], named: true };
  if (input.url !== undefined) return { maps: [await mapByUrl(repo, input.url, input.conceptMapVersion)], named: true };
  if (input.conceptMap) return { maps: [input.conceptMap], named: true };
  if (input.conceptMapVersion !== undefined) throw badRequest('conceptMapVersion needs url', 'conceptMapVersion');
  const distinct = [...new Set(systems)];
  // The search narrows by group system when there is one system; the check below is exact either way.
  const filters: Filter[] =
    distinct.length === 1 ? [{ code: input.reverse ? 'target-system' : 'source-system', operator: Operator.EQUALS, value: distinct[0] }] : [];
  // With reverse, `source` and `target` name the value sets of the code given and of the answer.
  const [from, to] = input.reverse ? [mapTarget, mapSource] : [mapSource, mapTarget];
  const maps = (await searchMaps(repo, filters)).filter(
    (m) =>
      (m.group ?? []).some((g) => distinct.includes((input.reverse ? g.target : g.source) ?? '')) &&
      (input.source === undefined || from(m) === input.source) &&
      (input.target === undefined || to(m) === input.target),
  );
  return { maps: maps.sort((a, b) => (a.url ?? a.id ?? '').localeCompare(b.url ?? b.id ?? '')), named: false };
}

const REVERSED: Partial<Record<Equivalence, Equivalence>> = { wider: 'narrower', narrower: 'wider', subsumes: 'specializes', specializes: 'subsumes' };

const coding = (system: string | undefined, version: string | undefined, code: string, display?: string): Coding => ({
  ...(system !== undefined ? { system } : {}),
  ...(version !== undefined ? { version } : {}),
  code,
  ...(display !== undefined ? { display } : {}),
});

const MAX_DEPTH = 3;

/** The matches of one (system, code) in one map. */
async function translateIn(map: ConceptMap, system: string, code: string, input: TranslateInput, repo: Repository, depth: number): Promise<TranslateMatch[]> {
  const source = map.url ?? `ConceptMap/${map.id ?? ''}`;
  const matches: TranslateMatch[] = [];
  for (const group of map.group ?? []) {
    const [from, fromVersion, to] = input.reverse ? [group.target, group.targetVersion, group.source] : [group.source, group.sourceVersion, group.target];
    if (from !== system || (input.version !== undefined && fromVersion !== undefined && fromVersion !== input.version)) continue;
    if (input.targetsystem !== undefined && to !== input.targetsystem) continue;
    if (input.reverse) {
      for (const element of group.element ?? []) {
        for (const t of element.target ?? []) {
          if (t.code !== code || element.code === undefined) continue;
          const eq = t.equivalence ?? 'equivalent';
          matches.push({ equivalence: REVERSED[eq] ?? eq, concept: coding(group.source, group.sourceVersion, element.code, element.display), source });
        }
      }
      continue;
    }
    const elements = (group.element ?? []).filter((e) => e.code === code);
    if (elements.length > 0) {
      for (const t of elements.flatMap((e) => e.target ?? [])) {
        const product = (t.product ?? [])
          .filter((p) => p.value !== undefined)
          .map((p) => ({ ...(p.property ? { element: p.property } : {}), concept: coding(p.system, undefined, p.value, p.display) }));
        matches.push({
          equivalence: t.equivalence ?? 'equivalent',
          ...(t.code !== undefined ? { concept: coding(group.target, group.targetVersion, t.code, t.display) } : {}),
          source,
          ...(product.length ? { product } : {}),
        });
      }
      // Listed with no target, or only `unmatched` ones: a statement that nothing maps.
      continue;
    }
    matches.push(...(await unmapped(group, code, source, input, repo, depth)));
  }
  return matches;
}

/** The group's fallback for a code it does not list. */
async function unmapped(
  group: ConceptMapGroup,
  code: string,
  source: string,
  input: TranslateInput,
  repo: Repository,
  depth: number,
): Promise<TranslateMatch[]> {
  const u = group.unmapped;
  switch (u?.mode) {
    case 'provided':
      return [{ equivalence: 'equal', concept: coding(group.target, group.targetVersion, code), source }];
    case 'fixed':
      return u.code !== undefined ? [{ equivalence: 'inexact', concept: coding(group.target, group.targetVersion, u.code, u.display), source }] : [];
    case 'other-map': {
      if (u.url === undefined || depth >= MAX_DEPTH || group.source === undefined) return [];
      const other = await mapByUrl(repo, u.url).catch((err: unknown) => {
        if (err instanceof FhirError && err.status === 404) return undefined;
        throw err;
      });
      return other ? translateIn(other, group.source, code, input, repo, depth + 1) : [];
    }
    default:
      return [];
  }
}

const NO_MATCH = new Set<string>(['unmatched', 'disjoint']);

function matchParameter(m: TranslateMatch): ParametersParameter {
  const part: ParametersParameter[] = [{ name: 'equivalence', valueCode: m.equivalence }];
  if (m.concept) part.push({ name: 'concept', valueCoding: m.concept });
  for (const p of m.product ?? []) {
    part.push({ name: 'product', part: [...(p.element ? [{ name: 'element', valueUri: p.element }] : []), { name: 'concept', valueCoding: p.concept }] });
  }
  part.push({ name: 'source', valueUri: m.source });
  return { name: 'match', part };
}

/** Runs `$translate`: the output Parameters (`result`, `message`, `match`). */
export async function translate(input: TranslateInput, id: string | undefined, repo: Repository): Promise<Parameters> {
  const pairs = codings(input);
  const { maps, named } = await selectMaps(
    input,
    id,
    repo,
    pairs.map((p) => p.system),
  );
  const matches: TranslateMatch[] = [];
  for (const map of maps) {
    for (const { system, code } of pairs) {
      matches.push(...(await translateIn(map, system, code, input, repo, 0)));
    }
  }
  const result = matches.some((m) => !NO_MATCH.has(m.equivalence));
  const parameter: ParametersParameter[] = [{ name: 'result', valueBoolean: result }];
  if (!result) {
    const what = pairs.map((p) => `${p.system}|${p.code}`).join(', ');
    const where = named
      ? `ConceptMap ${maps[0].url ?? maps[0].id ?? ''}`
      : maps.length
        ? `the ${maps.length} ConceptMap(s) for its system`
        : 'any ConceptMap (none maps its system)';
    parameter.push({
      name: 'message',
      valueString: matches.length
        ? `${what} is mapped as ${[...new Set(matches.map((m) => m.equivalence))].join(', ')} in ${where}`
        : `No mapping of ${what}${input.reverse ? ' (reverse)' : ''} in ${where}`,
    });
  }
  parameter.push(...matches.map(matchParameter));
  return { resourceType: 'Parameters', parameter };
}

const handler: FhirHandler = async (req, deps) => {
  const input = req.method === 'GET' ? inputFromQuery(req.query) : inputFromParameters(req.body);
  return { status: 200, body: await translate(input, req.params.id, deps.repo) };
};

/** The `$translate` routes (type and instance level, GET and POST). */
export function translateRoutes(): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/ConceptMap/$translate',
      handler,
      capability: [{ kind: 'operation', name: 'translate', definition: TRANSLATE_OPERATION, level: 'type', types: ['ConceptMap'] }],
    },
    { method: 'GET', pattern: '/ConceptMap/$translate', handler },
    { method: 'POST', pattern: '/ConceptMap/:id/$translate', handler },
    { method: 'GET', pattern: '/ConceptMap/:id/$translate', handler },
  ];
}
