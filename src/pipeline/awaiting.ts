/**
 * Records that wait for another (issue 13 item 1): a record whose reference resolves neither in
 * its run nor in the store is rejected with the reason `awaiting <kind> <source id>`, and
 * retried when a record of that kind and id is stored (retry-rejects.ts `retryAwaiting`).
 */
import type { StoredKind } from '../domain/stored-records';

/** The reason of a record waiting for another (a reject retried when that record arrives: retry-rejects.ts `retryAwaiting`). */
export const awaitingReason = (kind: StoredKind, id: string): string => `awaiting ${kind} ${id}`;

/**
 * The reason of a record that names no episode, only its person (an HL7 v2 SIU without PV1-19),
 * when the store holds no open episode of that person: retried when an episode of the person is stored.
 */
export const awaitingOpenEpisode = (personId: string): string => `awaiting episode for person ${personId}`;

/**
 * Kinds a record waits for. A contact, review or plan waits for its episode whatever its source
 * sends; a person, organization or practitioner is waited for only when the record's own source
 * sends records of that kind (a feed of its mapping makes them: `sentKinds`), since a reference to
 * a kind the source never sends (HL7 v2 carries no staff or program records) would wait forever:
 * such a reference is taken as sent by another source, as a run without a store does.
 */
export const AWAITED_KINDS = ['episode', 'person', 'organization', 'practitioner'] as const satisfies readonly StoredKind[];

/** The referred kinds (person, organization, practitioner) the feeds of a source make. */
export function sentKinds(feeds: readonly { kinds?: readonly string[] }[]): ('person' | 'organization' | 'practitioner')[] {
  const made = new Set(feeds.flatMap((f) => f.kinds ?? []));
  return (['person', 'organization', 'practitioner'] as const).filter((k) => made.has(k));
}
