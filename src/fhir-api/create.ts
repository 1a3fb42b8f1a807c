/**
 * create (https://hl7.org/fhir/R4/http.html#create): `POST /{type}`, server-assigned id, 201 with
 * Location and ETag. With `If-None-Exist` it is a conditional create: an existing match is
 * answered with 200 and nothing is written.
 */
import { parseQueryString, parseSearch, resourceBody, typeParam, validateForWrite, writeResponse } from './http-rules';
import type { FhirHandler } from './types';

export const createHandler: FhirHandler = async (req, deps) => {
  const type = typeParam(req, deps);
  const body = resourceBody(req.body, type);
  // The server assigns the id; one in the body is ignored (http.html#create).
  const { id: _ignored, ...resource } = body;
  await validateForWrite(deps, resource);
  const ifNoneExist = req.headers['if-none-exist'];
  if (ifNoneExist) {
    const query = parseQueryString(ifNoneExist.replace(/^[^?]*\?/, ''));
    const result = await deps.repo.conditionalCreate(resource, parseSearch(type, query));
    return writeResponse(req, result.created ? 201 : 200, result.resource, result.created ? 'Created' : 'A matching resource exists; nothing created');
  }
  const created = await deps.repo.create(resource);
  return writeResponse(req, 201, created, 'Created');
};
