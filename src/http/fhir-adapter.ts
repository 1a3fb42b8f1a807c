/**
 * The one Express catch-all that turns HTTP into FHIR handler calls (src/fhir-api): Express'
 * `req`/`res` stop here. Also the `_format` / `Accept` check: this server speaks JSON only.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { FhirDeps, HttpMethod, Router } from '../fhir-api';
import { notAcceptable, notImplemented } from '../outcomes';
import type { Repository, RepositoryAccess } from '../store/repository';
import { accessOf, type CallerLike } from '../access';
import { FHIR_JSON, JSON_FORMATS, sendFhir } from '../outcomes/fhir-json';

/**
 * `_format` (https://hl7.org/fhir/R4/http.html#mime-type) must name JSON; an `Accept` header
 * that allows no JSON is refused too. 406 with an OperationOutcome.
 */
export function formatCheck(req: Request, _res: Response, next: NextFunction): void {
  const format = req.query._format;
  const first: unknown = Array.isArray(format) ? format[0] : format;
  const text = typeof first === 'string' ? first : undefined;
  if (text !== undefined && !JSON_FORMATS.has(text.split(';')[0].trim().toLowerCase())) {
    next(notAcceptable(`_format=${text} is not supported; this server answers ${FHIR_JSON} only`));
    return;
  }
  const accept = req.headers.accept;
  if (accept && !/json|\*\/\*|application\/\*/i.test(accept)) {
    next(notAcceptable(`Accept: ${accept} cannot be met; this server answers ${FHIR_JSON} only`));
    return;
  }
  next();
}

/** A repository stand-in for apps built without a store: every call is a 501. */
export function noStore(): Repository {
  const repo: Repository = new Proxy({} as Repository, {
    get: (_target, name) =>
      name === 'withAccess' ? () => repo : name === 'access' ? undefined : () => Promise.reject(notImplemented('This server was started without a store')),
  });
  return repo;
}

/**
 * The dependencies for one request: the repository as the request's client sees it
 * (`repo.withAccess`, src/store/access-sql.ts) and its access, from `res.locals.auth`; the
 * unfiltered `deps` when there is no client (no auth configured, AUTH_DISABLED).
 * Ingest by a client must commit with these too, so it writes only its organizations' records.
 */
export function depsFor<D extends FhirDeps>(deps: D, res: Response): D {
  const caller = res.locals.auth as CallerLike | undefined;
  if (!caller) {
    return deps;
  }
  // One view per verified caller and store: the verifier hands out the same frozen caller for
  // every request with a token, so a repeat request builds nothing.
  let perStore = views.get(caller);
  if (!perStore) {
    perStore = new WeakMap();
    views.set(caller, perStore);
  }
  let view = perStore.get(deps.repo);
  if (view === undefined) {
    const access = accessOf(caller);
    view = access ? { access: Object.freeze(access), repo: deps.repo.withAccess(access) } : null;
    perStore.set(deps.repo, view);
  }
  return view ? { ...deps, repo: view.repo, access: view.access } : deps;
}

/** Repository views by caller and store (both held weakly). */
const views = new WeakMap<object, WeakMap<Repository, { access: RepositoryAccess; repo: Repository } | null>>();

/** The catch-all: builds the FHIR request, runs the router, writes the answer. `baseUrl` is the public FHIR base (src/config `publicBaseUrl`). */
export function fhirAdapter(router: Router, deps: FhirDeps, baseUrl: string): RequestHandler {
  return async (req, res, next) => {
    try {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
      }
      const query = { ...(req.query as Record<string, string | string[] | undefined>) };
      let body: unknown = req.body;
      // POST /{type}/_search with a form body: its fields are search parameters.
      if (req.method === 'POST' && req.path.endsWith('/_search') && body instanceof URLSearchParams) {
        for (const [k, v] of body) {
          const prev = query[k];
          query[k] = prev === undefined ? v : [...[prev].flat(), v];
        }
        body = undefined;
      }
      const result = await router.handle(
        { method: req.method as HttpMethod, path: req.path, query, headers, body, bodyText: body === req.body ? bodyTextOf(res) : undefined, baseUrl },
        depsFor(deps, res),
      );
      res.status(result.status);
      for (const [k, v] of Object.entries(result.headers ?? {})) {
        res.setHeader(k, v);
      }
      if (result.bodyText !== undefined) {
        // The stored JSON text (read): sent as it is, never parsed here.
        res.type(FHIR_JSON).send(result.bodyText);
      } else if (result.body) {
        sendFhir(res, result.status, result.body);
      } else {
        res.end();
      }
    } catch (err) {
      next(err);
    }
  };
}

/** The JSON body's text, kept by the body reader (src/http/body.ts readFhirJsonBody). */
function bodyTextOf(res: Response): string | undefined {
  const text: unknown = res.locals.bodyText;
  return typeof text === 'string' ? text : undefined;
}
