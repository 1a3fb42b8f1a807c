/**
 * `npm start` / `peerbridge serve`: loads the configuration, the validator and the store
 * (PostgreSQL when DATABASE_URL is set, else embedded PGlite in DATA_DIR), then listens; closes
 * the store on SIGINT/SIGTERM.
 */
import { loadConfig } from './config';
import { openBulkExport } from './export';
import { createApp } from './http/app';
import { openStore } from './store';
import { Validator } from './validation';

export async function serve(): Promise<void> {
  const config = loadConfig();
  const started = performance.now();
  const validator = Validator.create();
  const store = await openStore(config);
  const log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void =>
    console[level === 'info' ? 'log' : level](JSON.stringify({ level, message, ...meta }));
  // Bulk Data $export (src/export): kick-off routes in the FHIR route table, status and files beside it.
  const bulk = await openBulkExport({ store, baseUrl: config.BASE_URL, log });
  const app = createApp({ validator, store, routes: bulk.routes, bulkExport: bulk, config, log });
  await new Promise<void>((resolve) => {
    const server = app.listen(config.PORT, config.HOST, () => {
      const ms = Math.round(performance.now() - started);
      const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.DATA_DIR}`;
      console.log(`PeerBridge listening on http://localhost:${config.PORT}/fhir (${validator.profileUrls().length} profiles, store: ${where}, ready in ${ms} ms)`);
      bulk.start();
      resolve();
    });
    const stop = (): void => {
      // Stop taking requests, let those in flight finish, then close the store so PGlite flushes its files.
      server.close(() => {
        bulk.close().then(() => store.close()).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
      server.closeIdleConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (require.main === module) {
  serve().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
