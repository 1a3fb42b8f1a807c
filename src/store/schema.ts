/**
 * The store's tables, created or migrated when a process starts. Several processes may start at
 * once on one PostgreSQL: the DDL runs in one transaction under an advisory lock, and every
 * statement is idempotent.
 *
 * - `fhir_resource`: the current version of each resource (a tombstone row, `deleted`, after a delete).
 * - `fhir_history`: every version, the current one included (vread, history, `asOf` snapshots).
 * - `fhir_token|string|date|reference|number`: search values extracted at write time from the
 *   base spec's SearchParameter expressions, one row per value, so searches are indexed joins
 *   (the approach of HAPI's and Medplum's lookup tables).
 * - step 2 (tenants, 42 CFR Part 2; src/store/access-sql.ts): `owner` (the owning Organization id,
 *   NULL for shared definitions) and `part2` (labelled 42CFRPart2) on both version tables, and
 *   `fhir_consent_grant` (src/access/consent.ts). Rows stored before step 2 get owners from the
 *   direct rules and their Patient's owner; Consents stored before it get their grants.
 * - step 3 (issue 11 item 1): `fhir_consent_grant.grantor`, the owner of the Consent that gives
 *   the grant. A grant releases only records owned by its grantor (the patient's organization), so
 *   a Consent written into another tenant releases nothing. Existing grants take their Consent's owner.
 * - step 4 (issue 11 item 10): `fhir_index_base`, the FHIR base the search values were extracted for.
 *   When it is not the server's base (a store from before step 3, which lacks the rows of the
 *   `:text`, `:of-type` and `:identifier` modifiers and took absolute references on any base for
 *   local ones; or BASE_URL changed), every current resource is reindexed (src/store/reindex.ts).
 * - step 5 (issue 15, the soak): drops `fhir_resource_content`, a GIN index over every resource's
 *   whole JSON that no query used (every `@>` on fhir_resource also names the ids, which the
 *   primary key finds) but every write paid for: inserts into fhir_resource took ~20% less time
 *   without it on the soak (PGlite's execution time per statement, a scratch preload).
 * - step 6 (issue 15): `fhir_date_id_range`, dates by type, parameter and id with both bounds,
 *   from which a page of a date-range search in id order is read (sql-search.ts, `drivenByDates`).
 */
import type { Consent } from '@medplum/fhirtypes';
import type { SqlDriver } from './repository';
import { writeGrants } from './consent-grants';
import { serverBase } from './local-refs';
import { reindexAll } from './reindex';

/** Bumped when the DDL below changes; each step runs once. */
export const SCHEMA_VERSION = 6;

/** The side tables holding resources' search values (one row per value, keyed by resource type and id). */
export const SEARCH_VALUE_TABLES = ['fhir_token', 'fhir_string', 'fhir_date', 'fhir_reference', 'fhir_number'] as const;

/** Arbitrary, fixed key for `pg_advisory_xact_lock`: "PBSCHEMA" read as ASCII. */
const MIGRATION_LOCK = 0x5042534348454d41n;

/** The current and the history table have the same columns: one version of one resource per row. */
const VERSION_COLUMNS = `resource_type text NOT NULL, id text NOT NULL, version_id integer NOT NULL,
  last_updated timestamptz NOT NULL, deleted boolean NOT NULL DEFAULT false, content jsonb,
  patient_ids text[] NOT NULL DEFAULT '{}'`;

const STEPS: string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS fhir_resource (${VERSION_COLUMNS}, PRIMARY KEY (resource_type, id))`,
    'CREATE INDEX IF NOT EXISTS fhir_resource_updated ON fhir_resource (resource_type, last_updated)',
    'CREATE INDEX IF NOT EXISTS fhir_resource_content ON fhir_resource USING gin (content jsonb_path_ops)',
    'CREATE INDEX IF NOT EXISTS fhir_resource_patients ON fhir_resource USING gin (patient_ids)',
    `CREATE TABLE IF NOT EXISTS fhir_history (${VERSION_COLUMNS}, PRIMARY KEY (resource_type, id, version_id))`,
    'CREATE INDEX IF NOT EXISTS fhir_history_updated ON fhir_history (last_updated)',
    'CREATE INDEX IF NOT EXISTS fhir_history_type_updated ON fhir_history (resource_type, last_updated)',
    `CREATE TABLE IF NOT EXISTS fhir_token (
      resource_type text NOT NULL, id text NOT NULL, code text NOT NULL, system text, value text)`,
    'CREATE INDEX IF NOT EXISTS fhir_token_value ON fhir_token (resource_type, code, value, system)',
    'CREATE INDEX IF NOT EXISTS fhir_token_owner ON fhir_token (resource_type, id)',
    `CREATE TABLE IF NOT EXISTS fhir_string (
      resource_type text NOT NULL, id text NOT NULL, code text NOT NULL, value text NOT NULL, norm text NOT NULL)`,
    'CREATE INDEX IF NOT EXISTS fhir_string_norm ON fhir_string (resource_type, code, norm text_pattern_ops)',
    'CREATE INDEX IF NOT EXISTS fhir_string_owner ON fhir_string (resource_type, id)',
    `CREATE TABLE IF NOT EXISTS fhir_date (
      resource_type text NOT NULL, id text NOT NULL, code text NOT NULL, low timestamptz NOT NULL, high timestamptz NOT NULL)`,
    'CREATE INDEX IF NOT EXISTS fhir_date_range ON fhir_date (resource_type, code, low, high)',
    'CREATE INDEX IF NOT EXISTS fhir_date_owner ON fhir_date (resource_type, id)',
    `CREATE TABLE IF NOT EXISTS fhir_reference (
      resource_type text NOT NULL, id text NOT NULL, code text NOT NULL, target_type text, target_id text, ref text NOT NULL)`,
    'CREATE INDEX IF NOT EXISTS fhir_reference_target ON fhir_reference (target_id, target_type, code, resource_type)',
    'CREATE INDEX IF NOT EXISTS fhir_reference_ref ON fhir_reference (resource_type, code, ref)',
    'CREATE INDEX IF NOT EXISTS fhir_reference_owner ON fhir_reference (resource_type, id)',
    `CREATE TABLE IF NOT EXISTS fhir_number (
      resource_type text NOT NULL, id text NOT NULL, code text NOT NULL, low numeric, high numeric, system text, unit text)`,
    'CREATE INDEX IF NOT EXISTS fhir_number_value ON fhir_number (resource_type, code, low, high)',
    'CREATE INDEX IF NOT EXISTS fhir_number_owner ON fhir_number (resource_type, id)',
  ],
  [
    'ALTER TABLE fhir_resource ADD COLUMN IF NOT EXISTS owner text',
    'ALTER TABLE fhir_resource ADD COLUMN IF NOT EXISTS part2 boolean NOT NULL DEFAULT false',
    'ALTER TABLE fhir_history ADD COLUMN IF NOT EXISTS owner text',
    'ALTER TABLE fhir_history ADD COLUMN IF NOT EXISTS part2 boolean NOT NULL DEFAULT false',
    'CREATE INDEX IF NOT EXISTS fhir_resource_tenant ON fhir_resource (resource_type, owner, id)',
    'CREATE INDEX IF NOT EXISTS fhir_history_tenant ON fhir_history (owner, last_updated)',
    `CREATE TABLE IF NOT EXISTS fhir_consent_grant (
      consent_id text NOT NULL, patient_id text NOT NULL, organization_id text NOT NULL,
      period_start timestamptz NOT NULL DEFAULT '-infinity', period_end timestamptz NOT NULL DEFAULT 'infinity')`,
    'CREATE INDEX IF NOT EXISTS fhir_consent_grant_patient ON fhir_consent_grant (patient_id, organization_id)',
    'CREATE INDEX IF NOT EXISTS fhir_consent_grant_consent ON fhir_consent_grant (consent_id)',
    // Backfill: the direct rules, then each resource in a Patient's compartment takes its Patient's owner.
    `UPDATE fhir_resource SET owner = id WHERE resource_type = 'Organization'`,
    ...Object.entries({
      Patient: 'managingOrganization',
      EpisodeOfCare: 'managingOrganization',
      Encounter: 'serviceProvider',
      ChargeItem: 'performingOrganization',
      PractitionerRole: 'organization',
    }).map(
      ([type, element]) =>
        `UPDATE fhir_resource SET owner = substring(content->'${element}'->>'reference' from 'Organization/([A-Za-z0-9.-]+)$')
          WHERE resource_type = '${type}' AND owner IS NULL AND content IS NOT NULL`,
    ),
    `UPDATE fhir_resource r SET owner = p.owner FROM fhir_resource p
      WHERE r.owner IS NULL AND cardinality(r.patient_ids) > 0 AND p.resource_type = 'Patient' AND p.id = r.patient_ids[1]`,
    `UPDATE fhir_resource SET part2 = true WHERE content->'meta'->'security' @> '[{"code":"42CFRPart2"}]'`,
    `UPDATE fhir_history h SET owner = r.owner FROM fhir_resource r WHERE h.resource_type = r.resource_type AND h.id = r.id`,
    `UPDATE fhir_history SET part2 = true WHERE content->'meta'->'security' @> '[{"code":"42CFRPart2"}]'`,
  ],
  [
    'ALTER TABLE fhir_consent_grant ADD COLUMN IF NOT EXISTS grantor text',
    `UPDATE fhir_consent_grant g SET grantor = r.owner FROM fhir_resource r WHERE r.resource_type = 'Consent' AND r.id = g.consent_id`,
  ],
  ['CREATE TABLE IF NOT EXISTS fhir_index_base (base text NOT NULL)'],
  ['DROP INDEX IF EXISTS fhir_resource_content'],
  ['CREATE INDEX IF NOT EXISTS fhir_date_id_range ON fhir_date (resource_type, code, id) INCLUDE (low, high)'],
];

/**
 * Creates or migrates the schema, and reindexes search values extracted for another FHIR base
 * (`baseUrl`: the server's BASE_URL; undefined: no absolute reference is local); safe to call from
 * several processes at the same time.
 */
export async function migrate(driver: SqlDriver, baseUrl?: string): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await tx.query('CREATE TABLE IF NOT EXISTS fhir_schema (version integer NOT NULL)');
    const current = (await tx.query<{ version: number }>('SELECT max(version)::int AS version FROM fhir_schema')).rows[0]?.version ?? 0;
    if (current > STEPS.length) {
      // A newer release migrated this database: this one would write rows without what the newer schema expects.
      throw new Error(
        `The store's schema is at version ${current}, newer than this release knows (${STEPS.length}): run the newer release, or restore the backup taken before the upgrade (docs/deploy.md)`,
      );
    }
    for (let v = current; v < STEPS.length; v++) {
      for (const sql of STEPS[v]) {
        await tx.query(sql);
      }
      await tx.query('INSERT INTO fhir_schema (version) VALUES ($1)', [v + 1]);
    }
    if (current < 2) {
      // Consents stored before step 2 get their grants (with the grantor column of step 3 in place).
      const consents = await tx.query<{ id: string; content: Consent; owner: string | null }>(
        `SELECT id, content, owner FROM fhir_resource WHERE resource_type = 'Consent' AND NOT deleted`,
      );
      for (const c of consents.rows) {
        await writeGrants(tx, c.id, c.content, c.owner);
      }
    }
    const indexed = (await tx.query<{ base: string }>('SELECT base FROM fhir_index_base')).rows[0]?.base;
    if (indexed !== (baseUrl ?? '')) {
      await reindexAll(tx, serverBase(baseUrl));
      await tx.query('DELETE FROM fhir_index_base');
      await tx.query('INSERT INTO fhir_index_base (base) VALUES ($1)', [baseUrl ?? '']);
    }
  });
}
