/**
 * `peerbridge migrate`: creates or migrates every table the server keeps (the FHIR store, ingest
 * rejects, auth, Bulk Data export) on the store the environment names (DATABASE_URL, else PGlite in
 * DATA_DIR), then exits. The server does the same at start (under advisory locks, so several
 * processes may start at once); this command lets a deployment run it as a step of its own before
 * the new release takes traffic (scripts/install-production.sh migrate, docs/deploy.md).
 */
import { migrateAuth } from '../auth/schema';
import { loadConfig } from '../config';
import { migrateExport } from '../export/schema';
import { openStore, SCHEMA_VERSION } from '../store';
import { RejectStore } from '../store/rejects';

const HELP = `Usage: peerbridge migrate

Creates or migrates the store's tables (FHIR resources and search values, ingest rejects, auth
clients and signing keys, Bulk Data export jobs) and exits. The store is the one the server would
open: DATABASE_URL (PostgreSQL), else embedded PGlite in DATA_DIR (default ./data); BASE_URL and
PORT decide the FHIR base search values are indexed for (a changed base reindexes).
The server runs the same migrations at start; running them first keeps that start short.

Exit codes: 0 migrated (or already current), 2 usage error, bad configuration, or the store could not
be opened or migrated (for example a schema newer than this release).
`;

export async function migrateCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    out.write(HELP);
    return 0;
  }
  if (args.length > 0) {
    err.write(`peerbridge migrate takes no arguments (got '${args[0]}'): it reads DATABASE_URL or DATA_DIR from the environment\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.DATA_DIR}`;
  const started = performance.now();
  try {
    const store = await openStore(config);
    try {
      await RejectStore.open(store.driver);
      await migrateAuth(store.driver);
      await migrateExport(store.driver);
    } finally {
      await store.close();
    }
  } catch (e) {
    err.write(`peerbridge migrate: ${where}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  out.write(`Store schema at version ${SCHEMA_VERSION} (${where}, ${Math.round(performance.now() - started)} ms)\n`);
  return 0;
}
