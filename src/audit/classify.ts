/**
 * What a request to the app was, for its AuditEvent: the FHIR interaction (restful-interaction
 * codes, https://hl7.org/fhir/R4/valueset-type-restful-interaction.html), the action (C R U D E)
 * and the entities (what was touched), worked out from the method, the path and the NAMES of the
 * query parameters only. Nothing here keeps a query value, a body value or a path segment that is
 * not a resource type known to the validator, a FHIR id or an operation name: free text in a URL
 * may be a patient's name.
 */

/** Codes of http://hl7.org/fhir/restful-interaction used as AuditEvent.subtype. */
export type Interaction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'create'
  | 'search-type'
  | 'search-system'
  | 'transaction'
  | 'batch'
  | 'operation';

/** AuditEvent.action (http://hl7.org/fhir/audit-event-action). */
export type Action = 'C' | 'R' | 'U' | 'D' | 'E';

/** The kind of event: a REST interaction, a Bulk Data export step or an ingest. */
export type Kind = 'rest' | 'export' | 'import';

/** One entity of an event, before it becomes `AuditEvent.entity`. */
export interface EntityPart {
  /** `Type/id` or `Type/id/_history/vid`. */
  reference?: string;
  /** A resource type (entity.type from http://hl7.org/fhir/resource-types). */
  resourceType?: string;
  /** A non-resource object: an export job, an ingest source (entity.what.identifier). */
  identifier?: { system: string; value: string };
  /** object-role: 4 domain resource, 24 query, 3 report (export files), 20 job, 13 security resource (a registered client). */
  role: '3' | '4' | '13' | '20' | '24';
  /** Search / operation parameter names (never values), and other labelled facts without content. */
  details?: Array<[string, string]>;
}

/** What a request was; undefined when it is not audited (public, content-free endpoints). */
export interface Classified {
  kind: Kind;
  interaction?: Interaction;
  /** An operation name (`$export`, `$everything`) for `operation`. */
  operation?: string;
  action: Action;
  entities: EntityPart[];
}

export interface ClassifyInput {
  method: string;
  /** The path from the app's root, without the query string. */
  path: string;
  /** Query parameter names (form `_search` fields included). */
  paramNames: string[];
  /** The parsed body (transaction/batch Bundles: entry methods and URLs are read, nothing else). */
  body?: unknown;
  /** Response status (an update that created answers 201: action C). */
  status: number;
  /** `Content-Location` of the response (Bulk Data kick-off: the job's status URL). */
  contentLocation?: string;
}

export const EXPORT_JOB_SYSTEM = 'http://peerbridge.org/fhir/sid/bulk-export-job';
export const INGEST_SOURCE_SYSTEM = 'http://peerbridge.org/fhir/sid/ingest-source';
/** System of registered clients' ids (the same as `agent.who.identifier` in event.ts). */
const CLIENT_ID_SYSTEM = 'http://peerbridge.org/fhir/sid/client-id';
/** Client ids are base64url (src/auth/clients.ts). */
const CLIENT_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const OP_RE = /^\$[a-z][A-Za-z0-9-]{0,40}$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_\-.:]{0,79}$/;
const FILE_RE = /^[A-Za-z0-9_\-.]{1,100}$/;
const SOURCE_RE = /^[A-Za-z0-9_\-.]{1,64}$/;
/** Entities recorded for one transaction/batch; the count of entries is always recorded. */
const MAX_BUNDLE_ENTITIES = 100;
/** Parameter names recorded for one request. */
const MAX_PARAM_NAMES = 30;
const PUBLIC = new Set(['/', '/fhir/metadata', '/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']);

const CONSOLE_OWN = new Set(['/console/session', '/console/api/config']);

function segmentsOf(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** Parameter names that look like names, de-duplicated and bounded. */
export function safeNames(names: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const n of names) {
    if (out.size >= MAX_PARAM_NAMES) break;
    if (NAME_RE.test(n)) out.add(n);
  }
  return [...out];
}

const paramDetails = (names: string[]): Array<[string, string]> => names.map((n): [string, string] => ['parameter', n]);

/** Classifies a request (undefined: not audited). `isType` tells known resource types. */
export function classify(input: ClassifyInput, isType: (t: string) => boolean): Classified | undefined {
  const method = input.method.toUpperCase() === 'HEAD' ? 'GET' : input.method.toUpperCase();
  const lower = (input.path.replace(/\/+$/, '') || '/').toLowerCase();
  if (method === 'GET' && PUBLIC.has(lower)) return undefined;
  // The console's sign-in, refusals, lock-outs and sign-out are recorded by the console itself
  // (src/users, as User Authentication events naming the user); its session and config answers hold no records.
  if (CONSOLE_OWN.has(lower)) return undefined;
  const segments = segmentsOf(input.path);
  const mount = segments[0]?.toLowerCase();
  const names = safeNames(input.paramNames);
  if (mount === 'fhir') return fhirRequest(method, segments.slice(1), names, input, isType) ?? unknown(method);
  if (mount === 'ingest') return ingestRequest(method, segments.slice(1), names) ?? unknown(method);
  if (mount === 'admin') return adminRequest(method, segments.slice(1), input.contentLocation) ?? unknown(method);
  return unknown(method);
}

/** A request to no known route: recorded with its method only (404/405 and denied probes). */
function unknown(method: string): Classified {
  const action: Action = method === 'GET' ? 'R' : method === 'POST' ? 'C' : method === 'PUT' || method === 'PATCH' ? 'U' : method === 'DELETE' ? 'D' : 'E';
  return { kind: 'rest', action, entities: [] };
}

function fhirRequest(method: string, s: string[], names: string[], input: ClassifyInput, isType: (t: string) => boolean): Classified | undefined {
  const [a, b, c, d] = s;
  const n = s.length;
  const type = a !== undefined && isType(a) ? a : undefined;
  const instance = (): EntityPart => (type && ID_RE.test(b) ? { reference: `${type}/${b}`, resourceType: type, role: '4' } : { resourceType: type, role: '4' });
  const query = (t?: string): EntityPart => ({ resourceType: t, role: '24', ...(names.length ? { details: paramDetails(names) } : {}) });
  // Bulk Data status and files (src/http/export-router.ts) and the kick-offs.
  if (a === 'bulkstatus' && n === 2) {
    return { kind: 'export', interaction: 'operation', operation: '$export', action: method === 'DELETE' ? 'D' : 'R', entities: [jobEntity(b)] };
  }
  if (a === 'bulkfiles' && n === 3) {
    const job = jobEntity(b);
    if (FILE_RE.test(c)) job.details = [['file', c]];
    return { kind: 'export', interaction: 'operation', operation: '$export', action: 'R', entities: [job] };
  }
  const exportOp = (n === 1 && a === '$export') || (n === 2 && a === 'Patient' && b === '$export') || (n === 3 && a === 'Group' && c === '$export');
  if (exportOp && (method === 'GET' || method === 'POST')) {
    const entities: EntityPart[] = [];
    if (n === 3 && ID_RE.test(b)) entities.push({ reference: `Group/${b}`, resourceType: 'Group', role: '4' });
    const job = jobFromLocation(input.contentLocation);
    if (job) entities.push(job);
    entities.push(query());
    return { kind: 'export', interaction: 'operation', operation: '$export', action: 'E', entities };
  }
  if (n === 0) {
    if (method === 'GET') return { kind: 'rest', interaction: 'search-system', action: 'E', entities: [query()] };
    if (method === 'POST') return bundleRequest(input.body, isType);
    return undefined;
  }
  if (n === 1 && a === '_history' && method === 'GET') return { kind: 'rest', interaction: 'history-system', action: 'R', entities: [query()] };
  if (n === 1 && OP_RE.test(a)) return { kind: 'rest', interaction: 'operation', operation: a, action: 'E', entities: [] };
  if (!type) return undefined;
  if (n === 1) {
    if (method === 'GET') return { kind: 'rest', interaction: 'search-type', action: 'E', entities: [query(type)] };
    if (method === 'POST') return { kind: 'rest', interaction: 'create', action: 'C', entities: [{ resourceType: type, role: '4' }] };
    // Conditional update and delete name the match by search parameters (names kept, not values).
    if (method === 'PUT') return { kind: 'rest', interaction: 'update', action: input.status === 201 ? 'C' : 'U', entities: [query(type)] };
    if (method === 'DELETE') return { kind: 'rest', interaction: 'delete', action: 'D', entities: [query(type)] };
    return undefined;
  }
  if (n === 2 && b === '_search' && method === 'POST') return { kind: 'rest', interaction: 'search-type', action: 'E', entities: [query(type)] };
  if (n === 2 && b === '_history' && method === 'GET') return { kind: 'rest', interaction: 'history-type', action: 'R', entities: [query(type)] };
  if (n === 2 && OP_RE.test(b))
    return {
      kind: 'rest',
      interaction: 'operation',
      operation: b,
      action: 'E',
      entities: [{ resourceType: type, role: '4', ...(names.length ? { details: paramDetails(names) } : {}) }],
    };
  if (n === 2) {
    if (method === 'GET') return { kind: 'rest', interaction: 'read', action: 'R', entities: [instance()] };
    if (method === 'PUT') return { kind: 'rest', interaction: 'update', action: input.status === 201 ? 'C' : 'U', entities: [instance()] };
    if (method === 'PATCH') return { kind: 'rest', interaction: 'patch', action: 'U', entities: [instance()] };
    if (method === 'DELETE') return { kind: 'rest', interaction: 'delete', action: 'D', entities: [instance()] };
    return undefined;
  }
  if (n === 3 && c === '_history' && method === 'GET') return { kind: 'rest', interaction: 'history-instance', action: 'R', entities: [instance()] };
  if (n === 3 && OP_RE.test(c)) {
    const entity = instance();
    if (names.length) entity.details = paramDetails(names);
    return { kind: 'rest', interaction: 'operation', operation: c, action: 'E', entities: [entity] };
  }
  if (n === 4 && c === '_history' && method === 'GET') {
    const entity = instance();
    if (entity.reference && ID_RE.test(d)) entity.reference = `${entity.reference}/_history/${d}`;
    return { kind: 'rest', interaction: 'vread', action: 'R', entities: [entity] };
  }
  return undefined;
}

function jobEntity(id: string): EntityPart {
  return ID_RE.test(id) ? { identifier: { system: EXPORT_JOB_SYSTEM, value: id }, role: '20' } : { role: '20' };
}

/** The job of a kick-off's `Content-Location` (`.../bulkstatus/{id}`). */
function jobFromLocation(location: string | undefined): EntityPart | undefined {
  const m = /\/bulkstatus\/([^/?#]+)$/.exec(location ?? '');
  return m && ID_RE.test(m[1]) ? jobEntity(m[1]) : undefined;
}

/**
 * `POST /fhir` with a transaction or batch: one entity per entry (its `Type/id`, or its type for
 * creates and searches), from `request.method` and `request.url` only; query parts are cut off.
 */
function bundleRequest(body: unknown, isType: (t: string) => boolean): Classified {
  const bundle = body as { resourceType?: unknown; type?: unknown; entry?: unknown } | undefined;
  const kind = bundle?.type === 'batch' ? 'batch' : 'transaction';
  const entries = bundle?.resourceType === 'Bundle' && Array.isArray(bundle.entry) ? (bundle.entry as unknown[]) : [];
  const entities: EntityPart[] = [{ resourceType: 'Bundle', role: '4', details: [['entries', String(entries.length)]] }];
  for (const entry of entries.slice(0, MAX_BUNDLE_ENTITIES)) {
    const request = (entry as { request?: { method?: unknown; url?: unknown } } | null)?.request;
    if (typeof request?.url !== 'string' || typeof request.method !== 'string') continue;
    let path = request.url.split('?')[0];
    if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
      try {
        path = new URL(path).pathname;
      } catch {
        continue;
      }
    }
    const segments = segmentsOf(path);
    const start = segments.findIndex(isType);
    if (start < 0) continue;
    const [t, id] = segments.slice(start);
    const method = request.method.toUpperCase();
    const part: EntityPart =
      id !== undefined && ID_RE.test(id) && !id.startsWith('_') ? { reference: `${t}/${id}`, resourceType: t, role: '4' } : { resourceType: t, role: '4' };
    if (/^(GET|HEAD|POST|PUT|PATCH|DELETE)$/.test(method)) part.details = [['method', method]];
    entities.push(part);
  }
  return { kind: 'rest', interaction: kind, action: 'E', entities };
}

/** `/ingest/{source}`, `/ingest/rejects`, `/ingest/rejects/$retry`. */
function ingestRequest(method: string, s: string[], names: string[]): Classified | undefined {
  const [a, b] = s;
  const details = names.length ? { details: paramDetails(names) } : {};
  if (a === 'rejects' && s.length === 1 && method === 'GET') {
    return {
      kind: 'import',
      interaction: 'search-type',
      action: 'R',
      entities: [{ identifier: { system: INGEST_SOURCE_SYSTEM, value: 'rejects' }, role: '24', ...details }],
    };
  }
  if (a === 'rejects' && s.length === 2 && b === '$retry' && method === 'POST') {
    return {
      kind: 'import',
      interaction: 'operation',
      operation: '$retry',
      action: 'C',
      entities: [{ identifier: { system: INGEST_SOURCE_SYSTEM, value: 'rejects' }, role: '20', ...details }],
    };
  }
  if (s.length === 1 && method === 'POST' && a !== undefined) {
    const source = SOURCE_RE.test(a) ? { identifier: { system: INGEST_SOURCE_SYSTEM, value: a } } : {};
    return { kind: 'import', interaction: 'operation', operation: '$ingest', action: 'C', entities: [{ ...source, role: '20', ...details }] };
  }
  return undefined;
}

/** `/admin/clients[/{id}]` (src/auth/admin-router.ts): the registered client touched, by id (a register names it from `Content-Location`). */
function adminRequest(method: string, s: string[], contentLocation: string | undefined): Classified | undefined {
  const [a, b] = s;
  if (a !== 'clients' || s.length > 2) return undefined;
  const client = (id: string | undefined): EntityPart =>
    id !== undefined && CLIENT_ID_RE.test(id) ? { identifier: { system: CLIENT_ID_SYSTEM, value: id }, role: '13' } : { role: '13' };
  if (s.length === 1 && method === 'GET') return { kind: 'rest', interaction: 'search-type', action: 'E', entities: [{ role: '24' }] };
  if (s.length === 1 && method === 'POST') {
    return { kind: 'rest', interaction: 'create', action: 'C', entities: [client(/\/admin\/clients\/([^/?#]+)$/.exec(contentLocation ?? '')?.[1])] };
  }
  if (s.length === 2 && method === 'GET') return { kind: 'rest', interaction: 'read', action: 'R', entities: [client(b)] };
  if (s.length === 2 && method === 'DELETE') return { kind: 'rest', interaction: 'delete', action: 'D', entities: [client(b)] };
  return undefined;
}
