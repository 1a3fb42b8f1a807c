/**
 * Health and readiness (issue 16 item 3), for load balancers and orchestrators: mounted before the
 * audit trail, authentication and rate limits, so they need no token, write no AuditEvent and are
 * never refused for rate.
 *
 * - `GET /healthz`: the process is up and answers: 200 `{"status":"ok"}`, nothing checked.
 * - `GET /readyz`: the store answers a trivial query, its schema is at this build's version
 *   (migrations done), and the FHIR packages and profiles are loaded: 200 `{"status":"ready",
 *   "checks":{...}}`; else 503 with an OperationOutcome, one issue per check that failed, naming
 *   it. Causes (a driver's error) go to the log, never to the unauthenticated caller.
 */
import { Router, type Response } from 'express';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { SCHEMA_VERSION } from '../store/schema';
import type { SqlDriver } from '../store/repository';
import type { Validator } from '../validation';
import { sendFhir } from '../outcomes/fhir-json';
import type { Log } from './errors';

/** How long `/readyz` waits for the store before calling it unreachable. */
export const READY_STORE_TIMEOUT_MS = 2000;

export interface HealthDeps {
  /** The store's driver; absent when the app was built without a store (then not checked). */
  driver?: Pick<SqlDriver, 'query'>;
  validator: Pick<Validator, 'profileUrls' | 'defs'>;
  log?: Log;
  timeoutMs?: number;
}

export type CheckResult = { ok: true; detail: string } | { ok: false; detail: string };

/** Each readiness check by name: `store`, `migrations`, `packages`. */
export async function readiness(deps: HealthDeps): Promise<Record<string, CheckResult>> {
  const checks: Record<string, CheckResult> = {};
  if (deps.driver) {
    const driver = deps.driver;
    try {
      const version = await withTimeout(
        driver.query<{ version: number | null }>('SELECT max(version)::int AS version FROM fhir_schema').then((r) => r.rows[0]?.version ?? 0),
        deps.timeoutMs ?? READY_STORE_TIMEOUT_MS,
      );
      checks.store = { ok: true, detail: 'reachable' };
      checks.migrations =
        version >= SCHEMA_VERSION
          ? { ok: true, detail: `schema version ${version}` }
          : { ok: false, detail: `schema version ${version}, this build needs ${SCHEMA_VERSION}: migrations not done` };
    } catch (e) {
      deps.log?.('warn', 'readyz: store check failed', { error: e instanceof Error ? e.message : String(e) });
      checks.store = { ok: false, detail: 'the store did not answer a trivial query' };
      checks.migrations = { ok: false, detail: 'unknown: the store did not answer' };
    }
  }
  const profiles = deps.validator.profileUrls().length;
  checks.packages =
    profiles > 0 && deps.validator.defs.isResourceType('Patient')
      ? { ok: true, detail: `FHIR R4 and ${profiles} profiles loaded` }
      : { ok: false, detail: 'FHIR packages or profiles not loaded' };
  return checks;
}

/** The router with `/healthz` and `/readyz` (mount at the root, before audit and auth). */
export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    noStore(res).json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res, next) => {
    readiness(deps).then((checks) => {
      const failed = Object.entries(checks).filter(([, c]) => !c.ok);
      noStore(res);
      if (failed.length === 0) {
        res.json({ status: 'ready', checks: Object.fromEntries(Object.entries(checks).map(([k, c]) => [k, c.detail])) });
        return;
      }
      const issue: OperationOutcomeIssue[] = failed.map(([name, c]) => ({
        severity: 'error',
        code: 'transient',
        details: { text: `${name}: ${c.detail}` },
        diagnostics: name,
      }));
      const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue };
      sendFhir(res, 503, outcome);
    }, next);
  });
  return router;
}

function noStore(res: Response): Response {
  return res.set('Cache-Control', 'no-store');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
