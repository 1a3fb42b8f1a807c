/**
 * The shapes of ingest rejects (src/store/rejects.ts has the table and its rules): a reject as the
 * pipeline reports it, as it is stored, and the queries over them. Types only, so the pipeline,
 * the HTTP routes and the store's helpers share them without importing the store.
 */
import type { RepositoryAccess } from './repository';

/** One reason a record was rejected. */
export interface RejectError {
  /** Canonical target (`durationMinutes`, `episode.id`); absent for the whole record. */
  field?: string;
  /** Where in the source (`line 13, column "Minutes"`, `FT1[2]-7.1`). */
  source?: string;
  reason: string;
  /** Pipeline stage: parse, mapping, canonical, rules, fhir, validate, store. */
  stage: string;
  /** HL7 v2 sources: the HL7 table 0357 error condition code when the pipeline knows it (`200` unsupported message type), for the ACK's ERR-3. */
  code?: string;
}

/** A rejected source record, as the pipeline (src/pipeline/translate-source.ts) reports it. */
export interface RejectRecord {
  /** The source (mapping folder name). */
  source: string;
  feed?: string;
  /** Record number in its input, from 1. */
  record: number;
  /** The input's name (`contacts.csv`, `request body`). */
  input: string;
  /** Where in the input (`line 13`, `message 4`, `$.clients[2]`). */
  where: string;
  /** The canonical record kind, when the record got that far. */
  kind?: string;
  /** The source record id, when known. */
  id?: string;
  errors: RejectError[];
  /** The raw input of the record (a CSV line, an HL7 message, a JSON record). */
  raw: string;
  /** CSV header line, to re-run a row alone. */
  header?: string;
  /** What the record is about, when the mapping made a canonical record of it: who owns the reject. */
  about?: RejectSubject;
}

/** What a rejected record is about, as FHIR ids (src/pipeline/reject-owners.ts). */
export interface RejectSubject {
  /** The Organization the record names. */
  organization?: string;
  /** Stored resources whose owner it takes when it names none, in order (an EpisodeOfCare, then its Patient). */
  refs: { type: string; id: string }[];
}

/** Who owns the rejects of one `add` besides what their records say. */
export interface RejectOwners {
  /** The source's organization (source.yaml `organization`): owner of rejects whose record names none and is about nothing stored. */
  organization?: string;
  /** The Organizations the source declares 42 CFR Part 2 programs (source.yaml `part2Organizations`). */
  part2Organizations?: readonly string[];
  /** The client that posted them; undefined for the server's own (MLLP, the CLI). */
  access?: RepositoryAccess;
}

export type RejectStatus = 'open' | 'resolved';

/**
 * A stored reject. `id` is the reject's own id (a UUID); the source record's id is `recordId`
 * (the RejectRecord's `id`).
 */
export type StoredReject = Omit<RejectRecord, 'id' | 'about'> & {
  id: string;
  recordId?: string;
  /** The owning Organization; absent when nothing said whose it is. */
  owner?: string;
  /** Owned by a 42 CFR Part 2 program, or about a patient whose records are Part 2. */
  part2: boolean;
  /**
   * May the caller that read it see its raw input, header, record id and reasons? False for a Part 2
   * reject not released to it (see the header): `rejectParameters` and the retry answer leave them out.
   */
  released: boolean;
  status: RejectStatus;
  /** When it was first rejected (ISO instant). */
  receivedAt: string;
  /** Times it was rejected: 1 when stored, + 1 per failed retry or re-send while open. */
  attempts: number;
  lastTriedAt?: string;
  resolvedAt?: string;
};

export interface RejectQuery {
  source?: string;
  feed?: string;
  /** The record kind (`contact`, `person`, ...). */
  kind?: string;
  /**
   * Text one of the reasons contains (case-insensitive). With `access`, a 42 CFR Part 2 reject
   * matches only when the caller posted it: reasons withheld from a caller cannot be probed.
   */
  reason?: string;
  /** Received at or after this instant (ISO 8601). */
  since?: string;
  /** Received before this instant (ISO 8601). */
  until?: string;
  /** Default `open`. */
  status?: RejectStatus | 'all';
  /** Page size, 0..MAX_REJECT_COUNT (default DEFAULT_REJECT_COUNT); 0 gives the total only. */
  count?: number;
  /** `next` of the previous page. */
  cursor?: string;
  /** The caller: only its rejects (undefined: the server's unfiltered view). */
  access?: RepositoryAccess;
}

export interface RejectPage {
  items: StoredReject[];
  /** Matches of the whole query (not only this page). */
  total: number;
  /** Cursor of the next page; absent on the last one. */
  next?: string;
}
