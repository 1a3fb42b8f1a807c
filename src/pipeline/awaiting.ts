/**
 * Records that wait for another (issue 13 item 1): a record whose reference resolves neither in
 * its run nor in the store is rejected with the reason `awaiting <kind> <source id>`, and
 * retried when a record of that kind and id is stored (retry-rejects.ts `retryAwaiting`).
 */
import type { StoredKind } from '../domain/stored-records';

/** The reason of a record waiting for another (a reject retried when that record arrives: retry-rejects.ts `retryAwaiting`). */
export const awaitingReason = (kind: StoredKind, id: string): string => `awaiting ${kind} ${id}`;

/** Kinds a record waits for (the others are looked up for their context only: see docs/architecture.md, "Ports"). */
export const AWAITED_KINDS = ['episode'] as const satisfies readonly StoredKind[];
