/**
 * Reading many resources out: `stream()` for Bulk Data export and the patient compartment pages
 * of `$everything`. Both walk (resource_type, id) in key order, one bounded batch per query, so
 * no query holds a transaction (or PGlite's single session) while the consumer works, and memory
 * stays at one batch. `asOf` reads the version current at that instant from the history table.
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../outcomes';
import { releasedCondition, releaseRows, tenantCondition, visibleCondition } from './access-sql';
import type { CompartmentOptions, CompartmentPage, RepositoryAccess, SqlDriver, StreamFilter } from './repository';

export type { CompartmentOptions, CompartmentPage };

interface Row {
  resource_type: string;
  id: string;
  content: Resource;
}

/** WHERE conditions shared by both readers; `t` is the table alias. */
function conditions(filter: StreamFilter, params: unknown[], access?: RepositoryAccess): string[] {
  const add = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const out: string[] = [];
  if (filter.types?.length) {
    out.push(`t.resource_type = ANY(${add(filter.types)}::text[])`);
  }
  if (filter.excludeTypes?.length) {
    out.push(`t.resource_type <> ALL(${add([...filter.excludeTypes])}::text[])`);
  }
  if (filter.since) {
    out.push(`t.last_updated > ${add(filter.since.toISOString())}::timestamptz`);
  }
  if (filter.patientIds) {
    out.push(`t.patient_ids && ${add(filter.patientIds)}::text[]`);
  }
  if (access) {
    out.push(visibleCondition(access, 't', add));
  }
  return out;
}

/** Streams current (or `asOf`) resources matching `filter`, `batchSize` at a time. */
export async function* streamResources(driver: SqlDriver, filter: StreamFilter, batchSize: number, access?: RepositoryAccess): AsyncIterable<Resource[]> {
  const size = Math.max(1, Math.min(Math.floor(batchSize), 10_000));
  let after: [string, string] | undefined;
  for (;;) {
    const params: unknown[] = [];
    const conds = conditions(filter, params, access);
    let keyCond = '';
    if (after) {
      params.push(after[0], after[1]);
      keyCond = `(resource_type, id) > ($${params.length - 1}, $${params.length})`;
    }
    let sql: string;
    if (filter.asOf) {
      params.push(filter.asOf.toISOString());
      const asOf = `$${params.length}::timestamptz`;
      // The latest version of each resource written at or before asOf; dropped if that version is a deletion.
      sql = `SELECT t.resource_type, t.id, t.content FROM (
          SELECT DISTINCT ON (resource_type, id) resource_type, id, deleted, content, last_updated, patient_ids, owner, part2
            FROM fhir_history WHERE last_updated <= ${asOf}${keyCond ? ` AND ${keyCond}` : ''}
           ORDER BY resource_type, id, version_id DESC) t
        WHERE NOT t.deleted${conds.map((c) => ` AND ${c}`).join('')}
        ORDER BY t.resource_type, t.id LIMIT ${size}`;
    } else {
      const all = ['NOT t.deleted', ...conds, ...(keyCond ? [keyCond.replace(/\(resource_type, id\)/, '(t.resource_type, t.id)')] : [])];
      sql = `SELECT t.resource_type, t.id, t.content FROM fhir_resource t WHERE ${all.join(' AND ')} ORDER BY t.resource_type, t.id LIMIT ${size}`;
    }
    const res = await driver.query<Row>(sql, params);
    if (res.rows.length === 0) {
      return;
    }
    yield res.rows.map((r) => r.content);
    const last = res.rows[res.rows.length - 1];
    after = [last.resource_type, last.id];
    if (res.rows.length < size) {
      return;
    }
  }
}

/**
 * One page of a patient's compartment, ordered by type and id; the cursor is the last key seen.
 * A client's page leaves out other tenants' resources and Part 2
 * records without consent.
 */
export async function compartmentPage(driver: SqlDriver, patientId: string, options: CompartmentOptions, access?: RepositoryAccess): Promise<CompartmentPage> {
  const params: unknown[] = [[patientId]];
  const add = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const conds = [
    'NOT t.deleted',
    't.patient_ids @> $1::text[]',
    ...conditions({ types: options.types, excludeTypes: options.excludeTypes, since: options.since }, params),
  ];
  const tenant = access && tenantCondition(access, 't', add);
  if (tenant) {
    conds.push(tenant);
  }
  if (options.cursor) {
    let key: unknown;
    try {
      key = JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8'));
    } catch {
      key = undefined;
    }
    if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string' || typeof key[1] !== 'string') {
      throw badRequest(`Invalid paging cursor '${options.cursor}'`, '_cursor');
    }
    params.push(key[0], key[1]);
    conds.push(`(t.resource_type, t.id) > ($${params.length - 1}, $${params.length})`);
  }
  const count = options.count;
  const res = await driver.query<Row & { owner: string | null; part2: boolean; patient_ids: string[] }>(
    `SELECT t.resource_type, t.id, t.content${access ? ', t.owner, t.part2, t.patient_ids' : ''} FROM fhir_resource t WHERE ${conds.join(' AND ')} ORDER BY t.resource_type, t.id LIMIT ${count + 1}`,
    params,
  );
  const rows = res.rows.slice(0, count);
  let total: number | undefined;
  if (!options.cursor) {
    const countParams = [...params];
    const gate = access
      ? ` AND ${releasedCondition(access, 't', (v) => {
          countParams.push(v);
          return `$${countParams.length}`;
        })}`
      : '';
    const n = await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource t WHERE ${conds.join(' AND ')}${gate}`, countParams);
    total = n.rows[0].n;
  }
  const last = rows[rows.length - 1];
  const released = await releaseRows(driver, access, rows);
  return {
    resources: released.rows.map((r) => r.content),
    total,
    next: res.rows.length > count && last ? Buffer.from(JSON.stringify([last.resource_type, last.id])).toString('base64url') : undefined,
  };
}
