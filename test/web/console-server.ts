/**
 * A PeerBridge server for the browser tests (test/web): the app as `npm start` builds it (store,
 * rejects, the shipped mapping folders and a small CSV mapping the tests fix and reload), with the
 * web console built by scripts/build-web.js into a temp folder, listening on a free port.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { createApp, type AppDeps } from '../../src/http/app';
import { RejectStore } from '../../src/store/rejects';
import { loadSource, loadSources } from '../../src/translate';
import type { LoadedSource } from '../../src/translate/types';
import { Validator } from '../../src/validation';
import { openTestStore, type DriverName, type TestStore } from '../support/stores';
import { openAuth } from '../../src/auth';
import { resourceId } from '../../src/fhir/ids';
import { openConsole } from '../../src/users';
import { TEST_CONFIG } from '../auth/helpers';
import { A, B, caller, canonicalBundle, consent, lakesideBundle } from '../access/fixtures';
import { PASSWORD, TEST_HASH } from '../users/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildWeb } = require('../../scripts/build-web.js') as { buildWeb: (dir: string) => Promise<WebManifest> };

export interface WebManifest {
  main: string;
  css: string;
  eager: string[];
  files: { file: string; bytes: number; gzip: number; editor?: boolean }[];
}

/** A one-feed CSV mapping whose contact-mode table lacks TELE (added by `fixMapping`). */
export const MINI_SOURCE = 'console-mini';
const MINI_SYSTEM = 'https://ehr.console.example.org/peer';
/** The organization the mini mapping's records belong to. */
export const MINI_ORG = resourceId(MINI_SYSTEM, 'Organization', 'riverbend-ccbhc');

/** The users of a server with sign-in: `ana` of organization A (Riverbend), `lee` of B (Lakeside, Part 2) and the mini mapping's. */
export const USERS = {
  ana: { name: 'ana', password: PASSWORD, organizations: [A.org], role: 'analyst' },
  lee: { name: 'lee', password: PASSWORD, organizations: [B.org, MINI_ORG], role: 'analyst' },
};
export { A, B };
const MINI_FILES = (withTele: boolean): Record<string, string> => ({
  'source.yaml': `name: ${MINI_SOURCE}\nsystem: ${MINI_SYSTEM}\nformat: csv\ntimezone: America/Chicago\n`,
  'tables.yaml': `tables:\n  contact-mode:\n    target: contact-mode\n    codes:\n      F2F: in-person\n${withTele ? '      TELE: telephone\n' : ''}`,
  'contacts.yaml': `match: "contacts*.csv"
records:
  - record: contact
    fields:
      id: { from: ContactID, required: true }
      episode.id: EpisodeID
      episode.personId: ClientID
      episode.organizationId: { const: riverbend-ccbhc }
      start: { from: [Date, Time], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }] }
      durationMinutes: { from: Minutes, transform: [integer] }
      mode: { from: Type, table: contact-mode }
      specialistId: Staff
`,
});

/** Two good rows and two bad: `4O` minutes (a typo) and TELE (not in the mapping's table until fixed). */
export const BAD_CSV = [
  'ContactID,EpisodeID,ClientID,Date,Time,Minutes,Type,Staff',
  'C-1,E-1,P-1,09/15/2026,10:00 AM,45,F2F,S-1',
  'C-2,E-1,P-1,09/22/2026,2:30 PM,4O,F2F,S-1',
  'C-3,E-1,P-1,09/29/2026,9:00 AM,60,TELE,S-1',
].join('\n');

export interface ConsoleServer {
  url: string;
  manifest: WebManifest;
  webDir: string;
  store: TestStore;
  /** Adds TELE to the mini mapping's contact-mode table and reloads it (the "fix" before a retry). */
  fixMapping(): void;
  close(): Promise<void>;
}

let shared: Validator | undefined;
let built: Promise<{ dir: string; manifest: WebManifest }> | undefined;

/** Builds the console once per test file. */
export function buildConsole(): Promise<{ dir: string; manifest: WebManifest }> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-web-'));
    return { dir, manifest: await buildWeb(dir) };
  })();
  return built;
}

/**
 * With `signIn`, auth is on and people sign in (src/users): the users of USERS, and the two
 * tenants' records of test/access/fixtures.ts (A: Riverbend's Dana Whitfield, B: Lakeside, Part 2,
 * with the patient's Consent releasing them to B).
 */
export async function startConsoleServer(driver: DriverName, options: { signIn?: boolean } = {}): Promise<ConsoleServer> {
  const { dir: webDir, manifest } = await buildConsole();
  const store = await openTestStore(driver);
  const root = mkdtempSync(join(tmpdir(), 'pb-web-maps-'));
  const miniDir = join(root, MINI_SOURCE);
  mkdirSync(miniDir);
  const writeMini = (withTele: boolean): LoadedSource => {
    for (const [name, text] of Object.entries(MINI_FILES(withTele))) writeFileSync(join(miniDir, name), text);
    return loadSource(miniDir);
  };
  const sources = loadSources();
  sources.set(MINI_SOURCE, writeMini(false));
  const validator = (shared ??= Validator.create());
  let extra: Partial<AppDeps> = {};
  if (options.signIn) {
    const auth = await openAuth({
      driver: store.repo.driver,
      env: {},
      config: { ...TEST_CONFIG, AUTH_TOKEN_URL: undefined },
      baseUrl: 'http://127.0.0.1/fhir',
    });
    const people = await openConsole({ driver: store.repo.driver, env: {}, hash: TEST_HASH });
    for (const u of Object.values(USERS)) await people.users.add(u);
    const call = caller(validator, store.repo);
    for (const bundle of [canonicalBundle(), lakesideBundle()]) {
      const res = await call(undefined, 'POST', '/', bundle);
      if (res.status !== 200) throw new Error(`fixture not loaded: ${res.status}`);
    }
    // B is a Part 2 program: its patient's records are released to B by the patient's Consent.
    await store.repo.update(consent('console-consent', B.org));
    extra = { auth, console: people };
  }
  const app = createApp({
    validator,
    store: store.repo,
    config: { MAX_BODY_BYTES: 10 * 1024 * 1024 },
    sources,
    rejects: await RejectStore.open(store.repo.driver),
    consoleDir: webDir,
    ...extra,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    manifest,
    webDir,
    store,
    fixMapping: () => void sources.set(MINI_SOURCE, writeMini(true)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
