/**
 * history (https://hl7.org/fhir/R4/http.html#history) of an instance, a type or the whole system,
 * newest first, as a `history` Bundle paged by `_count` and `_offset`, filtered by `_since`.
 */
import type { Bundle, BundleLink, ResourceType } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';
import { countParam, idParam, instantParam, queryString, queryValue, typeParam } from './http-rules';
import type { FhirHandler, FhirRequest } from './types';

const MAX_HISTORY = 1000;

async function history(req: FhirRequest, deps: Parameters<FhirHandler>[1], type?: ResourceType, id?: string): Promise<Bundle> {
  const count = countParam(req.query, 100, MAX_HISTORY);
  const offsetText = queryValue(req.query, '_offset') ?? '0';
  if (!/^\d+$/.test(offsetText)) {
    throw badRequest(`_offset must be a whole number (got '${offsetText}')`, '_offset');
  }
  const offset = Number(offsetText);
  const excludeTypes = deps.access ? undefined : deps.crossTypeHidden;
  const bundle = await deps.repo.history(type, id, { since: instantParam(req.query, '_since'), count, offset, ...(excludeTypes ? { excludeTypes } : {}) });
  const self = `${req.baseUrl}${req.path}`;
  const links: BundleLink[] = [{ relation: 'self', url: withQuery(self, queryString(req.query)) }];
  if (bundle.total !== undefined && offset + count < bundle.total && count > 0) {
    links.push({ relation: 'next', url: withQuery(self, queryString({ ...req.query, _offset: String(offset + count), _count: String(count) })) });
  }
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    const target = r ? `${r.resourceType}/${r.id}` : entry.request?.url;
    entry.fullUrl = `${req.baseUrl}/${target}`;
  }
  const { entry, ...rest } = bundle;
  // An empty array is not valid FHIR JSON: an empty page has no `entry`.
  return { ...rest, link: links, ...(entry?.length ? { entry } : {}) };
}

const withQuery = (url: string, qs: string): string => (qs ? `${url}?${qs}` : url);

export const instanceHistoryHandler: FhirHandler = async (req, deps) => ({
  status: 200,
  body: await history(req, deps, typeParam(req, deps), idParam(req)),
});

export const typeHistoryHandler: FhirHandler = async (req, deps) => ({ status: 200, body: await history(req, deps, typeParam(req, deps)) });

export const systemHistoryHandler: FhirHandler = async (req, deps) => ({ status: 200, body: await history(req, deps) });
