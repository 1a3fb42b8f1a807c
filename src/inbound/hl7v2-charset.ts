/**
 * HL7 v2 character sets: how the bytes of a message become text, as its `MSH-18` says (HL7 v2.5.1
 * section 2.15.9.18 and table 0211, "Alternate character sets";
 * https://www.hl7.eu/HL7v2x/v251/std251/ch02.html#Heading236). Only MSH-18's first repetition
 * counts: it is the character set of the message; the others are alternates switched to with
 * escape sequences, which we do not read. An empty MSH-18 means the sender did not say: the
 * message is read as UTF-8 when it is valid UTF-8, else as Windows-1252.
 *
 * A name not in table 0211 (and not one of its common spellings: `UTF-8`, `ISO-8859-1`, `ISO_IR 100`)
 * is an error naming it: guessing would put wrong letters into names and addresses.
 */
import { TextDecoder } from 'node:util';
import { decodeUtf8Strict, latin1ToWindows1252 } from './decode';

/** How to decode: `auto` (UTF-8, else Windows-1252), `latin1` (bytes as they are) or a TextDecoder label. */
type Decoding = 'auto' | 'latin1' | { label: string };

/** Table 0211 codes (and spellings seen in the wild), with spaces, `-`, `_` and `/` removed, upper case. */
const CHARSETS: Record<string, Decoding> = {
  ASCII: 'auto',
  USASCII: 'auto',
  UNICODE: 'auto',
  UNICODEUTF8: 'auto',
  UTF8: 'auto',
  '88591': 'latin1',
  ISO88591: 'latin1',
  ISOIR100: 'latin1',
  LATIN1: 'latin1',
  GB180302000: { label: 'gb18030' },
  GB18030: { label: 'gb18030' },
  BIG5: { label: 'big5' },
  KSX1001: { label: 'euc-kr' },
};
for (const n of [2, 3, 4, 5, 6, 7, 8, 9, 15]) {
  CHARSETS[`8859${n}`] = { label: `iso-8859-${n}` };
  CHARSETS[`ISO8859${n}`] = { label: `iso-8859-${n}` };
}

/** Table 0211 codes we know but cannot decode (their bytes are not ASCII-compatible, or need ISO 2022 escapes). */
const UNSUPPORTED = new Set(['UNICODEUTF16', 'UNICODEUTF32', 'ISOIR14', 'ISOIR87', 'ISOIR159', 'CNS116431992']);

const SUPPORTED_TEXT = 'ASCII, UNICODE UTF-8, UNICODE, 8859/1 to 8859/9, 8859/15, GB 18030-2000, BIG-5, KS X 1001';

const DECODERS = new Map<string, TextDecoder>();

/** How a message's MSH-18 says to decode it, or why it cannot be. */
function decodingOf(message: string): Decoding | { error: string } {
  const end = message.search(/[\r\n]/);
  const charset = declaredCharset(end < 0 ? message : message.slice(0, end));
  const key = charset.toUpperCase().replace(/[\s/_-]/g, '');
  const decoding: Decoding | undefined = key === '' ? 'auto' : CHARSETS[key];
  if (decoding !== undefined) return decoding;
  const why = UNSUPPORTED.has(key) ? 'a character set PeerBridge does not read' : 'not a character set of HL7 table 0211';
  return {
    error: `MSH-18 (character set) is ${JSON.stringify(charset)}: ${why}; the message was not read. Supported: ${SUPPORTED_TEXT}, or MSH-18 empty (UTF-8, else Windows-1252)`,
  };
}

/**
 * Why a message given as text names a character set we cannot read (undefined when it is one we
 * can): text needs no decoding, but a message declaring an unknown one is refused the same way
 * whether it comes as bytes or as text (a reject retried as text).
 */
export function charsetError(message: string): string | undefined {
  const d = decodingOf(message);
  return typeof d === 'object' && 'error' in d ? d.error : undefined;
}

/** The character set MSH-18 names (first repetition, as written), or '' when it names none. */
export function declaredCharset(msh: string): string {
  if (msh.length < 4) return '';
  const fs = msh[3];
  // MSH-18 follows the 17th field separator (MSH-1 is the first); found without splitting the segment.
  let at = 3;
  for (let n = 1; n < 17 && at >= 0; n++) at = msh.indexOf(fs, at + 1);
  if (at < 0) return '';
  const end = msh.indexOf(fs, at + 1);
  const value = msh.slice(at + 1, end < 0 ? msh.length : end);
  const repetition = msh[5] ?? '~';
  const cut = value.indexOf(repetition);
  return (cut < 0 ? value : value.slice(0, cut)).trim();
}

/**
 * A message's text from its bytes (a string whose chars are bytes, as Buffer `latin1` gives),
 * decoded as its MSH-18 says; `{ error }` when MSH-18 names a character set we cannot read.
 */
export function decodeHl7Bytes(bytesText: string): string | { error: string } {
  const decoding = decodingOf(bytesText);
  if (typeof decoding === 'object' && 'error' in decoding) return decoding;
  if (!/[\x80-\xff]/.test(bytesText)) return bytesText;
  if (decoding === 'latin1') return bytesText;
  if (decoding === 'auto') return decodeUtf8Strict(Buffer.from(bytesText, 'latin1')) ?? latin1ToWindows1252(bytesText);
  let decoder = DECODERS.get(decoding.label);
  if (!decoder) {
    decoder = new TextDecoder(decoding.label);
    DECODERS.set(decoding.label, decoder);
  }
  return decoder.decode(Buffer.from(bytesText, 'latin1'));
}
