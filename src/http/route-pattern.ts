/**
 * The route pattern of a request, for logs and metrics: `/fhir/:type/:id`, `/ingest/:source`,
 * never the path as sent (ids, which may identify a person, and query strings, which may hold PHI,
 * are left out), and from a fixed set, so metrics' label values stay bounded. FHIR paths are
 * matched against the FHIR route table the app serves (src/fhir-api); everything else against
 * the app's own mounts. What matches nothing is `(unmatched)`.
 */
import type { Request } from 'express';
import type { Router as FhirRouter } from '../fhir-api';
import type { HttpMethod } from '../fhir-api/types';

export const UNMATCHED = '(unmatched)';

/** Paths outside the FHIR API, as [pattern, regular expression on the path]. */
const APP_ROUTES: Array<[string, RegExp]> = [
  ['/', /^\/$/],
  ['/healthz', /^\/healthz$/],
  ['/readyz', /^\/readyz$/],
  ['/metrics', /^\/metrics$/],
  ['/auth/token', /^\/auth\/token$/],
  ['/.well-known/smart-configuration', /^\/\.well-known\/smart-configuration$/],
  ['/fhir/.well-known/smart-configuration', /^\/fhir\/\.well-known\/smart-configuration$/i],
  ['/admin/clients', /^\/admin\/clients$/i],
  ['/admin/clients/:id', /^\/admin\/clients\/[^/]+$/i],
  ['/ingest/rejects', /^\/ingest\/rejects$/i],
  ['/ingest/rejects/$retry', /^\/ingest\/rejects\/(\$|%24)retry$/i],
  ['/ingest/:source', /^\/ingest\/[^/]+$/i],
  ['/ig', /^\/ig$/],
  ['/ig/:page', /^\/ig\/.+$/],
  ['/fhir/metadata', /^\/fhir\/metadata$/i],
  ['/fhir/bulkstatus/:id', /^\/fhir\/bulkstatus\/[^/]+$/i],
  ['/fhir/bulkfiles/:id/:file', /^\/fhir\/bulkfiles\/[^/]+\/[^/]+$/i],
];

const FHIR_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A function from a request to its pattern. `fhir`: the FHIR route table and the type check the
 * FHIR adapter uses (without them every FHIR path not in the fixed list is `/fhir/(unmatched)`).
 */
export function routePatterns(fhir?: { router: FhirRouter; isType: (type: string) => boolean }): (req: Request) => string {
  return (req) => {
    const url = req.originalUrl ?? req.url;
    const at = url.indexOf('?');
    let path = at < 0 ? url : url.slice(0, at);
    // The absolute form of a request line (`GET http://host/fhir/Patient HTTP/1.1`).
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) path = path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/';
    if (path.length > 1) path = path.replace(/\/+$/, '');
    for (const [pattern, re] of APP_ROUTES) if (re.test(path)) return pattern;
    const fhirAt = /^\/fhir(\/|$)/i.exec(path);
    if (!fhirAt) return UNMATCHED;
    const sub = path.slice(5) || '/';
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!fhir || !FHIR_METHODS.has(method)) return `/fhir/${UNMATCHED}`;
    const hasQuery = at >= 0 && Object.keys(req.query ?? {}).some((k) => !k.startsWith('_format') && k !== '_pretty');
    const found = fhir.router.match(method as HttpMethod, sub, hasQuery, fhir.isType);
    if (!found) return `/fhir/${UNMATCHED}`;
    return found.route.pattern === '/' ? '/fhir' : `/fhir${found.route.pattern}`;
  };
}
