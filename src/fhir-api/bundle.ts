/**
 * `POST /` with a Bundle (https://hl7.org/fhir/R4/http.html#transaction):
 * - `transaction`: all or nothing, in one database transaction. Entries run in the spec's order
 *   (DELETE, POST, PUT, GET); `urn:uuid` (and other fullUrl) references are rewritten in every
 *   entry, nested ones included; conditional creates and updates are resolved first so their
 *   ids can be referenced. Any failure answers with that entry's error and stores nothing.
 * - `batch`: every entry on its own, each answered with its status or its OperationOutcome.
 */
import type { Bundle, BundleEntry, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { badRequest, FhirError, notFound, operationOutcome, preconditionFailed, serverError } from '../outcomes';
import type { Repository } from '../store/repository';
import { parseQueryString, parseSearch, preferReturn, validateForWrite, versionHeaders } from './http-rules';
import type { Router } from './router';
import type { FhirDeps, FhirRequest, FhirResponse, HttpMethod } from './types';

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

interface Parsed {
  index: number;
  method: HttpMethod;
  type?: ResourceType;
  id?: string;
  query?: string;
  path: string;
  entry: BundleEntry;
}

/** An entry's problem, named by its index (issue code `invalid`, whatever the status). */
const entryOutcome = (index: number, text: string): OperationOutcome =>
  operationOutcome('invalid', `Bundle.entry[${index}]: ${text}`, `Bundle.entry[${index}]`);
const fail = (index: number, text: string): FhirError => badRequest(entryOutcome(index, text));

/** Answers a transaction or batch Bundle. */
export async function bundleHandler(req: FhirRequest, deps: FhirDeps, router: Router): Promise<FhirResponse> {
  const bundle = req.body as Bundle | undefined;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw badRequest('POST to the base takes a Bundle of type transaction or batch');
  }
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw badRequest(`Bundle.type must be transaction or batch (got '${String(bundle.type)}')`, 'Bundle.type');
  }
  if (bundle.type === 'batch') {
    return { status: 200, body: await batch(req, deps, router, bundle) };
  }
  return { status: 200, body: await transaction(req, deps, router, bundle) };
}

function parseEntry(entry: BundleEntry, index: number, baseUrl: string, deps: FhirDeps): Parsed {
  const method = entry?.request?.method;
  const url = entry?.request?.url;
  if (!method || !url) {
    throw fail(index, 'request.method and request.url are required');
  }
  // A batch is not validated as a whole first (a transaction is): its entries are the client's JSON as sent.
  const request = entry.request as unknown as Record<string, unknown>;
  for (const key of ['method', 'url', 'ifMatch', 'ifNoneExist', 'ifNoneMatch', 'ifModifiedSince']) {
    if (request[key] !== undefined && typeof request[key] !== 'string') throw fail(index, `request.${key} must be a string`);
  }
  if (method === 'PATCH' || method === 'HEAD') {
    throw fail(index, `${method} is not supported in Bundles`);
  }
  const relative = url.startsWith(`${baseUrl}/`) ? url.slice(baseUrl.length + 1) : url.replace(/^\//, '');
  const [pathPart, query] = relative.split('?', 2) as [string, string | undefined];
  const [type, id, ...rest] = pathPart.split('/');
  if (type && !deps.validator.defs.isResourceType(type) && !type.startsWith('$') && type !== '_history') {
    throw notFound(entryOutcome(index, `unknown resource type '${type}' in request.url`));
  }
  if (method !== 'GET' && rest.length > 0) {
    throw fail(index, `request.url '${url}' is not a ${method} URL`);
  }
  return { index, method, type: type as ResourceType, id, query, path: `/${pathPart}`, entry };
}

/** Runs one entry through the route table. */
function run(req: FhirRequest, deps: FhirDeps, router: Router, p: Parsed, repo: Repository, body?: Resource): Promise<FhirResponse> {
  const headers: FhirRequest['headers'] = { prefer: req.headers.prefer };
  if (p.entry.request?.ifMatch) {
    headers['if-match'] = p.entry.request.ifMatch;
  }
  if (p.entry.request?.ifNoneExist) {
    headers['if-none-exist'] = p.entry.request.ifNoneExist;
  }
  return router.handle(
    { method: p.method, path: p.path, query: p.query ? parseQueryString(p.query) : {}, headers, body: body ?? p.entry.resource, baseUrl: req.baseUrl },
    { ...deps, repo },
  );
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content' };

function responseEntry(res: FhirResponse, withResource: boolean): BundleEntry {
  const h = res.headers ?? {};
  const entry: BundleEntry = { response: { status: `${res.status}${STATUS_TEXT[res.status] ? ` ${STATUS_TEXT[res.status]}` : ''}` } };
  if (h.location) {
    entry.response!.location = h.location;
  }
  if (h.etag) {
    entry.response!.etag = h.etag;
  }
  if (h['last-modified']) {
    entry.response!.lastModified = new Date(h['last-modified']).toISOString();
  }
  if (res.body?.resourceType === 'OperationOutcome') {
    entry.response!.outcome = res.body;
  } else if (res.body && withResource) {
    entry.resource = res.body;
  }
  return entry;
}

function errorEntry(err: unknown, deps: FhirDeps): BundleEntry {
  if (err instanceof FhirError) {
    return { response: { status: String(err.status), outcome: err.outcome } };
  }
  deps.log?.('error', 'batch entry failed', { error: err instanceof Error ? err.stack : String(err) });
  return { response: { status: '500', outcome: serverError().outcome } };
}

async function batch(req: FhirRequest, deps: FhirDeps, router: Router, bundle: Bundle): Promise<Bundle> {
  const withResource = preferReturn(req.headers) === 'representation';
  const entry: BundleEntry[] = [];
  for (const [index, e] of (bundle.entry ?? []).entries()) {
    try {
      const p = parseEntry(e, index, req.baseUrl, deps);
      entry.push(responseEntry(await run(req, deps, router, p, deps.repo), withResource));
    } catch (err) {
      entry.push(errorEntry(err, deps));
    }
  }
  // An empty array is not valid FHIR JSON: an empty batch answers without `entry`.
  return { resourceType: 'Bundle', type: 'batch-response', ...(entry.length ? { entry } : {}) };
}

async function transaction(req: FhirRequest, deps: FhirDeps, router: Router, bundle: Bundle): Promise<Bundle> {
  // Validate everything first: one invalid entry and nothing is written (422). Pipeline output
  // committed in-process was validated resource by resource as it was made (transactionCommitter).
  if (!req.entriesValidated) {
    await validateForWrite(deps, bundle);
  }
  const parsed = (bundle.entry ?? []).map((e, i) => parseEntry(e, i, req.baseUrl, deps));
  const kickoff = parsed.find((p) => p.path.endsWith('/$export'));
  if (kickoff) {
    // It would record a job outside the transaction: not undone by a rollback, repeated by a retry.
    throw fail(kickoff.index, '$export starts a background job, which a transaction cannot roll back; send the kick-off request on its own');
  }
  const withResource = preferReturn(req.headers) === 'representation';
  // Run again as a whole when it loses a deadlock to a concurrent writer: everything below touches only the store.
  return deps.repo.withTransaction(async (tx) => {
    const refs = new Map<string, string>();
    const ids = new Map<number, Target>();
    for (const p of parsed) {
      await resolveTarget(p, tx, refs, ids);
    }
    // Every resource this transaction writes, locked at once before the first write (src/store/write-locks.ts).
    await tx.lockForWrite(parsed.flatMap((p) => writeKey(p, ids.get(p.index))));
    const bodies = parsed.map((p) => (p.entry.resource ? (rewrite(p.entry.resource, refs, p.index) as Resource) : undefined));
    const results = new Array<BundleEntry>(parsed.length);
    const sorted = [...parsed].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index);
    // Plain creates and updates are written in batches (one statement per table); the rest one by one.
    const plain = (p: Parsed): boolean =>
      (p.method === 'POST' || p.method === 'PUT') && !!ids.get(p.index) && !ids.get(p.index)?.existing && !p.entry.request?.ifMatch;
    for (let i = 0; i < sorted.length;) {
      const group: Parsed[] = [];
      while (i < sorted.length && plain(sorted[i]) && (group.length === 0 || group[0].method === sorted[i].method)) {
        group.push(sorted[i++]);
      }
      if (group.length > 0) {
        const written = await tx.updateMany(
          group.map((p) => ({ ...checkWriteBody(p, bodies[p.index]), id: ids.get(p.index)?.id })),
          { serverAssignedIds: group.map((p) => !!ids.get(p.index)?.serverAssigned) },
        );
        group.forEach((p, k) => {
          const status = p.method === 'POST' || written[k].created ? 201 : 200;
          results[p.index] = responseEntry(
            { status, headers: versionHeaders(written[k].resource, req.baseUrl, true), body: written[k].resource },
            withResource,
          );
        });
        continue;
      }
      const p = sorted[i++];
      try {
        results[p.index] = await transactionEntry(req, deps, router, p, tx, bodies[p.index], ids.get(p.index), withResource);
      } catch (err) {
        throw entryError(err, p.index);
      }
    }
    return { resourceType: 'Bundle', type: 'transaction-response', ...(results.length ? { entry: results } : {}) };
  });
}

/** Where a POST or PUT entry is written: its id (made up by the server, or not), or the existing match of a conditional create. */
interface Target {
  id: string;
  existing?: Resource;
  serverAssigned?: boolean;
}

/** Decides the id each POST and PUT entry will have, so references to its fullUrl can be rewritten. */
async function resolveTarget(p: Parsed, tx: Repository, refs: Map<string, string>, ids: Map<number, Target>): Promise<void> {
  if ((p.method !== 'POST' && p.method !== 'PUT') || !p.type) {
    return;
  }
  let target: Target;
  const conditional = p.method === 'POST' ? p.entry.request?.ifNoneExist : p.id ? undefined : p.query;
  if (p.method === 'PUT' && p.id) {
    target = { id: p.id };
  } else if (conditional) {
    const found = await tx.search({ ...parseSearch(p.type, parseQueryString(conditional.replace(/^[^?]*\?/, ''))), count: 2 }, { strict: true });
    if (found.resources.length > 1) {
      throw preconditionFailed(`Bundle.entry[${p.index}]: the condition matched ${found.resources.length} resources`);
    }
    const existing = found.resources[0];
    target = existing
      ? { id: existing.id as string, existing: p.method === 'POST' ? existing : undefined }
      : p.entry.resource?.id
        ? { id: p.entry.resource.id }
        : { id: randomUUID(), serverAssigned: true };
  } else if (p.method === 'POST') {
    target = { id: randomUUID(), serverAssigned: true };
  } else {
    throw fail(p.index, 'PUT needs Type/id or Type?search in request.url');
  }
  ids.set(p.index, target);
  if (p.entry.fullUrl) {
    refs.set(p.entry.fullUrl, `${p.type}/${target.id}`);
  }
}

/** The resource an entry writes: a DELETE's, a PUT's or POST's target unless a conditional create found it. */
function writeKey(p: Parsed, target: { id: string; existing?: Resource } | undefined): { type: string; id: string }[] {
  if (!p.type) {
    return [];
  }
  if (p.method === 'DELETE') {
    return p.id ? [{ type: p.type, id: p.id }] : [];
  }
  return target && !target.existing ? [{ type: p.type, id: target.id }] : [];
}

/** Replaces every string equal to a resolved fullUrl; an unresolved `urn:uuid` reference is a 400. */
function rewrite(value: unknown, refs: Map<string, string>, index: number, key?: string): unknown {
  if (typeof value === 'string') {
    const to = refs.get(value);
    if (to) {
      return to;
    }
    if (key === 'reference' && value.startsWith('urn:uuid:')) {
      throw fail(index, `reference '${value}' names no entry of this Bundle`);
    }
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => rewrite(v, refs, index, key));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, refs, index, k)]));
  }
  return value;
}

async function transactionEntry(
  req: FhirRequest,
  deps: FhirDeps,
  router: Router,
  p: Parsed,
  tx: Repository,
  body: Resource | undefined,
  target: Target | undefined,
  withResource: boolean,
): Promise<BundleEntry> {
  if ((p.method === 'POST' || p.method === 'PUT') && target && p.type) {
    if (target.existing) {
      return responseEntry({ status: 200, headers: versionHeaders(target.existing, req.baseUrl, true), body: target.existing }, withResource);
    }
    const result = await tx.update(
      { ...checkWriteBody(p, body), id: target.id },
      {
        ifMatch: p.entry.request?.ifMatch?.replace(/^W\/"(.*)"$/, '$1'),
        serverAssignedId: target.serverAssigned,
      },
    );
    const status = p.method === 'POST' || result.created ? 201 : 200;
    return responseEntry({ status, headers: versionHeaders(result.resource, req.baseUrl, true), body: result.resource }, withResource);
  }
  if (p.method === 'DELETE' && !p.id) {
    throw fail(p.index, 'conditional delete is not supported');
  }
  return responseEntry(await run(req, deps, router, p, tx, body), withResource);
}

/** The entry's resource must be of the URL's type, and a PUT's id must be the URL's. */
function checkWriteBody(p: Parsed, body: Resource | undefined): Resource {
  if (!body || body.resourceType !== p.type) {
    throw fail(p.index, `the resource must be a ${p.type}`);
  }
  if (p.method === 'PUT' && p.id && body.id !== p.id) {
    throw fail(p.index, `request.url says ${p.type}/${p.id} but the resource has ${body.id ? `id '${body.id}'` : 'no id'}`);
  }
  return body;
}

function entryError(err: unknown, index: number): unknown {
  if (!(err instanceof FhirError)) {
    return err;
  }
  const prefix = `Bundle.entry[${index}]`;
  const outcome = err.outcome;
  const issue = (outcome.issue ?? []).map((i) =>
    i.details?.text?.startsWith(prefix) ? i : { ...i, details: { ...i.details, text: `${prefix}: ${i.details?.text ?? i.diagnostics ?? ''}` } },
  );
  return new FhirError({ ...outcome, issue }, err.status);
}
