/**
 * read and vread (https://hl7.org/fhir/R4/http.html#read): 404 for an unknown id, 410 for a
 * deleted one, with ETag and Last-Modified.
 */
import { idParam, typeParam, versionHeaders } from './http-rules';
import type { FhirHandler } from './types';

export const readHandler: FhirHandler = async (req, deps) => {
  const resource = await deps.repo.read(typeParam(req, deps), idParam(req));
  return { status: 200, body: resource, headers: versionHeaders(resource, req.baseUrl) };
};

export const vreadHandler: FhirHandler = async (req, deps) => {
  const resource = await deps.repo.readVersion(typeParam(req, deps), idParam(req), req.params.vid);
  return { status: 200, body: resource, headers: versionHeaders(resource, req.baseUrl) };
};
