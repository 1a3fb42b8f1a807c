/**
 * read and vread (https://hl7.org/fhir/R4/http.html#read): 404 for an unknown id, 410 for a
 * deleted one, with ETag and Last-Modified.
 *
 * read answers with the stored JSON text (`repo.readText`): nothing in a read changes the body
 * (no `_summary` or `_elements` on read; JSON is the only format), so it is never parsed and
 * serialised again. A caller that wants the object (a batch's GET entry) gets `body`, parsed
 * from the text on first use.
 */
import type { Resource } from '@medplum/fhirtypes';
import { idParam, typeParam, versionHeaders } from './http-rules';
import type { FhirHandler, FhirResponse } from './types';

export const readHandler: FhirHandler = async (req, deps) => {
  const stored = await deps.repo.readText(typeParam(req, deps), idParam(req));
  const headers = versionHeaders({ resourceType: 'Basic', meta: { versionId: stored.versionId, lastUpdated: stored.lastUpdated } } as Resource, req.baseUrl);
  return textResponse(200, stored.text, headers);
};

/** A response whose body is JSON text; `body` parses it when (and only when) someone reads it. */
export function textResponse(status: number, text: string, headers: Record<string, string>): FhirResponse {
  let parsed: Resource | undefined;
  return {
    status,
    headers,
    bodyText: text,
    get body(): Resource {
      parsed ??= JSON.parse(text) as Resource;
      return parsed;
    },
  };
}

export const vreadHandler: FhirHandler = async (req, deps) => {
  const resource = await deps.repo.readVersion(typeParam(req, deps), idParam(req), req.params.vid);
  return { status: 200, body: resource, headers: versionHeaders(resource, req.baseUrl) };
};
