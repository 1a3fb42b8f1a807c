/**
 * `$validate` (https://hl7.org/fhir/R4/resource-operation-validate.html): the body is the
 * resource, or a Parameters with `resource` and optional `profile`. Always 200 with the
 * OperationOutcome when the request itself is well formed; the verdict is in the issues.
 * The validation itself runs through `deps.validation` (a worker pool in the server), within its
 * budget: too many elements 413, too long 422, too many waiting 503.
 * Over HTTP, each issue carries its line and column in the request body (the standard
 * operationoutcome-issue-line/-col extensions), located in the body's text once, when there are issues.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { parameterList } from '../fhir/parameters';
import { badRequest, notFound } from '../outcomes';
import { bodyValidator, type ValidateOptions, type Validator } from '../validation';
import { type PathSegment, withPositions } from '../validation/positions';
import type { FhirDeps, FhirHandler } from './types';

export const VALIDATE_OPERATION = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

/**
 * What a `$validate` body asks to validate; `typeInUrl` is the `{type}` of `/{type}/$validate`.
 * `at`: where the resource is in the body (`['parameter', 1, 'resource']` in a Parameters).
 * 400/404 when the request is malformed.
 */
export function validateRequest(
  validator: Validator,
  body: unknown,
  typeInUrl: string | undefined,
): { resource: unknown; options: ValidateOptions; at: PathSegment[] } {
  if (typeInUrl && !validator.defs.isResourceType(typeInUrl)) {
    throw notFound(`Unknown resource type '${typeInUrl}' in the URL`);
  }
  let resource: unknown = body;
  let profile: string | undefined;
  let at: PathSegment[] = [];
  if (isObject(body) && body.resourceType === 'Parameters' && typeInUrl !== 'Parameters') {
    const params = parameterList(body);
    const resourceParam = params.find((p) => p.name === 'resource');
    if (!resourceParam?.resource) {
      throw badRequest("Parameters must have a 'resource' parameter holding the resource to validate", 'Parameters.parameter');
    }
    resource = resourceParam.resource;
    at = ['parameter', (body.parameter as unknown[]).indexOf(resourceParam), 'resource'];
    const profileParam = params.find((p) => p.name === 'profile');
    const value: unknown = profileParam?.valueUri ?? profileParam?.valueCanonical ?? profileParam?.valueString;
    if (value !== undefined && typeof value !== 'string') {
      throw badRequest("The 'profile' parameter must be a valueUri, valueCanonical or valueString", 'Parameters.parameter');
    }
    profile = value;
  }
  if (typeInUrl && isObject(resource) && resource.resourceType !== typeInUrl) {
    throw badRequest(`The URL says ${typeInUrl} but the body is a ${String(resource.resourceType)}`, 'resourceType');
  }
  return { resource, options: { profile }, at };
}

/** Validates a `$validate` body: the OperationOutcome with the verdict; given the body's text, its issues' lines and columns. */
export async function validateBody(deps: FhirDeps, body: unknown, typeInUrl: string | undefined, bodyText?: string): Promise<OperationOutcome> {
  const { resource, options, at } = validateRequest(deps.validator, body, typeInUrl);
  const result = await bodyValidator(deps).validate(resource, options);
  if (bodyText === undefined || result.issues.length === 0) {
    return result.outcome;
  }
  return { ...result.outcome, issue: withPositions(result.issues, bodyText, at) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export const validateHandler: FhirHandler = async (req, deps) => ({
  status: 200,
  body: await validateBody(deps, req.body, req.params.type, req.bodyText),
});
