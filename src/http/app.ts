/**
 * The Express app. `createApp(deps)` builds it without listening, so tests drive it with supertest.
 * Every failure is answered with an OperationOutcome; the status is decided in `errorHandler`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Config } from '../config';
import { badRequest, FhirError, notFound, OperationOutcomeError, serverError, statusOf, tooLarge, unsupportedMediaType } from '../outcomes';
import { fhirRouter, type Route } from '../fhir-api';
import type { Repository } from '../store/repository';
import { fhirAdapter, formatCheck, noStore } from './fhir-adapter';
import { describeJsonError } from '../inbound/json-error';
import { repeatedTopLevelKey } from '../inbound/json-records';
import { jsonDepth, MAX_DEPTH, type Validator } from '../validation';
import { capabilityStatement } from './capability';
import { exportRouter } from './export-router';
import type { BulkExport } from '../export';
export { validateBody as validateHandler } from '../fhir-api/validate';
import { loadRules, type RuleSet } from '../domain/rules';
import { loadPackageTerms, type PackageTerms } from '../fhir/context';
import { extractRoute } from '../fhir-api/extract';
import { ingest } from '../pipeline/ingest';

export interface AppDeps {
  validator: Validator;
  /** The FHIR store; without one the REST interactions answer 501 (validation still works). */
  store?: Repository;
  /** Routes matched before the standard FHIR ones (operations such as `$export`). */
  routes?: Route[];
  /** Bulk Data export (src/export): its status and file endpoints are served under the FHIR base. */
  bulkExport?: BulkExport;
  /** Rule set and package terms for ingest and `$extract` (loaded from rules/default.json and profiles/package when absent). */
  pipeline?: { rules: RuleSet; terms: PackageTerms };
  config: Pick<Config, 'MAX_BODY_BYTES'> & Partial<Config>;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

export const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

/** Builds the app. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  const fhir = express.Router();
  fhir.use(formatCheck);
  fhir.use(readFhirJsonBody(deps.config.MAX_BODY_BYTES));
  const pipeline = deps.pipeline ?? { rules: loadRules(deps.config.RULES_FILE), terms: loadPackageTerms() };
  const pipelineDeps = { validator: deps.validator, ...pipeline };
  const router = fhirRouter([extractRoute(pipelineDeps), ...(deps.routes ?? [])]);

  fhir.get('/metadata', (req, res) => {
    send(res, 200, capabilityStatement(deps.validator, baseUrl(req, deps.config.BASE_URL), router.routes));
  });

  // Everything else is the FHIR REST API (src/fhir-api), through one adapter.
  const fhirDeps = { repo: deps.store ?? noStore(), validator: deps.validator, log: deps.log };
  fhir.all('/{*rest}', fhirAdapter(router, fhirDeps, (req) => baseUrl(req, deps.config.BASE_URL)));

  if (deps.bulkExport) {
    const bulk = deps.bulkExport;
    app.use('/fhir', exportRouter({ jobs: bulk.jobs, driver: bulk.driver, baseUrl: bulk.baseUrl ?? deps.config.BASE_URL, log: deps.log }));
  }
  app.use('/fhir', fhir);

  // Ingest (DESIGN.md): a source's own format in; Parameters with the Bundle and per-record issues out.
  app.post('/ingest/:source', readFhirJsonBody(deps.config.MAX_BODY_BYTES), async (req, res) => {
    const flag = String(req.query.dryRun ?? 'false').toLowerCase();
    if (!['true', 'false', '1', '0'].includes(flag)) {
      throw new FhirError(badRequest(`dryRun must be true or false, not '${String(req.query.dryRun)}'`, 'dryRun'), 400);
    }
    const dryRun = flag === 'true' || flag === '1';
    const repeated = repeatedTopLevelKey(String(res.locals.bodyText ?? ''));
    if (repeated !== undefined) {
      throw new FhirError(badRequest(`"${repeated}" appears twice at the top level of the body: only one would be read, so nothing was`, `$.${repeated}`), 400);
    }
    // Stored through the same transaction processor as POST /fhir: atomic, validated on write.
    const commit = deps.store
      ? async (bundle: Bundle): Promise<Bundle> =>
          (await router.handle({ method: 'POST', path: '/', query: {}, headers: {}, body: bundle, baseUrl: baseUrl(req, deps.config.BASE_URL) }, fhirDeps)).body as Bundle
      : undefined;
    const result = await ingest(String(req.params.source), req.body, dryRun, { ...pipelineDeps, commit });
    send(res, result.status, result.body);
  });
  app.get('/', (_req, res) => {
    res.json({ name: 'PeerBridge', fhir: '/fhir', metadata: '/fhir/metadata' });
  });
  app.use((req, _res, next) => next(new FhirError(notFound(`Not found: ${req.method} ${req.path}`), 404)));
  app.use(errorHandler(deps.log));
  return app;
}

function baseUrl(req: Request, configured?: string): string {
  return configured ?? `${req.protocol}://${req.get('host') ?? 'localhost'}/fhir`;
}

/** Sends a FHIR resource as application/fhir+json. */
export function send(res: Response, status: number, body: Resource): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/**
 * Reads a JSON body for POST/PUT: checks Content-Type (415), size (413), syntax (400 with the line
 * and column) and nesting depth (400), before any handler sees it.
 */
function readFhirJsonBody(maxBytes: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') {
      next();
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    // POST /{type}/_search may send its parameters as a form (https://hl7.org/fhir/R4/http.html#search).
    const form = type === 'application/x-www-form-urlencoded' && req.method === 'POST' && req.path.endsWith('/_search');
    if (!form && !JSON_TYPES.includes(type)) {
      next(
        new FhirError(
          unsupportedMediaType(`Content-Type must be application/fhir+json (got '${type || 'none'}')`),
          415,
        ),
      );
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      next(new FhirError(tooLarge(`Request body of ${declared} bytes is over the limit of ${maxBytes} bytes`), 413));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) {
        return;
      }
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        next(new FhirError(tooLarge(`Request body is over the limit of ${maxBytes} bytes`), 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        next(new FhirError(badRequest(`Could not read the request body: ${err.message}`), 400));
      }
    });
    req.on('end', () => {
      if (failed) {
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
      if (form) {
        req.body = new URLSearchParams(text);
        next();
        return;
      }
      if (!text.trim()) {
        next(new FhirError(badRequest('Request body is empty; expected a FHIR JSON resource'), 400));
        return;
      }
      try {
        req.body = JSON.parse(text);
        // Kept for ingest, which refuses duplicate top-level properties (JSON.parse drops all but the last).
        _res.locals.bodyText = text;
      } catch (e) {
        next(new FhirError(badRequest(`Malformed JSON: ${describeJsonError(e as Error, text)}`), 400));
        return;
      }
      if (jsonDepth(req.body, MAX_DEPTH + 1) > MAX_DEPTH) {
        next(new FhirError(badRequest(`JSON is nested more than ${MAX_DEPTH} levels deep`), 400));
        return;
      }
      next();
    });
  };
}

function errorHandler(log: AppDeps['log']) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof FhirError) {
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
