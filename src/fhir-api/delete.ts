/**
 * delete (https://hl7.org/fhir/R4/http.html#delete): writes a tombstone version; deleting an
 * unknown or already deleted id succeeds too. 204, or 200 with an OperationOutcome when
 * `Prefer: return=OperationOutcome`.
 */
import { allOk } from '../outcomes';
import { idParam, ifMatchVersion, preferReturn, typeParam } from './http-rules';
import type { FhirHandler } from './types';

export const deleteHandler: FhirHandler = async (req, deps) => {
  const type = typeParam(req, deps);
  const id = idParam(req);
  await deps.repo.delete(type, id, { ifMatch: ifMatchVersion(req.headers['if-match']) });
  if (preferReturn(req.headers) === 'OperationOutcome') {
    return { status: 200, body: allOk(`Deleted ${type}/${id}`) };
  }
  return { status: 204 };
};
