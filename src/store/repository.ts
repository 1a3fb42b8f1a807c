/**
 * The one repository interface every store driver serves (FHIR RESTful API semantics,
 * https://hl7.org/fhir/R4/http.html). One SQL implementation sits behind it; the drivers
 * (PGlite embedded, `pg` for a server) differ only in how SQL reaches PostgreSQL.
 *
 * Errors are thrown as `FhirError` (src/outcomes) with the status the REST spec gives:
 * 404 unknown id, 410 deleted, 409/412 version conflicts, 400 bad search.
 *
 * Contract shared by the store, fhir-api, export and pipeline modules: extend it, do not break it.
 */
import type { Bundle, Resource, ResourceType } from '@medplum/fhirtypes';
import type { SearchRequest } from '@medplum/core';
import type { RepositoryAccess } from '../access/repository-access';

export type { RepositoryAccess };

/** Options for a write. */
export interface WriteOptions {
  /** `If-Match` version id (weak ETag value without `W/"..."`): 412 when the current version differs. */
  ifMatch?: string;
  /** The id was just made up by the server (a POST entry of a Bundle): it exists nowhere, and needs none of a client-assigned id's checks. */
  serverAssignedId?: boolean;
}

/** Options for `updateMany`. */
export interface WriteManyOptions {
  /** Per resource: its id was just made up by the server (a POST entry of a Bundle), see WriteOptions.serverAssignedId. */
  serverAssignedIds?: readonly boolean[];
  /**
   * Per resource, for AuditEvents: the organization of the client the event records acting, when
   * it has exactly one. The event's owner when it is about no record an organization owns
   * (src/store/audit-owners.ts).
   */
  auditActors?: readonly (string | undefined)[];
}

/** The result of an update-or-create. */
export interface UpdateResult<T extends Resource = Resource> {
  resource: T;
  /** true when no current version existed (update-as-create). */
  created: boolean;
}

/** One page of search results. */
export interface SearchResult {
  /** Matches, in order, with `search.mode` = `match`. */
  resources: Resource[];
  /** `_include` / `_revinclude` resources (mode `include`). */
  included: Resource[];
  /** Total matches when asked for (`_total=accurate`, `_summary=count`), else undefined. */
  total?: number;
  /** Opaque cursor for the next page, undefined on the last page. */
  next?: string;
  /** Warnings to return in an OperationOutcome entry (ignored parameters under lenient handling). */
  warnings: string[];
}

/** Filter for streaming resources out (Bulk Data export, $everything). */
export interface StreamFilter {
  types?: ResourceType[];
  /** Types left out (the audit trail, from cross-type reads of a view the store does not filter). */
  excludeTypes?: readonly string[];
  /** Only resources whose current version was written after this instant. */
  since?: Date;
  /** Snapshot: the version current at this instant (a job's transactionTime). */
  asOf?: Date;
  /** Only resources in these patients' compartments (Patient itself included). */
  patientIds?: string[];
}

/** Options of `history`: `_since`, paging, and types left out of a system history (see `StreamFilter.excludeTypes`). */
export interface HistoryOptions {
  since?: Date;
  count?: number;
  offset?: number;
  excludeTypes?: readonly string[];
}

/** Options for one page of a patient's compartment (`$everything`). */
export interface CompartmentOptions {
  types?: ResourceType[];
  /** Types left out (see `StreamFilter.excludeTypes`). */
  excludeTypes?: readonly string[];
  /** Only resources whose current version was written after this instant (`_since`). */
  since?: Date;
  /** Page size. */
  count: number;
  /** `next` of the previous page. */
  cursor?: string;
}

/** One page of a patient's compartment. */
export interface CompartmentPage {
  resources: Resource[];
  /** Size of the whole compartment (first page only). */
  total?: number;
  next?: string;
}

/** A repository of versioned FHIR resources. */
export interface Repository {
  /** create: server-assigned id, version 1. */
  create<T extends Resource>(resource: T): Promise<T>;
  /** update (update-as-create when the id is new); `created` tells which. */
  update<T extends Resource>(resource: T, options?: WriteOptions): Promise<UpdateResult<T>>;
  /**
   * Updates (or creates) many resources, each with its id, as one batch: one statement per
   * table instead of several per resource. Results in input order. Use inside `withTransaction`
   * for all-or-nothing; no If-Match (use `update` for that).
   */
  updateMany<T extends Resource>(resources: T[], options?: WriteManyOptions): Promise<UpdateResult<T>[]>;
  /** read: 404 unknown, 410 deleted. */
  read<T extends Resource>(type: T['resourceType'], id: string): Promise<T>;
  /**
   * `read` without parsing: the stored JSON text as the database gives it (same 404, 410, tenant
   * and Part 2 rules, which use columns), with `meta.versionId` and `meta.lastUpdated` for the headers.
   */
  readText(type: string, id: string): Promise<StoredText>;
  /** vread */
  readVersion<T extends Resource>(type: T['resourceType'], id: string, versionId: string): Promise<T>;
  /**
   * delete: a tombstone version; deleting an unknown or deleted id is not an error, nor is
   * deleting a record the view cannot read (nothing is written: for it, the record is not there).
   */
  delete(type: ResourceType, id: string, options?: WriteOptions): Promise<void>;
  /** history of an instance, a type, or the whole system (type and id undefined): a `history` Bundle. */
  history(type?: ResourceType, id?: string, options?: HistoryOptions): Promise<Bundle>;
  /** search (parsed by `parseSearchRequest` from @medplum/core). */
  search(request: SearchRequest, options?: { strict?: boolean; cursor?: string }): Promise<SearchResult>;
  /**
   * Conditional create (`If-None-Exist`, https://hl7.org/fhir/R4/http.html#ccreate): creates when
   * nothing matches `search`, returns the one match unchanged (`created` false), 412 for several.
   */
  conditionalCreate<T extends Resource>(resource: T, search: SearchRequest): Promise<UpdateResult<T>>;
  /**
   * Conditional update (https://hl7.org/fhir/R4/http.html#cond-update): updates the one match,
   * creates when none (with the body's id if any), 412 for several.
   */
  conditionalUpdate<T extends Resource>(resource: T, search: SearchRequest, options?: WriteOptions): Promise<UpdateResult<T>>;
  /** One page of a patient's compartment (Patient/{id}/$everything), the Patient itself included. */
  compartment(patientId: string, options: CompartmentOptions): Promise<CompartmentPage>;
  /**
   * Runs `fn` atomically: every write inside commits or none does. A transaction that failed
   * only because of concurrent writers (deadlock, serialization failure) is run again, a few
   * times, then answered 409: `fn` may run more than once and must touch nothing but the store.
   */
  withTransaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T>;
  /**
   * Inside `withTransaction`: locks these resources for writing until the transaction ends, all
   * at once in one global order. A transaction that writes several resources in several calls
   * takes their locks first, so that it cannot deadlock with another writing some of the same.
   */
  lockForWrite(keys: readonly { type: string; id: string }[]): Promise<void>;
  /** Streams current (or `asOf`) resources in batches, never holding them all in memory. */
  stream(filter: StreamFilter, batchSize?: number): AsyncIterable<Resource[]>;
  /**
   * The same store as seen by one client: reads and searches return only its organizations'
   * resources (plus ownerless shared definitions), Part 2 records only with consent; writes are
   * limited to its organizations. Other tenants' resources answer 404 as if they did not exist.
   */
  withAccess(access: RepositoryAccess): Repository;
  /** The access this view was made with (undefined: unfiltered). */
  readonly access?: RepositoryAccess;
  /** Closes the driver's connections. */
  close(): Promise<void>;
}

/** A resource as stored, not parsed (`Repository.readText`). */
export interface StoredText {
  /** The resource's JSON text (its `meta` included). */
  text: string;
  versionId?: string;
  lastUpdated?: string;
}

/** Rows of a query. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * The tiny query interface both drivers implement (PGlite, `pg`). `$1`-style parameters.
 * Other modules that keep their own tables (Bulk Data jobs, ingest rejects, audit) use it too,
 * creating their tables idempotently (`CREATE TABLE IF NOT EXISTS`) when they start.
 */
export interface SqlDriver {
  readonly name: 'pglite' | 'pg';
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs `fn` in one transaction on one connection; rolls back when it throws. */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  /** Streams a query's rows in batches through a cursor, never holding all of them. */
  cursor<R = Record<string, unknown>>(sql: string, params: unknown[], batchSize: number): AsyncIterable<R[]>;
  close(): Promise<void>;
}
