/**
 * Reading a file or stream of HL7 v2 messages (readHl7): finding where each message starts (an
 * MSH at the start of a segment, after MLLP framing or a byte-order mark), decoding byte chunks
 * per message, and parsing each with parseMessage of hl7v2.ts.
 */
import { decodeUtf8Strict, latin1ToWindows1252 } from './decode';
import { charsetError, decodeHl7Bytes } from './hl7v2-charset';
import { isEnvelopeOnly, parseMessage, splitSegments, stripBom } from './hl7v2';
import { InputError, type SourceRecord } from './source';

/** True when a byte-order mark (that starts the input or a line) ends just before `i`. */
function afterBom(buf: string, i: number): boolean {
  let at: number;
  if (buf.charCodeAt(i - 1) === 0xfeff) at = i - 1;
  else if (i >= 3 && buf.charCodeAt(i - 1) === 0xbf && buf.charCodeAt(i - 2) === 0xbb && buf.charCodeAt(i - 3) === 0xef) at = i - 3;
  else return false;
  const prev = at === 0 ? 0x0d : buf.charCodeAt(at - 1);
  return prev === 0x0d || prev === 0x0a || prev === 0x0b || prev === 0x1c;
}

/** Index of the next `MSH` that starts a segment, at or after `from`; -1 when none. */
function findMsh(buf: string, from: number): number {
  for (let i = buf.indexOf('MSH', from); i >= 0; i = buf.indexOf('MSH', i + 1)) {
    const prev = i === 0 ? 0x0d : buf.charCodeAt(i - 1);
    if (prev === 0x0d || prev === 0x0a || prev === 0x0b || prev === 0x1c || afterBom(buf, i)) return i;
  }
  return -1;
}

/** Bytes (one char per byte) as UTF-8 when they are, else Windows-1252: for text that is not a readable message. */
function decodeAuto(bytesText: string): string {
  return /[\x80-\xff]/.test(bytesText) ? (decodeUtf8Strict(Buffer.from(bytesText, 'latin1')) ?? latin1ToWindows1252(bytesText)) : bytesText;
}

/** True when the message at `i` follows an MLLP start block (0x0B), a byte-order mark between them or not. */
function isFramed(buf: string, i: number): boolean {
  return /\x0b(?:\ufeff|\xef\xbb\xbf)?$/.test(buf.slice(Math.max(0, i - 4), i));
}

const isBlank = (text: string): boolean => /^[\s\x0b\x1c]*$/.test(text.replace(/\ufeff|\xef\xbb\xbf/g, ''));
/** Text before the first MSH longer than this (and no MSH in it) means the input is not HL7. */
const MAX_PREAMBLE = 1024 * 1024;

/**
 * Reads a file or stream of HL7 v2 messages: a message starts at each segment beginning with
 * `MSH`. Blank lines, MLLP framing (0x0B before a message, 0x1C 0x0D after it) and batch envelope
 * segments (FHS, BHS, BTS, FTS) are tolerated and left out of the messages;
 * an MLLP-framed message whose end block never comes is cut off. Byte chunks are decoded per
 * message (see decodeHl7Bytes in hl7v2-charset.ts; a byte-order mark before a message is dropped); string chunks are taken as text. Throws InputError when the input
 * holds text but no MSH segment (in its first MiB).
 */
export async function* readHl7(
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>,
  options: { input: string },
): AsyncGenerator<SourceRecord> {
  const input = options.input;
  let buf = '';
  let start = -1;
  let scanFrom = 0;
  let bytes = false;
  let framed = false;
  let n = 0;
  /** A message's text (bytes decoded as its MSH-18 says), parsed; a byte-order mark before it is dropped. */
  const read = (t: string, k: number, cutOff?: string): SourceRecord => {
    const s = stripBom(t);
    if (!bytes) return parseMessage(s, input, k, cutOff ?? charsetError(s));
    const decoded = decodeHl7Bytes(s);
    return typeof decoded === 'string' ? parseMessage(decoded, input, k, cutOff) : parseMessage(decodeAuto(s), input, k, decoded.error);
  };
  const text = (t: string): string => (bytes ? decodeAuto(t) : t);
  const noMsh = (): InputError =>
    new InputError(`${input} is not HL7 v2: there is no MSH segment${buf.length > MAX_PREAMBLE ? ' in its first MiB' : ''}`, 'message 1');
  for await (const chunk of chunks) {
    if (typeof chunk === 'string') buf += chunk;
    else {
      bytes = true;
      buf += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    }
    if (start < 0) {
      const m = findMsh(buf, scanFrom);
      if (m < 0) {
        if (buf.length > MAX_PREAMBLE && !isBlank(buf)) throw noMsh();
        scanFrom = Math.max(0, buf.length - 3);
        continue;
      }
      const lead = stripBom(buf.slice(0, m));
      if (!isBlank(lead) && !isEnvelopeOnly(lead)) {
        n++;
        yield {
          n,
          input,
          where: `message ${n}`,
          raw: splitSegments(text(lead)).join('\r'),
          error: 'Text before the first MSH segment: it is not an HL7 message',
        };
      }
      framed = isFramed(buf, m);
      start = m;
      scanFrom = m + 3;
    }
    for (;;) {
      const next = findMsh(buf, scanFrom);
      if (next < 0) {
        scanFrom = Math.max(start + 3, buf.length - 3);
        break;
      }
      n++;
      yield read(buf.slice(start, next), n);
      framed = isFramed(buf, next);
      start = next;
      scanFrom = next + 3;
    }
    if (start > 0) {
      buf = buf.slice(start);
      scanFrom -= start;
      start = 0;
    }
  }
  if (start < 0) {
    if (!isBlank(buf) && !isEnvelopeOnly(buf)) throw noMsh();
    return;
  }
  const last = buf.slice(start);
  const cutOff = framed && last.indexOf('\x1c') < 0 ? 'The message is cut off: the input ends before its MLLP end block (0x1C)' : undefined;
  yield read(last, n + 1, cutOff);
}
