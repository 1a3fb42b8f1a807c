/**
 * Write locks and the retry of whole transactions, for several processes on one PostgreSQL.
 *
 * Row locks alone cannot order writers: a resource with a new id has no row to lock, so two
 * transactions inserting the same new ids in different orders wait on each other's uncommitted
 * index entries (a deadlock, SQLSTATE 40P01). So every transaction that writes several resources
 * first takes one transaction-scoped advisory lock per resource
 * (https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS), all in one
 * statement and in one global order (by key hash): two writers of overlapping resources then
 * queue on the first key they share instead of deadlocking. What still fails with a
 * serialization failure, a deadlock or a racing insert is run again as a whole, a few times,
 * then answered 409. PGlite has one connection, so it never waits; the same SQL runs there.
 */
import { createHash } from 'node:crypto';
import { conflict } from '../outcomes';
import type { SqlDriver } from './repository';

/** First key of the two-int advisory locks ("PBWR"): a key space of its own, apart from the one-bigint locks of migrations and conditional writes. */
const WRITE_LOCK_SPACE = 0x50425752;

/** A resource a transaction is about to write. */
export interface WriteKey {
  type: string;
  id: string;
}

/**
 * Most write locks one transaction takes. Advisory locks live in PostgreSQL's shared lock table
 * (about max_locks_per_transaction x max_connections entries, 6400 by default), so an ingest
 * committing tens of thousands of resources at once cannot lock each one ("out of shared
 * memory"); such a transaction takes none and relies on its row locks, taken in key order, and
 * on being run again should it still deadlock.
 */
const MAX_WRITE_LOCKS = 512;

/** The lock of `type/id`: 32 bits of its SHA-1 (a collision only makes two writers queue). */
function lockOf(key: WriteKey): number {
  return createHash('sha1').update(`${key.type}/${key.id}`).digest().readInt32BE(0);
}

/**
 * Takes the write locks of `keys` until the transaction ends, in ascending lock order (the
 * order is what prevents deadlocks; taking a lock twice is harmless); none for more than
 * MAX_WRITE_LOCKS keys. Must run inside a transaction.
 */
export async function lockForWrite(tx: SqlDriver, keys: readonly WriteKey[]): Promise<void> {
  const locks = [...new Set(keys.map(lockOf))].sort((a, b) => a - b);
  if (locks.length === 0 || locks.length > MAX_WRITE_LOCKS) {
    return;
  }
  await tx.query('SELECT pg_advisory_xact_lock($1::int, k) FROM unnest($2::int[]) WITH ORDINALITY AS u(k, n) ORDER BY n', [WRITE_LOCK_SPACE, locks]);
}

/**
 * PostgreSQL errors after which the same transaction may well succeed when run again:
 * serialization failure, deadlock, and a unique violation (two writers inserting one new key).
 */
const RETRYABLE = new Set(['40001', '40P01', '23505']);

/** Runs of a transaction before a retryable failure is answered 409. */
const ATTEMPTS = 5;

/** Backoff before run n+1: a random wait up to BACKOFF_MS * 2^n ("full jitter"), so the losers do not collide again in step. */
const BACKOFF_MS = 10;

/** True for an error that running the transaction again may cure. */
export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has((err as { code?: unknown } | null)?.code as string);
}

/**
 * Runs `transaction` (which opens, runs and commits one whole transaction) and runs it again
 * after a retryable failure, a few times with jittered backoff; then answers 409 with an
 * OperationOutcome. `transaction` must therefore have no effect outside the database.
 */
export async function retryTransaction<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      if (!isRetryable(err)) {
        throw err;
      }
      if (attempt >= ATTEMPTS) {
        throw conflict(`The write conflicted with concurrent writes to the same resources ${ATTEMPTS} times and was not applied; send it again`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_MS * 2 ** attempt));
    }
  }
}
