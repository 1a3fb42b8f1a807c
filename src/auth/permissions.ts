/**
 * What each request needs from the access token's scopes: every FHIR interaction and operation of
 * the route table (src/fhir-api/routes.ts, src/export/routes.ts, src/fhir-api/extract.ts), the
 * Bulk Data status and file endpoints, and `/ingest/{source}`, mapped to (type, c/r/u/d/s) as in
 * the SMART v2 table (see scopes.ts). Unknown paths need every interaction on `*`, so a route added
 * without an entry here fails closed (403) rather than open.
 *
 * | request | needs |
 * | --- | --- |
 * | `GET /`, `GET /fhir/metadata`, `/.well-known/smart-configuration` (also under `/fhir`), `/auth/token` | nothing (public) |
 * | `$validate`, `QuestionnaireResponse/$extract`, `ConceptMap[/{id}]/$translate` (GET or POST), `bulkstatus/*`, `bulkfiles/*` | a valid token |
 * | read, vread, `{type}/{id}/_history` | r on the type |
 * | search (GET or `_search`), `{type}/_history` | s on the type; `_include` r on the target type (`*` when not named), `_revinclude` r on the source type, chains and `_has` s on the type they search |
 * | `/_history`, `GET /fhir` | s on `*` |
 * | create | c (+ s with `If-None-Exist`) |
 * | update, patch | u (+ s when conditional) |
 * | delete | d (+ s when conditional) |
 * | `Patient/{id}/$everything` | r on Patient and on each `_type` (r on `*` without `_type`) |
 * | `$export` (system, Patient, Group) | r on each `_type` (query or Parameters body, any value[x]); without `_type` the job exports only the types the scopes read; Group also r on Group |
 * | `POST /fhir` transaction/batch | what each entry needs (`checkBundleEntries`) |
 * | `POST /ingest/{source}`, `POST /ingest/rejects/$retry` | c and u on `*` (v1 `system/*.write`, v2 `system/*.cu`) |
 * | `GET /ingest/rejects` (raw source records) | c, u and r on `*` (v1 `system/*.write system/*.read`, v2 `system/*.cru`) |
 * | writes to `AuditEvent` | refused for every client: the audit trail is written by the server only |
 * | `GET /admin/clients`, `GET /admin/clients/{id}`, `POST /admin/clients`, `DELETE /admin/clients/{id}` | s, r, c, d on `Client` (never given by `*`) |
 */
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { forbidden } from '../outcomes';
import { kickoffParameters, typeValues, type KickoffParameters } from '../export/parameters';
import { ADMIN_TYPES, allows, CLIENT_ADMIN_TYPE, INTERACTIONS, METRICS_TYPE, type Interaction, type Need, type Scope } from './scopes';

/** A need with where it comes from (`Bundle.entry[2]`), for the 403 message. */
export interface NeedAt extends Need {
  where?: string;
}

/** What a request needs. */
export type Requirement = { kind: 'public' } | { kind: 'token' } | { kind: 'scopes'; needs: NeedAt[] } | { kind: 'denied'; reason: string };

/** The part of an authenticated request's identity permission checks read. */
export interface ScopeHolder {
  scopes: readonly Scope[];
}

type Query = Map<string, string[]>;
type Headers = Record<string, string | string[] | undefined>;

const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const PUBLIC_PATHS = new Set(['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration', '/auth/token']);
/** Operations that read no stored data: a valid token is enough. */
const TOKEN_ONLY_OPS = new Set(['$validate']);
const TOKEN_ONLY_TYPE_OPS = new Set(['QuestionnaireResponse/$extract', 'ConceptMap/$translate']);
const MAX_BUNDLE_NESTING = 2;

const isType = (s: string | undefined): s is string => s !== undefined && TYPE_RE.test(s);

/** `/{type}/$validate`, `/QuestionnaireResponse/$extract`, `/ConceptMap[/{id}]/$translate`. */
function tokenOnlyOperation(segments: string[]): boolean {
  const [a, b, c] = segments;
  if (segments.length === 2) return TOKEN_ONLY_OPS.has(b) || TOKEN_ONLY_TYPE_OPS.has(`${a}/${b}`);
  return segments.length === 3 && a === 'ConceptMap' && c === '$translate';
}
const need = (type: string, ...interactions: Interaction[]): NeedAt[] => interactions.map((interaction) => ({ type, interaction }));
const scopes = (...needs: NeedAt[][]): Requirement => ({ kind: 'scopes', needs: needs.flat() });
const FULL: Requirement = scopes(need('*', ...INTERACTIONS));

function splitPath(path: string): { segments: string[]; query: Query } {
  const at = path.indexOf('?');
  const pathname = at < 0 ? path : path.slice(0, at);
  const query: Query = new Map();
  if (at >= 0) {
    addParams(query, new URLSearchParams(path.slice(at + 1)));
  }
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, query };
}

function addParams(query: Query, params: Iterable<[string, string]>): void {
  for (const [k, v] of params) {
    query.set(k, [...(query.get(k) ?? []), v]);
  }
}

function header(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name] ?? headers?.[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * What a request to the app needs. `path` is the path from the app's root with its query string
 * (`/fhir/Patient?_include=...`, `/ingest/canonical`); `body` the parsed body (a Bundle, a
 * `Parameters` for `$export`, `URLSearchParams` for a form `_search`); `headers` lower-case names.
 */
/**
 * Is the request one every caller may make without a token (`requiredPermission(...).kind ===
 * 'public'`)? The same rule, without working out what a non-public request needs (the bearer
 * middleware asks this of every request).
 */
export function isPublic(method: string, path: string): boolean {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const at = path.indexOf('?');
  // Express matches mount paths case-insensitively (`/FHIR/metadata` reaches the FHIR router).
  const pathname = ((at < 0 ? path : path.slice(0, at)).replace(/\/+$/, '') || '/').toLowerCase();
  return PUBLIC_PATHS.has(pathname) || (pathname === '/' && m === 'GET') || (pathname === '/fhir/metadata' && m === 'GET');
}

export function requiredPermission(method: string, path: string, body?: unknown, headers?: Headers): Requirement {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  if (isPublic(m, path)) {
    return { kind: 'public' };
  }
  const { segments, query } = splitPath(path);
  const mount = segments[0]?.toLowerCase();
  if (mount === 'fhir') {
    return fhirPermission(m, segments.slice(1), query, body, headers, 0);
  }
  if (mount === 'ingest') {
    return ingestPermission(m, segments.slice(1));
  }
  if (mount === 'admin') {
    return adminPermission(m, segments.slice(1));
  }
  if (mount === 'metrics') {
    // Prometheus metrics (src/ops/metrics.ts): their own scope, never granted by a `*` scope.
    return scopes(need(METRICS_TYPE, 'r'));
  }
  return FULL;
}

/** `/admin/clients[/{id}]`: the client registry, on the `Client` scopes only (a `*` scope never reaches it). */
function adminPermission(method: string, segments: string[]): Requirement {
  const [a] = segments;
  const n = segments.length;
  if (a === 'clients' && n === 1 && method === 'GET') return scopes(need(CLIENT_ADMIN_TYPE, 's'));
  if (a === 'clients' && n === 1 && method === 'POST') return scopes(need(CLIENT_ADMIN_TYPE, 'c'));
  if (a === 'clients' && n === 2 && method === 'GET') return scopes(need(CLIENT_ADMIN_TYPE, 'r'));
  if (a === 'clients' && n === 2 && method === 'DELETE') return scopes(need(CLIENT_ADMIN_TYPE, 'd'));
  return scopes(need(CLIENT_ADMIN_TYPE, ...INTERACTIONS));
}

/**
 * `/ingest/{source}` writes on every type; the rejects (raw source records, PHI) are read with
 * the ingest scopes plus read on `*`, and retried with the ingest scopes.
 */
function ingestPermission(method: string, segments: string[]): Requirement {
  const [a, b] = segments;
  if (a === 'rejects') {
    if (segments.length === 1 && method === 'GET') return scopes(need('*', 'c', 'u', 'r'));
    if (segments.length === 2 && b === '$retry' && method === 'POST') return scopes(need('*', 'c', 'u'));
    return FULL;
  }
  return segments.length === 1 && method === 'POST' ? scopes(need('*', 'c', 'u')) : FULL;
}

/**
 * What a request below the FHIR base needs (`segments` of the path after `/fhir`). Also used for
 * transaction and batch entries, whose URLs are relative to the base.
 */
function fhirPermission(method: string, segments: string[], query: Query, body: unknown, headers: Headers | undefined, nesting: number): Requirement {
  const [a, b, c, d] = segments;
  const n = segments.length;
  const hasQuery = [...query.keys()].some((k) => !k.startsWith('_format') && k !== '_pretty');
  if (
    n >= 1 &&
    isType(a) &&
    ADMIN_TYPES.has(a) &&
    ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) &&
    !(n === 2 && b === '_search') &&
    !(n === 2 && b === '$validate')
  ) {
    return { kind: 'denied', reason: `${a} is written by the server only` };
  }
  switch (method) {
    case 'GET':
      if (n === 0) return scopes(need('*', 's'));
      if (n === 1 && a === 'metadata') return { kind: 'public' };
      if (n === 1 && a === '_history') return scopes(need('*', 's'));
      if (n === 1 && a === '$export') return exportPermission(method, query, body);
      if ((n === 2 && a === 'bulkstatus') || (n === 3 && a === 'bulkfiles')) return { kind: 'token' };
      if (!isType(a)) return FULL;
      if (tokenOnlyOperation(segments)) return { kind: 'token' };
      if (n === 1) return scopes(need(a, 's'), searchExtras(query));
      if (n === 2 && b === '_history') return scopes(need(a, 's'));
      if (n === 2 && b === '$export' && a === 'Patient') return exportPermission(method, query, body);
      if (n === 2 && !b.startsWith('$') && !b.startsWith('_')) return scopes(need(a, 'r'));
      if (n === 3 && c === '_history') return scopes(need(a, 'r'));
      if (n === 3 && c === '$everything' && a === 'Patient') return scopes(need('Patient', 'r'), typesNeed(query, '_type'));
      if (n === 3 && c === '$export' && a === 'Group') return scopes(need('Group', 'r'), exportNeeds(method, query, body));
      if (n === 4 && c === '_history' && d !== undefined) return scopes(need(a, 'r'));
      return FULL;
    case 'POST':
      if (n === 0) return bundlePermission(body, nesting);
      if (n === 1 && TOKEN_ONLY_OPS.has(a)) return { kind: 'token' };
      if (n === 1 && a === '$export') return exportPermission(method, query, body);
      if (!isType(a)) return FULL;
      if (tokenOnlyOperation(segments)) return { kind: 'token' };
      if (n === 2 && b === '$export' && a === 'Patient') return exportPermission(method, query, body);
      if (n === 3 && c === '$export' && a === 'Group') return scopes(need('Group', 'r'), exportNeeds(method, query, body));
      if (n === 2 && b === '_search') {
        const all: Query = new Map(query);
        if (body instanceof URLSearchParams) {
          addParams(all, body);
        } else if (body && typeof body === 'object' && !('resourceType' in body)) {
          // A form already parsed into an object (`express.urlencoded`).
          addParams(
            all,
            Object.entries(body as Record<string, unknown>).flatMap(([k, v]) => [v].flat().map((x): [string, string] => [k, String(x)])),
          );
        }
        return scopes(need(a, 's'), searchExtras(all));
      }
      if (n === 1) return scopes(need(a, 'c'), header(headers, 'if-none-exist') ? need(a, 's') : []);
      return FULL;
    case 'PUT':
    case 'PATCH':
      if (!isType(a)) return FULL;
      if (n === 2 && !b.startsWith('$') && !b.startsWith('_')) return scopes(need(a, 'u'));
      if (n === 1 && hasQuery) return scopes(need(a, 'u', 's'));
      return FULL;
    case 'DELETE':
      if (n === 2 && a === 'bulkstatus') return { kind: 'token' };
      if (!isType(a)) return FULL;
      if (n === 2 && !b.startsWith('$') && !b.startsWith('_')) return scopes(need(a, 'd'));
      if (n === 1 && hasQuery) return scopes(need(a, 'd', 's'));
      return FULL;
    default:
      return FULL;
  }
}

/** `_type` values (comma-separated and/or repeated): r on each, or r on `*` without any. */
function typesNeed(query: Query, name: string): NeedAt[] {
  const types = (query.get(name) ?? [])
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  return types.length > 0 ? types.flatMap((t) => need(t, 'r')) : need('*', 'r');
}

/**
 * r on each `_type` of a kick-off, read from the query and (POST) a Parameters body by the same
 * parser the job uses (src/export/parameters.ts), every value[x] included. Without `_type` no
 * type is named here: the kick-off exports only the types the scopes read (`readTypes`) and
 * refuses when there are none. A body the parser refuses needs nothing here: the kick-off, with
 * the same parser on the same body, answers 400 before anything is exported.
 */
function exportNeeds(method: string, query: Query, body: unknown): NeedAt[] {
  let params: KickoffParameters;
  try {
    params = kickoffParameters(method, query, body);
  } catch {
    return [];
  }
  return (typeValues(params) ?? []).flatMap((t) => need(t, 'r'));
}

function exportPermission(method: string, query: Query, body: unknown): Requirement {
  return scopes(exportNeeds(method, query, body));
}

/** `_include`, `_revinclude`, chained parameters and `_has` read or search other types. */
function searchExtras(query: Query): NeedAt[] {
  const out: NeedAt[] = [];
  for (const [key, values] of query) {
    const name = key.split(':')[0];
    if (name === '_include') {
      for (const v of values) {
        const [, , target] = v.split(':');
        out.push(...need(isType(target) ? target : '*', 'r'));
      }
    } else if (name === '_revinclude') {
      for (const v of values) {
        const [source] = v.split(':');
        out.push(...need(isType(source) ? source : '*', 'r'));
      }
    } else if (name === '_has') {
      // `_has:Observation:patient:code=...`: searches Observation.
      const [, type] = key.split(':');
      out.push(...need(isType(type) ? type : '*', 's'));
    } else if (!key.startsWith('_') && key.includes('.')) {
      // `subject:Patient.name=...` searches Patient; without the type (or deeper chains) any type.
      const first = key.slice(0, key.indexOf('.'));
      const type = first.split(':')[1];
      const deeper = key.indexOf('.', key.indexOf('.') + 1) >= 0;
      out.push(...need(isType(type) && !deeper ? type : '*', 's'));
    }
  }
  return out;
}

/** The path segments of a Bundle entry's `request.url` (relative, or absolute on any base). */
function entrySegments(url: string): { segments: string[]; query: Query } {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { segments: ['?'], query: new Map() };
    }
    const { segments, query } = splitPath(`${parsed.pathname}${parsed.search}`);
    const start = segments.findIndex((s) => TYPE_RE.test(s) || s.startsWith('$') || s === '_history' || s === 'metadata');
    return { segments: start < 0 ? ['?'] : segments.slice(start), query };
  }
  return splitPath(url);
}

/** What one Bundle entry needs (its `request.method` and `request.url`). */
export function entryPermission(entry: BundleEntry, nesting = 0): Requirement {
  const method = String(entry?.request?.method ?? '').toUpperCase();
  const url = entry?.request?.url;
  if (!method || typeof url !== 'string') {
    // The bundle processor answers 400 for it; nothing is read or written.
    return { kind: 'token' };
  }
  const { segments, query } = entrySegments(url);
  const headers: Headers = { 'if-none-exist': entry.request?.ifNoneExist };
  return fhirPermission(method === 'HEAD' ? 'GET' : method, segments, query, entry.resource, headers, nesting);
}

function bundlePermission(body: unknown, nesting: number): Requirement {
  const bundle = body as Bundle | undefined;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle' || !Array.isArray(bundle.entry)) {
    // Not a Bundle with entries: the bundle processor refuses it (400) or has nothing to do.
    return { kind: 'token' };
  }
  if (nesting >= MAX_BUNDLE_NESTING) {
    return { kind: 'denied', reason: 'Bundles nested in Bundle entries are not allowed this deep' };
  }
  const needs: NeedAt[] = [];
  for (const [i, entry] of bundle.entry.entries()) {
    const r = entryPermission(entry, nesting + 1);
    if (r.kind === 'denied') {
      return { kind: 'denied', reason: `Bundle.entry[${i}]: ${r.reason}` };
    }
    if (r.kind === 'scopes') {
      needs.push(...r.needs.map((x) => ({ ...x, where: x.where ?? `Bundle.entry[${i}]` })));
    }
  }
  return { kind: 'scopes', needs };
}

const WHAT: Record<Interaction, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** 403 OperationOutcome (issue code `forbidden`). */
export { forbidden };

/** Needs of a requirement the scopes do not meet (empty when allowed). */
export function missingNeeds(auth: ScopeHolder, requirement: Requirement): NeedAt[] {
  return requirement.kind === 'scopes' ? requirement.needs.filter((x) => !allows(auth.scopes, x)) : [];
}

function deny(requirement: Requirement, missing: NeedAt[]): never {
  if (requirement.kind === 'denied') {
    throw forbidden(requirement.reason);
  }
  const first = missing[0];
  const what = first.type === '*' ? `${WHAT[first.interaction]} on every resource type` : `${WHAT[first.interaction]} on ${first.type}`;
  const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
  const scope = `system/${first.type}.${first.interaction}`;
  throw forbidden(
    `The access token's scopes do not allow ${what}${first.where ? ` in ${first.where}` : ''}${more}: it needs ${scope} or a scope that includes it`,
    first.where,
  );
}

/**
 * Throws FhirError 403 (OperationOutcome, code `forbidden`) when the token's scopes do not allow
 * the request. Arguments as for `requiredPermission`.
 */
export function checkPermission(auth: ScopeHolder, method: string, path: string, body?: unknown, headers?: Headers): void {
  const requirement = requiredPermission(method, path, body, headers);
  const missing = missingNeeds(auth, requirement);
  if (requirement.kind === 'denied' || missing.length > 0) {
    deny(requirement, missing);
  }
}

/** Throws 403 when an entry of a transaction or batch Bundle is not allowed (the entries of `POST /fhir`). */
export function checkBundleEntries(auth: ScopeHolder, bundle: Bundle): void {
  const requirement = bundlePermission(bundle, 0);
  const missing = missingNeeds(auth, requirement);
  if (requirement.kind === 'denied' || missing.length > 0) {
    deny(requirement, missing);
  }
}
