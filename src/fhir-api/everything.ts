/**
 * Patient `$everything` (https://hl7.org/fhir/R4/patient-operation-everything.html): the Patient
 * and every resource in its compartment, as pages of a `searchset` Bundle; `_since`, `_type`
 * and `_count` as the operation defines them. Resources outside the compartment that these
 * reference (Practitioner, Organization, Location...) are not added. A client's view (src/store
 * access-sql.ts) leaves out other tenants' resources, and 42 CFR Part 2 records without consent
 * (the Patient itself withheld: 404); a client's page always carries the Part 2 notice.
 */
import type { BundleLink, ResourceType } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';
import { countParam, idParam, instantParam, queryString, queryValue } from './http-rules';
import { entry, searchset, warningOutcome, withQuery } from './search';
import type { FhirHandler } from './types';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export const everythingHandler: FhirHandler = async (req, deps) => {
  const id = idParam(req);
  await deps.repo.read('Patient', id);
  const typeText = queryValue(req.query, '_type');
  let types: ResourceType[] | undefined;
  if (typeText) {
    types = typeText.split(',').map((t) => t.trim()) as ResourceType[];
    const unknown = types.filter((t) => !deps.validator.defs.isResourceType(t));
    if (unknown.length > 0) {
      throw badRequest(`Unknown resource type(s) in _type: ${unknown.join(', ')}`, '_type');
    }
  }
  const count = countParam(req.query, DEFAULT_PAGE, MAX_PAGE);
  const excludeTypes = deps.access ? undefined : deps.crossTypeHidden;
  const page = await deps.repo.compartment(id, {
    types,
    ...(excludeTypes ? { excludeTypes } : {}),
    since: instantParam(req.query, '_since'),
    count: Math.max(count, 1),
    cursor: queryValue(req.query, '_cursor'),
  });
  const self = `${req.baseUrl}/Patient/${id}/$everything`;
  const links: BundleLink[] = [{ relation: 'self', url: withQuery(self, queryString(req.query)) }];
  if (page.next) {
    links.push({ relation: 'next', url: withQuery(self, queryString({ ...req.query, _cursor: page.next })) });
  }
  const entries = page.resources.map((r) => entry(req, r, 'match'));
  if (deps.access) {
    entries.push({ resource: warningOutcome([], true), search: { mode: 'outcome' } });
  }
  return { status: 200, body: searchset(links, entries, page.total) };
};
