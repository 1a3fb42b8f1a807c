/**
 * The Express app. `createApp(deps)` builds it without listening, so tests drive it with supertest.
 * Every failure is answered with an OperationOutcome; the status is decided in `errorHandler`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Bundle, CapabilityStatementRestSecurity, Resource } from '@medplum/fhirtypes';
import { publicBaseUrl, publicRootUrl, type Config } from '../config';
import { badRequest, FhirError, notFound, OperationOutcomeError, serverError, statusOf, tooCostly, tooLarge, unsupportedMediaType } from '../outcomes';
import { fhirRouter, transactionCommitter, type FhirDeps, type Route } from '../fhir-api';
import type { Repository } from '../store/repository';
import { depsFor, fhirAdapter, formatCheck, noStore } from './fhir-adapter';
import { describeJsonError } from '../inbound/json-error';
import { jsonTextShape } from '../inbound/json-shape';
import { repeatedTopLevelKey } from '../inbound/json-records';
import { type BodyValidator, DEFAULT_VALIDATION_BUDGET, inThreadValidation, MAX_DEPTH, UNBUDGETED, type ValidationPool, type Validator } from '../validation';
import { capabilityStatement } from './capability';
import { exportRouter } from './export-router';
import { igSite } from './ig-site';
import type { BulkExport } from '../export';
export { validateBody as validateHandler } from '../fhir-api/validate';
import { loadRules, type RuleSet } from '../domain/rules';
import { loadPackageTerms, type PackageTerms } from '../fhir/context';
import { extractRoute } from '../fhir-api/extract';
import { ingest, ingestSource } from '../pipeline/ingest';
import type { InputFormat, LoadedSource } from '../translate/types';
import { feedFor } from '../translate';
import type { RejectOwners, RejectRecord, RejectStore } from '../store/rejects';
import { retryAwaiting, retryRejects, type RetryRequest } from '../pipeline/retry-rejects';
import { storedRecords } from '../store/stored-records';
import { accessOf, type CallerLike } from '../access';
import { rejectsRouter } from './rejects-router';
import { translateRoutes } from '../fhir-api/translate';
import { ADMIN_TYPES, type Auth } from '../auth';
import type { Audit } from '../audit';
import type { Server } from 'node:http';

export interface AppDeps {
  validator: Validator;
  /**
   * Worker threads that validate request bodies (`$validate`, writes, transactions, `$extract`)
   * within their budget, off the event loop (src/validation/pool.ts). Without one, bodies are
   * validated in the request thread, still within `VALIDATION_MAX_ELEMENTS`. The caller closes it.
   */
  validationPool?: ValidationPool;
  /** The FHIR store; without one the REST interactions answer 501 (validation still works). */
  store?: Repository;
  /** Routes matched before the standard FHIR ones (operations such as `$export`). */
  routes?: Route[];
  /** Bulk Data export (src/export): its status and file endpoints are served under the FHIR base. */
  bulkExport?: BulkExport;
  /** Rule set and package terms for ingest and `$extract` (loaded from rules/default.json and profiles/package when absent). */
  pipeline?: { rules: RuleSet; terms: PackageTerms };
  config: Pick<Config, 'MAX_BODY_BYTES'> & Partial<Config>;
  /** Outside sources (mapping folders) for `POST /ingest/{source}`; see mappings/README.md. */
  sources?: Map<string, LoadedSource>;
  /** Keeps rejected records of outside sources (`GET /ingest/rejects`, `POST /ingest/rejects/$retry`). */
  rejects?: RejectStore;
  /**
   * SMART Backend Services (src/auth): the token endpoint, bearer tokens, scopes and rate limits on
   * every route. Without it (tests of other concerns, AUTH_DISABLED) nothing is checked.
   */
  auth?: Auth;
  /** The audit trail (src/audit): an AuditEvent for every request, recorded when its response is finished. */
  audit?: Audit;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

export const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

/** Builds the app. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Every absolute URL the app writes starts here, never at the request's Host (which the client chooses).
  const base = publicBaseUrl(deps.config);
  app.set('query parser', 'simple');

  // --- audit and security headers (issue 6, "Audit" and "Hardening") ---
  if (deps.audit) app.use(deps.audit.middleware);
  app.use(securityHeaders(deps.config.BASE_URL));
  // --- end audit and security headers ---
  app.use('/ig', igSite()); // the FHIR package's static site (docs/ig, issue 16): public, before auth
  // The token endpoint and SMART configuration are open; everything after needs a bearer token.
  if (deps.auth) {
    app.use(deps.auth.router);
    app.use(deps.auth.authenticate);
    app.use(deps.auth.rateLimit);
    // The client registry (src/auth/admin-router.ts): clients are registered while the server runs.
    app.use('/admin/clients', deps.auth.admin);
  }

  const fhir = express.Router();
  fhir.use(formatCheck);
  // A client's FHIR body is validated within the element budget; one over it is refused before it is parsed.
  const maxElements = deps.validationPool?.budget.maxElements ?? deps.config.VALIDATION_MAX_ELEMENTS ?? DEFAULT_VALIDATION_BUDGET.maxElements;
  fhir.use(readFhirJsonBody(deps.config.MAX_BODY_BYTES, maxElements));
  // Scopes are checked once the body is read: Bundles are checked entry by entry, form searches by their parameters.
  if (deps.auth) fhir.use(deps.auth.authorize);
  const pipeline = deps.pipeline ?? { rules: loadRules(deps.config.RULES_FILE), terms: loadPackageTerms() };
  const pipelineDeps = { validator: deps.validator, ...pipeline };
  // Clients' bodies are validated within the budget; bundles the server builds itself (ingest,
  // retries) are bounded by the body limit instead, and go to the pool's workers without one.
  const validation: BodyValidator = deps.validationPool ?? inThreadValidation(deps.validator, { maxElements });
  const serverValidation = deps.validationPool?.withBudget(UNBUDGETED);
  const router = fhirRouter([extractRoute({ ...pipelineDeps, validation }), ...translateRoutes(), ...(deps.routes ?? [])]);
  // The FHIR route table as served, for tools and tests that go over every route (test/http/fuzz.test.ts).
  app.locals.fhirRoutes = router.routes;

  fhir.get('/metadata', (_req, res) => {
    // With auth on, AuditEvents are written by the server only (src/auth permissions): the statement offers no writes of them.
    const statement = capabilityStatement(deps.validator, base, router.routes, { serverWrittenTypes: deps.auth ? ADMIN_TYPES : undefined });
    // With auth on, rest.security names SMART Backend Services and the token endpoint.
    if (deps.auth && statement.rest?.[0]) statement.rest[0].security = deps.auth.capabilitySecurity() as CapabilityStatementRestSecurity;
    send(res, 200, statement);
  });

  // Everything else is the FHIR REST API (src/fhir-api), through one adapter.
  // With auth off the store is unfiltered: the audit trail is kept out of cross-type reads as a client's scopes keep it out with auth on.
  const fhirDeps = { repo: deps.store ?? noStore(), validator: deps.validator, validation, log: deps.log, crossTypeHidden: [...ADMIN_TYPES] };
  const commitDeps = { ...fhirDeps, validation: serverValidation };
  fhir.all('/{*rest}', fhirAdapter(router, fhirDeps, base));

  if (deps.bulkExport) {
    const bulk = deps.bulkExport;
    app.use('/fhir', exportRouter({ jobs: bulk.jobs, driver: bulk.driver, baseUrl: base, log: deps.log }));
  }
  app.use('/fhir', fhir);

  // Ingest (docs/architecture.md#ingest): a source's own format in; Parameters with the Bundle and per-record issues out.
  // Stored through the same transaction processor as POST /fhir: atomic, validated on write.
  // As the caller's writes (depsFor): a client ingests only into its organizations, as over REST.
  const commitVia = (res: Response) => (deps.store ? transactionCommitter(router, depsFor(commitDeps, res), base) : undefined);
  // Records sent before, as the caller sees them (the lookup port, src/store/stored-records.ts): what the caller may not read is missing.
  const pipelineFor = (res: Response) => (deps.store ? { ...pipelineDeps, stored: storedRecords(depsFor(commitDeps, res).repo) } : pipelineDeps);
  const sources = deps.sources ?? new Map<string, LoadedSource>();
  if (deps.auth) app.use('/ingest', deps.auth.authorize);
  const rejects = deps.rejects;
  // Rejects belong to their record's organization, else the source's, else the posting client's (src/store/rejects.ts).
  const saveRejects = (res: Response) => (rejects ? (list: RejectRecord[], owners: RejectOwners) => rejects.add(list, { ...owners, access: accessOf(res.locals.auth as CallerLike | undefined) }) : undefined);
  if (rejects) {
    // A client retries its own rejects, and stores the retried records through its own view of the store.
    const retry = (r: RetryRequest, res: Response) => {
      const view: FhirDeps = depsFor(commitDeps, res);
      const commit = deps.store ? transactionCommitter(router, view, base) : undefined;
      return retryRejects(r, { rejects, sources, pipeline: pipelineFor(res), commit, ...(view.access ? { access: view.access } : {}) });
    };
    app.use('/ingest/rejects', readFhirJsonBody(deps.config.MAX_BODY_BYTES), rejectsRouter({ rejects, retry, baseUrl: `${publicRootUrl(base)}/ingest/rejects` }));
  }
  // After an ingest is stored, the caller's rejects awaiting what it stored are retried (src/pipeline/retry-rejects.ts `retryAwaiting`).
  const awaitingVia = (res: Response, source: string) => {
    if (!rejects || !deps.store) return undefined;
    const view: FhirDeps = depsFor(commitDeps, res);
    const retryDeps = { rejects, sources, pipeline: pipelineFor(res), commit: transactionCommitter(router, view, base), ...(view.access ? { access: view.access } : {}) };
    return (written: { kind: string; id: string }[]) => retryAwaiting(source, written, retryDeps);
  };
  app.post('/ingest/canonical', readFhirJsonBody(deps.config.MAX_BODY_BYTES), async (req, res) => {
    const dryRun = dryRunFlag(req);
    const repeated = repeatedTopLevelKey(String(res.locals.bodyText ?? ''));
    if (repeated !== undefined) {
      throw new FhirError(badRequest(`"${repeated}" appears twice at the top level of the body: only one would be read, so nothing was`, `$.${repeated}`), 400);
    }
    const result = await ingest('canonical', req.body, dryRun, { ...pipelineFor(res), commit: commitVia(res) });
    send(res, result.status, result.body);
  });
  app.post('/ingest/:source', async (req, res) => {
    const name = String(req.params.source);
    const source = sources.get(name);
    if (!source) {
      throw new FhirError(notFound(`Unknown ingest source '${name}': known sources are ${['canonical', ...sources.keys()].join(', ')}`), 404);
    }
    const dryRun = dryRunFlag(req);
    const type = contentType(req);
    if (!SOURCE_TYPES[source.format].includes(type)) {
      throw new FhirError(unsupportedMediaType(`Source ${name} takes ${source.format} (Content-Type ${SOURCE_TYPES[source.format].join(' or ')}), got '${type || 'none'}'`), 415);
    }
    const feed = typeof req.query.feed === 'string' ? req.query.feed : undefined;
    const file = typeof req.query.file === 'string' ? req.query.file : undefined;
    let chosenFeed: string | undefined = feed;
    if (source.format !== 'hl7v2') {
      const chosen = feed !== undefined ? source.feeds.find((f) => f.name === feed) : file !== undefined ? feedFor(source, file) : source.feeds.length === 1 ? source.feeds[0] : undefined;
      if (!chosen) {
        const known = source.feeds.map((f) => `${f.name} (${f.match.join(', ')})`).join(', ');
        throw new FhirError(badRequest(feed !== undefined ? `Source ${name} has no feed '${feed}': its feeds are ${known}` : `Say which feed reads the body: ?feed= one of ${known}${file !== undefined ? ` (no feed matches the file name '${file}')` : ''}`, 'feed'), 400);
      }
      chosenFeed = chosen.name;
    }
    const body = await readBody(req, deps.config.MAX_BODY_BYTES);
    if (body.length === 0) throw new FhirError(badRequest(`The request has no body: send the ${source.format} export`), 400);
    const result = await ingestSource(source, [{ name: file ?? 'request body', chunks: [body], ...(chosenFeed !== undefined ? { feed: chosenFeed } : {}) }], dryRun, { ...pipelineFor(res), commit: commitVia(res), saveRejects: saveRejects(res), retryAwaiting: awaitingVia(res, source.name) });
    send(res, result.status, result.body);
  });
  app.get('/', (_req, res) => {
    res.json({ name: 'PeerBridge', fhir: '/fhir', metadata: '/fhir/metadata' });
  });
  app.use((req, _res, next) => next(new FhirError(notFound(`Not found: ${req.method} ${req.path}`), 404)));
  app.use(errorHandler(deps.log));
  return app;
}

/**
 * Security headers on every response (OWASP REST Security Cheat Sheet): nothing here is meant to
 * be framed, run or cached. `Cache-Control: no-store` is the default (answers hold PHI); routes
 * that set their own (SMART configuration) override it. HSTS when the request came over https or
 * the public base URL is https.
 */
function securityHeaders(configuredBase?: string) {
  const httpsBase = /^https:/i.test(configuredBase ?? '');
  return (req: Request, res: Response, next: NextFunction): void => {
    res.set({
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    if (httpsBase || req.secure) res.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large'],
  HPE_URI_TOO_LONG: [414, 'URI Too Long', 'The request URI is too long'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time'],
  HPE_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time'],
};

/**
 * Answers requests Node's HTTP parser refuses before Express sees them (headers over
 * `--max-http-header-size`, 16 KiB by default: 431; malformed request lines: 400) with an
 * OperationOutcome and the security headers, then closes the connection. Call on the server
 * `app.listen` returns.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, text] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'The request could not be parsed as HTTP/1.1'];
    const body = JSON.stringify(badRequest(text));
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${FHIR_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n` +
        `X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

function dryRunFlag(req: Request): boolean {
  const flag = String(req.query.dryRun ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(flag)) {
    throw new FhirError(badRequest(`dryRun must be true or false, not '${String(req.query.dryRun)}'`, 'dryRun'), 400);
  }
  return flag === 'true' || flag === '1';
}

/** Sends a FHIR resource as application/fhir+json. */
export function send(res: Response, status: number, body: Resource): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/**
 * Reads a request body up to `maxBytes` (413 beyond, checked on Content-Length first and again
 * while reading, so a lying or absent length cannot get more in).
 */
function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(new FhirError(tooLarge(`Request body of ${declared} bytes is over the limit of ${maxBytes} bytes`), 413));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(new FhirError(tooLarge(`Request body is over the limit of ${maxBytes} bytes`), 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (failed) return;
      failed = true;
      reject(new FhirError(badRequest(`Could not read the request body: ${err.message}`), 400));
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
  });
}

const contentType = (req: Request): string => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

/**
 * Reads a JSON body for POST/PUT: checks Content-Type (415), size (413), values (413, over
 * `maxElements`), syntax (400 with the line and column) and nesting depth (400), before any
 * handler sees it. Values and depth are read from the text, so an oversized body is never built.
 */
function readFhirJsonBody(maxBytes: number, maxElements = Infinity) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      // No route takes a body otherwise (PATCH is not implemented: the router answers 405 with Allow); it is left unread.
      req.resume();
      next();
      return;
    }
    const type = contentType(req);
    // POST /{type}/_search may send its parameters as a form (https://hl7.org/fhir/R4/http.html#search).
    const form = type === 'application/x-www-form-urlencoded' && req.method === 'POST' && req.path.endsWith('/_search');
    if (!form && !JSON_TYPES.includes(type)) {
      next(new FhirError(unsupportedMediaType(`Content-Type must be application/fhir+json (got '${type || 'none'}')`), 415));
      return;
    }
    readBody(req, maxBytes).then((body) => {
      const text = body.toString('utf8').replace(/^\uFEFF/, '');
      if (form) {
        req.body = new URLSearchParams(text);
        next();
        return;
      }
      if (!text.trim()) {
        next(new FhirError(badRequest('Request body is empty; expected a FHIR JSON resource'), 400));
        return;
      }
      const shape = jsonTextShape(text, maxElements);
      if (shape.values > maxElements) {
        next(new FhirError(tooCostly(`The body has more than ${maxElements} elements (VALIDATION_MAX_ELEMENTS): not read`), 413));
        return;
      }
      try {
        req.body = JSON.parse(text);
        // Kept for ingest, which refuses duplicate top-level properties (JSON.parse drops all but the last).
        res.locals.bodyText = text;
      } catch (e) {
        next(new FhirError(badRequest(`Malformed JSON: ${describeJsonError(e as Error, text)}`), 400));
        return;
      }
      if (shape.depth > MAX_DEPTH) {
        next(new FhirError(badRequest(`JSON is nested more than ${MAX_DEPTH} levels deep`), 400));
        return;
      }
      next();
    }, next);
  };
}

/** The media types an outside source's body may have, by format. */
const SOURCE_TYPES: Record<InputFormat, string[]> = {
  csv: ['text/csv', 'application/csv', 'text/plain'],
  hl7v2: ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'],
  json: ['application/json', 'text/json'],
};

function errorHandler(log: AppDeps['log']) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof FhirError) {
      if (err.headers) res.set(err.headers);
      send(res, err.status, err.outcome);
      return;
    }
    if (err instanceof OperationOutcomeError) {
      send(res, statusOf(err.outcome), err.outcome);
      return;
    }
    const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
    if (status && status >= 400 && status < 500) {
      send(res, status, badRequest((err as Error).message ?? 'Bad request'));
      return;
    }
    log?.('error', 'unhandled error', { method: req.method, path: req.path, error: err instanceof Error ? err.stack : String(err) });
    send(res, 500, serverError());
  };
}
