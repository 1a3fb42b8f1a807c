/**
 * docs/cli.md's exit-code table: every command of `peerbridge` has a row, and the codes it gives
 * for `migrate` (done, usage, a store newer than this release) and for an unknown command hold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { SCHEMA_VERSION } from '../../src/store';
import { createTestDatabase, DRIVERS } from '../support/stores';
import { run } from './run-cli';

const ROOT = join(__dirname, '..', '..');

describe('docs/cli.md exit codes', () => {
  test('every command in src/cli.ts has a row in the table', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    const cli = readFileSync(join(ROOT, 'src', 'cli.ts'), 'utf8');
    const commands = [...cli.matchAll(/case '([a-z][a-z-]*)':/g)].map((m) => m[1]).filter((c) => c !== 'help' && c !== 'version');
    expect(commands).toEqual(expect.arrayContaining(['validate', 'translate', 'package', 'clients', 'auth', 'serve', 'migrate']));
    for (const c of commands) {
      expect(rows.some((r) => r.startsWith(`| \`${c}`))).toBe(true);
    }
  });

  test('an unknown command: 2, usage on stderr', async () => {
    const res = await run('frobnicate');
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/Unknown command 'frobnicate'/);
  });

  test('migrate --help: 0, nothing opened; an argument: 2', async () => {
    const help = await run('migrate', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: peerbridge migrate/);
    const bad = await run('migrate', 'now');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/takes no arguments/);
  });

  (DRIVERS.includes('pg') ? describe : describe.skip)('migrate on PostgreSQL', () => {
    const saved = process.env.DATABASE_URL;
    afterEach(() => {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    });

    test('0 when migrated (twice: already current); 2 on a schema newer than this release, saying so', async () => {
      const db = await createTestDatabase();
      try {
        process.env.DATABASE_URL = db.url;
        for (let i = 0; i < 2; i++) {
          const res = await run('migrate');
          expect(res).toMatchObject({ code: 0, err: '' });
          expect(res.out).toMatch(new RegExp(`^Store schema at version ${SCHEMA_VERSION} \\(PostgreSQL \\(DATABASE_URL\\)`));
        }
        const c = new Client({ connectionString: db.url });
        await c.connect();
        const tables = (await c.query<{ n: string }>(`SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public'`)).rows.map(
          (r) => r.n,
        );
        expect(tables).toEqual(expect.arrayContaining(['fhir_resource', 'ingest_reject', 'auth_key', 'auth_client', 'bulk_export_job']));
        await c.query('INSERT INTO fhir_schema (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
        await c.end();
        const newer = await run('migrate');
        expect(newer.code).toBe(2);
        expect(newer.err).toMatch(new RegExp(`schema is at version ${SCHEMA_VERSION + 1}, newer than this release knows \\(${SCHEMA_VERSION}\\)`));
      } finally {
        await db.drop();
      }
    });
  });
});
