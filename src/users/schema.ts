/**
 * The console's tables (issue 14 item 4), created or migrated when the module opens, in the style
 * of src/store/schema.ts: numbered steps run once each, recorded in `console_schema`, in one
 * transaction under an advisory lock so several processes may start at once on one PostgreSQL.
 * Kept apart from the FHIR schema (like src/auth/schema.ts) so the store's steps stay its own.
 *
 * - `console_user`: people who sign in to the console: name (lower case), argon2id hash of the
 *   password (never the password), organizations (tenants, `*` for every one), role, and
 *   `assign_ids` (may create records under ids of their own, as a client registered with
 *   `--assign-ids`: what ingesting an organization's own export needs).
 * - `console_session`: server-side sessions. The cookie holds a random 256-bit id; only its
 *   SHA-256 is stored, so a copy of the table opens no session. Each has its CSRF token, its
 *   start (absolute timeout) and last use (idle timeout).
 * - `console_login_failure`: failed sign-ins per user name (known or not), for the lock-out.
 */
import type { SqlDriver } from '../store/repository';

/** Arbitrary, fixed key for `pg_advisory_xact_lock`: "PBCONSOL" read as ASCII. */
const CONSOLE_DDL_LOCK = 0x5042434f4e534f4cn;

const STEPS: string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS console_user (
      name text PRIMARY KEY,
      password_hash text NOT NULL,
      organizations text[] NOT NULL,
      role text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
      created_at timestamptz NOT NULL DEFAULT now(),
      password_changed_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS console_session (
      id_hash text PRIMARY KEY,
      user_name text NOT NULL REFERENCES console_user (name) ON DELETE CASCADE,
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen timestamptz NOT NULL DEFAULT now())`,
    'CREATE INDEX IF NOT EXISTS console_session_user ON console_session (user_name)',
    'CREATE INDEX IF NOT EXISTS console_session_seen ON console_session (last_seen)',
    `CREATE TABLE IF NOT EXISTS console_login_failure (
      user_name text NOT NULL,
      at timestamptz NOT NULL DEFAULT now())`,
    'CREATE INDEX IF NOT EXISTS console_login_failure_name ON console_login_failure (user_name, at)',
  ],
  // Ingest from the console (an organization's own export, deterministic ids): as a client with --assign-ids.
  ['ALTER TABLE console_user ADD COLUMN IF NOT EXISTS assign_ids boolean NOT NULL DEFAULT false'],
];

/** Creates or migrates the console's tables; safe to call from several processes at the same time. */
export async function migrateUsers(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CONSOLE_DDL_LOCK.toString()]);
    await tx.query('CREATE TABLE IF NOT EXISTS console_schema (version integer NOT NULL)');
    const current = (await tx.query<{ version: number }>('SELECT max(version)::int AS version FROM console_schema')).rows[0]?.version ?? 0;
    for (let v = current; v < STEPS.length; v++) {
      for (const sql of STEPS[v]) {
        await tx.query(sql);
      }
      await tx.query('INSERT INTO console_schema (version) VALUES ($1)', [v + 1]);
    }
  });
}
