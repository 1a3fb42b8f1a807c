import { END_BLOCK, frame, MllpDecoder, START_BLOCK, type DecodeEvent } from '../../src/mllp/framing';

const SB = Buffer.of(START_BLOCK);
const EB_CR = Buffer.of(END_BLOCK, 0x0d);

function messages(events: DecodeEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'message' ? [e.message.toString('latin1')] : []));
}

/** Feeds `input` to a fresh decoder cut at every position in `cuts`. */
function decodeInPieces(input: Buffer, pieceSize: number, max = 1024): DecodeEvent[] {
  const decoder = new MllpDecoder(max);
  const events: DecodeEvent[] = [];
  for (let i = 0; i < input.length; i += pieceSize) events.push(...decoder.push(input.subarray(i, i + pieceSize)));
  return events;
}

describe('MLLP framing', () => {
  it('frames a payload as SB payload EB CR, a string as UTF-8', () => {
    expect(frame('A\rü')).toEqual(Buffer.concat([SB, Buffer.from('A\rü', 'utf8'), EB_CR]));
    expect(frame(Buffer.alloc(0))).toEqual(Buffer.of(0x0b, 0x1c, 0x0d));
  });

  it.each([1, 2, 3, 7, 1000])('decodes the same frames whatever the piece size (%i bytes)', (size) => {
    const input = Buffer.concat([frame('one\r'), frame('two\r'), frame(''), frame('three\r')]);
    expect(messages(decodeInPieces(input, size))).toEqual(['one\r', 'two\r', '', 'three\r']);
  });

  it('reports bytes outside frames as skipped and still decodes the frames', () => {
    const input = Buffer.concat([Buffer.from('junk'), frame('one'), Buffer.from('\r\n'), frame('two'), Buffer.from('x')]);
    const events = new MllpDecoder(100).push(input);
    expect(events.map((e) => e.kind)).toEqual(['skipped', 'message', 'skipped', 'message', 'skipped']);
    expect(events.filter((e) => e.kind === 'skipped').map((e) => (e.kind === 'skipped' ? e.bytes : 0))).toEqual([4, 2, 1]);
  });

  it('keeps an EB not followed by CR as content, also across pieces', () => {
    const input = Buffer.concat([SB, Buffer.from('a'), Buffer.of(END_BLOCK), Buffer.from('b'), EB_CR]);
    for (const size of [1, 2, 3, 100]) expect(messages(decodeInPieces(input, size))).toEqual(['a\x1cb']);
  });

  it('ends a frame when EB ends one piece and CR starts the next', () => {
    const decoder = new MllpDecoder(100);
    expect(decoder.push(Buffer.from('\x0bmsg\x1c'))).toEqual([]);
    expect(decoder.inProgress).toBe(true);
    expect(messages(decoder.push(Buffer.from('\r')))).toEqual(['msg']);
    expect(decoder.inProgress).toBe(false);
  });

  it('discards an unfinished frame when a new start block arrives', () => {
    const input = Buffer.concat([SB, Buffer.from('partial'), frame('whole')]);
    const events = decodeInPieces(input, 3);
    expect(events.find((e) => e.kind === 'restarted')).toEqual({ kind: 'restarted', discardedBytes: 7 });
    expect(messages(events)).toEqual(['whole']);
  });

  it('reports an oversize frame once, as soon as the limit is passed, and stops', () => {
    const decoder = new MllpDecoder(10);
    const events = decoder.push(Buffer.concat([frame('ok'), SB, Buffer.alloc(11, 0x41)]));
    expect(events).toEqual([
      { kind: 'message', message: Buffer.from('ok') },
      { kind: 'oversize', bytes: 11 },
    ]);
    expect(decoder.failed).toBe(true);
    expect(decoder.push(frame('later'))).toEqual([]);
  });

  it('accepts a frame of exactly the limit', () => {
    expect(messages(new MllpDecoder(10).push(frame('0123456789')))).toEqual(['0123456789']);
    expect(new MllpDecoder(10).push(frame('0123456789' + '\x1c'))).toEqual([{ kind: 'oversize', bytes: 11 }]);
  });

  it('copies messages out of the received chunks', () => {
    const chunk = Buffer.from(frame('abc'));
    const [event] = new MllpDecoder(10).push(chunk);
    chunk.fill(0);
    expect(event).toEqual({ kind: 'message', message: Buffer.from('abc') });
  });
});
