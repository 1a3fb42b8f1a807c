/**
 * The FHIR REST layer without Express (after Medplum's fhir-router): a handler takes a plain
 * request and the dependencies and returns status, headers and body. The HTTP adapter, the
 * batch/transaction processor and tests all call handlers the same way.
 */
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import type { Repository, RepositoryAccess } from '../store/repository';
import type { BodyValidator, Validator } from '../validation';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** One FHIR request, as the HTTP adapter (or a Bundle entry) gives it. */
export interface FhirRequest {
  method: HttpMethod;
  /** Path below the FHIR base, starting with `/` (`/Patient/123/_history/2`). */
  path: string;
  /** Route parameters (`type`, `id`, `vid`), filled in by the router. */
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body?: unknown;
  /** The body's JSON text as received (HTTP only): `$validate` locates its issues in it by line and column. */
  bodyText?: string;
  /** The FHIR base URL (`http://host/fhir`), for fullUrl, Location and paging links. */
  baseUrl: string;
  /**
   * A transaction whose entries an in-process pipeline has just validated (transactionCommitter's
   * `entriesValidated`): not validated again. Never set from an HTTP request.
   */
  entriesValidated?: boolean;
}

export interface FhirResponse {
  status: number;
  body?: Resource;
  /** `body` as JSON text, when the handler has it as such (read: the stored text); the HTTP adapter sends it as is. */
  bodyText?: string;
  headers?: Record<string, string>;
}

export interface FhirDeps {
  /** The store, as the caller may see it (`repo.withAccess(access)` for a client). */
  repo: Repository;
  /** The client's access (undefined: the server's own requests); `$export` jobs carry it to the worker. */
  access?: RepositoryAccess;
  validator: Validator;
  /**
   * Where request bodies are validated (`$validate`, writes, `$extract`): the app's worker pool
   * with its budget (src/validation/pool.ts). Absent: `validator`, in this thread, no budget.
   */
  validation?: BodyValidator;
  /**
   * Types system `_history` and `$everything` leave out when the store does not filter for the
   * caller (`access` undefined: no auth, AUTH_DISABLED): the audit trail, which would otherwise
   * fill them. A client's view hides them by its scopes instead (`RepositoryAccess.hiddenTypes`).
   */
  crossTypeHidden?: readonly string[];
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

export type FhirHandler = (req: FhirRequest, deps: FhirDeps) => Promise<FhirResponse>;

/** What a route adds to the CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html). */
export type RouteCapability =
  | {
      kind: 'instance' | 'type';
      interaction: 'read' | 'vread' | 'update' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';
      types?: ResourceType[];
    }
  | { kind: 'system'; interaction: 'transaction' | 'batch' | 'history-system' | 'search-system' }
  | { kind: 'operation'; name: string; definition: string; level: 'system' | 'type' | 'instance'; types?: ResourceType[] };

/**
 * One entry of the route table. `pattern` is a path below the base with `:name` segments
 * (`:type` must be a resource type); literal segments such as `$everything` match exactly.
 * `query: true` routes match only when the request has search parameters (conditional update).
 */
export interface Route {
  method: HttpMethod;
  pattern: string;
  handler: FhirHandler;
  /** Only match requests with (true) or without (false) a query string; undefined: either. */
  query?: boolean;
  capability?: RouteCapability[];
}
