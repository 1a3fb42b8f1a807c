/**
 * The lookup port (docs/architecture.md, "Ports"): what a translation run may ask about records
 * sent before, in earlier runs, and kept in the store. The pipeline receives one (PipelineDeps
 * `stored`); the store implements it (src/store/stored-records.ts), so the pipeline never imports
 * the store. Records are named by their source system and source record id, as canonical records
 * name each other; the implementation finds them by their deterministic ids (src/fhir/ids.ts).
 *
 * A lookup sees the store as the caller does: a record the posting client may not read (another
 * tenant's, a Part 2 record without consent) is answered exactly as a missing one.
 */
import type { EpisodeLink } from './model';

/** Record kinds a run looks up. */
export type StoredKind = 'person' | 'organization' | 'practitioner' | 'episode';

/** A stored person, organization or practitioner: what a run needs of it. */
export interface StoredRecord {
  /** Its records are 42 CFR Part 2 records (a person or episode labelled so, an organization that is a Part 2 program). */
  part2: boolean;
}

/**
 * A stored episode: its link and whether its records are Part 2 records. Its person and
 * organization are named by source id when the store can tell: from their stored resources when
 * the caller may read them, else from a claim (`EpisodeClaims`) whose deterministic id is the one
 * the episode refers to. Left out when neither says.
 */
export type StoredEpisode = Pick<EpisodeLink, 'id' | 'referral'> & Partial<Pick<EpisodeLink, 'personId' | 'organizationId'>> & StoredRecord;

/** Source ids a record (or its source) gives for an episode's person and organization, checked against the stored episode's references. */
export interface EpisodeClaims {
  personId?: string;
  organizationIds?: readonly string[];
}

/** Units billed for one contact (its stored ChargeItem). */
export interface StoredUnits {
  contactId: string;
  units: number;
}

export interface StoredRecords {
  /** The stored record of `kind` with source id `id` in `source`; undefined when missing or not readable by the caller. */
  find(source: string, kind: Exclude<StoredKind, 'episode'>, id: string): Promise<StoredRecord | undefined>;
  /** The stored episode with source id `id` in `source`; undefined when missing or not readable by the caller. */
  episode(source: string, id: string, claims?: EpisodeClaims): Promise<StoredEpisode | undefined>;
  /** Whether any units are billed to person `personId` at all: one question per person, so a person new to the store costs no question per day. */
  anyUnitsBilled(source: string, personId: string): Promise<boolean>;
  /** Units billed to person `personId` on `day` (local date of the contacts' start, YYYY-MM-DD), per contact. */
  unitsBilled(source: string, personId: string, day: string): Promise<StoredUnits[]>;

  // Batch forms: one question for many ids (a run asks them for a batch of records before it
  // translates them, src/pipeline/stored-context.ts `prefetch`), each answering as the single form would.

  /** The stored records of `kind` among `ids`, by source id; the missing and unreadable ones left out. */
  findMany(source: string, kind: Exclude<StoredKind, 'episode'>, ids: readonly string[]): Promise<Map<string, StoredRecord>>;
  /** The stored episodes among `asks` (each with its record's claims), by source id; the missing and unreadable ones left out. */
  episodes(source: string, asks: readonly { id: string; claims?: EpisodeClaims }[]): Promise<Map<string, StoredEpisode>>;
  /**
   * The open peer support episode of each of `personIds` (an HL7 v2 SIU without PV1-19 names only
   * its person): a stored episode of `source` with status active whose patient is that person; of
   * several, the one that started last. By person source id; people without one left out.
   */
  openEpisodes(source: string, personIds: readonly string[]): Promise<Map<string, StoredEpisode>>;
  /** The people among `personIds` with any units billed (anyUnitsBilled for each). */
  billedAmong(source: string, personIds: readonly string[]): Promise<Set<string>>;
}
