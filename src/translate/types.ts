/**
 * The contract of the mapping engine (mappings/README.md describes the file format): a loaded
 * source, its feeds, and what applying a feed to one source record gives. The pipeline
 * (src/pipeline/translate-source.ts) feeds the mapped records into the canonical pipeline and
 * maps canonical paths back to source paths with `trace`.
 */
import type { ConceptMap } from '@medplum/fhirtypes';
import type { RecordKind } from '../domain/model';
import type { SourceRecord } from '../inbound/source';

export type InputFormat = 'csv' | 'json' | 'hl7v2';

/** A canonical record kind (src/domain/model.ts). */
export type MappedKind = RecordKind;

/** A problem found while applying a mapping to one source record. */
export interface MappingIssue {
  severity: 'error' | 'warning';
  /** Canonical target, dotted (`durationMinutes`, `contacts[2].start`, `episode.id`); '' for the whole record. */
  field: string;
  /** Where in the source (a SourceValue.at, or the path that was absent: `line 13, column "Minutes"`, `FT1[2]-7.1`). */
  source?: string;
  message: string;
  /** HL7 v2 sources: the HL7 table 0357 error condition code of the issue when it has one (`200` unsupported message type), for the ACK's ERR-3. */
  code?: string;
}

/** One canonical record made from a source record. */
export interface MappedRecord {
  kind: MappedKind;
  /** The canonical record (without `episode.*` for standalone children: those are in `episode`). */
  value: Record<string, unknown>;
  /** For a contact, review or plan on its own: the episode it belongs to (`episode.*` targets). */
  episode?: { id?: unknown; personId?: unknown; organizationId?: unknown };
  /**
   * Canonical field path -> source location of the value that set it, for every target set from
   * the source: `durationMinutes` -> `line 13, column "Minutes"`, `contacts[1].start` -> `line 15, column "Date"`.
   * A list target records each item (`answers[3]`) and itself (its first item's place); a target
   * left absent (or set by `default`) records where it was looked for, so a canonical error on a
   * missing field names the column it should have come from. `const` targets are not traced.
   */
  trace: Record<string, string>;
  /**
   * For a target read from several paths (`from: [SvcDate, EndTime]`): where each of them was (or
   * was looked for), so an error on the target can name the column that is its own (`EndTime`),
   * not the first of the join (`SvcDate`), which `trace` holds.
   */
  fed?: Record<string, string[]>;
  /** Mapping issues (errors reject this record before the canonical checks; warnings travel with it). */
  issues: MappingIssue[];
}

/** What one source record (or group) became. */
export interface MappedSource {
  record: SourceRecord;
  /** The feed that read it. */
  feed: string;
  /** The canonical records, in the order of the feed's `records`. Empty when `issues` has an error. */
  results: MappedRecord[];
  /** Problems with the whole source record (unreadable, no feed for the HL7 message type, a `when` path error). */
  issues: MappingIssue[];
}

export type UnmappedPolicy = 'reject' | 'warn' | 'default';

/** A code table (tables.yaml). */
export interface CodeTable {
  name: string;
  description?: string;
  /** The source's code system URI (ConceptMap group.source). */
  system: string;
  /** The canonical code list it maps into (`contact-mode`, ..., `boolean`). */
  target: string;
  unmapped: UnmappedPolicy;
  default?: string | boolean;
  ignoreCase: boolean;
  codes: Record<string, string | boolean>;
}

/** Options of a CSV feed (source.yaml's `csv` merged with the feed's). */
export interface CsvOptions {
  delimiter: string;
  encoding: 'utf8' | 'latin1' | 'auto';
  optionalColumns: string[];
}

/** One feed: a mapping file. */
export interface Feed {
  name: string;
  /** The YAML file it was loaded from. */
  file: string;
  description?: string;
  format: InputFormat;
  /** csv/json: glob on the input file name; hl7v2: message types (`SIU^S12`). */
  match: string[];
  order: number;
  csv?: CsvOptions;
  json?: { records: string };
  group?: { by: string[]; sorted: boolean };
  /** The CSV columns the feed names (every `from`, `each`, `when` and `group.by` path), for the header check. */
  columns: string[];
  /** The record kinds the feed makes (its `records[].record`, contacts and reviews of an episode left out): what the source sends. */
  kinds?: readonly MappedKind[];
  /** Does this feed read an input of this file name (csv/json) or message type (hl7v2)? */
  matches(nameOrMessageType: string): boolean;
}

/** A mapping (one file or a folder), loaded and checked. */
export interface LoadedSource {
  name: string;
  title?: string;
  /** What the mapping reads (its `description`): the ConceptMaps of its tables say it too. */
  description?: string;
  /** The canonical `source` URI. */
  system: string;
  format: InputFormat;
  timezone: string;
  /** The organization id the source's records belong to when a record names none (its rejects' owner). */
  organization?: string;
  part2Organizations: string[];
  /** The mapping folder, or the file of a one-file mapping. */
  dir: string;
  feeds: Feed[];
  tables: Map<string, CodeTable>;
}

/** A mapping file that cannot be used: stops start-up (file, line, field). */
export class MappingLoadError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}${line !== undefined ? ` line ${line}` : ''}, ${field || '(file)'}: ${reason}`);
    this.name = 'MappingLoadError';
  }
}

/** The engine's functions (implemented in src/translate/*.ts, re-exported from src/translate/index.ts). */
export interface MappingEngine {
  /** Loads and checks one mapping: a one-file mapping (.yaml) or a folder; throws MappingLoadError. */
  loadSource(fileOrDir: string): LoadedSource;
  /** Loads every mapping under `root` (default `mappings/`): folders except `canonical`, and one-file mappings. */
  loadSources(root?: string): Map<string, LoadedSource>;
  /** Applies a feed to source records (grouping them when the feed says so), in order. */
  mapRecords(source: LoadedSource, feed: Feed, records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>): AsyncIterable<MappedSource>;
  /** The source's code tables as FHIR ConceptMaps. */
  conceptMaps(source: LoadedSource): ConceptMap[];
}
