/**
 * A fresh PGlite data directory is a copy of a template, not a new initdb (issue 15 item 4).
 *
 * Left to itself, PGlite runs initdb in the opening process on an empty directory: a second,
 * short-lived PGlite instance plus the initdb WebAssembly module, about 4 s on the 2-core
 * development machine and some 400 MB of WebAssembly memory that stays resident in the server
 * until V8 collects it (the first start of an empty store idled at 830 MB RSS, a restart of the
 * same store at 450 MB). The template is that initdb's output, made once per PGlite version in a
 * worker thread (whose memory is returned when it exits) and kept in
 * `build/pglite-template/<version>` (beside the definitions cache: `PEERBRIDGE_CACHE_DIR/..`);
 * `npm run build` makes it, so `npm install && npm start` never runs initdb in the server. A new
 * store is then a file copy (~40 MB, mostly the first WAL segment) and opens like a restart.
 * The template holds the store's schema too (`migrate`, without a FHIR base: the server's first
 * start only records its own), so a first start runs no migration either; it is made per PGlite
 * version and schema version (`<pglite>-schema<N>`), and a release with a new schema makes a new one.
 *
 * The copy is crash-safe: PGlite takes a directory for an initialised cluster when it holds
 * `PG_VERSION`, which is copied last; a copy cut short is redone on the next start.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SCHEMA_VERSION } from './schema';

/** The installed PGlite's version: a template is only ever used by the version that made it. */
function pgliteVersion(): string {
  // The package's exports do not include package.json: find it from the resolved entry (dist/index.cjs).
  const entry = require.resolve('@electric-sql/pglite');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Where the template of the installed PGlite version and this release's schema lives. */
export function pgliteTemplateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.PEERBRIDGE_CACHE_DIR ? resolve(env.PEERBRIDGE_CACHE_DIR, '..') : resolve(__dirname, '..', '..', 'build');
  return join(base, 'pglite-template', `${pgliteVersion()}-schema${SCHEMA_VERSION}`);
}

/**
 * The template directory, made first when missing (initdb in a worker thread, ~4 s); undefined
 * when it cannot be made (a read-only install without one): the caller lets PGlite run initdb.
 */
export async function ensurePgliteTemplate(dir = pgliteTemplateDir()): Promise<string | undefined> {
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(dirname(dir), { recursive: true });
    await initdbInWorker(tmp);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process made it meanwhile: use theirs.
      if (!existsSync(join(dir, 'PG_VERSION'))) throw e;
    }
    return dir;
  } catch {
    return undefined;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Fills `dataDir` from the template when it holds no cluster yet (no `PG_VERSION`); true when it
 * did. Files already there (this process's lock, a copy cut short) are kept or overwritten.
 */
export async function seedFromTemplate(dataDir: string, templateDir = pgliteTemplateDir()): Promise<boolean> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return false;
  const template = await ensurePgliteTemplate(templateDir);
  if (!template) return false;
  for (const name of readdirSync(template)) {
    if (name !== 'PG_VERSION') cpSync(join(template, name), join(dataDir, name), { recursive: true, force: true });
  }
  cpSync(join(template, 'PG_VERSION'), join(dataDir, 'PG_VERSION'));
  return true;
}

/**
 * PGlite's initdb into `dir`, then the schema (schema.ts `migrate`), in a worker thread so that
 * none of its memory stays in this process. From TypeScript sources (jest, tsx) the worker loads
 * tsx's require hook first, as the validation pool's workers do.
 */
function initdbInWorker(dir: string): Promise<void> {
  const source = `
    const { workerData } = require('node:worker_threads');
    if (workerData.tsx) require(workerData.tsx);
    const { PGlite } = require(workerData.pglite);
    const { migrate } = require(workerData.schema);
    const { pgliteSqlDriver } = require(workerData.driver);
    PGlite.create(workerData.dir).then(async (db) => {
      await migrate(pgliteSqlDriver(db));
      await db.close();
    });
  `;
  const ext = extname(__filename);
  const workerData = {
    dir,
    pglite: require.resolve('@electric-sql/pglite'),
    schema: join(__dirname, `schema${ext}`),
    driver: join(__dirname, `pglite-driver${ext}`),
    ...(ext === '.ts' ? { tsx: require.resolve('tsx/cjs') } : {}),
  };
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(source, { eval: true, workerData });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code === 0 && existsSync(join(dir, 'PG_VERSION'))) resolvePromise();
      else reject(new Error(`PGlite initdb in ${dir} failed (worker exit ${code})`));
    });
  });
}
