/**
 * The parameters of a Bulk Data kick-off, read once, the same way for the scope check
 * (src/auth/permissions.ts) and for the job (kickoff.ts): the query string, and for POST a
 * `Parameters` body (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request).
 *
 * A body parameter's value is its one `value[x]`, whatever the type: the OperationDefinitions
 * type `_type` as string and `patient` as Reference, but a client may send `valueCode`,
 * `valueUri`, ...; reading only some of them let a scope check see less than the job exports
 * (issue 11 item 3). A primitive gives its text, a Reference its `reference`. A parameter with
 * no value, several values, or one that is neither text nor a Reference is a 400.
 */
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';

/** Parameter values by name, in request order (query first, then body). */
export type KickoffParameters = Map<string, string[]>;

/** Query values as Express (`req.query`) or URLSearchParams give them. */
export type QueryEntries = Iterable<[string, string | readonly string[] | undefined]>;

/** The one `value[x]` of a body parameter as text. */
function valueOf(p: Record<string, unknown>, at: string): string {
  const keys = Object.keys(p).filter((k) => /^value[A-Z]/.test(k));
  if (keys.length !== 1) {
    throw badRequest(`The parameter ${String(p.name)} needs exactly one value[x] (it has ${keys.length})`, at);
  }
  const v = p[keys[0]];
  if (typeof v === 'string') {
    return v;
  }
  if (v && typeof v === 'object' && typeof (v as { reference?: unknown }).reference === 'string') {
    return (v as { reference: string }).reference;
  }
  throw badRequest(`The parameter ${String(p.name)} takes text or a Reference, not ${keys[0]}`, `${at}.${keys[0]}`);
}

/**
 * Reads a kick-off's parameters: `query` always, `body` only for POST (a `Parameters` resource;
 * a POST without a body has only the query). Throws FhirError 400 for a body that is not
 * `Parameters` or a parameter without a name or with other than one text or Reference value.
 */
export function kickoffParameters(method: string, query: QueryEntries, body: unknown): KickoffParameters {
  const out: KickoffParameters = new Map();
  const add = (name: string, value: string): void => {
    out.set(name, [...(out.get(name) ?? []), value]);
  };
  for (const [name, v] of query) {
    for (const one of [v ?? []].flat()) {
      add(name, String(one));
    }
  }
  if (method.toUpperCase() !== 'POST' || body === undefined) {
    return out;
  }
  const params = body as Parameters;
  if (!params || typeof params !== 'object' || params.resourceType !== 'Parameters') {
    throw badRequest('A POST kick-off takes a Parameters resource as its body', 'resourceType');
  }
  if (params.parameter !== undefined && !Array.isArray(params.parameter)) {
    throw badRequest('Parameters.parameter must be an array', 'Parameters.parameter');
  }
  for (const [i, p] of (params.parameter ?? []).entries()) {
    const at = `Parameters.parameter[${i}]`;
    if (!p || typeof p !== 'object' || typeof p.name !== 'string' || !p.name) {
      throw badRequest('Every parameter needs a name', `${at}.name`);
    }
    add(p.name, valueOf(p as unknown as Record<string, unknown>, at));
  }
  return out;
}

/** The `_type` values: comma-separated and/or repeated, trimmed, without empty ones. */
export function typeValues(params: KickoffParameters): string[] | undefined {
  const values = params.get('_type');
  return values
    ?.flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
}
