/**
 * CSV exports -> source records, one per data row, streaming with bounded buffering.
 *
 * Grammar: RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180) with CRLF, LF or lone CR line ends,
 * any one-character delimiter, and spaces tolerated around a quoted field (`a, "b" ,c`).
 * The first non-blank line is the header; blank lines are skipped and are not records.
 *
 * A row that cannot be read is a record with `error`, and reading goes on; so that one broken
 * quote cannot swallow the rest of a file, a quoted field that does not close within
 * `maxQuotedLines` lines / `maxQuotedLength` characters, or at all, or that spans lines and is then
 * followed by text or leaves the row with the wrong number of cells, is taken as an unterminated
 * quote: the lines up to the quote's line are rejected and reading resumes on the next line.
 */
import { decodeChunks, invalidUtf8Warning } from './decode';
import { CsvTokenizer, type Row } from './csv-tokenizer';
import { InputError, type SourceRecord, type SourceScope, type SourceValue } from './source';

export interface CsvReadOptions {
  /** The input's name for records and messages (`contacts.csv`). */
  input: string;
  /** One character; default `,`. */
  delimiter?: string;
  /** Default `auto`: UTF-8 when the first 64 KiB are valid UTF-8, else Latin-1 (Windows-1252). */
  encoding?: 'utf8' | 'latin1' | 'auto';
  /** Columns the feed reads: each must be in the header unless in `optionalColumns`. */
  columns?: string[];
  optionalColumns?: string[];
  /** Non-fatal problems (invalid UTF-8 on a line); messages name the line, not the input. */
  onWarning?: (message: string) => void;
  /** Longest quoted field in characters before its quote counts as unterminated (default 1 MiB, 1048576). */
  maxQuotedLength?: number;
  /** Most physical lines a quoted field may span before its quote counts as unterminated (default 10000). */
  maxQuotedLines?: number;
}

/** Default bounds of a quoted field (see readCsv). */
const MAX_QUOTED_LENGTH = 1024 * 1024;
const MAX_QUOTED_LINES = 10000;

/** The values of one data row. Cells are returned as written (not trimmed). */
class CsvRowScope implements SourceScope {
  constructor(
    private readonly columns: ReadonlyMap<string, number>,
    /** Each column's name as a JSON string, for `at` (made once per header, not per value read). */
    private readonly quotedNames: readonly string[],
    private readonly cells: string[],
    private readonly line: number,
    private readonly cellLines: number[] | undefined,
  ) {}

  get at(): string {
    return `line ${this.line}`;
  }

  get(column: string): SourceValue[] {
    const i = this.columns.get(column);
    if (i === undefined) return [];
    return [{ value: this.cells[i], at: `line ${this.cellLines?.[i] ?? this.line}, column ${this.quotedNames[i]}` }];
  }

  list(): SourceScope[] {
    return [];
  }
}

function where(first: number, last: number): string {
  return first === last ? `line ${first}` : `lines ${first}-${last}`;
}

function quoted(names: string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

/** The header: column names by position, checked, and the columns the feed needs. */
function readHeader(row: Row, options: CsvReadOptions): { names: string[]; quotedNames: string[]; index: Map<string, number>; raw: string } {
  const at = `line ${row.first}`;
  if (row.kind === 'bad') throw new InputError(`Cannot read the header of ${options.input} (${at}): ${row.error}`, 'header');
  const names = row.cells.map((c) => c.trim());
  const index = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === '')
      throw new InputError(`Empty column name in the header of ${options.input} (${at}, column ${i + 1} of ${names.length}); the file was not read`, 'header');
    const before = index.get(name);
    if (before !== undefined)
      throw new InputError(
        `Column ${JSON.stringify(name)} appears twice in the header of ${options.input} (${at}, columns ${before + 1} and ${i + 1}); the file was not read`,
        'header',
      );
    index.set(name, i);
  }
  const optional = new Set(options.optionalColumns ?? []);
  const missing = (options.columns ?? []).filter((c, k, all) => !index.has(c) && !optional.has(c) && all.indexOf(c) === k);
  if (missing.length > 0)
    throw new InputError(`Missing column(s) ${quoted(missing)} in the header of ${options.input} (${at}); the file was not read`, 'header');
  return { names, quotedNames: names.map((n) => JSON.stringify(n)), index, raw: row.raw };
}

function cellCountError(cells: string[], names: string[]): string {
  const base = `Row has ${cells.length} cells, the header has ${names.length}`;
  if (cells.length < names.length) return `${base}: missing ${quoted(names.slice(cells.length))}`;
  const extra = cells.slice(names.length).filter((c) => c.trim() !== '');
  if (extra.length === 0) return `${base} (the extra cells are empty: a delimiter at the end of the row?)`;
  const shown = extra.slice(0, 3).map((c) => JSON.stringify(c.length > 40 ? `${c.slice(0, 40)}...` : c));
  return `${base}; the extra cells hold ${shown.join(', ')}${extra.length > 3 ? ', ...' : ''}`;
}

/**
 * Reads a CSV input as source records, one per data row (n counts data rows, including rejected
 * ones; `where` uses physical line numbers). Throws InputError, before any record, when the input
 * has no header, the header has an empty or repeated name, or lacks a column `columns` names.
 */
export async function* readCsv(
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: CsvReadOptions,
): AsyncGenerator<SourceRecord> {
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new Error(`CSV delimiter must be one character other than a quote or a line break, not ${JSON.stringify(delimiter)}`);
  }
  // The bounds only keep memory flat when a quote never closes (a stray quote is caught sooner by
  // what follows it); they must not refuse real fields: a progress note of 150 lines or 100 KB is
  // valid CSV, and refusing it rejected the row and every line of the note as a row of its own.
  const tokenizer = new CsvTokenizer(delimiter, options.maxQuotedLength ?? MAX_QUOTED_LENGTH, options.maxQuotedLines ?? MAX_QUOTED_LINES);
  const warn = options.onWarning;
  const texts = decodeChunks(chunks, { encoding: options.encoding ?? 'auto', onInvalidUtf8: warn && ((e) => warn(invalidUtf8Warning(e))) });
  const input = options.input;
  let header: ReturnType<typeof readHeader> | undefined;
  let n = 0;

  function* rows(): Generator<SourceRecord> {
    for (let row = tokenizer.next(); row !== undefined; row = tokenizer.next()) {
      if (header === undefined) {
        header = readHeader(row, options);
        tokenizer.expectedCells = header.names.length;
        continue;
      }
      n++;
      const base = { n, input, where: where(row.first, row.last), raw: row.raw, meta: { header: header.raw } };
      if (row.kind === 'bad') {
        yield { ...base, error: row.error };
      } else if (row.cells.length !== header.names.length) {
        yield { ...base, error: cellCountError(row.cells, header.names) };
      } else {
        yield { ...base, scope: new CsvRowScope(header.index, header.quotedNames, row.cells, row.first, row.cellLines) };
      }
    }
  }

  for await (const text of texts) {
    tokenizer.push(text);
    yield* rows();
  }
  tokenizer.end();
  yield* rows();
  if (header === undefined) throw new InputError(`${input} is empty: there is no header line; the file was not read`, 'header');
}
