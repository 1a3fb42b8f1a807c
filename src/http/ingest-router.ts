/**
 * Ingest over HTTP, mounted at `/ingest`: a source's own format in; Parameters with the Bundle and
 * per-record issues out (src/pipeline/ingest.ts).
 *
 * - `POST /canonical`: the canonical JSON document (read as FHIR JSON bodies are, src/http/body.ts).
 * - `POST /{source}`: an outside source's export (mappings/README.md) in its own media type,
 *   read by one of its feeds (`?feed=`, else the one matching `?file=`, else its only feed).
 * - `/rejects`: the rejected records of outside sources (src/http/rejects-router.ts), when a
 *   rejects store is given.
 *
 * `?dryRun=true` translates without storing. Otherwise the Bundle is stored through the same
 * transaction processor as `POST /fhir` (atomic; its resources were validated as the pipeline made
 * them, so not again: transactionCommitter's `entriesValidated`) and as the caller: a client
 * ingests only into its organizations, as over REST.
 */
import express, { type Request, type Response } from 'express';
import type { Bundle } from '@medplum/fhirtypes';
import { accessOf, type CallerLike } from '../access';
import { repeatedTopLevelKey } from '../inbound/json-records';
import { badRequest, notFound, unsupportedMediaType } from '../outcomes';
import type { PipelineDeps } from '../pipeline/canonical';
import { ingest, ingestSource } from '../pipeline/ingest';
import type { PipelineRunner } from '../pipeline/runs';
import { retryAwaiting, retryRejects, type AwaitingRetries, type RetryDeps, type RetryRequest } from '../pipeline/retry-rejects';
import type { StoredRecords } from '../domain/stored-records';
import type { RejectOwners, RejectRecord, RejectStore } from '../store/rejects';
import type { RepositoryAccess } from '../store/repository';
import { feedFor } from '../translate';
import type { InputFormat, LoadedSource } from '../translate/types';
import { readBody, readFhirJsonBody } from './body';
import { contentType, sendFhir } from '../outcomes/fhir-json';
import { rejectsRouter } from './rejects-router';

/**
 * How the caller of a request stores: its transaction committer (none without a store), its access
 * (none with auth off), and the records sent before as it may see them (the lookup port, none
 * without a store: then a run knows only its own records).
 */
export interface CallerStore {
  commit?: (bundle: Bundle) => Promise<Bundle>;
  access?: RepositoryAccess;
  stored?: StoredRecords;
}

export interface IngestRouterDeps {
  /** Validator, rule set and package terms. */
  pipeline: PipelineDeps;
  /** Outside sources (mapping folders) by name. */
  sources: Map<string, LoadedSource>;
  /** Keeps rejected records of outside sources; without it they are only reported. */
  rejects?: RejectStore;
  /** The caller's way to the store, from the response (`res.locals.auth`). */
  callerStore: (res: Response) => CallerStore;
  /** Where the pipeline runs (src/pipeline/pool.ts): default the request thread; the server: its worker threads. */
  runner?: PipelineRunner;
  /** Largest body, in bytes (`MAX_BODY_BYTES`). */
  maxBodyBytes: number;
  /** Public URL of `/ingest/rejects` (from src/config `publicBaseUrl`), for its links. */
  rejectsUrl: string;
}

/** The media types an outside source's body may have, by format. */
const SOURCE_TYPES: Record<InputFormat, string[]> = {
  csv: ['text/csv', 'application/csv', 'text/plain'],
  hl7v2: ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'],
  json: ['application/json', 'text/json'],
};

/** The ingest routes. */
export function ingestRouter(deps: IngestRouterDeps): express.Router {
  const { pipeline, sources, rejects, callerStore, maxBodyBytes } = deps;
  const router = express.Router();
  // References to records not in the run resolve against the store as the caller sees it (src/store/stored-records.ts).
  const pipelineOf = ({ stored }: CallerStore): PipelineDeps => (stored ? { ...pipeline, stored } : pipeline);
  // Reruns of kept rejects: the caller's view of the store, and the caller's access.
  const retryDeps = (store: RejectStore, caller: CallerStore): RetryDeps => ({
    rejects: store,
    sources,
    pipeline: pipelineOf(caller),
    commit: caller.commit,
    ...(caller.access ? { access: caller.access } : {}),
    ...(deps.runner ? { translate: deps.runner.retry } : {}),
  });
  if (rejects) {
    // A client retries its own rejects, and stores the retried records through its own view of the store.
    const retry = (r: RetryRequest, res: Response) => retryRejects(r, retryDeps(rejects, callerStore(res)));
    router.use('/rejects', readFhirJsonBody(maxBodyBytes), rejectsRouter({ rejects, retry, baseUrl: deps.rejectsUrl }));
  }
  // Rejects belong to their record's organization, else the source's, else the posting client's (src/store/rejects.ts).
  const saveRejects = (res: Response) =>
    rejects
      ? (list: RejectRecord[], owners: RejectOwners) => rejects.add(list, { ...owners, access: accessOf(res.locals.auth as CallerLike | undefined) })
      : undefined;
  // Once an ingest is stored, the caller's rejects awaiting what it stored are retried (src/pipeline/retry-rejects.ts `retryAwaiting`):
  // those of every source of the same system (the HL7 feeds' SIUs wait for the episodes of the CSV export: one system, two sources).
  const awaiting = (caller: CallerStore, source: LoadedSource) =>
    rejects && caller.commit && caller.stored
      ? async (written: { kind: string; id: string; personId?: string }[]): Promise<AwaitingRetries> => {
          const done: AwaitingRetries = { retried: 0, resolved: 0 };
          const sameSystem = [source, ...[...sources.values()].filter((s) => s !== source && s.system === source.system)];
          for (const s of sameSystem) {
            const r = await retryAwaiting(s.name, written, retryDeps(rejects, caller));
            done.retried += r.retried;
            done.resolved += r.resolved;
          }
          return done;
        }
      : undefined;

  router.post('/canonical', readFhirJsonBody(maxBodyBytes), async (req, res) => {
    const dryRun = dryRunFlag(req);
    const repeated = repeatedTopLevelKey(String(res.locals.bodyText ?? ''));
    if (repeated !== undefined) {
      throw badRequest(`"${repeated}" appears twice at the top level of the body: only one would be read, so nothing was`, `$.${repeated}`);
    }
    const caller = callerStore(res);
    const result = await ingest('canonical', req.body, dryRun, {
      ...pipelineOf(caller),
      commit: caller.commit,
      ...(deps.runner ? { translateCanonical: deps.runner.canonical } : {}),
    });
    sendFhir(res, result.status, result.body);
  });

  router.post('/:source', async (req, res) => {
    const name = String(req.params.source);
    const source = sources.get(name);
    if (!source) {
      throw notFound(`Unknown ingest source '${name}': known sources are ${['canonical', ...sources.keys()].join(', ')}`);
    }
    const dryRun = dryRunFlag(req);
    const type = contentType(req);
    if (!SOURCE_TYPES[source.format].includes(type)) {
      throw unsupportedMediaType(`Source ${name} takes ${source.format} (Content-Type ${SOURCE_TYPES[source.format].join(' or ')}), got '${type || 'none'}'`);
    }
    const file = typeof req.query.file === 'string' ? req.query.file : undefined;
    const feed = feedOf(name, source, typeof req.query.feed === 'string' ? req.query.feed : undefined, file);
    const body = await readBody(req, maxBodyBytes);
    if (body.length === 0) throw badRequest(`The request has no body: send the ${source.format} export`);
    const input = { name: file ?? 'request body', chunks: [body], ...(feed !== undefined ? { feed } : {}) };
    const caller = callerStore(res);
    const result = await ingestSource(source, [input], dryRun, {
      ...pipelineOf(caller),
      commit: caller.commit,
      saveRejects: saveRejects(res),
      retryAwaiting: awaiting(caller, source),
      ...(deps.runner ? { translate: deps.runner.source } : {}),
    });
    sendFhir(res, result.status, result.body);
  });
  return router;
}

/**
 * The feed that reads the body: `?feed=` by name, else the one whose file pattern matches
 * `?file=`, else the source's only feed; 400 naming the feeds when none is chosen. HL7 v2
 * messages are matched to feeds one by one by message type (src/pipeline/translate-source.ts),
 * so `?feed=` is passed on as given.
 */
function feedOf(name: string, source: LoadedSource, feed: string | undefined, file: string | undefined): string | undefined {
  if (source.format === 'hl7v2') return feed;
  const chosen =
    feed !== undefined
      ? source.feeds.find((f) => f.name === feed)
      : file !== undefined
        ? feedFor(source, file)
        : source.feeds.length === 1
          ? source.feeds[0]
          : undefined;
  if (!chosen) {
    const known = source.feeds.map((f) => `${f.name} (${f.match.join(', ')})`).join(', ');
    throw badRequest(
      feed !== undefined
        ? `Source ${name} has no feed '${feed}': its feeds are ${known}`
        : `Say which feed reads the body: ?feed= one of ${known}${file !== undefined ? ` (no feed matches the file name '${file}')` : ''}`,
      'feed',
    );
  }
  return chosen.name;
}

function dryRunFlag(req: Request): boolean {
  const raw: unknown = req.query.dryRun ?? 'false';
  const given = Array.isArray(raw) ? raw.join(',') : String(raw);
  const flag = given.toLowerCase();
  if (!['true', 'false', '1', '0'].includes(flag)) {
    throw badRequest(`dryRun must be true or false, not '${given}'`, 'dryRun');
  }
  return flag === 'true' || flag === '1';
}
