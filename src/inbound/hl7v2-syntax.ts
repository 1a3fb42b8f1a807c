/**
 * HL7 v2 encoding rules (HL7 v2.5.1 chapter 2, "Control": message construction rules 2.5-2.6,
 * escape sequences 2.7; https://www.hl7.eu/HL7v2x/v251/std251/ch02.html): the separators an MSH
 * declares, a segment split into fields when first read, escape sequences both ways, and the paths
 * a mapping reads (`FT1[2]-7.1`). Shared by the message reader (hl7v2.ts) and the ACK writer
 * (hl7v2-ack.ts).
 */
import { decodeUtf8Strict } from './decode';

export interface Hl7Separators {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export const STANDARD: Hl7Separators = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

/** A segment; its fields are split when first read. */
export class Segment {
  private parts?: string[];
  constructor(
    readonly name: string,
    readonly text: string,
    private readonly fieldSep: string,
  ) {}

  /** Field `f` (1-based) as written; MSH-1 is the field separator and MSH-2 the encoding characters. */
  field(f: number): string | undefined {
    const parts = (this.parts ??= this.text.split(this.fieldSep));
    if (this.name === 'MSH') return f === 1 ? this.fieldSep : parts[f - 1];
    return parts[f];
  }

  get fieldCount(): number {
    const parts = (this.parts ??= this.text.split(this.fieldSep));
    return this.name === 'MSH' ? parts.length : parts.length - 1;
  }
}

export const NOT_SEPARATOR = /[A-Za-z0-9\s]/;

/** The separators of an MSH segment, or why it has none. */
export function readSeparators(msh: string): Hl7Separators | string {
  if (!msh.startsWith('MSH')) return `The message does not start with an MSH segment (it starts with ${JSON.stringify(msh.slice(0, 20))})`;
  const fs = msh[3];
  if (fs === undefined || NOT_SEPARATOR.test(fs))
    return `MSH-1, the field separator, is ${fs === undefined ? 'missing' : JSON.stringify(fs)}: the message must start with "MSH|" (or another separator character)`;
  const end = msh.indexOf(fs, 4);
  const enc = end < 0 ? msh.slice(4) : msh.slice(4, end);
  const chars = [...enc];
  if (chars.length < 4 || chars.length > 5 || new Set(chars).size !== chars.length || chars.some((c) => c === fs || NOT_SEPARATOR.test(c))) {
    return `MSH-2, the encoding characters, is ${JSON.stringify(enc)}: expected 4 different separator characters such as "^~\\&"`;
  }
  return { field: fs, component: chars[0], repetition: chars[1], escape: chars[2], subcomponent: chars[3] };
}

/** A parsed path: `SEG[occurrence]-field[repetition].component.subcomponent`, 1-based. */
export interface Hl7Path {
  segment: string;
  occurrence?: number | '*';
  field: number;
  repetition?: number | '*';
  component?: number;
  subcomponent?: number;
}

const PATH = /^([A-Z][A-Z0-9]{2})(?:\[([1-9]\d*|\*)\])?-([1-9]\d*)(?:\[([1-9]\d*|\*)\])?(?:\.([1-9]\d*)(?:\.([1-9]\d*))?)?$/;
const index = (s: string | undefined): number | '*' | undefined => (s === undefined ? undefined : s === '*' ? '*' : Number(s));

/** Parses an HL7 v2 path (`PID-3[2].1`, `FT1[*]-7.1`); undefined when it is not one. */
export function parseHl7Path(path: string): Hl7Path | undefined {
  const m = PATH.exec(path);
  if (!m) return undefined;
  return {
    segment: m[1],
    occurrence: index(m[2]),
    field: Number(m[3]),
    repetition: index(m[4]),
    component: m[5] === undefined ? undefined : Number(m[5]),
    subcomponent: m[6] === undefined ? undefined : Number(m[6]),
  };
}

/** Decodes HL7 escape sequences (v2.5.1 section 2.7). */
export function hl7Unescape(text: string, seps: Hl7Separators = STANDARD): string {
  const e = seps.escape;
  let i = text.indexOf(e);
  if (i < 0) return text;
  let out = '';
  let last = 0;
  while (i >= 0) {
    const j = text.indexOf(e, i + 1);
    if (j < 0) break;
    const code = text.slice(i + 1, j);
    let value: string | undefined;
    if (code === 'F') value = seps.field;
    else if (code === 'S') value = seps.component;
    else if (code === 'T') value = seps.subcomponent;
    else if (code === 'R') value = seps.repetition;
    else if (code === 'E') value = seps.escape;
    else if (code === '.br') value = '\n';
    else if (code === 'H' || code === 'N') value = '';
    else if (/^X(?:[0-9A-Fa-f]{2})+$/.test(code)) {
      const bytes = Buffer.from(code.slice(1), 'hex');
      value = decodeUtf8Strict(bytes) ?? bytes.toString('latin1');
    }
    if (value === undefined) {
      // Not a sequence we know: keep the escape character as written and look again from the next one.
      i = j;
      continue;
    }
    out += text.slice(last, i) + value;
    last = j + 1;
    i = text.indexOf(e, last);
  }
  return out + text.slice(last);
}

/** Escapes text for an HL7 field (the separators, the escape character and line breaks). */
export function hl7Escape(text: string, seps: Hl7Separators = STANDARD): string {
  let out = '';
  for (const ch of text) {
    if (ch === seps.escape) out += `${seps.escape}E${seps.escape}`;
    else if (ch === seps.field) out += `${seps.escape}F${seps.escape}`;
    else if (ch === seps.component) out += `${seps.escape}S${seps.escape}`;
    else if (ch === seps.subcomponent) out += `${seps.escape}T${seps.escape}`;
    else if (ch === seps.repetition) out += `${seps.escape}R${seps.escape}`;
    else if (ch === '\n') out += `${seps.escape}.br${seps.escape}`;
    else if (ch !== '\r') out += ch;
  }
  return out;
}
