/**
 * The CSV grammar (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180, with the tolerances and the
 * recovery from unterminated quotes that csv.ts describes): text in, rows of cells out, holding
 * only the unparsed tail of the input. csv.ts turns the rows into source records.
 */

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const SPACE = 0x20;
const STALE = -2;

/** A data row as the tokenizer sees it: its cells, or why it cannot be read. */
export type Row =
  | { kind: 'row'; cells: string[]; cellLines?: number[]; raw: string; first: number; last: number }
  | { kind: 'bad'; error: string; raw: string; first: number; last: number };

function isBlank(text: string): boolean {
  return text.length === 0 || (text.charCodeAt(0) <= SPACE && text.trim() === '');
}

/** Splits text into rows. Holds only the unparsed tail of the input (a partial row). */
export class CsvTokenizer {
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
            if (len - j > this.maxQuotedLength || countBreaks(buf, j, len).count > this.maxQuotedLines)
              return this.unterminated(p, first, j, qLine, qCol, this.limitText());
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
        if (qLine < line)
          return this.unterminated(
            p,
            first,
            j,
            qLine,
            qCol,
            `its closing quote at line ${line}, column ${close - lineStart + 1} is followed by ${JSON.stringify(buf[a])}, not the delimiter or a line end`,
          );
        return this.bad(
          p,
          first,
          line,
          a,
          `Text after the closing quote: ${found} (the quote opened at column ${qCol}); a field is either all quoted or not at all`,
        );
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
        return this.bad(
          p,
          first,
          line,
          q,
          `Quote in the middle of an unquoted field at line ${line}, column ${q - lineStart + 1}: a field with quotes in it must be quoted as a whole, with each quote doubled ("a ""b"" c")`,
        );
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
      return this.unterminated(
        p,
        first,
        spanning.pos,
        spanning.line,
        spanning.col,
        `the quoted field runs over ${lines} lines and leaves the row with ${cells.length} cells, the header has ${this.expectedCells}`,
      );
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
