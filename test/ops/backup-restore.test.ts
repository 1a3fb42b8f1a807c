/**
 * Backup and restore of both stores as docs/deploy.md describes them: write records, back up,
 * wipe, restore, and the same records come back (current versions, history, search values, the
 * token signing key).
 * - PGlite: stop the server (close the store), copy DATA_DIR, wipe it, copy it back.
 * - PostgreSQL: `pg_dump --format=custom`, drop the database, `pg_restore` into a new one (the
 *   pg_dump and pg_restore command-line tools must be on PATH; skipped with PEERBRIDGE_TEST_PG=off).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearchRequest } from '@medplum/core';
import type { Organization, Patient, Resource } from '@medplum/fhirtypes';
import { ServerKeys } from '../../src/auth';
import { openStore, type SqlRepository, type StoreOptions } from '../../src/store';
import { createTestDatabase, DRIVERS } from '../support/stores';

const example = <T extends Resource>(file: string): T => JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'valid', file), 'utf8')) as T;

interface Written {
  org: Organization;
  patient: Patient;
  kid: string;
}

/** Writes an Organization and a Patient (two versions), and makes the signing key. */
async function writeRecords(repo: SqlRepository): Promise<Written> {
  const org = (await repo.update(example<Organization>('Organization-riverbend-ccbhc.json'))).resource;
  const p = example<Patient>('Patient-dana-whitfield.json');
  await repo.update(p);
  const patient = (await repo.update({ ...p, active: false })).resource;
  const kid = (await ServerKeys.open(repo.driver)).signing.kid;
  return { org, patient, kid };
}

/** The same records are there: current versions, the first version, a search, the signing key. */
async function expectRecords(repo: SqlRepository, w: Written): Promise<void> {
  expect(await repo.read('Organization', w.org.id!)).toEqual(w.org);
  expect(await repo.read('Patient', w.patient.id!)).toEqual(w.patient);
  expect(w.patient.meta?.versionId).toBe('2');
  const v1 = await repo.readVersion<Patient>('Patient', w.patient.id!, '1');
  expect(v1.active).not.toBe(false);
  const family = w.patient.name?.[0]?.family;
  expect(family).toBeTruthy();
  const found = await repo.search(parseSearchRequest('Patient', { family: family! }));
  expect(found.resources.map((r) => r.id)).toEqual([w.patient.id]);
  expect((await ServerKeys.open(repo.driver)).signing.kid).toBe(w.kid);
}

test('PGlite: stop, copy DATA_DIR, wipe, copy back: the same records', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pb-backup-'));
  const options: StoreOptions = { DATA_DIR: join(root, 'data') };
  const backup = join(root, 'backup');
  try {
    const repo = await openStore(options);
    const written = await writeRecords(repo);
    await repo.close(); // the server stopped: PGlite has flushed its files and released the folder
    cpSync(options.DATA_DIR!, backup, { recursive: true });

    rmSync(options.DATA_DIR!, { recursive: true, force: true });
    const empty = await openStore(options);
    await expect(empty.read('Patient', written.patient.id!)).rejects.toThrow();
    await empty.close();
    rmSync(options.DATA_DIR!, { recursive: true, force: true });

    cpSync(backup, options.DATA_DIR!, { recursive: true });
    const restored = await openStore(options);
    try {
      await expectRecords(restored, written);
    } finally {
      await restored.close();
    }
    expect(existsSync(options.DATA_DIR!) && readdirSync(options.DATA_DIR!).length > 0).toBe(true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 180_000);

(DRIVERS.includes('pg') ? test : test.skip)(
  'PostgreSQL: pg_dump, drop the database, pg_restore into a new one: the same records',
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'pb-backup-'));
    const dump = join(root, 'peerbridge.dump');
    const source = await createTestDatabase();
    const target = await createTestDatabase();
    try {
      const repo = await openStore({ DATABASE_URL: source.url });
      const written = await writeRecords(repo);
      await repo.close();
      execFileSync('pg_dump', ['--format=custom', '--no-owner', '--file', dump, '--dbname', source.url]);
      await source.drop(); // wiped

      execFileSync('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', target.url, dump]);
      const restored = await openStore({ DATABASE_URL: target.url });
      try {
        await expectRecords(restored, written);
      } finally {
        await restored.close();
      }
    } finally {
      await source.drop();
      await target.drop();
      rmSync(root, { recursive: true, force: true });
    }
  },
  180_000,
);
