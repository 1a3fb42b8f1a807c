/**
 * The HL7 v2 reader (src/inbound/hl7v2.ts): messages of a stream as source records, values by
 * path with escapes decoded and positions, rejected messages (no MSH, garbage or cut-off
 * segments), and original-mode ACKs.
 */
import { buildAck, hl7Escape, hl7Unescape, nthPart, parseHl7, parseHl7Path } from '../../src/inbound/hl7v2';
import { readHl7 } from '../../src/inbound/hl7v2-stream';
import { InputError, type SourceRecord } from '../../src/inbound/source';

const DFT = [
  'MSH|^~\\&|EHR|RIVERBEND|PEERBRIDGE|PB|20260112103000-0600||DFT^P03^DFT_P03|MSG00001|P|2.5.1',
  'EVN|P03|20260112103000',
  'PID|1||300112^^^RB^MR~999-99-9999^^^SSA^SS||Whitfield^Dana^Q||19900101|F',
  'PV1|1|O',
  'FT1|1|||20260112||CG|H0038^Peer support\\T\\recovery^HCPCS|||4',
  'FT1|2|||20260113||CG|H0038^Group \\F\\ session^HCPCS|||2',
  'FT1|3|||20260114||CG|""^^HCPCS|||1',
].join('\r');

async function* stream(chunks: (string | Buffer)[]): AsyncGenerator<string | Buffer> {
  for (const c of chunks) yield c;
}

async function readAll(chunks: (string | Buffer)[]): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readHl7(stream(chunks), { input: 'feed.hl7' })) out.push(r);
  return out;
}

const parse = (text: string, n = 1) => parseHl7(text, { input: 'feed.hl7', n });
const values = (r: SourceRecord, path: string) => r.scope!.get(path).map((v) => v.value);

describe('paths', () => {
  const record = parse(DFT);

  it('reads the message', () => {
    expect(record.error).toBeUndefined();
    expect(record.meta).toEqual({ messageType: 'DFT^P03', controlId: 'MSG00001' });
    expect(record.where).toBe('message 1 (MSH-10 MSG00001)');
    expect(record.raw).toBe(DFT);
  });

  it.each<[string, unknown[]]>([
    ['MSH-1', ['|']],
    ['MSH-2', ['^~\\&']],
    ['MSH-3', ['EHR']],
    ['MSH-9', ['DFT^P03^DFT_P03']],
    ['MSH-9.1', ['DFT']],
    ['MSH-9.2', ['P03']],
    ['MSH-12', ['2.5.1']],
    ['PID-3', ['300112^^^RB^MR']],
    ['PID-3.1', ['300112']],
    ['PID-3[2].1', ['999-99-9999']],
    ['PID-3[*].1', ['300112', '999-99-9999']],
    ['PID-3[*].5', ['MR', 'SS']],
    ['PID-3[3].1', []],
    ['PID-5.1', ['Whitfield']],
    ['PID-5.2', ['Dana']],
    ['PID-5.1.1', ['Whitfield']],
    ['PID-5.1.2', []],
    ['PID-5.4', []],
    ['PID-2', []],
    ['PID-99', []],
    ['FT1-7.2', ['Peer support&recovery']],
    ['FT1[2]-7.2', ['Group | session']],
    ['FT1[3]-7.1', []],
    ['FT1[*]-10', ['4', '2', '1']],
    ['FT1[9]-10', []],
    ['ZZ1-1', []],
  ])('%s', (path, expected) => {
    expect(values(record, path)).toEqual(expected);
  });

  it('says where each value was read', () => {
    expect(record.scope!.get('PID-3[*].1').map((v) => v.at)).toEqual(['PID-3[1].1', 'PID-3[2].1']);
    expect(record.scope!.get('FT1[2]-7.1')[0].at).toBe('FT1[2]-7.1');
    expect(record.scope!.get('FT1-7.1')[0].at).toBe('FT1-7.1');
    expect(record.scope!.get('PID-3[2].1')[0].at).toBe('PID-3[2].1');
    expect(record.scope!.get('MSH-9.2')[0].at).toBe('MSH-9.2');
    expect(record.scope!.at).toBe('message 1 (MSH-10 MSG00001)');
  });

  it('lists segments: in each, its own paths read it and others read the message', () => {
    const ft1 = record.scope!.list('FT1');
    expect(ft1.map((s) => s.at)).toEqual(['FT1[1]', 'FT1[2]', 'FT1[3]']);
    expect(ft1.map((s) => s.get('FT1-10')[0])).toEqual([
      { value: '4', at: 'FT1[1]-10' },
      { value: '2', at: 'FT1[2]-10' },
      { value: '1', at: 'FT1[3]-10' },
    ]);
    expect(ft1[1].get('PID-3.1')).toEqual([{ value: '300112', at: 'PID-3.1' }]);
    expect(ft1[1].get('FT1[1]-10')).toEqual([{ value: '4', at: 'FT1[1]-10' }]);
    expect(record.scope!.list('FT1[*]')).toHaveLength(3);
    expect(record.scope!.list('OBX')).toEqual([]);
    expect(record.scope!.list('VISIT')).toEqual([]);
  });

  it('lists the repetitions of a field: in each, paths to that field read the current repetition', () => {
    const reps = record.scope!.list('PID-3[*]');
    expect(reps.map((s) => s.at)).toEqual(['PID-3[1]', 'PID-3[2]']);
    expect(reps.map((s) => [s.get('PID-3.1')[0], s.get('PID-3.4.1')[0], s.get('PID-3.5')[0]])).toEqual([
      [
        { value: '300112', at: 'PID-3[1].1' },
        { value: 'RB', at: 'PID-3[1].4.1' },
        { value: 'MR', at: 'PID-3[1].5' },
      ],
      [
        { value: '999-99-9999', at: 'PID-3[2].1' },
        { value: 'SSA', at: 'PID-3[2].4.1' },
        { value: 'SS', at: 'PID-3[2].5' },
      ],
    ]);
    // another field, or a repetition named, reads as usual
    expect(reps[1].get('PID-5.1')).toEqual([{ value: 'Whitfield', at: 'PID-5.1' }]);
    expect(reps[1].get('PID-3[1].1')).toEqual([{ value: '300112', at: 'PID-3[1].1' }]);
    // inside each: FT1, the repetitions of the current FT1's field
    expect(
      record
        .scope!.list('FT1')[1]
        .list('FT1-7[*]')
        .map((s) => s.get('FT1-7.1')[0]),
    ).toEqual([{ value: 'H0038', at: 'FT1[2]-7[1].1' }]);
    expect(record.scope!.list('PID-13[*]')).toEqual([]);
  });

  it('refuses a path that is not one', () => {
    expect(() => record.scope!.get('PID.3')).toThrow(/Not an HL7 v2 path: "PID.3"/);
    expect(() => record.scope!.get('PID-0')).toThrow(/Not an HL7 v2 path/);
    expect(parseHl7Path('FT1[2]-7[*].1.2')).toEqual({ segment: 'FT1', occurrence: 2, field: 7, repetition: '*', component: 1, subcomponent: 2 });
    expect(parseHl7Path('pid-3')).toBeUndefined();
  });

  it('uses the separators MSH declares', () => {
    const r = parse('MSH#*!/$#A#B#C#D#x##ADT*A04#ID1#P#2.5.1\rPID#1##a$b*c!d*e/F/f\r');
    expect(r.meta).toEqual({ messageType: 'ADT^A04', controlId: 'ID1' });
    expect(values(r, 'PID-3[*].1')).toEqual(['a$b', 'd']);
    expect(values(r, 'PID-3.1.2')).toEqual(['b']);
    expect(values(r, 'PID-3[2].2')).toEqual(['e#f']);
    expect(values(r, 'MSH-1')).toEqual(['#']);
  });
});

describe('escape sequences', () => {
  it.each<[string, string]>([
    ['a\\F\\b', 'a|b'],
    ['a\\S\\b\\T\\c\\R\\d\\E\\e', 'a^b&c~d\\e'],
    ['line one\\.br\\line two', 'line one\nline two'],
    ['\\X41\\\\X4243\\', 'ABC'],
    ['caf\\XC3A9\\', 'café'],
    ['\\H\\bold\\N\\', 'bold'],
    ['\\Zcustom\\ kept', '\\Zcustom\\ kept'],
    ['lone \\ escape', 'lone \\ escape'],
    ['a\\b\\F\\c', 'a\\b|c'],
  ])('%s', (text, expected) => {
    expect(hl7Unescape(text)).toBe(expected);
    const r = parse(`MSH|^~\\&|||||||ADT^A04|1|P|2.5.1\rNTE|1||${text}\r`);
    expect(values(r, 'NTE-3')).toEqual([expected]);
  });

  it('escapes what it writes', () => {
    expect(hl7Escape('a|b^c&d~e\\f\ng')).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g');
    expect(hl7Unescape(hl7Escape('x|^&~\\'))).toBe('x|^&~\\');
  });
});

describe('segment separators and framing', () => {
  const body = ['MSH|^~\\&|A|B|C|D|20260101||ADT^A04|M1|P|2.5.1', 'EVN|A04|20260101', 'PID|1||42^^^RB^MR||Doe^Jo'];
  it.each<[string, string]>([
    ['CR', body.join('\r') + '\r'],
    ['LF', body.join('\n') + '\n'],
    ['CRLF', body.join('\r\n') + '\r\n'],
    ['blank lines', '\n\n' + body.join('\r\n\r\n') + '\r\n\r\n\n'],
    ['MLLP framing', '\x0b' + body.join('\r') + '\r\x1c\r'],
  ])('%s', async (_name, text) => {
    const [r] = await readAll([text]);
    expect(r.error).toBeUndefined();
    expect(r.raw).toBe(body.join('\r') + '\r');
    expect(values(r, 'PID-5.2')).toEqual(['Jo']);
  });
});

describe('messages that cannot be read', () => {
  const MSH = 'MSH|^~\\&|A|B|C|D|20260101||ADT^A04|M1|P|2.5.1';
  it.each<[string, string, string, { messageType?: string; controlId?: string } | undefined]>([
    ['no MSH first', 'PID|1||42\rPV1|1|O\r', 'The message does not start with an MSH segment (it starts with "PID|1||42")', undefined],
    [
      'a bad field separator',
      'MSHX^~\\&|A\rPID|1\r',
      'MSH-1, the field separator, is "X": the message must start with "MSH|" (or another separator character)',
      undefined,
    ],
    [
      'bad encoding characters',
      'MSH|^^\\&|A|B|C|D|x||ADT^A04|M1|P|2.5.1\rPID|1\r',
      'MSH-2, the encoding characters, is "^^\\\\&": expected 4 different separator characters such as "^~\\&"',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
    [
      'a garbage segment',
      `${MSH}\rPID|1||42\rhello world\rPV1|1|O\r`,
      'Segment 3 ("hello world") is not an HL7 segment: a segment starts with a 3-character name (upper-case letters and digits) and then "|"',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
    [
      'a short segment name in the middle',
      `${MSH}\rPI\rPV1|1|O\r`,
      'Segment 2 ("PI") is not an HL7 segment: a segment starts with a 3-character name (upper-case letters and digits) and then "|"',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
    [
      'a lower-case segment name',
      `${MSH}\rpid|1\r`,
      'Segment 2 ("pid|1") is not an HL7 segment: a segment starts with a 3-character name (upper-case letters and digits) and then "|"',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
    ['only MSH', `${MSH}\r`, 'The message has only an MSH segment', { messageType: 'ADT^A04', controlId: 'M1' }],
    [
      'a cut-off segment name at the end',
      `${MSH}\rPID|1||42||Doe\rPV`,
      'Segment 3 ("PV") is cut off: the input ends in the middle of it',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
    [
      'a last segment with fewer fields than required and no terminator',
      `${MSH}\rPID|1||42`,
      'Segment 2 (PID) is cut off: the input ends in the middle of it (PID has 3 fields; HL7 v2.5.1 requires PID-5)',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
    [
      'a last segment cut inside an escape sequence',
      `${MSH}\rNTE|1||a \\F`,
      'Segment 2 (NTE) is cut off: the input ends inside an escape sequence',
      { messageType: 'ADT^A04', controlId: 'M1' },
    ],
  ])('%s', (_name, text, error, meta) => {
    const r = parse(text);
    expect(r.error).toBe(error);
    expect(r.scope).toBeUndefined();
    expect(r.meta).toEqual(meta ?? {});
  });

  it('accepts a complete last segment without a terminator, and a short one with a terminator', () => {
    expect(parse(`${MSH}\rPID|1||42||Doe`).error).toBeUndefined();
    expect(parse(`${MSH}\rPID|1||42\r`).error).toBeUndefined();
    expect(parse(`${MSH}\rNTE|1`).error).toBeUndefined();
  });
});

describe('a stream of messages', () => {
  const message = (id: string, extra = '') =>
    `MSH|^~\\&|A|B|C|D|20260101||SIU^S12|${id}|P|2.5.1\rSCH|1|${id}||||R^Routine\rPID|1||${id}^^^RB^MR||Doe^Jo${extra}\r`;

  it('reads every message, rejects bad ones and goes on', async () => {
    const text = [message('M1'), 'MSH|^~\\&|A|B|C|D|x||ADT^A04|M2|P|2.5.1\rXX\r', message('M3'), 'MSH|^~\\&|A|B|C|D|x||SIU^S12|M4|P|2.5.1\rPID|1||4'].join(
      '\n',
    );
    const records = await readAll([text]);
    expect(records.map((r) => [r.n, r.where, r.error ?? 'ok'])).toEqual([
      [1, 'message 1 (MSH-10 M1)', 'ok'],
      [2, 'message 2 (MSH-10 M2)', expect.stringMatching(/^Segment 2 \("XX"\) is not an HL7 segment/)],
      [3, 'message 3 (MSH-10 M3)', 'ok'],
      [4, 'message 4 (MSH-10 M4)', expect.stringMatching(/^Segment 2 \(PID\) is cut off/)],
    ]);
    expect(values(records[2], 'PID-3.1')).toEqual(['M3']);
    expect(records[0].raw).toBe(message('M1'));
  });

  it('gives the same messages however the input is cut', async () => {
    const text = '\x0b' + [message('M1', ' \\T\\ Zoë'), message('M2'), message('M3')].join('\x1c\r\x0b') + '\x1c\r';
    const bytes = Buffer.from(text);
    const expected = (await readAll([bytes])).map((r) => ({ where: r.where, raw: r.raw, error: r.error, name: values(r, 'PID-5.2') }));
    expect(expected.map((r) => r.name)).toEqual([['Jo & Zoë'], ['Jo'], ['Jo']]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const records = await readAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect({ cut, records: records.map((r) => ({ where: r.where, raw: r.raw, error: r.error, name: values(r, 'PID-5.2') })) }).toEqual({
        cut,
        records: expected,
      });
    }
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect((await readAll(chunks)).map((r) => ({ where: r.where, raw: r.raw, error: r.error, name: values(r, 'PID-5.2') }))).toEqual(expected);
    }
  });

  it('rejects an MLLP-framed message whose end block never comes', async () => {
    const records = await readAll([`\x0b${message('M1')}\x1c\r\x0b${message('M2')}`]);
    expect(records.map((r) => r.error)).toEqual([undefined, 'The message is cut off: the input ends before its MLLP end block (0x1C)']);
  });

  it('rejects text before the first MSH as a record of its own', async () => {
    const records = await readAll([`garbage line\r\n${message('M1')}`]);
    expect(records.map((r) => [r.n, r.where, r.raw, r.error])).toEqual([
      [1, 'message 1', 'garbage line', 'Text before the first MSH segment: it is not an HL7 message'],
      [2, 'message 2 (MSH-10 M1)', message('M1'), undefined],
    ]);
  });

  it('leaves batch envelopes (FHS, BHS, BTS, FTS) out: no reject for the header, no trailer in the last message', async () => {
    const text = `FHS|^~\\&|EHR|RB|PB|PB|20260105\rBHS|^~\\&|EHR|RB|PB|PB|20260105\r${message('M1')}${message('M2')}BTS|2\rBHS|^~\\&|EHR\r${message('M3', ' Zoë')}BTS|1\rFTS|2\r`;
    const expected = [
      ['message 1 (MSH-10 M1)', message('M1'), undefined],
      ['message 2 (MSH-10 M2)', message('M2'), undefined],
      ['message 3 (MSH-10 M3)', message('M3', ' Zoë'), undefined],
    ];
    const brief = (records: SourceRecord[]) => records.map((r) => [r.where, r.raw, r.error]);
    expect(brief(await readAll([text]))).toEqual(expected);
    expect(brief(await readAll([text.replace(/\r/g, '\n')]))).toEqual(expected);
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut += 7) expect(brief(await readAll([bytes.subarray(0, cut), bytes.subarray(cut)]))).toEqual(expected);
    // the trailer closes the last message: its last segment was not cut off
    expect(brief(await readAll([`${message('M1')}PID|1||9\rBTS|1`]))).toEqual([['message 1 (MSH-10 M1)', `${message('M1')}PID|1||9\r`, undefined]]);
    // an empty batch is no message, and no error
    expect(await readAll(['FHS|^~\\&|EHR\rBHS|^~\\&|EHR\rBTS|0\rFTS|1\r'])).toEqual([]);
    // other text before the first MSH is still a reject, envelope and all
    expect((await readAll([`FHS|^~\\&|EHR\rjunk\r${message('M1')}`]))[0]).toMatchObject({
      where: 'message 1',
      error: 'Text before the first MSH segment: it is not an HL7 message',
    });
  });

  it('throws InputError for an input with no MSH at all, and reads nothing from an empty one', async () => {
    await expect(readAll(['hello,world\n1,2\n'])).rejects.toThrow(new InputError('feed.hl7 is not HL7 v2: there is no MSH segment', 'message 1'));
    expect(await readAll(['\r\n \n'])).toEqual([]);
  });

  it('decodes bytes as UTF-8, as Latin-1 when MSH-18 says 8859/1, and as Windows-1252 when not UTF-8', async () => {
    const utf8 = Buffer.from(message('M1', ' Zoë'));
    const declared = Buffer.from(`MSH|^~\\&|A|B|C|D|x||ADT^A04|M2|P|2.5.1||||||8859/1\rPID|1||2||Jos\xe9\r`, 'latin1');
    const undeclared = Buffer.from(`MSH|^~\\&|A|B|C|D|x||ADT^A04|M3|P|2.5.1\rPID|1||3||\x93Jos\xe9\x94\r`, 'latin1');
    const records = await readAll([utf8, declared, undeclared]);
    expect(records.map((r) => values(r, 'PID-5')[0])).toEqual(['Doe^Jo Zoë', 'José', '\u201cJosé\u201d']);
  });

  it('drops a UTF-8 byte-order mark before a message: at the start, after an MLLP start block, and before each message of a file of files', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const records = await readAll([
      Buffer.concat([
        bom,
        Buffer.from(message('M1', ' Zoë')),
        bom,
        Buffer.from(message('M2')),
        Buffer.from('\x0b'),
        bom,
        Buffer.from(message('M3')),
        Buffer.from('\x1c\r'),
      ]),
    ]);
    expect(records.map((r) => [r.error, r.meta?.controlId])).toEqual([
      [undefined, 'M1'],
      [undefined, 'M2'],
      [undefined, 'M3'],
    ]);
    expect(values(records[0], 'PID-5')).toEqual(['Doe^Jo Zoë']);
    expect(records[0].raw.startsWith('MSH|')).toBe(true);
    // as text (a decoded body), and split across chunks
    expect((await readAll([`\ufeff${message('M4')}`]))[0]).toMatchObject({ meta: { controlId: 'M4' } });
    expect((await readAll([bom.subarray(0, 2), Buffer.concat([bom.subarray(2), Buffer.from(message('M5'))])]))[0]).toMatchObject({ meta: { controlId: 'M5' } });
    expect(parse(`\ufeff${message('M6')}`)).toMatchObject({ meta: { controlId: 'M6' } });
    expect(parse(`\ufeff${message('M6')}`).error).toBeUndefined();
  });

  it('decodes bytes as MSH-18 says (table 0211: 8859/n, UNICODE UTF-8, ASCII, common spellings) and rejects a character set it cannot read, naming it', async () => {
    const msg = (id: string, charset: string, name: string): Buffer =>
      Buffer.from(`MSH|^~\\&|A|B|C|D|x||ADT^A04|${id}|P|2.5.1||||||${charset}\rPID|1||2||${name}\r`, 'latin1');
    const records = await readAll([
      msg('L1', '8859/1', 'Jos\xe9^Ren\xe9e'),
      msg('L2', 'ISO-8859-1', 'M\xfcller'),
      msg('L9', '8859/2', '\xa3uk\xb1sz'),
      msg('U1', 'UNICODE UTF-8', Buffer.from('Zoë').toString('latin1')),
      msg('A1', 'ASCII', 'Plain'),
      msg('A2', 'ASCII~8859/1', 'Plain'),
      msg('X1', 'EBCDIC', 'Jos\xe9'),
      msg('X2', 'UNICODE UTF-16', 'Jo'),
    ]);
    expect(records.slice(0, 6).map((r) => [r.error, values(r, 'PID-5')[0]])).toEqual([
      [undefined, 'José^Renée'],
      [undefined, 'Müller'],
      [undefined, 'Łukąsz'],
      [undefined, 'Zoë'],
      [undefined, 'Plain'],
      [undefined, 'Plain'],
    ]);
    expect(records[6]).toMatchObject({
      meta: { controlId: 'X1' },
      error: expect.stringMatching(
        /^MSH-18 \(character set\) is "EBCDIC": not a character set of HL7 table 0211; the message was not read\. Supported: ASCII, UNICODE UTF-8/,
      ),
    });
    expect(records[6].raw).toContain('José');
    expect(records[7].error).toMatch(/^MSH-18 \(character set\) is "UNICODE UTF-16": a character set PeerBridge does not read/);
    // text needs no decoding, but an unknown character set is refused as text too (a reject retried as text)
    const asText = await readAll([
      `MSH|^~\\&|A|B|C|D|x||ADT^A04|T1|P|2.5.1||||||EBCDIC\rPID|1||2||José\r`,
      `MSH|^~\\&|A|B|C|D|x||ADT^A04|T2|P|2.5.1||||||8859/1\rPID|1||2||José\r`,
    ]);
    expect(asText[0].error).toMatch(/^MSH-18 \(character set\) is "EBCDIC"/);
    expect([asText[1].error, values(asText[1], 'PID-5')]).toEqual([undefined, ['José']]);
  });

  it('yields messages before the input ends', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<string> {
      for (let i = 0; ; i++) {
        pulled++;
        yield message(`M${i}`);
      }
    }
    const it = readHl7(endless(), { input: 'stream' });
    expect((await it.next()).value).toMatchObject({ n: 1, where: 'message 1 (MSH-10 M0)' });
    expect(pulled).toBeLessThan(4);
    await it.return(undefined);
  });
});

describe('buildAck', () => {
  const now = new Date(Date.UTC(2026, 0, 12, 16, 30, 5));
  const original = parse('MSH|^~\\&|EHR^1.2.3^ISO|RIVERBEND|PEERBRIDGE|PB|20260112||SIU^S12^SIU_S12|MSG00042|T|2.5.1\rSCH|1\rPID|1||42\r');

  it('accepts (AA) with sender and receiver swapped', () => {
    expect(buildAck(original, 'AA', [], { now, controlId: 'ACK1' }).split('\r')).toEqual([
      'MSH|^~\\&|PEERBRIDGE|PB|EHR^1.2.3^ISO|RIVERBEND|20260112163005+0000||ACK^S12^ACK|ACK1|T|2.5.1',
      'MSA|AA|MSG00042',
      '',
    ]);
  });

  it('reports errors (AE) as ERR segments, escaping the text', () => {
    const ack = buildAck(
      original,
      'AE',
      [
        { message: 'Unknown code "X|Y^Z" in table contact-mode & more\nsecond line', where: 'FT1[2]-7.1', code: '103' },
        { message: 'PID-3.1 is required', where: 'PID-3.1', code: '101' },
        { message: 'Something failed', where: 'message 1 (MSH-10 MSG00042)' },
      ],
      { now, controlId: 'ACK2' },
    );
    expect(ack.split('\r')).toEqual([
      'MSH|^~\\&|PEERBRIDGE|PB|EHR^1.2.3^ISO|RIVERBEND|20260112163005+0000||ACK^S12^ACK|ACK2|T|2.5.1',
      'MSA|AE|MSG00042',
      'ERR||FT1^2^7^1^1|103^Table value not found^HL70357|E||||Unknown code "X\\F\\Y\\S\\Z" in table contact-mode \\T\\ more\\.br\\second line',
      'ERR||PID^1^3^1^1|101^Required field missing^HL70357|E||||PID-3.1 is required',
      'ERR|||207^Application internal error^HL70357|E|||message 1 (MSH-10 MSG00042)|Something failed',
      '',
    ]);
    // The ACK is itself a readable message.
    const back = parse(ack);
    expect(back.error).toBeUndefined();
    expect(back.scope!.get('ERR-8')[0].value).toBe('Unknown code "X|Y^Z" in table contact-mode & more\nsecond line');
    expect(back.meta).toEqual({ messageType: 'ACK^S12', controlId: 'ACK2' });
  });

  it('rejects (AR) a message that could not be read, with defaults', () => {
    const broken = parse('hello\rworld\r');
    expect(broken.error).toBeDefined();
    expect(buildAck(broken, 'AR', [{ message: broken.error!, code: '100' }], { now, controlId: 'ACK3' }).split('\r')).toEqual([
      'MSH|^~\\&|PEERBRIDGE||||20260112163005+0000||ACK|ACK3|P|2.5.1',
      'MSA|AR|',
      'ERR|||100^Segment sequence error^HL70357|E||||The message does not start with an MSH segment (it starts with "hello")',
      '',
    ]);
  });

  it('works without an original, with options and a whole CWE code', () => {
    const ack = buildAck(undefined, 'AR', [{ message: 'x', code: '200^Unsupported message type^HL70357' }], {
      now,
      sendingApplication: 'PB^X',
      sendingFacility: 'F',
    });
    const [msh, msa, err] = ack.split('\r');
    expect(msh).toMatch(/^MSH\|\^~\\&\|PB\\S\\X\|F\|\|\|20260112163005\+0000\|\|ACK\|\w{20}\|P\|2\.5\.1$/);
    expect(msa).toBe('MSA|AR|');
    expect(err).toBe('ERR|||200^Unsupported message type^HL70357|E||||x');
  });

  it('re-encodes the fields of a message with other separators', () => {
    const other = parse('MSH#*!/$#APP*1.2#FAC#RCV#RF#x##ADT*A04#ID9#P#2.3\rPID#1\r');
    expect(buildAck(other, 'AA', [], { now, controlId: 'A' }).split('\r')[0]).toBe('MSH|^~\\&|RCV|RF|APP^1.2|FAC|20260112163005+0000||ACK^A04^ACK|A|P|2.3');
  });
});

describe('nthPart', () => {
  it('is split(sep)[n - 1], for every n around the parts of a text', () => {
    const texts = ['', 'a', 'a^b', '^', '^^', 'a^', '^b', 'a^^c', 'ab^cd^ef', '😀^x'];
    for (const sep of ['^', '&', '😀', '']) {
      for (const text of texts) {
        for (const n of [-1, 0, 1, 2, 3, 4, 1.5, NaN]) {
          expect([text, sep, n, nthPart(text, sep, n)]).toEqual([text, sep, n, text.split(sep)[n - 1]]);
        }
      }
    }
  });
});
