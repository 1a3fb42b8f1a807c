/**
 * update (https://hl7.org/fhir/R4/http.html#update): `PUT /{type}/{id}`, creating the id when it
 * is new (201) and otherwise writing a new version (200); `If-Match` must name the current
 * version (412). Conditional update: `PUT /{type}?search` updates the one match, creates when
 * none, 412 for several.
 */
import { badRequest } from '../outcomes';
import { idParam, ifMatchVersion, parseSearch, resourceBody, typeParam, validateForWrite, writeResponse } from './http-rules';
import type { FhirHandler } from './types';

export const updateHandler: FhirHandler = async (req, deps) => {
  const type = typeParam(req, deps);
  const id = idParam(req);
  const resource = resourceBody(req.body, type);
  if (resource.id !== id) {
    const got = resource.id === undefined ? 'no id' : `id '${resource.id}'`;
    throw badRequest(`The URL says ${type}/${id} but the body has ${got}`, `${type}.id`);
  }
  await validateForWrite(deps, resource);
  const result = await deps.repo.update(resource, { ifMatch: ifMatchVersion(req.headers['if-match']) });
  return writeResponse(req, result.created ? 201 : 200, result.resource, result.created ? 'Created' : 'Updated');
};

export const conditionalUpdateHandler: FhirHandler = async (req, deps) => {
  const type = typeParam(req, deps);
  const resource = resourceBody(req.body, type);
  await validateForWrite(deps, resource);
  const search = parseSearch(type, req.query);
  const result = await deps.repo.conditionalUpdate(resource, search, { ifMatch: ifMatchVersion(req.headers['if-match']) });
  return writeResponse(req, result.created ? 201 : 200, result.resource, result.created ? 'Created' : 'Updated');
};
