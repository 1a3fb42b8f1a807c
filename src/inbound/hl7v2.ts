/**
 * HL7 v2 messages -> source records (HL7 v2.5.1 chapter 2, "Control": message construction rules
 * 2.5-2.7, escape sequences 2.7, acknowledgments 2.9; https://www.hl7.eu/HL7v2x/v251/std251/ch02.html).
 * The encoding rules are in hl7v2-syntax.ts, the ACKs in hl7v2-ack.ts (both re-exported here);
 * reading a file or stream of messages (readHl7) is in hl7v2-stream.ts.
 *
 * Our own small parser instead of @medplum/core's Hl7Message (the first design named it, docs/architecture.md#departures-from-the-first-design): Hl7Message does
 * not decode escape sequences, does not split subcomponents by path, cannot say where a value was
 * read (`FT1[2]-7.1`), accepts any segment name (a cut-off `PI` line passes), and parses every
 * field of every segment up front. Here a message is split into segments once and a segment's
 * fields only when a path reads it.
 *
 * Values: escape sequences are decoded (`\F\ \S\ \T\ \R\ \E\`, `\.br\` -> "\n", `\Xhh..\` bytes as
 * UTF-8 or Latin-1, `\H\ \N\` dropped, others left as written). An empty value and the HL7 null
 * `""` are absent: `get` leaves them out. A path without a component reads the whole repetition
 * (components joined by the message's `^`, escapes decoded).
 */
import { hl7Unescape, NOT_SEPARATOR, parseHl7Path, readSeparators, Segment, type Hl7Path, type Hl7Separators } from './hl7v2-syntax';
import type { SourceRecord, SourceScope, SourceValue } from './source';

export { hl7Escape, hl7Unescape, parseHl7Path, type Hl7Path, type Hl7Separators } from './hl7v2-syntax';
export { buildAck, type AckError, type AckOptions } from './hl7v2-ack';

/**
 * The last field HL7 v2.5.1 requires in some common segments: a final segment that ends without a
 * terminator and has fewer fields is taken as cut off by the end of the input.
 */
const REQUIRED_FIELDS: Record<string, number> = {
  MSH: 12,
  EVN: 2,
  PID: 5,
  PV1: 2,
  NK1: 1,
  AL1: 3,
  DG1: 6,
  FT1: 7,
  SCH: 6,
  RGS: 1,
  AIS: 3,
  AIG: 3,
  AIL: 1,
  AIP: 1,
  ORC: 1,
  OBR: 4,
  OBX: 11,
  IN1: 3,
  GT1: 3,
  ROL: 4,
  MSA: 2,
  ERR: 4,
};

class Message {
  private byName?: Map<string, Segment[]>;
  constructor(
    readonly seps: Hl7Separators,
    readonly segments: Segment[],
  ) {}

  all(name: string): Segment[] {
    if (!this.byName) {
      this.byName = new Map();
      for (const s of this.segments) {
        const list = this.byName.get(s.name);
        if (list) list.push(s);
        else this.byName.set(s.name, [s]);
      }
    }
    return this.byName.get(name) ?? [];
  }
}

const pathCache = new Map<string, Hl7Path | undefined>();
function cachedPath(path: string): Hl7Path | undefined {
  let p = pathCache.get(path);
  if (p === undefined && !pathCache.has(path)) {
    if (pathCache.size > 4096) pathCache.clear();
    p = parseHl7Path(path);
    pathCache.set(path, p);
  }
  return p;
}

/** A message, or one segment of it (in `list`), as a scope of values. */
class Hl7Scope implements SourceScope {
  constructor(
    private readonly message: Message,
    readonly at: string,
    /** The segment in scope (`listed`: one of `each: FT1`, so its places say `FT1[k]`), and in `each: PID-11[*]` the field and repetition. */
    private readonly current?: { segment: Segment; k: number; listed: boolean; field?: number; repetition?: number },
  ) {}

  /** One scope per repetition of field `field` of the segment in scope (else the first of that name). */
  private repetitions(name: string, field: number): SourceScope[] {
    const inScope = this.current !== undefined && this.current.segment.name === name;
    const [segment, k, listed] = inScope && this.current ? [this.current.segment, this.current.k, this.current.listed] : [this.message.all(name)[0], 1, false];
    const text = segment?.field(field);
    if (!segment || text === undefined || text === '' || text === '""') return [];
    const segAt = k > 1 || listed ? `${name}[${k}]` : name;
    return text
      .split(this.message.seps.repetition)
      .map((_, r) => new Hl7Scope(this.message, `${segAt}-${field}[${r + 1}]`, { segment, k, listed, field, repetition: r + 1 }));
  }

  get(path: string): SourceValue[] {
    let p = cachedPath(path);
    if (!p) throw new Error(`Not an HL7 v2 path: ${JSON.stringify(path)} (expected SEG-field[.component[.subcomponent]], e.g. PID-3.1, PID-3[2].1, FT1[2]-7)`);
    // In `each: PID-11[*]`, `PID-11.3` reads the current repetition.
    const rep = this.current?.repetition;
    if (
      rep !== undefined &&
      p.segment === this.current?.segment.name &&
      p.field === this.current.field &&
      p.repetition === undefined &&
      p.occurrence === undefined
    )
      p = { ...p, repetition: rep };
    const all = this.message.all(p.segment);
    let picked: [Segment, number][];
    let showK = p.occurrence !== undefined;
    if (p.occurrence === '*') picked = all.map((s, i) => [s, i + 1]);
    else if (p.occurrence !== undefined) picked = all[p.occurrence - 1] ? [[all[p.occurrence - 1], p.occurrence]] : [];
    else if (this.current && this.current.segment.name === p.segment) {
      picked = [[this.current.segment, this.current.k]];
      showK = this.current.listed;
    } else picked = all.length > 0 ? [[all[0], 1]] : [];
    const out: SourceValue[] = [];
    for (const [segment, k] of picked) this.read(segment, showK || k > 1 ? `${p.segment}[${k}]` : p.segment, p, out);
    return out;
  }

  private read(segment: Segment, segAt: string, p: Hl7Path, out: SourceValue[]): void {
    const seps = this.message.seps;
    const text = segment.field(p.field);
    if (text === undefined || text === '' || text === '""') return;
    if (segment.name === 'MSH' && p.field <= 2) {
      if (p.repetition === undefined && p.component === undefined) out.push({ value: text, at: `${segAt}-${p.field}` });
      return;
    }
    let reps: string[];
    if (p.repetition === '*') reps = text.split(seps.repetition);
    else if (p.repetition !== undefined) {
      const one = nthPart(text, seps.repetition, p.repetition);
      reps = one === undefined ? [] : [one];
    } else {
      const cut = text.indexOf(seps.repetition);
      reps = [cut < 0 ? text : text.slice(0, cut)];
    }
    const suffix = (p.component === undefined ? '' : `.${p.component}`) + (p.subcomponent === undefined ? '' : `.${p.subcomponent}`);
    for (let r = 0; r < reps.length; r++) {
      let v: string | undefined = reps[r];
      if (p.component !== undefined) v = nthPart(v, seps.component, p.component);
      if (v !== undefined && p.subcomponent !== undefined) v = nthPart(v, seps.subcomponent, p.subcomponent);
      if (v === undefined || v === '' || v === '""') continue;
      const rep = p.repetition === '*' ? r + 1 : p.repetition;
      out.push({ value: hl7Unescape(v, seps), at: `${segAt}-${p.field}${rep === undefined ? '' : `[${rep}]`}${suffix}` });
    }
  }

  /** `SEG` or `SEG[*]`: one scope per segment of that name, in which `SEG-...` paths read that segment. */
  list(path: string): SourceScope[] {
    const f = /^([A-Z][A-Z0-9]{2})-([1-9]\d*)\[\*\]$/.exec(path);
    if (f) return this.repetitions(f[1], Number(f[2]));
    const m = /^([A-Z][A-Z0-9]{2})(?:\[\*\])?$/.exec(path);
    if (!m) return [];
    return this.message.all(m[1]).map((segment, i) => new Hl7Scope(this.message, `${m[1]}[${i + 1}]`, { segment, k: i + 1, listed: true }));
  }
}

/**
 * `text.split(sep)[n - 1]`, without building the array for a one-character separator (every value
 * a mapping reads went through a split of its field or component).
 */
export function nthPart(text: string, sep: string, n: number): string | undefined {
  if (sep.length !== 1 || !Number.isInteger(n) || n < 1) return text.split(sep)[n - 1];
  let start = 0;
  for (let i = 1; i < n; i++) {
    const at = text.indexOf(sep, start);
    if (at < 0) return undefined;
    start = at + 1;
  }
  const end = text.indexOf(sep, start);
  return end < 0 ? text.slice(start) : text.slice(start, end);
}

/** Segments of a message text: split on CR, LF or CRLF (and MLLP framing bytes); blank ones dropped. */
export function splitSegments(text: string): string[] {
  const t = /[\n\x0b\x1c]/.test(text) ? text.replace(/\r\n|[\n\x0b\x1c]/g, '\r') : text;
  return t.split('\r').filter((s) => s.length > 0 && !(s.charCodeAt(0) <= 0x20 && s.trim() === ''));
}

/** MSH-9.1^MSH-9.2 and MSH-10, read with best effort even when MSH-2 is bad. */
function readMeta(msh: string): { messageType?: string; controlId?: string } {
  if (!msh.startsWith('MSH') || msh.length < 4) return {};
  const fields = msh.split(msh[3]);
  const comp = fields[1]?.[0] ?? '^';
  const [type, trigger] = (fields[8] ?? '').split(comp);
  const meta: { messageType?: string; controlId?: string } = {};
  if (type) meta.messageType = trigger ? `${type}^${trigger}` : type;
  if (fields[9]) meta.controlId = fields[9];
  return meta;
}

function isSegmentName(line: string, fs: string): boolean {
  if (line.length < 3 || (line.length > 3 && line[3] !== fs)) return false;
  const a = line.charCodeAt(0);
  if (a < 0x41 || a > 0x5a) return false;
  for (let i = 1; i < 3; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

function count(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/** Why the message is not readable, or its parsed form. */
function check(lines: string[], seps: Hl7Separators, terminated: boolean): string | Message {
  const fs = seps.field;
  const segments = [new Segment('MSH', lines[0], fs)];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const shown = JSON.stringify(line.length > 20 ? `${line.slice(0, 20)}...` : line);
    if (!isSegmentName(line, fs)) {
      if (i === lines.length - 1 && !terminated) return `Segment ${i + 1} (${shown}) is cut off: the input ends in the middle of it`;
      return `Segment ${i + 1} (${shown}) is not an HL7 segment: a segment starts with a 3-character name (upper-case letters and digits) and then ${JSON.stringify(fs)}`;
    }
    const name = line.slice(0, 3);
    if (name === 'MSH') return `Segment ${i + 1} is a second MSH segment; each message must start with its own MSH`;
    segments.push(new Segment(name, line, fs));
  }
  if (segments.length === 1) return 'The message has only an MSH segment';
  if (!terminated) {
    const last = segments[segments.length - 1];
    const required = REQUIRED_FIELDS[last.name];
    const k = segments.length;
    if (required !== undefined && last.fieldCount < required) {
      return `Segment ${k} (${last.name}) is cut off: the input ends in the middle of it (${last.name} has ${last.fieldCount} fields; HL7 v2.5.1 requires ${last.name}-${required})`;
    }
    if (count(last.text, seps.escape) % 2 === 1) return `Segment ${k} (${last.name}) is cut off: the input ends inside an escape sequence`;
  }
  return new Message(seps, segments);
}

/**
 * A batch envelope segment (HL7 v2.5.1 section 2.10.3: FHS/BHS open a file or batch, BTS/FTS close
 * it): not part of any message. Files of HL7 messages often come wrapped in them.
 */
function isEnvelope(line: string): boolean {
  if (line.length < 3 || (line.length > 3 && NOT_SEPARATOR.test(line[3]))) return false;
  const name = line.slice(0, 3);
  return name === 'FHS' || name === 'BHS' || name === 'BTS' || name === 'FTS';
}

/** True when text before the first MSH is only batch headers (FHS, BHS) and blank lines. */
export function isEnvelopeOnly(text: string): boolean {
  const lines = splitSegments(text);
  return lines.length > 0 && lines.every(isEnvelope);
}

export function parseMessage(text: string, input: string, n: number, cutOff?: string): SourceRecord {
  const lines = splitSegments(text);
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x0b) end--;
  const lastChar = text.charCodeAt(end - 1);
  let terminated = lastChar === 0x0d || lastChar === 0x0a || lastChar === 0x1c;
  // Batch trailers (BTS, FTS) and the next batch's headers (BHS) after a message's segments close
  // it: they are left out of the message, whose last segment then ended before them.
  let kept = lines.length;
  while (kept > 1 && isEnvelope(lines[kept - 1])) kept--;
  if (kept < lines.length) {
    lines.length = kept;
    terminated = true;
  }
  const raw = lines.join('\r') + (terminated && lines.length > 0 ? '\r' : '');
  if (lines.length === 0) return { n, input, where: `message ${n}`, raw, error: 'The message is empty' };
  const meta = readMeta(lines[0]);
  const where = meta.controlId ? `message ${n} (MSH-10 ${meta.controlId})` : `message ${n}`;
  const base = { n, input, where, raw, meta };
  const seps = readSeparators(lines[0]);
  if (typeof seps === 'string') return { ...base, error: seps };
  const message = check(lines, seps, terminated);
  if (typeof message === 'string') return { ...base, error: message };
  if (cutOff) return { ...base, error: cutOff };
  return { ...base, scope: new Hl7Scope(message, where) };
}

/**
 * Parses one HL7 v2 message (segments separated by CR, LF or CRLF). A message that cannot be read
 * is returned with `error` (and with `meta` when its MSH could be read): no MSH first, bad encoding
 * characters, a segment whose name is not 3 upper-case letters/digits, a second MSH, only an MSH,
 * or a last segment cut off. Cut off means: the text does not end with a segment terminator, and
 * its last segment has fewer fields than HL7 v2.5.1 requires of it (for the common segments in
 * REQUIRED_FIELDS), or ends inside an escape sequence, or is not a whole segment name.
 */
export function parseHl7(text: string, options: { input: string; n: number }): SourceRecord {
  return parseMessage(stripBom(text), options.input, options.n);
}

/** A UTF-8 byte-order mark, as text or as its three bytes read one char per byte. */
const BOM = /^(?:\ufeff|\xef\xbb\xbf)/;
const BOM_AT_END = /(?:\ufeff|\xef\xbb\xbf)$/;
/** Drops a byte-order mark at the start of a message and one at its end (the next message's, in a file of files). */
export function stripBom(text: string): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (first !== 0xef && first !== 0xfeff && last !== 0xbf && last !== 0xfeff) return text;
  return text.replace(BOM, '').replace(BOM_AT_END, '');
}
