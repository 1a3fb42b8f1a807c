/**
 * HL7 v2 acknowledgments (HL7 v2.5.1 section 2.9, "Message processing rules": original-mode ACK
 * 2.9.2; MSA, ERR in chapter 2.15; https://www.hl7.eu/HL7v2x/v251/std251/ch02.html): what the
 * MLLP listener answers each message with.
 */
import { randomUUID } from 'node:crypto';
import { hl7Escape, hl7Unescape, parseHl7Path, readSeparators, Segment, type Hl7Separators } from './hl7v2-syntax';
import type { SourceRecord } from './source';

/** HL7 table 0357 (message error condition codes) used in ERR-3. */
const ERROR_CODES: Record<string, string> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

export interface AckError {
  message: string;
  /** An HL7 path (`PID-3.1`, `FT1[2]-7`) goes to ERR-2 as an error location; other text to ERR-7. */
  where?: string;
  /** HL7 table 0357 code (default 207), or a whole CWE `code^text^system`. */
  code?: string;
  /** ERR-4 (HL7 table 0516): E error (default), W warning, I information. */
  severity?: 'E' | 'W' | 'I';
}

export interface AckOptions {
  /** MSH-3 of the ACK (default: the original's MSH-5, else PEERBRIDGE). */
  sendingApplication?: string;
  /** MSH-4 of the ACK (default: the original's MSH-6). */
  sendingFacility?: string;
  now?: Date;
  /** MSH-10 of the ACK (default: a random 20-character id). */
  controlId?: string;
}

function hl7Timestamp(d: Date): string {
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}

/** A field of the original message, re-encoded with the standard separators (components and subcomponents kept). */
function reencode(text: string | undefined, from: Hl7Separators): string {
  if (!text) return '';
  return text
    .split(from.repetition)
    .map((rep) =>
      rep
        .split(from.component)
        .map((c) =>
          c
            .split(from.subcomponent)
            .map((s) => hl7Escape(hl7Unescape(s, from)))
            .join('&'),
        )
        .join('^'),
    )
    .join('~');
}

/** ERR-2 (ERL) from an HL7 path: segment^occurrence^field^repetition[^component[^subcomponent]]. */
function errorLocation(where: string | undefined): string | undefined {
  const p = where === undefined ? undefined : parseHl7Path(where);
  if (!p) return undefined;
  const k = typeof p.occurrence === 'number' ? p.occurrence : 1;
  const r = typeof p.repetition === 'number' ? p.repetition : 1;
  return [p.segment, k, p.field, r, p.component, p.subcomponent].filter((v) => v !== undefined).join('^');
}

/**
 * An HL7 v2.5.1 original-mode ACK for a message (v2.5.1 section 2.9.2): MSH with sender and
 * receiver swapped, `ACK^<trigger>^ACK`, a new control id and the original's processing id and
 * version; MSA with the code and the original's control id; one ERR per error. Works without an
 * original (or with one whose MSH cannot be read): then defaults are used. Segments end with CR.
 */
export function buildAck(message: SourceRecord | undefined, code: 'AA' | 'AE' | 'AR', errors: AckError[] = [], options: AckOptions = {}): string {
  const msh = message?.raw.split(/[\r\n]/, 1)[0] ?? '';
  const parsed = readSeparators(msh);
  const seps = typeof parsed === 'string' ? undefined : parsed;
  const original = seps ? new Segment('MSH', msh, seps.field) : undefined;
  const field = (f: number): string => (original && seps ? reencode(original.field(f), seps) : '');
  const first = (f: number): string => field(f).split('^')[0];
  const trigger = seps && original ? hl7Unescape((original.field(9) ?? '').split(seps.repetition)[0].split(seps.component)[1] ?? '', seps) : '';
  const controlId = options.controlId ?? randomUUID().replace(/-/g, '').slice(0, 20);
  const header = [
    'MSH',
    '^~\\&',
    options.sendingApplication !== undefined ? hl7Escape(options.sendingApplication) : field(5) || 'PEERBRIDGE',
    options.sendingFacility !== undefined ? hl7Escape(options.sendingFacility) : field(6),
    field(3),
    field(4),
    hl7Timestamp(options.now ?? new Date()),
    '',
    trigger ? `ACK^${hl7Escape(trigger)}^ACK` : 'ACK',
    hl7Escape(controlId),
    first(11) || 'P',
    first(12) || '2.5.1',
  ];
  const originalId = seps && original ? hl7Unescape(original.field(10) ?? '', seps) : (message?.meta?.controlId ?? '');
  const segments = [header.join('|'), `MSA|${code}|${hl7Escape(originalId)}`];
  for (const e of errors) {
    const errCode = e.code ?? '207';
    const cwe = errCode.includes('^')
      ? errCode
          .split('^')
          .map((c) => hl7Escape(c))
          .join('^')
      : `${hl7Escape(errCode)}^${hl7Escape(ERROR_CODES[errCode] ?? '')}^HL70357`;
    const location = errorLocation(e.where);
    const diagnostic = location === undefined && e.where ? hl7Escape(e.where) : '';
    segments.push(['ERR', '', location ?? '', cwe, e.severity ?? 'E', '', '', diagnostic, hl7Escape(e.message)].join('|'));
  }
  return segments.join('\r') + '\r';
}
