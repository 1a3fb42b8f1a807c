/**
 * Both store drivers for `describe.each`: PGlite in memory, and PostgreSQL (a fresh database with
 * a random name per describe block, dropped at the end). The server is `PEERBRIDGE_TEST_PG`
 * (default postgres://postgres@127.0.0.1:5432/postgres); `PEERBRIDGE_TEST_PG=off` runs PGlite only.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openStore, type SqlRepository, type StoreOptions } from '../../src/store';

export type DriverName = 'pglite' | 'pg';

const ADMIN_URL = process.env.PEERBRIDGE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The drivers to run store tests on. */
export const DRIVERS: DriverName[] = ADMIN_URL === 'off' ? ['pglite'] : ['pglite', 'pg'];

export interface TestStore {
  repo: SqlRepository;
  /** The database URL (pg only), for tests that open a second connection. */
  url?: string;
  close(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a database on the test server and returns its URL. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `peerbridge_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

/** Opens an empty store on the driver (`options`: e.g. the server's BASE_URL). */
export async function openTestStore(driver: DriverName, options: Pick<StoreOptions, 'BASE_URL'> = {}): Promise<TestStore> {
  if (driver === 'pglite') {
    const repo = await openStore({ ...options, memory: true });
    return { repo, close: () => repo.close() };
  }
  const db = await createTestDatabase();
  const repo = await openStore({ ...options, DATABASE_URL: db.url });
  return {
    repo,
    url: db.url,
    close: async () => {
      await repo.close();
      await db.drop();
    },
  };
}
