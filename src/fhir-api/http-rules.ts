/**
 * REST rules shared by the handlers (https://hl7.org/fhir/R4/http.html): the body must be a
 * resource of the URL's type and pass validation, versions travel as weak ETags, `Prefer`
 * chooses what a write answers with.
 */
import { OperationOutcomeError, parseSearchRequest, type SearchRequest } from '@medplum/core';
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { allOk, badRequest, notFound, unprocessable } from '../outcomes';
import { bodyValidator } from '../validation';
import type { FhirDeps, FhirRequest, FhirResponse } from './types';

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** The `:type` parameter, checked. */
export function typeParam(req: FhirRequest, deps: FhirDeps): ResourceType {
  const type = req.params.type;
  if (!type || !deps.validator.defs.isResourceType(type)) {
    throw notFound(`Unknown resource type '${type}'`);
  }
  return type as ResourceType;
}

/** The `:id` parameter, checked against the FHIR id format. */
export function idParam(req: FhirRequest): string {
  const id = req.params.id;
  if (!id || !ID_RE.test(id)) {
    throw badRequest(`'${id}' is not a valid FHIR id ([A-Za-z0-9-.]{1,64})`);
  }
  return id;
}

/** The body as a resource of `type`: 400 when it is not one. */
export function resourceBody(body: unknown, type: ResourceType): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`The body must be a ${type} resource (a JSON object)`);
  }
  const rt = (body as { resourceType?: unknown }).resourceType;
  if (rt !== type) {
    throw badRequest(
      `The URL says ${type} but the body is ${rt === undefined ? 'not a resource (no resourceType)' : `a ${typeof rt === 'string' ? rt : JSON.stringify(rt)}`}`,
      'resourceType',
    );
  }
  return body as Resource;
}

/**
 * Validation on write: every create and update, direct or in a Bundle, against base R4 and the
 * profiles in `meta.profile`. Invalid: 422 with the validator's OperationOutcome.
 */
export async function validateForWrite(deps: FhirDeps, resource: unknown): Promise<void> {
  const result = await bodyValidator(deps).validate(resource);
  if (!result.valid) {
    throw unprocessable(result.outcome);
  }
}

/** `W/"3"` -> `3`; undefined when absent. 400 when present but not an ETag. */
export function ifMatchVersion(header: string | undefined): string | undefined {
  if (header === undefined || header === '') {
    return undefined;
  }
  const m = /^(?:W\/)?"([^"]+)"$/.exec(header.trim());
  if (!m) {
    throw badRequest(`If-Match must be a version ETag such as W/"3" (got '${header}')`);
  }
  return m[1];
}

/** ETag, Last-Modified (and Location for writes) of a stored version. */
export function versionHeaders(resource: Resource, baseUrl: string, location = false): Record<string, string> {
  const headers: Record<string, string> = {};
  const version = resource.meta?.versionId;
  if (version) {
    headers.etag = `W/"${version}"`;
  }
  if (resource.meta?.lastUpdated) {
    headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  }
  if (location && resource.id) {
    headers.location = `${baseUrl}/${resource.resourceType}/${resource.id}${version ? `/_history/${version}` : ''}`;
  }
  return headers;
}

/** The `Prefer` header's `return` (https://hl7.org/fhir/R4/http.html#ops). */
export function preferReturn(headers: FhirRequest['headers']): 'minimal' | 'representation' | 'OperationOutcome' {
  const m = /(?:^|[;,\s])return=(minimal|representation|OperationOutcome)\b/.exec(headers.prefer ?? '');
  return (m?.[1] as 'minimal' | 'representation' | 'OperationOutcome' | undefined) ?? 'representation';
}

/** `Prefer: handling=strict` (https://hl7.org/fhir/R4/search.html#errors); lenient is the default. */
export function strictHandling(headers: FhirRequest['headers']): boolean {
  return /(?:^|[;,\s])handling=strict\b/.test(headers.prefer ?? '');
}

/** The answer to a write, shaped by `Prefer: return=`. */
export function writeResponse(req: FhirRequest, status: number, resource: Resource, message: string): FhirResponse {
  const headers = versionHeaders(resource, req.baseUrl, true);
  switch (preferReturn(req.headers)) {
    case 'minimal':
      return { status, headers };
    case 'OperationOutcome':
      return { status, headers, body: allOk(message) };
    default:
      return { status, headers, body: resource };
  }
}

/** Parses search parameters with @medplum/core; its errors become 400 OperationOutcomes. */
export function parseSearch(type: ResourceType, query: FhirRequest['query']): SearchRequest {
  const clean: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && k !== '_format' && k !== '_pretty') {
      clean[k] = v;
    }
  }
  try {
    return parseSearchRequest(type, clean);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      throw badRequest(err.outcome);
    }
    throw badRequest(`Invalid search: ${(err as Error).message}`);
  }
}

/** A query string (`identifier=a|b&x=1`, the form of If-None-Exist and Bundle entry URLs) as a query object. */
export function parseQueryString(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [...[prev].flat(), v];
  }
  return out;
}

/** Rebuilds a query string from a query object (paging links). */
export function queryString(query: FhirRequest['query'], drop: string[] = []): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || drop.includes(k)) {
      continue;
    }
    for (const one of [v].flat()) {
      params.append(k, one);
    }
  }
  return params.toString();
}

/** Reads `_count` as the spec allows it (a non-negative whole number); anything else is a 400. */
export function countParam(query: FhirRequest['query'], fallback: number, max: number): number {
  const raw = query._count;
  if (raw === undefined) {
    return fallback;
  }
  const text = [raw].flat()[0] ?? '';
  if (!/^\d+$/.test(text)) {
    throw badRequest(`_count must be a whole number from 0 to ${max} (got '${text}')`, '_count');
  }
  return Math.min(Number(text), max);
}

/** `_since` and similar instants: 400 when not a FHIR instant/dateTime. */
export function instantParam(query: FhirRequest['query'], name: string): Date | undefined {
  const raw = query[name];
  if (raw === undefined) {
    return undefined;
  }
  const text = [raw].flat()[0] ?? '';
  const d = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw badRequest(`${name} must be an instant such as 2026-09-01T00:00:00Z (got '${text}')`, name);
  }
  return d;
}

/** A single-valued query parameter. */
export function queryValue(query: FhirRequest['query'], name: string): string | undefined {
  const v = query[name];
  return v === undefined ? undefined : [v].flat()[0];
}
