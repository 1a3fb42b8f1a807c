/**
 * Reading a `Parameters` body (https://hl7.org/fhir/R4/parameters.html) an operation was sent.
 * The body is the client's JSON, typed only by hope: the shape is checked here, once, before any
 * operation looks a parameter up, so a `parameter` that is a string or a list of numbers is a 400
 * naming the element instead of a crash in the handler.
 */
import type { ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The `parameter` list of a Parameters resource: absent is empty; otherwise it must be an array
 * of objects, each with a string `name` and, when it has one, a `resource` that is a JSON object.
 * Value types are left to the operation (each knows which `value[x]` it reads). Throws a 400
 * OperationOutcome with the element's expression.
 */
export function parameterList(body: Record<string, unknown>): ParametersParameter[] {
  const list = body.parameter;
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    throw badRequest(`Parameters.parameter must be an array of parameters, not ${describe(list)}`, 'Parameters.parameter');
  }
  list.forEach((p: unknown, i) => {
    const at = `Parameters.parameter[${i}]`;
    if (!isObject(p)) throw badRequest(`${at} must be an object with a name, not ${describe(p)}`, at);
    if (typeof p.name !== 'string') throw badRequest(`${at}.name must be a string`, `${at}.name`);
    if (p.resource !== undefined && !isObject(p.resource)) {
      throw badRequest(`${at}.resource (${p.name}) must be a resource (a JSON object), not ${describe(p.resource)}`, `${at}.resource`);
    }
  });
  return list as ParametersParameter[];
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}
