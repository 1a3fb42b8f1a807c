/**
 * `$validate` (https://hl7.org/fhir/R4/resource-operation-validate.html): the body is the
 * resource, or a Parameters with `resource` and optional `profile`. Always 200 with the
 * OperationOutcome when the request itself is well formed; the verdict is in the issues.
 */
import type { OperationOutcome, Parameters } from '@medplum/fhirtypes';
import { badRequest, FhirError, notFound } from '../outcomes';
import type { Validator } from '../validation';
import type { FhirHandler } from './types';

export const VALIDATE_OPERATION = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

/** Validates a `$validate` body; `typeInUrl` is the `{type}` of `/{type}/$validate`. */
export function validateBody(validator: Validator, body: unknown, typeInUrl: string | undefined): OperationOutcome {
  if (typeInUrl && !validator.defs.isResourceType(typeInUrl)) {
    throw new FhirError(notFound(`Unknown resource type '${typeInUrl}' in the URL`), 404);
  }
  let resource: unknown = body;
  let profile: string | undefined;
  if (isObject(body) && body.resourceType === 'Parameters' && typeInUrl !== 'Parameters') {
    const params = (body as unknown as Parameters).parameter ?? [];
    const resourceParam = params.find((p) => p?.name === 'resource');
    if (!resourceParam?.resource) {
      throw new FhirError(badRequest("Parameters must have a 'resource' parameter holding the resource to validate", 'Parameters.parameter'), 400);
    }
    resource = resourceParam.resource;
    const profileParam = params.find((p) => p?.name === 'profile');
    profile = profileParam?.valueUri ?? profileParam?.valueCanonical ?? profileParam?.valueString;
  }
  if (typeInUrl && isObject(resource) && resource.resourceType !== typeInUrl) {
    throw new FhirError(badRequest(`The URL says ${typeInUrl} but the body is a ${String(resource.resourceType)}`, 'resourceType'), 400);
  }
  return validator.validate(resource, { profile }).outcome;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export const validateHandler: FhirHandler = async (req, deps) => ({
  status: 200,
  body: validateBody(deps.validator, req.body, req.params.type),
});
