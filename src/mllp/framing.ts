/**
 * MLLP framing (HL7 Minimal Lower Layer Protocol, release 2; HL7 v2.5.1 Implementation Guide:
 * Transport Specification: MLLP, https://www.hl7.org/implement/standards/product_brief.cfm?product_id=55):
 * every message travels as `<SB> message <EB><CR>`, SB = 0x0B, EB = 0x1C, CR = 0x0D. The
 * content may not contain SB or EB (HL7 v2 never puts these control characters in a message).
 *
 * The decoder is incremental (TCP delivers bytes in arbitrary pieces) and knows nothing of HL7:
 * - bytes outside a frame are skipped and reported (`skipped`);
 * - an SB inside a frame means the sender gave up on the frame and started again: the partial
 *   frame is discarded and reported (`restarted`), it was never acknowledged;
 * - an EB not followed by CR is kept as content (release 2 ends a frame with EB CR only);
 * - a frame whose content grows beyond `maxMessageBytes` is reported once (`oversize`) as soon as
 *   the limit is passed, without buffering the rest, and the decoder stops: after an unfinished
 *   frame there is no safe place to resynchronise.
 */

export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

export type DecodeEvent =
  | { kind: 'message'; message: Buffer }
  | { kind: 'skipped'; bytes: number }
  | { kind: 'restarted'; discardedBytes: number }
  | { kind: 'oversize'; bytes: number };

/** Wraps a payload (a string is encoded as UTF-8) in an MLLP frame. */
export function frame(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = START_BLOCK;
  body.copy(out, 1);
  out[body.length + 1] = END_BLOCK;
  out[body.length + 2] = CARRIAGE_RETURN;
  return out;
}

/** Incremental MLLP frame decoder: `push` each received chunk, act on the events in order. */
export class MllpDecoder {
  private inFrame = false;
  private parts: Buffer[] = [];
  private size = 0;
  /** The last byte seen inside the frame was EB, at the end of a chunk: CR may follow in the next. */
  private pendingEnd = false;
  private stopped = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** True while a frame has started and not ended. */
  get inProgress(): boolean {
    return this.inFrame;
  }

  /** Content bytes of the unfinished frame held so far. */
  get partialBytes(): number {
    return this.size + (this.pendingEnd ? 1 : 0);
  }

  /** True once an oversize frame was reported; later chunks are ignored. */
  get failed(): boolean {
    return this.stopped;
  }

  push(chunk: Buffer): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    let i = 0;
    // Position of the next SB at or after i (-1: none left in this chunk), found once per SB.
    let nextStart = -2;
    while (i < chunk.length && !this.stopped) {
      if (!this.inFrame) {
        const start = chunk.indexOf(START_BLOCK, i);
        const skipped = (start === -1 ? chunk.length : start) - i;
        if (skipped > 0) events.push({ kind: 'skipped', bytes: skipped });
        if (start === -1) break;
        this.inFrame = true;
        i = start + 1;
        continue;
      }
      if (this.pendingEnd) {
        this.pendingEnd = false;
        if (chunk[i] === CARRIAGE_RETURN) {
          events.push(this.finish());
          i += 1;
          continue;
        }
        if (!this.append(Buffer.of(END_BLOCK), events)) break;
      }
      if (nextStart !== -1 && nextStart < i) nextStart = chunk.indexOf(START_BLOCK, i);
      const end = chunk.indexOf(END_BLOCK, i);
      const stop = end === -1 ? nextStart : nextStart === -1 ? end : Math.min(end, nextStart);
      if (stop === -1) {
        this.append(chunk.subarray(i), events);
        break;
      }
      if (!this.append(chunk.subarray(i, stop), events)) break;
      if (stop === nextStart) {
        events.push({ kind: 'restarted', discardedBytes: this.size });
        this.reset();
        this.inFrame = true;
        i = stop + 1;
      } else if (stop + 1 === chunk.length) {
        this.pendingEnd = true;
        i = stop + 1;
      } else if (chunk[stop + 1] === CARRIAGE_RETURN) {
        events.push(this.finish());
        i = stop + 2;
      } else {
        if (!this.append(chunk.subarray(stop, stop + 1), events)) break;
        i = stop + 1;
      }
    }
    return events;
  }

  /** Adds content to the current frame; false (and an `oversize` event) past the limit. */
  private append(part: Buffer, events: DecodeEvent[]): boolean {
    if (part.length === 0) return true;
    const size = this.size + part.length;
    if (size > this.maxMessageBytes) {
      events.push({ kind: 'oversize', bytes: size });
      this.reset();
      this.stopped = true;
      return false;
    }
    this.parts.push(part);
    this.size = size;
    return true;
  }

  private finish(): DecodeEvent {
    // concat copies, so the message does not pin the socket's (possibly much larger) chunks.
    const message = Buffer.concat(this.parts, this.size);
    this.reset();
    return { kind: 'message', message };
  }

  private reset(): void {
    this.inFrame = false;
    this.parts = [];
    this.size = 0;
    this.pendingEnd = false;
  }
}
