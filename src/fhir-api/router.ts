/**
 * Matching a request against the route table, first match wins. `:type` segments must name a
 * resource type, so `/Patient/$everything` never reaches the read route as an id.
 */
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, methodNotAllowed, notFound } from '../outcomes';
import type { FhirDeps, FhirRequest, FhirResponse, HttpMethod, Route } from './types';

interface Compiled {
  route: Route;
  segments: string[];
}

export interface Router {
  routes: readonly Route[];
  /** Finds the route and its parameters, or undefined. */
  match(method: HttpMethod, path: string, hasQuery: boolean, isType: (t: string) => boolean): { route: Route; params: Record<string, string> } | undefined;
  /** Runs the matching handler; 404 OperationOutcome when none matches. */
  handle(req: Omit<FhirRequest, 'params'>, deps: FhirDeps): Promise<FhirResponse>;
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Builds a router over a route table. */
export function createRouter(routes: readonly Route[]): Router {
  const compiled: Compiled[] = routes.map((route) => ({ route, segments: split(route.pattern) }));
  const router: Router = {
    routes,
    match(method, path, hasQuery, isType) {
      const parts = split(path).map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
      for (const { route, segments } of compiled) {
        if (route.method !== method || segments.length !== parts.length) {
          continue;
        }
        if (route.query !== undefined && route.query !== hasQuery) {
          continue;
        }
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < segments.length && ok; i++) {
          const seg = segments[i];
          if (seg.startsWith(':')) {
            params[seg.slice(1)] = parts[i];
            ok = seg !== ':type' || isType(parts[i]);
          } else {
            ok = seg === parts[i];
          }
        }
        if (ok) {
          return { route, params };
        }
      }
      return undefined;
    },
    async handle(req, deps) {
      const hasQuery = Object.keys(req.query).some((k) => !k.startsWith('_format') && k !== '_pretty');
      const found = router.match(req.method, req.path, hasQuery, (t) => deps.validator.defs.isResourceType(t));
      if (!found) {
        const methods = (['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const).filter(
          (m) => m !== req.method && router.match(m, req.path, hasQuery, (t) => deps.validator.defs.isResourceType(t)),
        );
        if (methods.length > 0) {
          // https://www.rfc-editor.org/rfc/rfc9110#name-405-method-not-allowed: a 405 names what the URL takes.
          throw methodNotAllowed(`${req.method} is not supported on ${req.path} (allowed: ${methods.join(', ')})`, methods);
        }
        const first = split(req.path)[0];
        if (first && /^[A-Z]/.test(first) && !deps.validator.defs.isResourceType(first)) {
          throw notFound(`Unknown resource type '${first}'`);
        }
        throw notFound(`No FHIR route for ${req.method} ${req.path}`);
      }
      return found.route.handler({ ...req, params: found.params }, deps);
    },
  };
  return router;
}

/**
 * Commits a transaction Bundle through a router's transaction processor (`POST /`): what ingest,
 * retries and the MLLP listener store with, so they go through the same atomicity, access and
 * write rules as a client's `POST /fhir`. Resolves to the transaction-response; throws when it failed.
 *
 * `entriesValidated`: every entry's resource was just validated by the pipeline that made it (the
 * same validator, one resource at a time), so the transaction does not validate the Bundle again
 * (issue 15: it doubled the validation cost of every ingest). Only in-process callers can say so:
 * the HTTP layer builds its requests without this field.
 */
export function transactionCommitter(
  router: Router,
  deps: FhirDeps,
  baseUrl: string,
  options: { entriesValidated?: boolean } = {},
): (bundle: Bundle) => Promise<Bundle> {
  return async (bundle) => {
    const res = await router.handle(
      { method: 'POST', path: '/', query: {}, headers: {}, body: bundle, baseUrl, ...(options.entriesValidated ? { entriesValidated: true } : {}) },
      deps,
    );
    if (res.status >= 400)
      throw new FhirError(
        (res.body as OperationOutcome | undefined) ?? { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] },
        res.status,
      );
    return res.body as Bundle;
  };
}
