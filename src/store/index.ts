/**
 * Opening the store: `openStore(config)` picks the driver (PostgreSQL when `DATABASE_URL` is set,
 * else PGlite in `DATA_DIR`, or in memory), creates or migrates the schema and returns the
 * repository; `repo.driver` is the `SqlDriver` for modules that keep tables of their own.
 */
import type { SqlDriver } from './repository';
import { publicBaseUrl } from '../config';
import { migrate } from './schema';
import { serverBase } from './local-refs';
import { loadSearchParameters } from './search-params';
import { SqlRepository } from './sql-repository';
import { withMaintenance } from './maintenance';

export type * from './repository';
export { SqlRepository } from './sql-repository';
export { migrate, SCHEMA_VERSION } from './schema';
export { DEFAULT_COUNT, MAX_COUNT } from './sql-search';
export { definedParams, paramsOf, patientCompartmentTypes } from './search-params';

/** Where the data lives. */
export interface StoreOptions {
  /** `postgres://...`: a PostgreSQL server through `pg`. */
  DATABASE_URL?: string;
  /** PGlite's data directory (ignored with DATABASE_URL). */
  DATA_DIR?: string;
  /** PGlite in memory (tests); wins over DATA_DIR. */
  memory?: boolean;
  /**
   * This server's public FHIR base (config BASE_URL; else `http://localhost:PORT/fhir`): a
   * reference that is an absolute URL on it is a local reference (src/store/local-refs.ts).
   */
  BASE_URL?: string;
  /** The port the server listens on, for the default base. */
  PORT?: number;
  /** PGlite's `shared_buffers` (src/store/pglite-driver.ts); default 128MB. */
  PGLITE_SHARED_BUFFERS?: string;
  /** `off`: no ANALYZE (and, on PGlite, VACUUM) after bulk writes (src/store/maintenance.ts). */
  STORE_MAINTENANCE?: 'on' | 'off';
}

/**
 * Opens the driver the options name, without touching the schema. Each driver's module (and its
 * client library: `pg`, or PGlite) loads only when it is the one opened.
 */
export async function openDriver(options: StoreOptions): Promise<SqlDriver> {
  if (options.DATABASE_URL) {
    const { openPgDriver } = await import('./pg-driver');
    return openPgDriver(options.DATABASE_URL);
  }
  const { openPgliteDriver } = await import('./pglite-driver');
  return openPgliteDriver(options.memory ? undefined : (options.DATA_DIR ?? './data'), { sharedBuffers: options.PGLITE_SHARED_BUFFERS });
}

/** Opens the driver, creates or migrates the schema, and returns the repository. */
export async function openStore(options: StoreOptions): Promise<SqlRepository> {
  loadSearchParameters();
  const opened = await openDriver(options);
  const base = fhirBase(options);
  let driver: SqlDriver = opened;
  try {
    await migrate(opened, base);
    if (options.STORE_MAINTENANCE !== 'off') {
      driver = await withMaintenance(opened);
    }
  } catch (err) {
    await opened.close().catch(() => undefined);
    throw err;
  }
  return new SqlRepository(driver, false, undefined, serverBase(base));
}

/** The server's public FHIR base (src/config `publicBaseUrl`); undefined when neither BASE_URL nor PORT is known (a store opened by tests or tools). */
export function fhirBase(options: Pick<StoreOptions, 'BASE_URL' | 'PORT'>): string | undefined {
  return options.BASE_URL === undefined && options.PORT === undefined ? undefined : publicBaseUrl(options);
}
