/**
 * A new PGlite data directory is a copy of the initdb template (src/store/pglite-template.ts,
 * issue 15 item 4), made once in a worker thread: the copy opens as a cluster, is only made where
 * there is none, is redone after a copy cut short, and keeps what is written to it; it holds the
 * release's schema, so a first start migrates nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDriver, SCHEMA_VERSION } from '../../src/store';
import { DEFAULT_PGLITE_SHARED_BUFFERS } from '../../src/store/pglite-driver';
import { ensurePgliteTemplate, seedFromTemplate } from '../../src/store/pglite-template';

let root: string;
let template: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'peerbridge-pglite-template-'));
  const made = await ensurePgliteTemplate(join(root, 'template', '1'));
  if (!made) throw new Error('no template');
  template = made;
}, 120_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

test('the template is an initdb output, made under a temporary name and renamed', () => {
  expect(existsSync(join(template, 'PG_VERSION'))).toBe(true);
  expect(readdirSync(join(root, 'template'))).toEqual(['1']);
});

test("the template holds this release's schema: a store seeded from it starts with nothing to migrate", async () => {
  const dir = join(root, 'data-schema');
  mkdirSync(dir);
  expect(await seedFromTemplate(dir, template)).toBe(true);
  const driver = await openDriver({ DATA_DIR: dir });
  try {
    expect((await driver.query<{ version: number }>('SELECT max(version)::int AS version FROM fhir_schema')).rows[0].version).toBe(SCHEMA_VERSION);
    expect((await driver.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'fhir_date_id_range'")).rows[0].n).toBe(1);
    // No FHIR base yet: the server's first start records its own (and reindexes an empty store).
    expect((await driver.query<{ base: string }>('SELECT base FROM fhir_index_base')).rows).toEqual([{ base: '' }]);
  } finally {
    await driver.close();
  }
}, 120_000);

test('an empty directory is seeded and opens as a cluster; the settings apply; writes persist', async () => {
  const dir = join(root, 'data-1');
  mkdirSync(dir);
  expect(await seedFromTemplate(dir, template)).toBe(true);
  expect(await seedFromTemplate(dir, template)).toBe(false);
  const driver = await openDriver({ DATA_DIR: dir });
  try {
    const { rows } = await driver.query<{ shared_buffers: string }>('SHOW shared_buffers');
    expect(rows[0].shared_buffers).toBe(DEFAULT_PGLITE_SHARED_BUFFERS);
    await driver.query('CREATE TABLE t (x int)');
    await driver.query('INSERT INTO t VALUES (42)');
  } finally {
    await driver.close();
  }
  const again = await openDriver({ DATA_DIR: dir, PGLITE_SHARED_BUFFERS: '32MB' });
  try {
    expect((await again.query<{ x: number }>('SELECT x FROM t')).rows).toEqual([{ x: 42 }]);
    expect((await again.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0].shared_buffers).toBe('32MB');
  } finally {
    await again.close();
  }
}, 120_000);

test('a copy cut short (no PG_VERSION yet) is redone over what it left', async () => {
  const dir = join(root, 'data-2');
  mkdirSync(join(dir, 'base'), { recursive: true });
  writeFileSync(join(dir, 'postgresql.conf'), 'half a file');
  expect(await seedFromTemplate(dir, template)).toBe(true);
  const driver = await openDriver({ DATA_DIR: dir });
  try {
    expect((await driver.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  } finally {
    await driver.close();
  }
}, 120_000);

test('a directory that holds a cluster is never overwritten', async () => {
  const dir = join(root, 'data-3');
  mkdirSync(dir);
  await seedFromTemplate(dir, template);
  unlinkSync(join(dir, 'postgresql.auto.conf'));
  expect(await seedFromTemplate(dir, template)).toBe(false);
  expect(existsSync(join(dir, 'postgresql.auto.conf'))).toBe(false);
});
