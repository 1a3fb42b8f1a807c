/**
 * Transactions that lose to concurrent writers (src/store/write-locks.ts), on both drivers: a
 * deadlock is run again as a whole, a failure that keeps coming back answers 409 with an
 * OperationOutcome and stores nothing, other errors are not retried. PGlite never deadlocks
 * (one connection), but the same code runs there.
 */
import type { Patient } from '@medplum/fhirtypes';
import { FhirError } from '../../src/outcomes';
import type { SqlRepository } from '../../src/store';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

/** Resolves when `parties` callers have arrived, or after `ms` (PGlite runs one transaction at a time, so the other never arrives). */
function barrier(parties: number, ms: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++arrived === parties) release();
    return Promise.race([all, new Promise<void>((resolve) => setTimeout(resolve, ms))]);
  };
}

const sqlError = (code: string): Error => Object.assign(new Error(`simulated ${code}`), { code });

describe.each(DRIVERS)('transaction retry on %s', (driver) => {
  let store: TestStore;
  let repo: SqlRepository;
  beforeAll(async () => {
    store = await openTestStore(driver);
    repo = store.repo;
  });
  afterAll(() => store?.close());

  test('two transactions updating the same two resources in opposite orders both commit, one after the other', async () => {
    for (const id of ['dl-a', 'dl-b']) await repo.update<Patient>({ resourceType: 'Patient', id, name: [{ family: 'start' }] });
    const meet = barrier(2, 3000);
    let runs = 0;
    const writer = (name: string, order: string[]) => {
      let attempt = 0;
      return repo.withTransaction(async (tx) => {
        runs++;
        attempt++;
        await tx.update<Patient>({ resourceType: 'Patient', id: order[0], name: [{ family: name }] });
        // Both hold their first row before asking for the other's: a deadlock on PostgreSQL.
        if (attempt === 1) await meet();
        await tx.update<Patient>({ resourceType: 'Patient', id: order[1], name: [{ family: name }] });
      });
    };
    await Promise.all([writer('one', ['dl-a', 'dl-b']), writer('two', ['dl-b', 'dl-a'])]);
    if (driver === 'pg') expect(runs).toBe(3);
    const family = async (id: string, v: string) => (await repo.readVersion<Patient>('Patient', id, v)).name?.[0]?.family;
    for (const id of ['dl-a', 'dl-b']) expect((await repo.history('Patient', id)).total).toBe(3);
    // One serial order: version 2 of both is the same transaction's, version 3 the other's.
    expect(await family('dl-a', '2')).toBe(await family('dl-b', '2'));
    expect(await family('dl-a', '3')).toBe(await family('dl-b', '3'));
    expect(new Set([await family('dl-a', '2'), await family('dl-a', '3')])).toEqual(new Set(['one', 'two']));
  }, 20_000);

  test('a transaction that keeps failing with a deadlock or serialization failure answers 409 and stores nothing', async () => {
    for (const code of ['40P01', '40001', '23505']) {
      let runs = 0;
      const err = await repo
        .withTransaction(async (tx) => {
          runs++;
          await tx.update<Patient>({ resourceType: 'Patient', id: `retry-${code}` });
          throw sqlError(code);
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FhirError);
      expect((err as FhirError).status).toBe(409);
      expect((err as FhirError).outcome.issue?.[0]).toMatchObject({ severity: 'error', code: 'conflict' });
      expect(runs).toBe(5);
      await expect(repo.read('Patient', `retry-${code}`)).rejects.toMatchObject({ status: 404 });
    }
  });

  test('a retryable failure that clears commits once; other errors are not retried', async () => {
    let runs = 0;
    await repo.withTransaction(async (tx) => {
      runs++;
      await tx.update<Patient>({ resourceType: 'Patient', id: 'retry-once', name: [{ family: String(runs) }] });
      if (runs === 1) throw sqlError('40P01');
    });
    expect(runs).toBe(2);
    expect((await repo.history('Patient', 'retry-once')).total).toBe(1);
    expect((await repo.read<Patient>('Patient', 'retry-once')).name?.[0]?.family).toBe('2');

    let other = 0;
    await expect(
      repo.withTransaction(async () => {
        other++;
        throw sqlError('23502');
      }),
    ).rejects.toThrow('simulated 23502');
    expect(other).toBe(1);
  });

  test('lockForWrite takes the locks of new and existing ids inside a transaction', async () => {
    await repo.withTransaction(async (tx) => {
      await tx.lockForWrite([
        { type: 'Patient', id: 'dl-a' },
        { type: 'Patient', id: 'lock-new' },
        { type: 'Patient', id: 'dl-a' },
      ]);
      const held = await (tx as SqlRepository).driver.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 2`,
      );
      expect(held.rows[0].n).toBe(2);
    });
  });

  test('a batch too large for the lock table takes no write locks and still writes every resource in input order', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => `big-${String(599 - i).padStart(3, '0')}`);
    const written = await repo.withTransaction(async (tx) => {
      await tx.lockForWrite(ids.map((id) => ({ type: 'Patient', id })));
      const held = await (tx as SqlRepository).driver.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 2`,
      );
      expect(held.rows[0].n).toBe(0);
      return tx.updateMany<Patient>([...ids, ids[0]].map((id, i) => ({ resourceType: 'Patient', id, name: [{ family: String(i) }] })));
    });
    expect(written.map((w) => w.resource.id)).toEqual([...ids, ids[0]]);
    expect(written.map((w) => w.resource.meta?.versionId)).toEqual([...ids.map(() => '1'), '2']);
    expect((await repo.read<Patient>('Patient', ids[0])).name?.[0]?.family).toBe('600');
  });
});
