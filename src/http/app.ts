/**
 * The Express app. `createApp(deps)` builds it without listening, so tests drive it with supertest.
 * Every failure is answered with an OperationOutcome by `errorHandler` (src/http/errors.ts), with
 * the status the error carries.
 */
import express, { type Request, type Response } from 'express';
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import { publicBaseUrl, publicRootUrl, type Config } from '../config';
import { badRequest, notFound, unsupportedMediaType } from '../outcomes';
import { fhirRouter, transactionCommitter, type FhirDeps, type Route } from '../fhir-api';
import type { Repository } from '../store/repository';
import { depsFor, fhirAdapter, formatCheck, noStore } from './fhir-adapter';
import { repeatedTopLevelKey } from '../inbound/json-records';
import { type BodyValidator, DEFAULT_VALIDATION_BUDGET, inThreadValidation, UNBUDGETED, type ValidationPool, type Validator } from '../validation';
import { capabilityStatement } from './capability';
import { exportRouter } from './export-router';
import type { BulkExport } from '../export';
export { validateBody as validateHandler } from '../fhir-api/validate';
import { loadRules, type RuleSet } from '../domain/rules';
import { loadPackageTerms, type PackageTerms } from '../fhir/context';
import { extractRoute } from '../fhir-api/extract';
import { ingest, ingestSource } from '../pipeline/ingest';
import type { InputFormat, LoadedSource } from '../translate/types';
import { feedFor } from '../translate';
import type { RejectOwners, RejectRecord, RejectStore } from '../store/rejects';
import { retryRejects, type RetryRequest } from '../pipeline/retry-rejects';
import { accessOf, type CallerLike } from '../access';
import { rejectsRouter } from './rejects-router';
import { translateRoutes } from '../fhir-api/translate';
import { ADMIN_TYPES, type Auth } from '../auth';
import type { Audit } from '../audit';
import { readBody, readFhirJsonBody } from './body';
import { errorHandler, noRoute, type Log } from './errors';
import { contentType, sendFhir } from './fhir-json';
import { securityHeaders } from './hardening';

export { answerClientErrors } from './hardening';

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
  log?: Log;
}

/** Builds the app. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Every absolute URL the app writes starts here, never at the request's Host (which the client chooses).
  const base = publicBaseUrl(deps.config);
  app.set('query parser', 'simple');

  if (deps.audit) app.use(deps.audit.middleware);
  app.use(securityHeaders(base));
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
    sendFhir(res, 200, statement);
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

  // Ingest (DESIGN.md): a source's own format in; Parameters with the Bundle and per-record issues out.
  // Stored through the same transaction processor as POST /fhir: atomic, validated on write.
  // As the caller's writes (depsFor): a client ingests only into its organizations, as over REST.
  const commitVia = (res: Response) => (deps.store ? transactionCommitter(router, depsFor(commitDeps, res), base) : undefined);
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
      return retryRejects(r, { rejects, sources, pipeline: pipelineDeps, commit, ...(view.access ? { access: view.access } : {}) });
    };
    app.use('/ingest/rejects', readFhirJsonBody(deps.config.MAX_BODY_BYTES), rejectsRouter({ rejects, retry, baseUrl: `${publicRootUrl(base)}/ingest/rejects` }));
  }
  app.post('/ingest/canonical', readFhirJsonBody(deps.config.MAX_BODY_BYTES), async (req, res) => {
    const dryRun = dryRunFlag(req);
    const repeated = repeatedTopLevelKey(String(res.locals.bodyText ?? ''));
    if (repeated !== undefined) {
      throw badRequest(`"${repeated}" appears twice at the top level of the body: only one would be read, so nothing was`, `$.${repeated}`);
    }
    const result = await ingest('canonical', req.body, dryRun, { ...pipelineDeps, commit: commitVia(res) });
    sendFhir(res, result.status, result.body);
  });
  app.post('/ingest/:source', async (req, res) => {
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
    const feed = typeof req.query.feed === 'string' ? req.query.feed : undefined;
    const file = typeof req.query.file === 'string' ? req.query.file : undefined;
    let chosenFeed: string | undefined = feed;
    if (source.format !== 'hl7v2') {
      const chosen = feed !== undefined ? source.feeds.find((f) => f.name === feed) : file !== undefined ? feedFor(source, file) : source.feeds.length === 1 ? source.feeds[0] : undefined;
      if (!chosen) {
        const known = source.feeds.map((f) => `${f.name} (${f.match.join(', ')})`).join(', ');
        throw badRequest(feed !== undefined ? `Source ${name} has no feed '${feed}': its feeds are ${known}` : `Say which feed reads the body: ?feed= one of ${known}${file !== undefined ? ` (no feed matches the file name '${file}')` : ''}`, 'feed');
      }
      chosenFeed = chosen.name;
    }
    const body = await readBody(req, deps.config.MAX_BODY_BYTES);
    if (body.length === 0) throw badRequest(`The request has no body: send the ${source.format} export`);
    const result = await ingestSource(source, [{ name: file ?? 'request body', chunks: [body], ...(chosenFeed !== undefined ? { feed: chosenFeed } : {}) }], dryRun, { ...pipelineDeps, commit: commitVia(res), saveRejects: saveRejects(res) });
    sendFhir(res, result.status, result.body);
  });
  app.get('/', (_req, res) => {
    res.json({ name: 'PeerBridge', fhir: '/fhir', metadata: '/fhir/metadata' });
  });
  app.use(noRoute);
  app.use(errorHandler(deps.log));
  return app;
}

function dryRunFlag(req: Request): boolean {
  const flag = String(req.query.dryRun ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(flag)) {
    throw badRequest(`dryRun must be true or false, not '${String(req.query.dryRun)}'`, 'dryRun');
  }
  return flag === 'true' || flag === '1';
}

/** The media types an outside source's body may have, by format. */
const SOURCE_TYPES: Record<InputFormat, string[]> = {
  csv: ['text/csv', 'application/csv', 'text/plain'],
  hl7v2: ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain'],
  json: ['application/json', 'text/json'],
};
