/**
 * The server side of `npm run bench:api` (bench/api.ts), in its own process so that its peak RSS
 * is the server's alone: the store (DATABASE_URL, or PGlite in DATA_DIR), the Bulk Data export
 * module and the app, as `src/server.ts` wires them, listening on an ephemeral port of 127.0.0.1.
 *
 * With BENCH_AUTH_JWK (a client's public JWK, JSON) it also serves, on the same store in the same
 * process, the app with SMART auth on (bearer token, scopes, rate limit, and the tenant filter
 * wherever createApp applies it) on a second port, and the same with the audit trail on a third,
 * and registers a client for the key (scopes `system/*.read`, the workload's organizations from
 * BENCH_ORGS), so the one run measures with and without.
 *
 * Request bodies are validated in worker threads (src/pipeline/pool.ts `pipelinePool`, one per
 * core), as `src/server.ts` does; BENCH_VALIDATION_WORKERS=0 validates in the request thread, N sets
 * the count.
 *
 * IPC: sends `{ ready: port, authPort?, auditPort?, clientId? }` when listening; answers
 * `{ cmd: 'analyze' }` (refresh planner statistics) and `{ cmd: 'stop' }` with `{ done: cmd }`.
 */
// First: the app below runs compiled (dist/), as `npm start` runs it, unless BENCH_CODE=src.
import './compiled';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { JWK } from 'jose';
import { openAudit, type Audit } from '../src/audit';
import { openAuth } from '../src/auth';
import { loadRules } from '../src/domain/rules';
import { openBulkExport } from '../src/export';
import { loadPackageTerms } from '../src/fhir/context';
import { createApp } from '../src/http/app';
import { pipelinePool } from '../src/pipeline/pool';
import { openStore } from '../src/store';
import { Validator } from '../src/validation';

/** The public URLs the auth apps are configured with (the bench signs its assertion for TOKEN_URL). */
const BASE_URL = 'http://bench.peerbridge.local/fhir';
const TOKEN_URL = 'http://bench.peerbridge.local/auth/token';

const listen = (app: Express): Promise<Server> =>
  new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
    server.keepAliveTimeout = 30_000;
  });
const portOf = (s: Server): number => (s.address() as AddressInfo).port;

/** Listens on an ephemeral port of 127.0.0.1, then serves the app built for that port (its public base names the port). */
async function listenFor(build: (port: number) => Express): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.keepAliveTimeout = 30_000;
  server.on('request', build(portOf(server)));
  return server;
}

/** Starts the V8 sampling profiler; `stop(file)` writes the profile. */
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

async function main(): Promise<void> {
  const validator = Validator.create();
  const store = await openStore(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { DATA_DIR: process.env.DATA_DIR });
  const log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void => {
    if (level !== 'info') {
      console.error(JSON.stringify({ level, message, ...meta }));
    }
  };
  const bulk = await openBulkExport({ store, env: process.env, log });
  const pipeline = { rules: loadRules(), terms: loadPackageTerms() };
  const config = { MAX_BODY_BYTES: 64 * 1024 * 1024 };
  // As src/server.ts: request bodies validated in worker threads (BENCH_VALIDATION_WORKERS=0: in this thread).
  const workers = process.env.BENCH_VALIDATION_WORKERS === undefined ? undefined : Number(process.env.BENCH_VALIDATION_WORKERS);
  const validationPool =
    workers === 0 ? undefined : pipelinePool({ rules: pipeline.rules, size: workers, definitions: validator.defs.options, warmAtStart: true, log });
  // Export status and file URLs come from the public base: this server's own port.
  const servers = [
    await listenFor((port) =>
      createApp({
        validator,
        store,
        routes: bulk.routes,
        bulkExport: bulk,
        config: { ...config, BASE_URL: `http://127.0.0.1:${port}/fhir` },
        log,
        pipeline,
        validationPool,
      }),
    ),
  ];
  const ready: { ready: number; authPort?: number; auditPort?: number; clientId?: string; tokenUrl?: string } = { ready: portOf(servers[0]) };
  let audit: Audit | undefined;
  if (process.env.BENCH_AUTH_JWK) {
    const isResourceType = (t: string): boolean => validator.defs.isResourceType(t);
    audit = openAudit({ repo: store, isResourceType, log });
    // A rate limit far above the load, so the bucket is checked on every request without refusing any.
    // Fixed URLs (as BASE_URL and AUTH_TOKEN_URL would be): one token serves both ports.
    const authConfig = {
      AUTH_DISABLED: false,
      AUTH_TOKEN_URL: TOKEN_URL,
      RATE_LIMIT_PER_SECOND: 1_000_000,
      RATE_LIMIT_BURST: 1_000_000,
      AUTH_TOKEN_TTL_SECONDS: 3600,
      AUTH_TOKEN_RATE_PER_MINUTE: 0,
    };
    const auth = await openAuth({ driver: store.driver, env: {}, config: authConfig, baseUrl: BASE_URL, log, isResourceType, onEvent: audit.onAuthEvent });
    const client = await auth.clients.add({
      name: 'bench:api client',
      jwks: { keys: [JSON.parse(process.env.BENCH_AUTH_JWK) as JWK] },
      scopes: ['system/*.read'],
      organizations: (process.env.BENCH_ORGS ?? '').split(',').filter(Boolean),
    });
    ready.clientId = client.id;
    ready.tokenUrl = TOKEN_URL;
    const authApp = createApp({ validator, store, routes: bulk.routes, bulkExport: bulk, config, log, pipeline, validationPool, auth });
    const auditApp = createApp({ validator, store, routes: bulk.routes, bulkExport: bulk, config, log, pipeline, validationPool, auth, audit });
    const [a, b] = [await listen(authApp), await listen(auditApp)];
    servers.push(a, b);
    ready.authPort = portOf(a);
    ready.auditPort = portOf(b);
  }
  bulk.start();
  // BENCH_CPU_PROF=<dir>: V8 CPU profiles of this server, one per measured load (bench/api.ts --cpu-prof).
  let profiler: { stop(file: string): Promise<void> } | undefined;
  process.send?.(ready);
  process.on('message', (msg: { cmd?: string; name?: string }) => {
    const done = (): void => {
      process.send?.({ done: msg.cmd });
    };
    if (msg.cmd === 'profile-start' && process.env.BENCH_CPU_PROF) {
      startProfile().then((p) => {
        profiler = p;
        done();
      }, done);
    } else if (msg.cmd === 'profile-stop') {
      const p = profiler;
      profiler = undefined;
      (p ? p.stop(join(process.env.BENCH_CPU_PROF as string, `${msg.name ?? process.pid}.cpuprofile`)) : Promise.resolve()).then(done, done);
    } else if (msg.cmd === 'analyze') {
      store.driver.query('ANALYZE').then(done, (err: unknown) => {
        log('error', 'ANALYZE failed', { error: String(err) });
        done();
      });
    } else if (msg.cmd === 'stop') {
      for (const s of servers) {
        s.close();
        s.closeAllConnections();
      }
      // The chain ends in process.exit, so a rejection has nowhere to go.
      void bulk
        .close()
        .then(() => audit?.close())
        .then(() => validationPool?.close())
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
