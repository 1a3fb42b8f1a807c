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
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const SPACE = 0x20;
const STALE = -2;

/** A data row as the tokenizer sees it: its cells, or why it cannot be read. */
type Row =
  | { kind: 'row'; cells: string[]; cellLines?: number[]; raw: string; first: number; last: number }
  | { kind: 'bad'; error: string; raw: string; first: number; last: number };

function isBlank(text: string): boolean {
  return text.length === 0 || (text.charCodeAt(0) <= SPACE && text.trim() === '');
}

/** Splits text into rows. Holds only the unparsed tail of the input (a partial row). */
class CsvTokenizer {
  private buf = '';
  private pos = 0;
  /** Physical line number at `pos`. */
  private line = 1;
  private final = false;
  // Next LF / CR / quote at or after the last position asked (-1: none in `buf`; STALE: unknown).
  private lfAt = STALE;
  private crAt = STALE;
  private quoteAt = STALE;
  /** Cells a row must have (the header's), once known. */
  expectedCells = 0;
  private readonly delimCode: number;
  private readonly padding: boolean;

  constructor(
    private readonly delimiter: string,
    private readonly maxQuotedLength: number,
    private readonly maxQuotedLines: number,
  ) {
    this.delimCode = delimiter.charCodeAt(0);
    this.padding = this.delimCode !== SPACE;
  }

  push(text: string): void {
    this.buf = this.pos < this.buf.length ? this.buf.slice(this.pos) + text : text;
    this.pos = 0;
    this.invalidate();
  }

  end(): void {
    this.final = true;
  }

  private invalidate(): void {
    this.lfAt = this.crAt = this.quoteAt = STALE;
  }

  // Cached forward searches: callers ask with non-decreasing `from` until invalidate().
  private nextLf(from: number): number {
    if (this.lfAt === STALE || (this.lfAt >= 0 && this.lfAt < from)) this.lfAt = this.buf.indexOf('\n', from);
    return this.lfAt;
  }
  private nextCr(from: number): number {
    if (this.crAt === STALE || (this.crAt >= 0 && this.crAt < from)) this.crAt = this.buf.indexOf('\r', from);
    return this.crAt;
  }
  private nextQuote(from: number): number {
    if (this.quoteAt === STALE || (this.quoteAt >= 0 && this.quoteAt < from)) this.quoteAt = this.buf.indexOf('"', from);
    return this.quoteAt;
  }
  private lineEnd(from: number): number {
    const lf = this.nextLf(from);
    const cr = this.nextCr(from);
    return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
  }
  /** The line break at or after `from`, uncached (for going back after an error); -1 when none. */
  private lineEndFrom(from: number): number {
    const lf = this.buf.indexOf('\n', from);
    const cr = this.buf.indexOf('\r', from);
    return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
  }
  /** Where the next line starts after the line break at `end`. */
  private after(end: number): number {
    if (end >= this.buf.length) return this.buf.length;
    return this.buf.charCodeAt(end) === CR && this.buf.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
  }
  /** A CR as the last char of a non-final buffer: an LF may follow. */
  private undecidedCr(end: number): boolean {
    return !this.final && end === this.buf.length - 1 && this.buf.charCodeAt(end) === CR;
  }

  /** The next non-blank row, or undefined when more input is needed (or there is none). */
  next(): Row | undefined {
    for (;;) {
      const p = this.pos;
      const buf = this.buf;
      if (p >= buf.length) return undefined;
      let end = this.lineEnd(p);
      if (end < 0) {
        if (!this.final) return undefined;
        end = buf.length;
      }
      if (this.undecidedCr(end)) return undefined;
      const q = this.nextQuote(p);
      if (q >= 0 && q < end) return this.quotedRow(p);
      const raw = buf.slice(p, end);
      const line = this.line;
      this.pos = this.after(end);
      this.line++;
      if (isBlank(raw)) continue;
      return { kind: 'row', cells: raw.split(this.delimiter), raw, first: line, last: line };
    }
  }

  /** A row with a quote on its first line: field by field. */
  private quotedRow(p: number): Row | undefined {
    const buf = this.buf;
    const len = buf.length;
    const first = this.line;
    let line = first;
    let lineStart = p;
    const cells: string[] = [];
    const cellLines: number[] = [];
    /** The first quoted field that spans lines. */
    let spanning: { pos: number; line: number; col: number } | undefined;
    let i = p;
    let rowEnd: number;
    for (;;) {
      let j = i;
      if (this.padding) while (j < len && buf.charCodeAt(j) === SPACE) j++;
      if (j < len && buf.charCodeAt(j) === QUOTE) {
        const qLine = line;
        const qCol = j - lineStart + 1;
        let k = j + 1;
        let content = '';
        let close: number;
        for (;;) {
          const q = buf.indexOf('"', k);
          if (q < 0 || (q === len - 1 && !this.final)) {
            if (this.final) return this.unterminated(p, first, j, qLine, qCol, 'the input ends before its closing quote');
            if (len - j > this.maxQuotedLength || countBreaks(buf, j, len).count > this.maxQuotedLines) return this.unterminated(p, first, j, qLine, qCol, this.limitText());
            return undefined;
          }
          if (buf.charCodeAt(q + 1) === QUOTE) {
            content += buf.slice(k, q + 1);
            k = q + 2;
            continue;
          }
          content += buf.slice(k, q);
          close = q;
          break;
        }
        const breaks = countBreaks(buf, j, close);
        if (breaks.count > this.maxQuotedLines || close - j > this.maxQuotedLength) return this.unterminated(p, first, j, qLine, qCol, this.limitText());
        if (breaks.count > 0) {
          line += breaks.count;
          lineStart = breaks.lastEnd;
          spanning ??= { pos: j, line: qLine, col: qCol };
        }
        let a = close + 1;
        if (this.padding) while (a < len && buf.charCodeAt(a) === SPACE) a++;
        if (a >= len && !this.final) return undefined;
        const c = a < len ? buf.charCodeAt(a) : -1;
        cells.push(content);
        cellLines.push(qLine);
        if (c === this.delimCode) {
          i = a + 1;
          continue;
        }
        if (c === -1 || c === LF || c === CR) {
          if (this.undecidedCr(a)) return undefined;
          rowEnd = a;
          break;
        }
        const found = `${JSON.stringify(buf[a])} at line ${line}, column ${a - lineStart + 1}`;
        if (qLine < line) return this.unterminated(p, first, j, qLine, qCol, `its closing quote at line ${line}, column ${close - lineStart + 1} is followed by ${JSON.stringify(buf[a])}, not the delimiter or a line end`);
        return this.bad(p, first, line, a, `Text after the closing quote: ${found} (the quote opened at column ${qCol}); a field is either all quoted or not at all`);
      }
      // An unquoted field: up to the delimiter or the line end; no quote inside.
      let end = this.lineEnd(i);
      if (end < 0) {
        if (!this.final) return undefined;
        end = len;
      }
      const d = buf.indexOf(this.delimiter, i);
      const fieldEnd = d >= 0 && d < end ? d : end;
      const q = this.nextQuote(i);
      if (q >= 0 && q < fieldEnd) {
        return this.bad(p, first, line, q, `Quote in the middle of an unquoted field at line ${line}, column ${q - lineStart + 1}: a field with quotes in it must be quoted as a whole, with each quote doubled ("a ""b"" c")`);
      }
      cells.push(buf.slice(i, fieldEnd));
      cellLines.push(line);
      if (fieldEnd === d) {
        i = d + 1;
        continue;
      }
      if (this.undecidedCr(end)) return undefined;
      rowEnd = end;
      break;
    }
    if (spanning && this.expectedCells > 0 && cells.length !== this.expectedCells) {
      const lines = line - spanning.line + 1;
      return this.unterminated(p, first, spanning.pos, spanning.line, spanning.col, `the quoted field runs over ${lines} lines and leaves the row with ${cells.length} cells, the header has ${this.expectedCells}`);
    }
    const raw = buf.slice(p, rowEnd);
    this.pos = this.after(rowEnd);
    this.line = line + 1;
    return { kind: 'row', cells, cellLines: line > first ? cellLines : undefined, raw, first, last: line };
  }

  private limitText(): string {
    return `no closing quote within ${this.maxQuotedLines} lines or ${this.maxQuotedLength} characters`;
  }

  /**
   * Rejects the row's lines up to the end of the quote's line, and reads on from the next line:
   * what followed the quote is read again as rows of its own.
   */
  private unterminated(p: number, first: number, quotePos: number, qLine: number, qCol: number, why: string): Row | undefined {
    let eol = this.lineEndFrom(quotePos);
    if (eol < 0) {
      if (!this.final) return undefined;
      eol = this.buf.length;
    }
    if (this.undecidedCr(eol)) return undefined;
    const raw = this.buf.slice(p, eol);
    this.pos = this.after(eol);
    this.line = qLine + 1;
    this.invalidate();
    const goesOn = this.pos < this.buf.length ? `; reading goes on at line ${qLine + 1}` : '';
    return { kind: 'bad', error: `Unterminated quote starting at line ${qLine}, column ${qCol}: ${why}${goesOn}`, raw, first, last: qLine };
  }

  /** Rejects the row up to the end of the line holding `at`. */
  private bad(p: number, first: number, line: number, at: number, error: string): Row | undefined {
    let eol = this.lineEndFrom(at);
    if (eol < 0) {
      if (!this.final) return undefined;
      eol = this.buf.length;
    }
    if (this.undecidedCr(eol)) return undefined;
    const raw = this.buf.slice(p, eol);
    this.pos = this.after(eol);
    this.line = line + 1;
    this.invalidate();
    return { kind: 'bad', error, raw, first, last: line };
  }
}

/** Line breaks in `text[from, to)` and where the text after the last one starts. */
function countBreaks(text: string, from: number, to: number): { count: number; lastEnd: number } {
  let count = 0;
  let lastEnd = from;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) {
      count++;
      lastEnd = i + 1;
    }
  }
  return { count, lastEnd };
}

/** The values of one data row. Cells are returned as written (not trimmed). */
class CsvRowScope implements SourceScope {
  constructor(
    private readonly columns: ReadonlyMap<string, number>,
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
    return [{ value: this.cells[i], at: `line ${this.cellLines?.[i] ?? this.line}, column ${JSON.stringify(column)}` }];
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
function readHeader(row: Row, options: CsvReadOptions): { names: string[]; index: Map<string, number>; raw: string } {
  const at = `line ${row.first}`;
  if (row.kind === 'bad') throw new InputError(`Cannot read the header of ${options.input} (${at}): ${row.error}`, 'header');
  const names = row.cells.map((c) => c.trim());
  const index = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === '') throw new InputError(`Empty column name in the header of ${options.input} (${at}, column ${i + 1} of ${names.length}); the file was not read`, 'header');
    const before = index.get(name);
    if (before !== undefined) throw new InputError(`Column ${JSON.stringify(name)} appears twice in the header of ${options.input} (${at}, columns ${before + 1} and ${i + 1}); the file was not read`, 'header');
    index.set(name, i);
  }
  const optional = new Set(options.optionalColumns ?? []);
  const missing = (options.columns ?? []).filter((c, k, all) => !index.has(c) && !optional.has(c) && all.indexOf(c) === k);
  if (missing.length > 0) throw new InputError(`Missing column(s) ${quoted(missing)} in the header of ${options.input} (${at}); the file was not read`, 'header');
  return { names, index, raw: row.raw };
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
export async function* readCsv(chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>, options: CsvReadOptions): AsyncGenerator<SourceRecord> {
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
        yield { ...base, scope: new CsvRowScope(header.index, row.cells, row.first, row.cellLines) };
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
