/**
 * The route table of the FHIR API: one entry per interaction or operation, each with what it
 * adds to the CapabilityStatement. Add a route by adding an entry (before the generic
 * `/:type/:id` ones when its path could be read as an id), e.g.
 * `{ method: 'POST', pattern: '/QuestionnaireResponse/$extract', handler, capability: [...] }`.
 */
import { bundleHandler } from './bundle';
import { createHandler } from './create';
import { deleteHandler } from './delete';
import { everythingHandler } from './everything';
import { instanceHistoryHandler, systemHistoryHandler, typeHistoryHandler } from './history';
import { readHandler, vreadHandler } from './read';
import { createRouter, type Router } from './router';
import { searchHandler } from './search';
import type { Route } from './types';
import { conditionalUpdateHandler, updateHandler } from './update';
import { VALIDATE_OPERATION, validateHandler } from './validate';

const EVERYTHING_OPERATION = 'http://hl7.org/fhir/OperationDefinition/Patient-everything';

/** The standard routes, in match order. */
export function standardRoutes(): Route[] {
  const routes: Route[] = [
    { method: 'GET', pattern: '/_history', handler: systemHistoryHandler, capability: [{ kind: 'system', interaction: 'history-system' }] },
    {
      method: 'POST',
      pattern: '/$validate',
      handler: validateHandler,
      capability: [{ kind: 'operation', name: 'validate', definition: VALIDATE_OPERATION, level: 'system' }],
    },
    {
      method: 'POST',
      pattern: '/:type/$validate',
      handler: validateHandler,
      capability: [{ kind: 'operation', name: 'validate', definition: VALIDATE_OPERATION, level: 'type' }],
    },
    {
      method: 'GET',
      pattern: '/Patient/:id/$everything',
      handler: everythingHandler,
      capability: [{ kind: 'operation', name: 'everything', definition: EVERYTHING_OPERATION, level: 'instance', types: ['Patient'] }],
    },
    { method: 'GET', pattern: '/:type/_history', handler: typeHistoryHandler, capability: [{ kind: 'type', interaction: 'history-type' }] },
    { method: 'GET', pattern: '/:type/:id/_history', handler: instanceHistoryHandler, capability: [{ kind: 'instance', interaction: 'history-instance' }] },
    { method: 'GET', pattern: '/:type/:id/_history/:vid', handler: vreadHandler, capability: [{ kind: 'instance', interaction: 'vread' }] },
    { method: 'GET', pattern: '/:type', handler: searchHandler, capability: [{ kind: 'type', interaction: 'search-type' }] },
    { method: 'POST', pattern: '/:type/_search', handler: searchHandler },
    { method: 'GET', pattern: '/:type/:id', handler: readHandler, capability: [{ kind: 'instance', interaction: 'read' }] },
    { method: 'POST', pattern: '/:type', handler: createHandler, capability: [{ kind: 'type', interaction: 'create' }] },
    { method: 'PUT', pattern: '/:type', query: true, handler: conditionalUpdateHandler },
    { method: 'PUT', pattern: '/:type/:id', handler: updateHandler, capability: [{ kind: 'instance', interaction: 'update' }] },
    { method: 'DELETE', pattern: '/:type/:id', handler: deleteHandler, capability: [{ kind: 'instance', interaction: 'delete' }] },
  ];
  return routes;
}

/**
 * The router over `extra` routes (matched first) and the standard ones, plus `POST /` for
 * transaction and batch Bundles, which runs its entries through this same router.
 */
export function fhirRouter(extra: Route[] = []): Router {
  const routes: Route[] = [...extra, ...standardRoutes()];
  const router = createRouter([
    ...routes,
    {
      method: 'POST',
      pattern: '/',
      handler: (req, deps) => bundleHandler(req, deps, router),
      capability: [
        { kind: 'system', interaction: 'transaction' },
        { kind: 'system', interaction: 'batch' },
      ],
    },
  ]);
  return router;
}
