/**
 * The Express app, wiring only: `createApp(deps)` puts together the parts of src/http and builds
 * the app without listening, so tests drive it with supertest. Order matters and is the point of
 * this file: request logs and metrics, security headers, health and readiness (open, not audited,
 * not rate-limited), audit, the web console's pages (src/http/console.ts), the console's sign-in,
 * auth (token endpoint, console session cookie, bearer tokens on `/fhir`, `/ingest`, `/admin`,
 * `/metrics` and `/console/api`, rate limits), then the FHIR API under `/fhir` (format check, body
 * reader, scopes, routes), Bulk Data files, the console's API, ingest under `/ingest`, and last the
 * 404 and the one error handler (src/http/errors.ts) that answers every failure with an
 * OperationOutcome.
 */
import express, { type Response } from 'express';
import { publicBaseUrl, publicRootUrl, type Config } from '../config';
import { fhirRouter, transactionCommitter, type FhirDeps, type Route } from '../fhir-api';
import type { Repository } from '../store/repository';
import { type BodyValidator, DEFAULT_VALIDATION_BUDGET, inThreadValidation, UNBUDGETED, type ValidationPool, type Validator } from '../validation';
import type { BulkExport } from '../export';
import { loadRules, type RuleSet } from '../domain/rules';
import { loadPackageTerms, type PackageTerms } from '../fhir/context';
import { extractRoute } from '../fhir-api/extract';
import { translateRoutes } from '../fhir-api/translate';
import type { LoadedSource } from '../translate/types';
import type { RejectStore } from '../store/rejects';
import { ADMIN_TYPES, type Auth } from '../auth';
import type { Audit } from '../audit';
import type { CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import { readFhirJsonBody } from './body';
import { capabilityStatement } from './capability';
import { errorHandler, noRoute, type Log } from './errors';
import { exportRouter } from './export-router';
import { depsFor, fhirAdapter, formatCheck, noStore } from './fhir-adapter';
import { sendFhir } from '../outcomes/fhir-json';
import { securityHeaders } from './hardening';
import { consoleApi, consolePages } from './console';
import { igSite } from './ig-site';
import { ingestRouter, type CallerStore } from './ingest-router';
import type { PipelineRunner } from '../pipeline/runs';
import { storedRecords } from '../store/stored-records';
import { SqlRepository } from '../store/sql-repository';
import { healthRouter } from './health';
import type { Console } from '../users';
import { consoleSession } from './console-session';
import type { Logger } from '../ops/logger';
import { metricsText, setAuditQueueDepthProvider, setExportJobsProvider } from '../ops/metrics';
import { requestObserver } from './request-log';
import { routePatterns } from './route-pattern';

export { answerClientErrors } from './hardening';

export interface AppDeps {
  validator: Validator;
  /**
   * Worker threads that validate request bodies (`$validate`, writes, transactions, `$extract`)
   * within their budget, off the event loop (src/validation/pool.ts). Without one, bodies are
   * validated in the request thread, still within `VALIDATION_MAX_ELEMENTS`. The caller closes it.
   */
  validationPool?: ValidationPool;
  /**
   * Where `/ingest` runs the pipeline (its posts, and reruns of kept rejects): the server passes
   * the pool's workers (src/pipeline/pool.ts `pooledPipeline`); default the request thread.
   */
  pipelineRunner?: PipelineRunner;
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
  /**
   * Sign-in for people (src/users): `/console/session`, `/console/api/config`, and the session
   * cookie as the caller of every route (src/http/console-session.ts). Without it, no console sign-in.
   */
  console?: Console;
  log?: Log;
  /** Request logs (src/http/request-log.ts): one JSON line per request; without one (tests), none. Metrics are counted either way. */
  logger?: Logger;
  /** The built web console (scripts/build-web.js); dist/web by default. */
  consoleDir?: string;
}

/** Builds the app. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Every absolute URL the app writes starts here, never at the request's Host (which the client chooses).
  const base = publicBaseUrl(deps.config);
  app.set('query parser', 'simple');

  // Every request is counted in the metrics and logged by route pattern once answered (src/ops).
  let routeOf = routePatterns();
  app.use(requestObserver({ routeOf: (req) => routeOf(req), log: deps.logger }));
  app.use(securityHeaders(base));
  // /healthz and /readyz (src/http/health.ts): before the audit trail, auth and rate limits.
  app.use(healthRouter({ driver: deps.store instanceof SqlRepository ? deps.store.driver : undefined, validator: deps.validator, log: deps.log }));
  if (deps.audit) app.use(deps.audit.middleware);
  app.use('/ig', igSite()); // the FHIR package's static site (docs/ig, issue 16): public, before auth
  // The web console's pages and hashed assets (src/http/console.ts): public shells, before auth; their data comes through the APIs.
  app.use(consolePages(deps.consoleDir));
  const signIn = deps.console
    ? consoleSession({
        console: deps.console,
        auth: deps.auth,
        audit: deps.audit,
        validator: deps.validator,
        sources: deps.sources ?? new Map(),
        baseUrl: base,
      })
    : undefined;
  // Sign-in, sign-out and the console's configuration answer for themselves (open, or by their session).
  if (signIn) app.use(signIn.router);
  // The token endpoint and SMART configuration are open; the FHIR API, ingest, the client registry and
  // the console's API need a bearer token or a console session (other paths are not tokens' business:
  // an unknown one is a 404, not a 401).
  if (deps.auth) {
    const guarded = ['/fhir', '/ingest', '/admin', '/metrics', '/console/api'];
    app.use(deps.auth.router);
    if (signIn) app.use(guarded, signIn.cookieAuth);
    app.use(guarded, deps.auth.authenticate);
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
  routeOf = routePatterns({ router, isType: (t) => deps.validator.defs.isResourceType(t) });
  // The FHIR route table as served, for tools and tests that go over every route (test/http/fuzz.test.ts).
  app.locals.fhirRoutes = router.routes;

  // With auth on, AuditEvents are written by the server only (src/auth permissions), and rest.security names SMART Backend Services.
  const capability = deps.auth ? { serverWrittenTypes: ADMIN_TYPES, security: deps.auth.capabilitySecurity() as CapabilityStatementRestSecurity } : {};
  fhir.get('/metadata', (_req, res) => sendFhir(res, 200, capabilityStatement(deps.validator, base, router.routes, capability)));

  // Everything else is the FHIR REST API (src/fhir-api), through one adapter.
  // With auth off the store is unfiltered: the audit trail is kept out of cross-type reads as a client's scopes keep it out with auth on.
  const fhirDeps = { repo: deps.store ?? noStore(), validator: deps.validator, validation, log: deps.log, crossTypeHidden: [...ADMIN_TYPES] };
  fhir.all('/{*rest}', fhirAdapter(router, fhirDeps, base));

  if (deps.bulkExport) {
    const bulk = deps.bulkExport;
    app.use('/fhir', exportRouter({ jobs: bulk.jobs, driver: bulk.driver, baseUrl: base, log: deps.log }));
  }
  app.use('/fhir', fhir);

  // Ingest and retries store as the caller, through the same transaction processor as POST /fhir.
  const commitDeps = { ...fhirDeps, validation: serverValidation };
  const callerStore = (res: Response): CallerStore => {
    const view: FhirDeps = depsFor(commitDeps, res);
    return {
      // Ingest and retries commit pipeline output, validated as it was made: not validated twice.
      commit: deps.store ? transactionCommitter(router, view, base, { entriesValidated: true }) : undefined,
      access: view.access,
      stored: deps.store ? storedRecords(view.repo) : undefined,
    };
  };
  // The console's own API (validate as you type, its config): any authenticated caller.
  app.use(
    consoleApi({
      validator: deps.validator,
      validationPool: deps.validationPool,
      maxBodyBytes: deps.config.MAX_BODY_BYTES,
      authDisabled: !deps.auth || deps.auth.config.AUTH_DISABLED,
      mappings: [...(deps.sources ?? new Map<string, LoadedSource>()).keys()],
    }),
  );
  if (deps.auth) app.use('/ingest', deps.auth.authorize);
  app.use(
    '/ingest',
    ingestRouter({
      pipeline: pipelineDeps,
      sources: deps.sources ?? new Map<string, LoadedSource>(),
      rejects: deps.rejects,
      callerStore,
      ...(deps.pipelineRunner ? { runner: deps.pipelineRunner } : {}),
      maxBodyBytes: deps.config.MAX_BODY_BYTES,
      rejectsUrl: `${publicRootUrl(base)}/ingest/rejects`,
    }),
  );
  // Prometheus metrics (src/ops/metrics.ts): the `system/Metrics.read` scope, which no `*` scope grants (or METRICS_PORT, src/server.ts).
  const { audit, bulkExport } = deps;
  if (audit) setAuditQueueDepthProvider(() => audit.writer.stats.queued);
  if (bulkExport) setExportJobsProvider(() => bulkExport.jobs.countByStatus());
  app.get('/metrics', ...(deps.auth ? [deps.auth.authorize] : []), (_req, res, next) => {
    metricsText().then(({ contentType, body }) => res.type(contentType).set('Cache-Control', 'no-store').send(body), next);
  });
  app.get('/', (_req, res) => {
    res.json({ name: 'PeerBridge', fhir: '/fhir', metadata: '/fhir/metadata' });
  });
  app.use(noRoute);
  app.use(errorHandler(deps.log));
  return app;
}
