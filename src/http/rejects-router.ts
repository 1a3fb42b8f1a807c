/**
 * The Express side of ingest rejects (mounted at `/ingest/rejects`, after the app's JSON body
 * reader): the store is src/store/rejects.ts, the retry src/pipeline/retry-rejects.ts.
 *
 * - `GET /?source=<name>[&status=open|resolved|all][&feed=][&kind=][&reason=][&since=][&until=][&_count=][&cursor=]`:
 *   `kind` the record kind, `reason` text one of the reasons contains (case-insensitive), `since` /
 *   `until` a date or date-time the reject was received at or after / before; a `searchset`
 *   Bundle, newest first, `total` and `self`/`next` links; one `Parameters` entry per reject
 *   (id, source, feed, record, input, where, kind, recordId, status, receivedAt, attempts,
 *   lastTriedAt, resolvedAt, raw, header, and `outcome`: an OperationOutcome, one issue per error).
 * - `POST /$retry` with a Parameters body: `source` (required), `id` (repeatable), `feed`.
 *
 * Both see only the caller's rejects (`res.locals.auth`, issue 11 item 2; src/store/rejects.ts):
 * its organizations' and those it posted, in entries, `total` and links alike; a Part 2 reject not
 * released to it is listed without `raw`, `header`, `recordId` and reasons (`withheld`: true, and
 * an outcome that says why without naming anything).
 *
 * Errors are thrown as FhirErrors (400 for a missing source, a bad status, `_count` or cursor);
 * the app's error middleware answers them as OperationOutcomes.
 */
import express, { type Request, type Response } from 'express';
import { accessOf, type CallerLike } from '../access';
import type { Bundle, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';
import { DEFAULT_REJECT_COUNT, MAX_REJECT_COUNT, rejectOutcome, type RejectStore, type StoredReject } from '../store/rejects';
import type { RetryAnswer, RetryRequest } from '../pipeline/retry-rejects';
import { sendFhir } from '../outcomes/fhir-json';

export interface RejectsRouterDeps {
  rejects: RejectStore;
  /** Retries as the caller of `res` (its access and its view of the store). */
  retry: (req: RetryRequest, res: Response) => Promise<RetryAnswer>;
  /** Public URL the router is mounted at (`https://host/ingest/rejects`), for links; never taken from the request's Host. */
  baseUrl: string;
}

const STATUSES = ['open', 'resolved', 'all'] as const;
const QUERY_PARAMS = new Set(['source', 'feed', 'kind', 'reason', 'since', 'until', 'status', '_count', 'cursor', '_format', '_pretty']);
const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A `since` / `until` parameter: a date (midnight UTC) or a date-time with its offset; 400 otherwise. */
function instantOf(req: Request, name: string): string | undefined {
  const v = single(req, name);
  if (v === undefined || v === '') return undefined;
  if (!DATE_OR_TIME.test(v) || Number.isNaN(Date.parse(v))) {
    throw badRequest(`${name} must be a date (2026-09-15) or a date-time with its offset (2026-09-15T10:00:00Z), not '${v}'`, name);
  }
  return new Date(v).toISOString();
}

/** One query parameter: absent, or given once. */
function single(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} must be given once`, name);
  return v;
}

/** A reject as a Parameters resource; without the raw input, record id and reasons when they are not released to the caller. */
export function rejectParameters(r: StoredReject): Parameters {
  const p: ParametersParameter[] = [];
  const str = (name: string, value: string | undefined): void => {
    if (value !== undefined) p.push({ name, valueString: value });
  };
  str('id', r.id);
  str('source', r.source);
  str('feed', r.feed);
  p.push({ name: 'record', valueInteger: r.record });
  str('input', r.input);
  str('where', r.where);
  str('kind', r.kind);
  if (r.released) str('recordId', r.recordId);
  p.push({ name: 'status', valueCode: r.status });
  p.push({ name: 'receivedAt', valueInstant: r.receivedAt });
  p.push({ name: 'attempts', valueInteger: r.attempts });
  if (r.lastTriedAt !== undefined) p.push({ name: 'lastTriedAt', valueInstant: r.lastTriedAt });
  if (r.resolvedAt !== undefined) p.push({ name: 'resolvedAt', valueInstant: r.resolvedAt });
  if (r.released) {
    str('raw', r.raw);
    str('header', r.header);
  } else {
    p.push({ name: 'withheld', valueBoolean: true });
  }
  p.push({ name: 'outcome', resource: rejectOutcome(r.errors, r.released) });
  return { resourceType: 'Parameters', id: r.id, parameter: p };
}

/** The retry request in a Parameters body. */
export function retryRequest(body: unknown): RetryRequest {
  const params = body as Parameters | undefined;
  if (!params || typeof params !== 'object' || params.resourceType !== 'Parameters') {
    throw badRequest('The body must be a FHIR Parameters resource with source (and optionally id, feed)');
  }
  if (params.parameter !== undefined && !Array.isArray(params.parameter)) {
    throw badRequest('Parameters.parameter must be an array', 'Parameters.parameter');
  }
  let source: string | undefined;
  let feed: string | undefined;
  const ids: string[] = [];
  (params.parameter ?? []).forEach((p, i) => {
    const at = `Parameters.parameter[${i}]`;
    const value = p?.valueString ?? p?.valueCode ?? p?.valueId ?? p?.valueUri;
    if (typeof value !== 'string' || value === '') {
      throw badRequest(`${at} (${String(p?.name)}) must have a valueString`, at);
    }
    if (p.name === 'source' || p.name === 'feed') {
      if ((p.name === 'source' ? source : feed) !== undefined) throw badRequest(`${p.name} must be given once`, at);
      if (p.name === 'source') source = value;
      else feed = value;
    } else if (p.name === 'id') {
      ids.push(value);
    } else {
      throw badRequest(`Unknown parameter '${String(p?.name)}': $retry takes source, id and feed`, at);
    }
  });
  if (source === undefined) {
    throw badRequest('source is required: the name of the source whose rejects to retry', 'source');
  }
  return { source, ...(ids.length ? { ids } : {}), ...(feed !== undefined ? { feed } : {}) };
}

/** The router to mount at `/ingest/rejects`. */
export function rejectsRouter(deps: RejectsRouterDeps): express.Router {
  const router = express.Router();

  router.get('/', async (req, res) => {
    for (const name of Object.keys(req.query)) {
      if (!QUERY_PARAMS.has(name)) throw badRequest(`Unknown parameter '${name}': use source, feed, kind, reason, since, until, status, _count, cursor`, name);
    }
    const source = single(req, 'source');
    if (source === undefined || source === '') throw badRequest('source is required: GET /ingest/rejects?source=<name>', 'source');
    const feed = single(req, 'feed');
    const status = single(req, 'status') ?? 'open';
    if (!(STATUSES as readonly string[]).includes(status)) throw badRequest(`status must be one of ${STATUSES.join(', ')} (got '${status}')`, 'status');
    const countText = single(req, '_count');
    const count = countText === undefined ? DEFAULT_REJECT_COUNT : /^\d{1,9}$/.test(countText) ? Number(countText) : NaN;
    if (!Number.isInteger(count) || count > MAX_REJECT_COUNT)
      throw badRequest(`_count must be a whole number from 0 to ${MAX_REJECT_COUNT} (got '${countText}')`, '_count');
    const cursor = single(req, 'cursor');
    // Filters (issue 14, the console's rejects queue): empty means absent.
    const kind = single(req, 'kind') || undefined;
    const reason = single(req, 'reason') || undefined;
    const since = instantOf(req, 'since');
    const until = instantOf(req, 'until');
    const filters = { ...(kind ? { kind } : {}), ...(reason ? { reason } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) };

    const access = accessOf(res.locals.auth as CallerLike | undefined);
    const page = await deps.rejects.list({
      source,
      ...(feed !== undefined ? { feed } : {}),
      ...filters,
      status: status as (typeof STATUSES)[number],
      count,
      ...(cursor !== undefined ? { cursor } : {}),
      access,
    });
    const url = (c?: string): string => {
      const q = new URLSearchParams({
        source,
        ...(feed !== undefined ? { feed } : {}),
        ...filters,
        status,
        _count: String(count),
        ...(c !== undefined ? { cursor: c } : {}),
      });
      return `${deps.baseUrl}?${q.toString()}`;
    };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: page.total,
      link: [{ relation: 'self', url: url(cursor) }, ...(page.next !== undefined ? [{ relation: 'next', url: url(page.next) }] : [])],
    };
    if (page.items.length > 0) {
      bundle.entry = page.items.map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: rejectParameters(r), search: { mode: 'match' } }));
    }
    sendFhir(res, 200, bundle);
  });

  // Express matches the raw path: `$` may arrive percent-encoded (`%24retry`) from some clients.
  router.post(['/$retry', '/%24retry'], async (req, res) => {
    const answer = await deps.retry(retryRequest(req.body), res);
    sendFhir(res, answer.status, answer.body);
  });
  return router;
}
