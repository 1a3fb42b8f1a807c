/**
 * The whole app as src/server.ts wires it (store, shipped mappings and rejects, Bulk Data export
 * without its worker, SMART auth, audit trail), listening on an ephemeral port of 127.0.0.1, with
 * registered clients and real tokens from `POST /auth/token` (signed assertions, test/auth/helpers).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { openAuth, type Auth } from '../../src/auth';
import { openAudit, type Audit } from '../../src/audit';
import { openBulkExport, type BulkExport } from '../../src/export';
import { answerClientErrors, createApp } from '../../src/http/app';
import { publishConceptMaps } from '../../src/pipeline/concept-maps';
import { MAPPINGS_DIR } from '../../src/pipeline/sources';
import { RejectStore } from '../../src/store/rejects';
import { loadSources } from '../../src/translate';
import type { LoadedSource } from '../../src/translate/types';
import { Validator } from '../../src/validation';
import type { Logger } from '../../src/ops/logger';
import type { Route } from '../../src/fhir-api';
import { FHIR_BASE, jwksOf, makeKey, signAssertion, TEST_CONFIG, tokenForm, type TestKey } from '../auth/helpers';
import { openTestStore, type DriverName, type TestStore } from '../support/stores';

export const ORG = 'riverbend-ccbhc';

export interface FullApp {
  base: string;
  server: Server;
  store: TestStore;
  auth: Auth;
  audit: Audit;
  bulk: BulkExport;
  validator: Validator;
  /** The FHIR route table the app serves (`app.locals.fhirRoutes`), patterns below `/fhir`. */
  routes: readonly Route[];
  /** What the app logged (level, message, meta), e.g. the stacks of 500s. */
  logs: Array<{ level: string; message: string; meta?: Record<string, unknown> }>;
  sources: Map<string, LoadedSource>;
  /** Registers a client with these scopes and returns a fresh access token for them. */
  token(scopes: string[], name?: string, organizations?: string[]): Promise<{ token: string; clientId: string; key: TestKey }>;
  close(): Promise<void>;
}

let shared: Validator | undefined;

/** Opens the app on a fresh store of `driver` (audit flushed every `flushMs`; export jobs worked on by `bulk.sweep()` when `exportWorker`). */
export async function openFullApp(
  driver: DriverName = 'pglite',
  options: { flushMs?: number; exportWorker?: boolean; logger?: Logger } = {},
): Promise<FullApp> {
  const flushMs = options.flushMs ?? 20;
  const validator = (shared ??= Validator.create());
  const store = await openTestStore(driver);
  const sources = loadSources(MAPPINGS_DIR);
  const rejects = await RejectStore.open(store.repo.driver);
  await publishConceptMaps(store.repo, sources);
  const bulk = await openBulkExport({ store: store.repo, env: {}, worker: options.exportWorker ?? false });
  const isResourceType = (t: string): boolean => validator.defs.isResourceType(t);
  const logs: FullApp['logs'] = [];
  const log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void => {
    logs.push({ level, message, meta });
  };
  const audit = openAudit({ repo: store.repo, isResourceType, baseUrl: FHIR_BASE, writer: { flushMs }, log });
  const auth = await openAuth({ driver: store.repo.driver, env: {}, config: TEST_CONFIG, baseUrl: FHIR_BASE, isResourceType, onEvent: audit.onAuthEvent, log });
  const app = createApp({
    validator,
    store: store.repo,
    routes: bulk.routes,
    bulkExport: bulk,
    config: { MAX_BODY_BYTES: 1024 * 1024, BASE_URL: FHIR_BASE },
    sources,
    rejects,
    auth,
    audit,
    log,
    logger: options.logger,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token: FullApp['token'] = async (scopes, name = 'Test HIE', organizations = [ORG]) => {
    const key = await makeKey('ES384');
    const client = await auth.clients.add({ name, jwks: jwksOf(key), scopes, organizations, assignIds: true });
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenForm(await signAssertion(key, client.id), scopes.join(' ')),
    });
    const body = (await res.json()) as { access_token?: string; error_description?: string };
    if (!body.access_token) throw new Error(`no token: ${res.status} ${body.error_description}`);
    return { token: body.access_token, clientId: client.id, key };
  };
  return {
    base,
    server,
    store,
    auth,
    audit,
    bulk,
    validator,
    routes: app.locals.fhirRoutes as readonly Route[],
    logs,
    sources,
    token,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await audit.close();
      await bulk.close();
      await store.close();
    },
  };
}
