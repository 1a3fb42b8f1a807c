/**
 * Bytes -> text for the outside-format readers, streaming and with flat memory.
 *
 * Encodings (https://encoding.spec.whatwg.org/): UTF-8, or Latin-1 read as Windows-1252 (what
 * "Latin-1" exports from Windows EHRs really are). `auto` decides on the first 64 KiB: UTF-8 when
 * they are valid UTF-8, else Windows-1252 for the whole input. A file decoded as UTF-8 that turns
 * out invalid later is decoded line by line where it is: the bad line alone is read as
 * Windows-1252 (`auto`) or with U+FFFD replacements (`utf8`), and reported with its line number.
 *
 * Why our own Windows-1252 table: Node 20's TextDecoder('windows-1252') maps 0x80-0x9F as
 * ISO-8859-1 C1 controls (so 0x93 is U+0093, not the quote U+201C).
 */

export type CharacterEncoding = 'utf8' | 'latin1' | 'auto';

/** Invalid UTF-8 found while decoding; `line` is the 1-based physical line (CRLF, LF or CR end a line). */
export interface InvalidUtf8 {
  line: number;
  /** `input-latin1`: the first 64 KiB were not UTF-8, the whole input is read as Windows-1252 (line = first bad line); `line-latin1` / `line-replaced`: this line alone. */
  action: 'input-latin1' | 'line-latin1' | 'line-replaced';
}

export interface DecodeOptions {
  /** Default `auto`. */
  encoding?: CharacterEncoding;
  /** How many bytes `auto` looks at before deciding (default 64 KiB). */
  sampleBytes?: number;
  onInvalidUtf8?: (event: InvalidUtf8) => void;
}

/** The reader's warning for an InvalidUtf8 event (the input's name is added by the caller). */
export function invalidUtf8Warning(e: InvalidUtf8): string {
  switch (e.action) {
    case 'input-latin1':
      return `not valid UTF-8 (first at line ${e.line}); read as Latin-1 (Windows-1252)`;
    case 'line-latin1':
      return `line ${e.line} is not valid UTF-8 (the lines before it were); that line was read as Latin-1 (Windows-1252)`;
    default:
      return `line ${e.line} is not valid UTF-8; its invalid bytes were replaced with U+FFFD`;
  }
}

const SAMPLE_BYTES = 64 * 1024;
/** A line longer than this is decoded in pieces (cut on a character boundary) instead of being held whole. */
const MAX_CARRY = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;

const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });

// Windows-1252 0x80-0x9F (https://encoding.spec.whatwg.org/index-windows-1252.txt); the five
// unassigned bytes keep their C1 code point, as the WHATWG decoder does.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
  0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const C1 = /[\x80-\x9f]/;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes as Windows-1252 (Latin-1 with the printable 0x80-0x9F of Windows). */
export function decodeWindows1252(bytes: Uint8Array): string {
  return latin1ToWindows1252(asBuffer(bytes).toString('latin1'));
}

/** A string whose chars are bytes (Buffer `latin1`), with 0x80-0x9F read as Windows-1252. */
export function latin1ToWindows1252(text: string): string {
  return C1.test(text) ? text.replace(/[\x80-\x9f]/g, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80])) : text;
}

/** The bytes as UTF-8, or undefined when they are not valid UTF-8. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return UTF8_FATAL.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The length of `bytes[0, end)` without an incomplete UTF-8 sequence at its end. */
export function utf8CompleteLength(bytes: Uint8Array, end: number = bytes.length): number {
  for (let i = end - 1; i >= 0 && i >= end - 3; i--) {
    const b = bytes[i];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return end;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return end - i >= need ? end : i;
  }
  return end;
}

/** Line breaks in `bytes[start, end)`: LF, CRLF and a CR not followed by LF each count once. */
export function countLineBreaks(bytes: Buffer, start = 0, end = bytes.length): number {
  let n = 0;
  for (let i = bytes.indexOf(LF, start); i >= 0 && i < end; i = bytes.indexOf(LF, i + 1)) n++;
  for (let i = bytes.indexOf(CR, start); i >= 0 && i < end; i = bytes.indexOf(CR, i + 1)) {
    if (i + 1 >= bytes.length || bytes[i + 1] !== LF) n++;
  }
  return n;
}

/**
 * Where the last whole line of `bytes` ends (just after its line break), 0 when there is no line
 * break. A CR as the very last byte does not count: an LF may follow in the next chunk.
 */
function wholeLinesEnd(bytes: Buffer): number {
  const lf = bytes.lastIndexOf(LF);
  const cr = bytes.lastIndexOf(CR);
  if (cr > lf && cr === bytes.length - 1) return cr;
  return Math.max(lf, cr) + 1;
}

/** Offsets just after each line break of `bytes`, and its length. */
function lineEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF) ends.push(i + 1);
    else if (b === CR && bytes[i + 1] !== LF) ends.push(i + 1);
  }
  if (ends[ends.length - 1] !== bytes.length) ends.push(bytes.length);
  return ends;
}

/** 1-based number of the first line of `bytes` that is not valid UTF-8 (0 when all are). */
function firstInvalidLine(bytes: Buffer): number {
  let start = 0;
  const ends = lineEnds(bytes);
  for (let k = 0; k < ends.length; k++) {
    if (decodeUtf8Strict(bytes.subarray(start, ends[k])) === undefined) return k + 1;
    start = ends[k];
  }
  return 0;
}

/**
 * Decodes a stream of chunks to text. String chunks pass through unchanged (a leading U+FEFF is
 * dropped); byte chunks are decoded as described in the file comment, with a UTF-8 byte-order mark
 * dropped (it also makes `auto` choose UTF-8). Text is yielded in whole lines where possible, so a
 * line is decoded one way only.
 */
export async function* decodeChunks(
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: DecodeOptions = {},
): AsyncGenerator<string> {
  const sampleBytes = options.sampleBytes ?? SAMPLE_BYTES;
  let mode: 'utf8' | 'latin1' | undefined = options.encoding === 'utf8' || options.encoding === 'latin1' ? options.encoding : undefined;
  const replace = options.encoding === 'utf8';
  let carry: Buffer = Buffer.alloc(0);
  let started = false;
  /** Physical line number of the first byte of `carry`. */
  let line = 1;

  /** Decodes what can be decoded of `data`; keeps the rest in `carry`. */
  const take = (data: Buffer, final: boolean): string => {
    if (!started) {
      if (data.length < 3 && !final) {
        carry = data;
        return '';
      }
      started = true;
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
        data = data.subarray(3);
        mode ??= 'utf8';
      }
    }
    if (mode === undefined) {
      if (data.length < sampleBytes && !final) {
        carry = data;
        return '';
      }
      const sample = data.length <= sampleBytes && final ? data : data.subarray(0, utf8CompleteLength(data, Math.min(data.length, sampleBytes)));
      if (decodeUtf8Strict(sample) !== undefined) {
        mode = 'utf8';
      } else {
        mode = 'latin1';
        options.onInvalidUtf8?.({ line: line + firstInvalidLine(sample) - 1, action: 'input-latin1' });
      }
    }
    if (mode === 'latin1') {
      carry = Buffer.alloc(0);
      return decodeWindows1252(data);
    }
    let cut = final ? data.length : wholeLinesEnd(data);
    if (cut === 0) {
      if (data.length <= MAX_CARRY) {
        carry = data;
        return '';
      }
      cut = utf8CompleteLength(data);
    }
    const unit = data.subarray(0, cut);
    carry = cut < data.length ? Buffer.from(data.subarray(cut)) : Buffer.alloc(0);
    const text = decodeUtf8Strict(unit) ?? decodeByLine(unit);
    if (options.onInvalidUtf8) line += countLineBreaks(unit);
    return text;
  };

  /** The slow path: `unit` holds invalid UTF-8; decode its lines one by one. */
  const decodeByLine = (unit: Buffer): string => {
    const parts: string[] = [];
    let start = 0;
    const ends = lineEnds(unit);
    for (let k = 0; k < ends.length; k++) {
      const bytes = unit.subarray(start, ends[k]);
      start = ends[k];
      const text = decodeUtf8Strict(bytes);
      if (text !== undefined) {
        parts.push(text);
        continue;
      }
      options.onInvalidUtf8?.({ line: line + k, action: replace ? 'line-replaced' : 'line-latin1' });
      parts.push(replace ? bytes.toString('utf8') : decodeWindows1252(bytes));
    }
    return parts.join('');
  };

  // Before the encoding is decided, chunks are gathered in a list (not concatenated one by one).
  let head: Buffer[] = [];
  let headLength = 0;
  const flushHead = (): void => {
    if (head.length === 0) return;
    carry = Buffer.concat([carry, ...head]);
    head = [];
    headLength = 0;
  };

  for await (const chunk of chunks) {
    if (typeof chunk === 'string') {
      flushHead();
      const first = !started && carry.length === 0;
      if (carry.length > 0) {
        // Bytes before a string chunk: decode them as they are.
        const rest = take(carry, true);
        carry = Buffer.alloc(0);
        if (rest) yield rest;
      }
      started = true;
      const text = first && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
      if (text) yield text;
      continue;
    }
    const bytes = asBuffer(chunk);
    if (!started || mode === undefined) {
      head.push(bytes);
      headLength += bytes.length;
      if (carry.length + headLength < (mode === undefined ? sampleBytes : 3)) continue;
      flushHead();
      const text = take(carry, false);
      if (text) yield text;
      continue;
    }
    const data = carry.length > 0 ? Buffer.concat([carry, bytes]) : bytes;
    const text = take(data, false);
    if (text) yield text;
  }
  flushHead();
  if (carry.length > 0 || !started) {
    const text = take(carry, true);
    if (text) yield text;
  }
}
