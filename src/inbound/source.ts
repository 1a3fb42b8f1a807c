/**
 * What every outside-format reader (CSV, HL7 v2, JSON) yields: source records with a uniform way
 * to read values by source path. The mapping engine (src/translate) only sees these interfaces,
 * so it knows nothing of the formats; a reader knows nothing of mappings.
 *
 * Paths are the format's own:
 * - CSV: a column name as in the header (`ClientID`), matched exactly after trimming the header cell.
 * - HL7 v2: `SEG-field[.component[.subcomponent]]`, 1-based, e.g. `PID-3.1`, `SCH-11.4`, `FT1-7.1`;
 *   a field repetition `PID-3[2].1` (1-based) or all of them `PID-3[*].1`; a segment occurrence
 *   `FT1[2]-7.1` (default: the first, or the one in scope, see `list`).
 * - JSON: dotted property names with array indexes, relative to the scope: `client.name.family`,
 *   `sessions[0].minutes`, `sessions[*].minutes` (every element), `$.x` from the record's root.
 */

/** One value read from a source, with where exactly it came from. */
export interface SourceValue {
  /** The value: text for CSV and HL7 (escape sequences decoded); any JSON scalar for JSON. */
  value: string | number | boolean | null;
  /** Where it was read: `line 12, column "Minutes"`, `FT1[2]-7.1`, `$.clients[3].sessions[1].minutes`. */
  at: string;
  /**
   * Set when a JSON path ends at an object or array: `value` is then its JSON text, and the engine
   * reports "expected a value, found an object" (see isStructured in json-source.ts).
   */
  structured?: 'object' | 'array';
}

/** A place values are read from: a record, or one item of a list in it (an HL7 segment, a JSON array element, a CSV row of a group). */
export interface SourceScope {
  /**
   * The values at `path`, one per repetition (HL7 `[*]`, JSON `[*]`); an empty array when the
   * path is absent. A JSON object or array at the path is returned as `value` = its JSON text so
   * the engine can report "expected a value, found an object" with the path.
   */
  get(path: string): SourceValue[];
  /**
   * The items of a list, each a scope of its own: HL7 `FT1` = every FT1 segment (paths to other
   * segments, e.g. `PID-3.1`, still read the whole message); JSON `sessions` or `sessions[*]` = the
   * array's elements; `rows` in a grouped CSV record = its rows. Empty when absent.
   */
  list(path: string): SourceScope[];
  /** Where the scope is, for messages: `FT1[2]`, `$.clients[3].sessions[1]`, `line 14`. */
  readonly at: string;
}

/** One record of an outside input: a CSV row (or a group of rows), an HL7 message, a JSON record. */
export interface SourceRecord {
  /** 1-based number of the record in its input (row number excluding the header, message number, array index + 1). */
  n: number;
  /** The input it came from: a file name (`contacts.csv`), `message stream`, `request body`. */
  input: string;
  /** Where it is in the input: `line 14`, `lines 14-16`, `message 3 (MSH-10 MSG00003)`, `$.clients[2]`. */
  where: string;
  /**
   * The raw input of the record, exactly as read (CSV: the row's line(s); HL7: the message with
   * `\r` segment separators; JSON: the element's text). Kept with a reject so it can be re-run.
   */
  raw: string;
  /** The values of the record (absent when `error` is set). */
  scope?: SourceScope;
  /** Set when the record could not be read at all (broken quoting, a row with extra cells, a truncated segment...). */
  error?: string;
  /** Format-specific facts the mapping matches on: HL7 `messageType` (`SIU^S12`), `controlId` (MSH-10), CSV `header` line. */
  meta?: { messageType?: string; controlId?: string; header?: string };
  /**
   * A record grouped from several rows (a feed's `group`): those rows, each with its own number,
   * place and raw text, so a reject names the row that failed, not the whole group.
   */
  rows?: SourceRecord[];
}

/** A problem with a whole input (not one record): a missing required column in a CSV header, a file that is not HL7. */
export class InputError extends Error {
  constructor(
    message: string,
    /** Where: `header`, `line 1`, `$`. */
    readonly where: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}
