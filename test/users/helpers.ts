/**
 * Console sign-in test support: the app as src/server.ts wires it (store with both tenants of
 * test/access/fixtures, SMART auth, audit trail, the shipped mappings plus a two-organization
 * one, rejects, console users with a cheap argon2 cost), and sign-in over supertest.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { AuditEvent } from '@medplum/fhirtypes';
import { openAudit, type Audit } from '../../src/audit';
import { openAuth, type Auth, type AuthConfig } from '../../src/auth';
import { openBulkExport, type BulkExport } from '../../src/export';
import { resourceId } from '../../src/fhir/ids';
import { createApp } from '../../src/http/app';
import { MAPPINGS_DIR } from '../../src/pipeline/sources';
import { RejectStore } from '../../src/store/rejects';
import { loadSource, loadSources } from '../../src/translate';
import { openConsole, type Console } from '../../src/users';
import { Validator } from '../../src/validation';
import { caller, canonicalBundle, lakesideBundle } from '../access/fixtures';
import { TEST_CONFIG } from '../auth/helpers';
import { openTestStore, type DriverName, type TestStore } from '../support/stores';

export const PASSWORD = 'correct horse battery staple';
/** Cheap argon2id for tests (the server uses the library's defaults). */
export const TEST_HASH = { memoryCost: 8192, timeCost: 2, parallelism: 1 };

const SYSTEM = 'https://ehr.tenants.example.org/peer';
/** The organizations of the small `tenant-mini` mapping (rejects by tenant). */
export const RIVER = resourceId(SYSTEM, 'Organization', 'river');
export const LAKE = resourceId(SYSTEM, 'Organization', 'lake');
export const CSV_HEADER = 'ContactID,EpisodeID,ClientID,Org,Date,Time,Minutes,Type,Staff';
/** Minutes `4O` (a letter O) is not a number: each row is rejected, owned by the organization it names. */
export const LAKE_BAD_ROW = 'C-2,E-2,P-2,lake,09/15/2025,10:00 AM,4O,F2F,S-1';
export const RIVER_BAD_ROW = 'C-1,E-1,P-1,river,09/15/2025,10:00 AM,4O,F2F,S-1';

const MINI: Record<string, string> = {
  'source.yaml': `name: tenant-mini\nsystem: ${SYSTEM}\nformat: csv\ntimezone: America/Chicago\npart2Organizations: [lake]\n`,
  'tables.yaml': 'tables:\n  contact-mode:\n    target: contact-mode\n    codes:\n      F2F: in-person\n',
  'contacts.yaml': `match: "contacts*.csv"
records:
  - record: contact
    fields:
      id: { from: ContactID, required: true }
      episode.id: EpisodeID
      episode.personId: ClientID
      episode.organizationId: Org
      start: { from: [Date, Time], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }] }
      durationMinutes: { from: Minutes, transform: [integer] }
      mode: { from: Type, table: contact-mode }
      specialistId: Staff
`,
};

export interface ConsoleApp {
  app: ReturnType<typeof createApp>;
  store: TestStore;
  auth: Auth;
  audit: Audit;
  console: Console;
  bulk: BulkExport;
  /** Every AuditEvent written so far (after flushing the queue). */
  auditEvents(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

let shared: Validator | undefined;
export const testValidator = (): Validator => (shared ??= Validator.create());

/** The app on a fresh store of `driver`, both tenants' records loaded. */
export async function openConsoleApp(
  driver: DriverName,
  options: { baseUrl?: string; auth?: Partial<AuthConfig>; records?: boolean } = {},
): Promise<ConsoleApp> {
  const baseUrl = options.baseUrl ?? 'http://peerbridge.test/fhir';
  const validator = testValidator();
  const store = await openTestStore(driver);
  const root = mkdtempSync(join(tmpdir(), 'pb-console-'));
  const mini = join(root, 'tenant-mini');
  mkdirSync(mini, { recursive: true });
  for (const [file, text] of Object.entries(MINI)) writeFileSync(join(mini, file), text);
  const sources = loadSources(MAPPINGS_DIR);
  sources.set('tenant-mini', loadSource(mini));
  const isResourceType = (t: string): boolean => validator.defs.isResourceType(t);
  const audit = openAudit({ repo: store.repo, isResourceType, baseUrl, writer: { flushMs: 10 } });
  const auth = await openAuth({
    driver: store.repo.driver,
    env: {},
    config: { ...TEST_CONFIG, AUTH_TOKEN_URL: undefined, ...options.auth },
    baseUrl,
    isResourceType,
    onEvent: audit.onAuthEvent,
  });
  const consoleUsers = await openConsole({ driver: store.repo.driver, env: {}, hash: TEST_HASH });
  const bulk = await openBulkExport({ store: store.repo, env: {} });
  const app = createApp({
    validator,
    store: store.repo,
    routes: bulk.routes,
    bulkExport: bulk,
    config: { MAX_BODY_BYTES: 4 * 1024 * 1024, BASE_URL: baseUrl },
    sources,
    rejects: await RejectStore.open(store.repo.driver),
    auth,
    audit,
    console: consoleUsers,
  });
  if (options.records !== false) {
    const call = caller(validator, store.repo);
    for (const bundle of [canonicalBundle(), lakesideBundle()]) {
      const res = await call(undefined, 'POST', '/', bundle);
      if (res.status !== 200) throw new Error(`fixture not loaded: ${res.status}`);
    }
  }
  return {
    app,
    store,
    auth,
    audit,
    console: consoleUsers,
    bulk,
    auditEvents: async () => {
      await audit.flush();
      const res = await store.repo.driver.query<{ content: AuditEvent | string }>(
        `SELECT content FROM fhir_resource WHERE resource_type = 'AuditEvent' AND NOT deleted ORDER BY last_updated`,
      );
      return res.rows.map((r) => (typeof r.content === 'string' ? (JSON.parse(r.content) as AuditEvent) : r.content));
    },
    close: async () => {
      await bulk.close();
      await audit.close();
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A signed-in session: the cookie pair to send and the CSRF token. */
export interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
}

export async function signIn(app: ConsoleApp['app'], username: string, password = PASSWORD): Promise<SignedIn> {
  const res = await request(app).post('/console/session').set('Content-Type', 'application/json').send(JSON.stringify({ username, password }));
  if (res.status !== 200) throw new Error(`sign-in of ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  const setCookie = sessionCookieOf(res);
  return { cookie: setCookie.split(';')[0], csrf: res.body.csrfToken as string, setCookie };
}

/** The `Set-Cookie` of `pb_session` in a response (throws when there is none). */
export function sessionCookieOf(res: { headers: Record<string, unknown> }): string {
  const all = [res.headers['set-cookie']].flat().filter((x): x is string => typeof x === 'string');
  const found = all.find((c) => c.startsWith('pb_session='));
  if (!found) throw new Error(`no pb_session cookie in ${JSON.stringify(all)}`);
  return found;
}
