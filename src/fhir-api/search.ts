/**
 * search (https://hl7.org/fhir/R4/http.html#search): `GET /{type}?...` (and `POST
 * /{type}/_search`) answered with a `searchset` Bundle: matches, `_include`d resources, an
 * OperationOutcome entry for ignored parameters, `self`/`next` links, `total` when asked for.
 * `_elements` trims matches to the listed elements and tags them SUBSETTED.
 */
import type { Bundle, BundleEntry, BundleLink, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { WITHHELD_TEXT } from '../store/access-sql';
import { countParam, parseSearch, queryString, queryValue, strictHandling, typeParam } from './http-rules';
import type { FhirHandler, FhirRequest } from './types';

/** https://hl7.org/fhir/R4/search.html#elements */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

export const searchHandler: FhirHandler = async (req, deps) => {
  const type = typeParam(req, deps);
  // @medplum/core reads `_count=1e9` as 1: check the text here so bad values are a 400, big ones clamped.
  const query = { ...req.query };
  if (query._count !== undefined) {
    query._count = String(countParam(query, 0, Number.MAX_SAFE_INTEGER));
  }
  const search = parseSearch(type, query);
  const summary = queryValue(req.query, '_summary');
  const result = await deps.repo.search(search, { strict: strictHandling(req.headers), cursor: queryValue(req.query, '_cursor') });
  const warnings = [...result.warnings];
  if (summary && summary !== 'count') {
    warnings.push(`_summary=${summary} is not supported; full resources returned`);
  }
  const entries: BundleEntry[] = [
    ...result.resources.map((r) => entry(req, elements(r, search.fields), 'match')),
    ...result.included.map((r) => entry(req, r, 'include')),
  ];
  // A client's searches always carry the 42 CFR Part 2 notice, so it says nothing of what matched (issue 11 item 7).
  if (warnings.length > 0 || deps.access) {
    entries.push({ resource: warningOutcome(warnings, !!deps.access), search: { mode: 'outcome' } });
  }
  const self = `${req.baseUrl}/${type}`;
  const links: BundleLink[] = [{ relation: 'self', url: withQuery(self, queryString(req.query)) }];
  if (result.next) {
    links.push({ relation: 'next', url: withQuery(self, queryString({ ...req.query, _cursor: result.next })) });
  }
  return { status: 200, body: searchset(links, entries, result.total) };
};

/** A `searchset` Bundle of `entry` (left out when empty) with its links and `total`. */
export function searchset(link: BundleLink[], entry: BundleEntry[], total?: number): Bundle {
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset' };
  if (total !== undefined) {
    bundle.total = total;
  }
  bundle.link = link;
  // An empty array is not valid FHIR JSON (https://hl7.org/fhir/R4/json.html): no matches, no `entry`.
  if (entry.length > 0) {
    bundle.entry = entry;
  }
  return bundle;
}

export function entry(req: FhirRequest, resource: Resource, mode: 'match' | 'include'): BundleEntry {
  return { fullUrl: `${req.baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode } };
}

export const withQuery = (url: string, qs: string): string => (qs ? `${url}?${qs}` : url);

/**
 * The outcome entry of a searchset: ignored parameters, and (`part2Notice`, on every response to
 * a client) that 42 CFR Part 2 records are released only with consent (code `suppressed`).
 */
export function warningOutcome(warnings: string[], part2Notice = false): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      ...warnings.map((text) => ({ severity: 'warning' as const, code: 'not-supported' as const, details: { text } })),
      ...(part2Notice ? [{ severity: 'information' as const, code: 'suppressed' as const, details: { text: WITHHELD_TEXT } }] : []),
    ],
  };
}

/** `_elements`: keeps the listed top-level elements plus the mandatory ones, tagged SUBSETTED. */
export function elements(resource: Resource, fields: string[] | undefined): Resource {
  if (!fields?.length) {
    return resource;
  }
  const keep = new Set(['resourceType', 'id', 'meta', ...fields.map((f) => f.split('.')[0])]);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    if (keep.has(k)) {
      out[k] = v;
    }
  }
  const meta = resource.meta ?? {};
  out.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return out as unknown as Resource;
}
