/**
 * The server side of `npm run bench:api` (bench/api.ts), in its own process so that its peak RSS
 * is the server's alone: the store (DATABASE_URL, or PGlite in DATA_DIR), the Bulk Data export
 * module and the app, as `src/server.ts` wires them, listening on an ephemeral port of 127.0.0.1.
 *
 * IPC: sends `{ ready: port }` when listening; answers `{ cmd: 'analyze' }` (refresh planner
 * statistics) and `{ cmd: 'stop' }` with `{ done: cmd }`.
 */
import type { AddressInfo } from 'node:net';
import { openBulkExport } from '../src/export';
import { createApp } from '../src/http/app';
import { openStore } from '../src/store';
import { Validator } from '../src/validation';

async function main(): Promise<void> {
  const validator = Validator.create();
  const store = await openStore(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { DATA_DIR: process.env.DATA_DIR });
  const log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void => {
    if (level !== 'info') {
      console.error(JSON.stringify({ level, message, ...meta }));
    }
  };
  const bulk = await openBulkExport({ store, env: process.env, log });
  const app = createApp({ validator, store, routes: bulk.routes, bulkExport: bulk, config: { MAX_BODY_BYTES: 64 * 1024 * 1024 }, log });
  const server = app.listen(0, '127.0.0.1', () => {
    bulk.start();
    process.send?.({ ready: (server.address() as AddressInfo).port });
  });
  server.keepAliveTimeout = 30_000;
  process.on('message', (msg: { cmd?: string }) => {
    const done = (): void => {
      process.send?.({ done: msg.cmd });
    };
    if (msg.cmd === 'analyze') {
      store.driver.query('ANALYZE').then(done, (err: unknown) => {
        log('error', 'ANALYZE failed', { error: String(err) });
        done();
      });
    } else if (msg.cmd === 'stop') {
      server.close();
      server.closeAllConnections();
      bulk
        .close()
        .then(() => store.close())
        .finally(() => {
          done();
          process.exit(0);
        });
    }
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exit(1);
});
