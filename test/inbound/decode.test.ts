/**
 * Byte decoding shared by the readers (src/inbound/decode.ts): UTF-8 or Windows-1252, decided on
 * the first 64 KiB, per-line fallback after that, and the same text however bytes are chunked.
 */
import { countLineBreaks, decodeChunks, decodeWindows1252, utf8CompleteLength, type DecodeOptions, type InvalidUtf8 } from '../../src/inbound/decode';

async function decode(chunks: (Buffer | string)[], options: DecodeOptions = {}): Promise<{ text: string; events: InvalidUtf8[] }> {
  const events: InvalidUtf8[] = [];
  let text = '';
  for await (const t of decodeChunks(chunks, { ...options, onInvalidUtf8: (e) => events.push(e) })) text += t;
  return { text, events };
}

function cut(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('helpers', () => {
  it('maps 0x80-0x9F as Windows-1252, the rest as Latin-1', () => {
    expect(decodeWindows1252(Buffer.from([0x80, 0x93, 0x94, 0x81, 0x9f, 0xe9, 0x41]))).toBe('\u20ac\u201c\u201d\u0081\u0178\u00e9A');
  });

  it.each<[number[], number]>([
    [[0x41, 0x42], 2],
    [[0x41, 0xc3], 1],
    [[0x41, 0xc3, 0xa9], 3],
    [[0x41, 0xe2, 0x82], 1],
    [[0xf0, 0x9f, 0x98], 0],
    [[0xf0, 0x9f, 0x98, 0x80], 4],
  ])('utf8CompleteLength(%j) = %i', (bytes, expected) => {
    expect(utf8CompleteLength(Uint8Array.from(bytes))).toBe(expected);
  });

  it('counts LF, CRLF and lone CR once each', () => {
    expect(countLineBreaks(Buffer.from('a\nb\r\nc\rd\r\n\n'))).toBe(5);
    expect(countLineBreaks(Buffer.from('no breaks'))).toBe(0);
  });
});

describe('decodeChunks', () => {
  const text = 'Zoë\r\n€ 😀\rlast line';
  const bytes = Buffer.from(text);

  it('gives the same text for any cut of UTF-8 bytes', async () => {
    for (let size = 1; size <= bytes.length; size++) expect(await decode(cut(bytes, size))).toEqual({ text, events: [] });
  });

  it('drops a byte-order mark from bytes and from text', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    for (let size = 1; size <= 4; size++) expect((await decode(cut(Buffer.concat([bom, bytes]), size))).text).toBe(text);
    expect((await decode(['\ufeffabc'])).text).toBe('abc');
  });

  it('reads a whole input as Windows-1252 when its start is not UTF-8', async () => {
    const latin = Buffer.from('ok\nJos\xe9\n\x93q\x94', 'latin1');
    for (const size of [1, 2, latin.length])
      expect(await decode(cut(latin, size))).toEqual({ text: 'ok\nJosé\n\u201cq\u201d', events: [{ line: 2, action: 'input-latin1' }] });
    expect(await decode([latin], { encoding: 'latin1' })).toEqual({ text: 'ok\nJosé\n\u201cq\u201d', events: [] });
  });

  it('decodes only the bad line another way after the sample', async () => {
    const bytes2 = Buffer.concat([Buffer.from('é1\né2\n'), Buffer.from('Jos\xe9\r\n', 'latin1'), Buffer.from('é4')]);
    for (const size of [1, 3, bytes2.length]) {
      expect(await decode(cut(bytes2, size), { sampleBytes: 4 })).toEqual({ text: 'é1\né2\nJosé\r\né4', events: [{ line: 3, action: 'line-latin1' }] });
      expect(await decode(cut(bytes2, size), { encoding: 'utf8' })).toEqual({
        text: 'é1\né2\nJos\ufffd\r\né4',
        events: [{ line: 3, action: 'line-replaced' }],
      });
    }
  });

  it('gathers many small chunks without copying them over and over', async () => {
    const big = Buffer.from('abcdefghé\n'.repeat(8000));
    const started = Date.now();
    expect((await decode(cut(big, 1))).text).toBe(big.toString());
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
