/**
 * The one SQL implementation of `Repository` (https://hl7.org/fhir/R4/http.html), the same for
 * PGlite and PostgreSQL. It keeps no state of its own: everything, version numbers included, is
 * in the database, so several processes can share one PostgreSQL.
 */
import type { SearchRequest } from '@medplum/core';
import type { Bundle, BundleEntry, Resource, ResourceType } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { badRequest, gone, notFound, preconditionFailed } from '../outcomes';
import { accessColumns, inTenant, releaseRows, visibleCondition, type AccessRow } from './access-sql';
import { planAuditEvents } from './audit-owners';
import { checkDelete, planWrites, type WritePlan } from './owners';
import type { ServerBase } from './local-refs';
import type {
  HistoryOptions,
  Repository,
  RepositoryAccess,
  SearchResult,
  SqlDriver,
  StoredText,
  StreamFilter,
  UpdateResult,
  WriteManyOptions,
  WriteOptions,
} from './repository';
import { compartmentPage, streamResources, type CompartmentOptions, type CompartmentPage } from './sql-stream';
import { runSearch } from './sql-search';
import { writeVersion } from './sql-write';
import { writeMany } from './sql-write-many';
import { lockForWrite, retryTransaction, type WriteKey } from './write-locks';

interface HistoryRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  content: Resource | null;
}

export class SqlRepository implements Repository {
  /**
   * @param driver - the driver (or, inside `withTransaction`, the transaction's driver)
   * @param inTransaction - true when `driver` is already a transaction: writes join it
   * @param access - whose view this is (`withAccess`); undefined: the server's own, unfiltered
   * @param base - this server's FHIR base (`serverBase(BASE_URL)`): absolute references on it are
   *   local, on any other base foreign (src/store/local-refs.ts); undefined: every absolute URL is foreign
   */
  constructor(
    readonly driver: SqlDriver,
    private readonly inTransaction = false,
    readonly access?: RepositoryAccess,
    readonly base?: ServerBase,
  ) {}

  /** The view of one client (src/store/access-sql.ts, src/store/owners.ts). */
  withAccess(access: RepositoryAccess): SqlRepository {
    return new SqlRepository(this.driver, this.inTransaction, Object.freeze({ ...access, organizations: Object.freeze([...access.organizations]) }), this.base);
  }

  /**
   * May this view see a row read by key? Checked in JS on the row's access columns (a query with
   * the gate's EXISTS costs more to plan than a key read costs to run); the consent grants are
   * queried only for a labelled row.
   */
  private async visible(type: string, row: Partial<AccessRow> | undefined): Promise<boolean> {
    if (!row || !this.access) {
      return !!row;
    }
    if (!inTenant(this.access, { owner: row.owner ?? null }, type)) {
      return false;
    }
    if (!row.part2) {
      return true;
    }
    const { rows } = await releaseRows(this.driver, this.access, [{ owner: row.owner ?? null, part2: true, patient_ids: row.patient_ids ?? [] }]);
    return rows.length === 1;
  }

  /** Runs `fn` in a transaction: the open one, or a new one run again on deadlock or serialization failure (src/store/write-locks.ts). */
  private tx<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    if (this.inTransaction) {
      return fn(this.driver);
    }
    return retryTransaction(() => this.driver.transaction(fn));
  }

  async create<T extends Resource>(resource: T): Promise<T> {
    const id = randomUUID();
    const v = await this.tx(async (tx) => {
      const [plan] = await this.plan(tx, [{ ...resource, id }], new Set([`${resource.resourceType}/${id}`]));
      return writeVersion(tx, resource.resourceType, id, { ...resource, id }, undefined, plan, this.base);
    });
    return (v.doc as T | undefined) ?? withMeta({ ...resource, id }, v.versionId, v.lastUpdated);
  }

  async update<T extends Resource>(resource: T, options: WriteOptions = {}): Promise<UpdateResult<T>> {
    if (!resource.id) {
      throw badRequest('An update needs the resource id', `${resource.resourceType}.id`);
    }
    const id = resource.id;
    const v = await this.tx(async (tx) => {
      const [plan] = await this.plan(tx, [resource], options.serverAssignedId ? new Set([`${resource.resourceType}/${id}`]) : undefined);
      return writeVersion(tx, resource.resourceType, id, resource, options.ifMatch, plan, this.base);
    });
    return { resource: (v.doc as T | undefined) ?? withMeta(resource, v.versionId, v.lastUpdated), created: !v.existed };
  }

  async updateMany<T extends Resource>(resources: T[], options: WriteManyOptions = {}): Promise<UpdateResult<T>[]> {
    const missing = resources.findIndex((r) => !r.id);
    if (missing >= 0) {
      throw badRequest(`Resource ${missing} of the batch has no id`);
    }
    if (resources.length === 0) {
      return [];
    }
    const fresh = new Set(resources.filter((r, i) => options.serverAssignedIds?.[i]).map((r) => `${r.resourceType}/${r.id}`));
    const written = await this.tx(async (tx) => writeMany(tx, resources, await this.plan(tx, resources, fresh, options.auditActors), this.base));
    return written.map((v, i) => ({ resource: (v.doc as T | undefined) ?? withMeta(resources[i], v.versionId, v.lastUpdated), created: !v.existed }));
  }

  /** Owners and labels of resources written together (src/store/owners.ts, AuditEvents: src/store/audit-owners.ts). */
  private async plan(
    tx: SqlDriver,
    resources: Resource[],
    serverAssigned?: ReadonlySet<string>,
    auditActors?: readonly (string | undefined)[],
  ): Promise<WritePlan[]> {
    return planAuditEvents(tx, resources, await planWrites(tx, resources, this.access, serverAssigned), auditActors);
  }

  async read<T extends Resource>(type: T['resourceType'], id: string): Promise<T> {
    const res = await this.driver.query<{ deleted: boolean; content: T | null } & Partial<AccessRow>>(
      `SELECT r.deleted, r.content${this.access ? accessColumns('r') : ''} FROM fhir_resource r WHERE r.resource_type = $1 AND r.id = $2`,
      [type, id],
    );
    const row = res.rows[0];
    // Another tenant's resource, or a Part 2 record without consent, answers as if it did not exist.
    if (!(await this.visible(type, row))) {
      throw notFound(`${type}/${id} not found`);
    }
    if (row.deleted || !row.content) {
      throw gone(`${type}/${id} was deleted`);
    }
    return row.content;
  }

  /**
   * The hot read (`GET /{type}/{id}`, issue 15 item 3): `content::text` is what the server sends,
   * so the row is never parsed into objects and serialised again. The access checks are the same
   * as `read`'s (columns only).
   */
  async readText(type: string, id: string): Promise<StoredText> {
    const res = await this.driver.query<{ deleted: boolean; text: string | null; version_id: string | null; last_updated: string | null } & Partial<AccessRow>>(
      `SELECT r.deleted, r.content::text AS text, r.content->'meta'->>'versionId' AS version_id, r.content->'meta'->>'lastUpdated' AS last_updated${
        this.access ? accessColumns('r') : ''
      } FROM fhir_resource r WHERE r.resource_type = $1 AND r.id = $2`,
      [type, id],
    );
    const row = res.rows[0];
    if (!(await this.visible(type, row))) {
      throw notFound(`${type}/${id} not found`);
    }
    if (row.deleted || row.text === null) {
      throw gone(`${type}/${id} was deleted`);
    }
    return { text: row.text, versionId: row.version_id ?? undefined, lastUpdated: row.last_updated ?? undefined };
  }

  async readVersion<T extends Resource>(type: T['resourceType'], id: string, versionId: string): Promise<T> {
    const res = /^\d{1,9}$/.test(versionId)
      ? await this.driver.query<{ deleted: boolean; content: T | null } & Partial<AccessRow>>(
          `SELECT h.deleted, h.content${this.access ? accessColumns('h') : ''} FROM fhir_history h WHERE h.resource_type = $1 AND h.id = $2 AND h.version_id = $3`,
          [type, id, Number(versionId)],
        )
      : { rows: [] };
    const row = res.rows[0];
    if (!(await this.visible(type, row))) {
      throw notFound(`Version ${versionId} of ${type}/${id} not found`);
    }
    if (row.deleted || !row.content) {
      throw gone(`Version ${versionId} of ${type}/${id} is a deletion`);
    }
    return row.content;
  }

  async delete(type: ResourceType, id: string, options: WriteOptions = {}): Promise<void> {
    await this.tx(async (tx) => {
      if (await checkDelete(tx, type, id, this.access)) {
        await writeVersion(tx, type, id, null, options.ifMatch);
      }
    });
  }

  async history(type?: ResourceType, id?: string, options: HistoryOptions = {}): Promise<Bundle> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (type) {
      params.push(type);
      where.push(`resource_type = $${params.length}`);
    }
    if (id) {
      params.push(id);
      where.push(`id = $${params.length}`);
    }
    if (options.since) {
      params.push(options.since.toISOString());
      where.push(`last_updated > $${params.length}::timestamptz`);
    }
    if (!type && options.excludeTypes?.length) {
      params.push([...options.excludeTypes]);
      where.push(`resource_type <> ALL($${params.length}::text[])`);
    }
    if (this.access) {
      // Versions the client may not see are left out, as if they were never written.
      where.push(
        visibleCondition(this.access, 'fhir_history', (v) => {
          params.push(v);
          return `$${params.length}`;
        }),
      );
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const count = Math.min(Math.max(options.count ?? 100, 0), 1000);
    const offset = Math.max(options.offset ?? 0, 0);
    const [total, page] = await Promise.all([
      this.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_history ${clause}`, params),
      this.driver.query<HistoryRow>(
        `SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_history ${clause}
         ORDER BY last_updated DESC, resource_type, id, version_id DESC LIMIT ${count} OFFSET ${offset}`,
        params,
      ),
    ]);
    if (type && id && total.rows[0].n === 0) {
      throw notFound(`${type}/${id} not found`);
    }
    return { resourceType: 'Bundle', type: 'history', total: total.rows[0].n, entry: page.rows.map(historyEntry) };
  }

  search(request: SearchRequest, options: { strict?: boolean; cursor?: string } = {}): Promise<SearchResult> {
    return runSearch(this.driver, request, { strict: options.strict ?? false, cursor: options.cursor ?? request.cursor, access: this.access, base: this.base });
  }

  /**
   * Conditional create (https://hl7.org/fhir/R4/http.html#ccreate): no match creates, one match
   * returns it unchanged, several are a 412. Serialised per query with an advisory lock, so two
   * processes sending the same record at once do not both create it.
   */
  conditionalCreate<T extends Resource>(resource: T, search: SearchRequest): Promise<UpdateResult<T>> {
    return this.withTransaction(async (repo) => {
      const found = await (repo as SqlRepository).lockedMatches(search);
      if (found.length > 1) {
        throw preconditionFailed(`If-None-Exist matched ${found.length} ${search.resourceType} resources`);
      }
      if (found.length === 1) {
        return { resource: found[0] as T, created: false };
      }
      return { resource: await repo.create(resource), created: true };
    });
  }

  /**
   * Conditional update (https://hl7.org/fhir/R4/http.html#cond-update): no match creates (with the
   * body's id if it has one), one match updates it, several are a 412.
   */
  conditionalUpdate<T extends Resource>(resource: T, search: SearchRequest, options: WriteOptions = {}): Promise<UpdateResult<T>> {
    return this.withTransaction(async (repo) => {
      const found = await (repo as SqlRepository).lockedMatches(search);
      if (found.length > 1) {
        throw preconditionFailed(`The conditional update matched ${found.length} ${search.resourceType} resources`);
      }
      if (found.length === 1) {
        if (resource.id && resource.id !== found[0].id) {
          throw badRequest(`The body's id '${resource.id}' is not the matching resource's id '${found[0].id}'`, 'id');
        }
        return repo.update({ ...resource, id: found[0].id }, options);
      }
      if (resource.id) {
        return repo.update(resource, options);
      }
      return { resource: await repo.create(resource), created: true };
    });
  }

  private async lockedMatches(search: SearchRequest): Promise<Resource[]> {
    const key = `${search.resourceType}?${JSON.stringify(search.filters ?? [])}`;
    await this.driver.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    if (!search.filters?.length) {
      throw badRequest('A conditional request needs at least one search parameter');
    }
    const res = await this.search({ ...search, count: 2, sortRules: [], include: [], revInclude: [], total: 'none' }, { strict: true });
    return res.resources;
  }

  /** A new transaction is run again as a whole on deadlock or serialization failure, so `fn` must touch nothing but the store. */
  withTransaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.inTransaction) {
      return fn(this);
    }
    return retryTransaction(() => this.driver.transaction((tx) => fn(new SqlRepository(tx, true, this.access, this.base))));
  }

  lockForWrite(keys: readonly WriteKey[]): Promise<void> {
    return this.tx((tx) => lockForWrite(tx, keys));
  }

  stream(filter: StreamFilter, batchSize = 1000): AsyncIterable<Resource[]> {
    return streamResources(this.driver, filter, batchSize, this.access);
  }

  /** A page of a patient's compartment (`Patient/{id}/$everything`), keyset-paged by type and id. */
  compartment(patientId: string, options: CompartmentOptions): Promise<CompartmentPage> {
    return compartmentPage(this.driver, patientId, options, this.access);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

function withMeta<T extends Resource>(resource: T, versionId: number, lastUpdated: string): T {
  return { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated } };
}

function historyEntry(row: HistoryRow): BundleEntry {
  const lastModified = new Date(row.last_updated).toISOString();
  const method = row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT';
  const entry: BundleEntry = {
    request: { method, url: method === 'POST' ? row.resource_type : `${row.resource_type}/${row.id}` },
    response: { status: row.deleted ? '204' : row.version_id === 1 ? '201' : '200', etag: `W/"${row.version_id}"`, lastModified },
  };
  if (row.content) {
    entry.resource = row.content;
  }
  return entry;
}
