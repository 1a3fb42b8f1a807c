/**
 * `POST [base]/QuestionnaireResponse/$extract` (SDC observation-based extraction): the route.
 * The extraction itself is in src/pipeline/extract.ts.
 */
import { extractInput, extractObservations, type ExtractDeps } from '../pipeline/extract';
import type { Route } from './types';

export const SDC_EXTRACT = 'http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract';

/** The `$extract` route, bound to the rule set and package terms it evaluates with. */
export function extractRoute(deps: ExtractDeps): Route {
  return {
    method: 'POST',
    pattern: '/QuestionnaireResponse/$extract',
    handler: async (req) => ({ status: 200, body: await extractObservations(extractInput(req.body), deps) }),
    capability: [{ kind: 'operation', name: 'extract', definition: SDC_EXTRACT, level: 'type', types: ['QuestionnaireResponse'] }],
  };
}
