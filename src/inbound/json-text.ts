/**
 * JSON text as the streaming scanners (json-records.ts) cut it out: parsed so that integers too
 * long for a double keep their digits, with syntax errors placed in the larger text.
 */
import { describeJsonError } from './json-error';

/** JSON whitespace (RFC 8259 section 2). */
export const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** 16 digits in a row: the only texts that may hold an integer JSON.parse would round. */
const LONG_DIGITS = /\d{16}/;

/** Integer literals that a double cannot hold exactly, as JSON strings of their digits; `text` when there are none. */
function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let last = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip it whole (digits inside are text already)
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)) break;
      }
      const literal = text.slice(start, i);
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(last, start)}"${literal}"`;
        last = i;
      }
    } else {
      i++;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * JSON.parse, except that an integer too long for a double (a 19-digit id, 12345678901234567890)
 * comes out as the text of its digits instead of a rounded number (12345678901234567000): two
 * different ids must never become one, and the value must be what the sender wrote.
 */
export function parseJsonText(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  const safe = quoteUnsafeIntegers(text);
  if (safe === text) return JSON.parse(text);
  try {
    return JSON.parse(safe);
  } catch {
    return JSON.parse(text); // throws the error with the positions of the text as written
  }
}

/** JSON.parse of a value cut out of a larger text that starts at line `atLine`, column `atCol`: errors name the position in the larger text. */
export function parseAt(text: string, atLine: number, atCol: number): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: parseJsonText(text) };
  } catch (err) {
    const described = describeJsonError(err as Error, text);
    const m = /^line (\d+), column (\d+): (.*)$/s.exec(described);
    if (!m) return { ok: false, message: described };
    const l = Number(m[1]);
    const c = l === 1 ? Number(m[2]) + atCol - 1 : Number(m[2]);
    return { ok: false, message: `line ${atLine + l - 1}, column ${c}: ${m[3]}` };
  }
}
