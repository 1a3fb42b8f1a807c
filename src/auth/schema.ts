/**
 * The auth module's own tables, created when it opens (idempotent DDL under an advisory lock, so
 * several processes may start at once on one PostgreSQL), like src/export/schema.ts.
 *
 * - `auth_client`: registered Backend Services clients (`peerbridge clients add`): name, public
 *   JWKS or JWKS URL, the scopes they may be granted, the organizations (tenants) they serve.
 * - `auth_jti`: `jti` values of client assertions already used, per client, kept until the
 *   assertion's `exp` has passed; the primary key makes "never reused" hold across processes.
 * - `auth_key`: the server's signing key for access tokens (generated at first start), shared by
 *   every process on the database so tokens verify anywhere and survive restarts. The private key
 *   is stored as a JWK: anyone who can read this table can mint tokens (as anyone who can read
 *   the database can read the records). `retired_at`: set when a rotation replaces the key
 *   (`peerbridge auth rotate-key`); the key still verifies until its tokens have expired.
 */
import type { SqlDriver } from '../store/repository';

/** Arbitrary, fixed key for `pg_advisory_xact_lock`: "PBAUTHDD" read as ASCII. */
export const AUTH_DDL_LOCK = 0x5042415554484444n;

const DDL = [
  `CREATE TABLE IF NOT EXISTS auth_client (
    id text PRIMARY KEY,
    name text NOT NULL,
    jwks jsonb,
    jwks_url text,
    scopes text[] NOT NULL,
    organizations text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((jwks IS NULL) <> (jwks_url IS NULL)))`,
  `CREATE TABLE IF NOT EXISTS auth_jti (
    client_id text NOT NULL,
    jti text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti))`,
  'CREATE INDEX IF NOT EXISTS auth_jti_expires ON auth_jti (expires_at)',
  // Issue 11 item 5: update-as-create is for clients an admin registered for it.
  'ALTER TABLE auth_client ADD COLUMN IF NOT EXISTS assign_ids boolean NOT NULL DEFAULT false',
  `CREATE TABLE IF NOT EXISTS auth_key (
    kid text PRIMARY KEY,
    alg text NOT NULL,
    private_jwk jsonb NOT NULL,
    public_jwk jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())`,
  // Key rotation (docs/deploy.md): a retired key verifies the tokens it signed until they have expired, then goes.
  'ALTER TABLE auth_key ADD COLUMN IF NOT EXISTS retired_at timestamptz',
];

/** Creates the auth tables when missing; safe to run from several processes at once. */
export async function migrateAuth(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [AUTH_DDL_LOCK.toString()]);
    for (const sql of DDL) {
      await tx.query(sql);
    }
  });
}
