/**
 * The CSV reader (src/inbound/csv.ts): RFC 4180 rows as source records, rejected rows with the
 * reason and reading going on, header checks before any record, encodings, and the same records
 * however the input is cut into chunks.
 */
import { readCsv, type CsvReadOptions } from '../../src/inbound/csv';
import { InputError, type SourceRecord } from '../../src/inbound/source';

type Chunk = string | Buffer;

/** A record as the tests compare it: cells by column for readable rows, raw and error for rejected ones. */
type Seen = { n: number; where: string; cells: Record<string, string> } | { n: number; where: string; raw: string; error: string };

async function* stream(chunks: Chunk[]): AsyncGenerator<Chunk> {
  for (const c of chunks) yield c;
}

function columnsOf(record: SourceRecord, delimiter = ','): string[] {
  return (record.meta?.header ?? '').split(delimiter).map((c) => c.trim().replace(/^"|"$/g, ''));
}

function seen(record: SourceRecord, delimiter?: string): Seen {
  if (record.error !== undefined) return { n: record.n, where: record.where, raw: record.raw, error: record.error };
  const cells: Record<string, string> = {};
  for (const c of columnsOf(record, delimiter)) cells[c] = String(record.scope!.get(c)[0]?.value);
  return { n: record.n, where: record.where, cells };
}

async function read(chunks: Chunk | Chunk[], options: Partial<CsvReadOptions> = {}): Promise<{ records: SourceRecord[]; warnings: string[] }> {
  const warnings: string[] = [];
  const records: SourceRecord[] = [];
  for await (const r of readCsv(stream(Array.isArray(chunks) ? chunks : [chunks]), { input: 'contacts.csv', onWarning: (w) => warnings.push(w), ...options }))
    records.push(r);
  return { records, warnings };
}

async function readSeen(chunks: Chunk | Chunk[], options: Partial<CsvReadOptions> = {}): Promise<Seen[]> {
  return (await read(chunks, options)).records.map((r) => seen(r, options.delimiter));
}

describe('rows and cells', () => {
  it.each<[string, string, Seen[]]>([
    [
      'plain rows with LF',
      'a,b,c\n1,2,3\n4,5,6\n',
      [
        { n: 1, where: 'line 2', cells: { a: '1', b: '2', c: '3' } },
        { n: 2, where: 'line 3', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
    [
      'CRLF and no line break at the end',
      'a,b\r\n1,2\r\n3,4',
      [
        { n: 1, where: 'line 2', cells: { a: '1', b: '2' } },
        { n: 2, where: 'line 3', cells: { a: '3', b: '4' } },
      ],
    ],
    [
      'lone CR line ends',
      'a,b\r1,2\r3,4\r',
      [
        { n: 1, where: 'line 2', cells: { a: '1', b: '2' } },
        { n: 2, where: 'line 3', cells: { a: '3', b: '4' } },
      ],
    ],
    [
      'mixed line ends',
      'a,b\r\n1,2\n3,4\r5,6',
      [
        { n: 1, where: 'line 2', cells: { a: '1', b: '2' } },
        { n: 2, where: 'line 3', cells: { a: '3', b: '4' } },
        { n: 3, where: 'line 4', cells: { a: '5', b: '6' } },
      ],
    ],
    [
      'quoted fields, doubled quotes and embedded delimiters',
      'a,b,c\n"x, y","say ""hi""",""\n',
      [{ n: 1, where: 'line 2', cells: { a: 'x, y', b: 'say "hi"', c: '' } }],
    ],
    [
      'a quoted field over lines keeps its line breaks',
      'a,b,c\r\n1,"one\r\ntwo\nthree",3\r\n4,5,6\r\n',
      [
        { n: 1, where: 'lines 2-4', cells: { a: '1', b: 'one\r\ntwo\nthree', c: '3' } },
        { n: 2, where: 'line 5', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
    ['cells are not trimmed; spaces around a quoted field are', 'a,b,c\n 1 , "x" ,"y"  \n', [{ n: 1, where: 'line 2', cells: { a: ' 1 ', b: 'x', c: 'y' } }]],
    ['empty cells', 'a,b,c\n,,\n', [{ n: 1, where: 'line 2', cells: { a: '', b: '', c: '' } }]],
    [
      'blank lines are skipped and not counted, lines are',
      '\n  \na,b\n\n1,2\n \t \n\n3,4\n\n',
      [
        { n: 1, where: 'line 5', cells: { a: '1', b: '2' } },
        { n: 2, where: 'line 8', cells: { a: '3', b: '4' } },
      ],
    ],
    ['header cells are trimmed and may be quoted', ' "Client ID" , Minutes \n7,30\n', [{ n: 1, where: 'line 2', cells: { 'Client ID': '7', Minutes: '30' } }]],
    ['a header alone', 'a,b\n', []],
  ])('%s', async (_name, text, expected) => {
    expect(await readSeen(text)).toEqual(expected);
  });

  it('reads other delimiters', async () => {
    expect(await readSeen('a;b\n"x;y";2\n', { delimiter: ';' })).toEqual([{ n: 1, where: 'line 2', cells: { a: 'x;y', b: '2' } }]);
    expect(await readSeen('a\tb\nx y\t2\n', { delimiter: '\t' })).toEqual([{ n: 1, where: 'line 2', cells: { a: 'x y', b: '2' } }]);
  });

  it('gives each value its line and column, raw text and the header line', async () => {
    const { records } = await read('ID, Note ,Minutes\r\n1,"first\r\nsecond",30\r\n');
    const [r] = records;
    expect(r.raw).toBe('1,"first\r\nsecond",30');
    expect(r.meta).toEqual({ header: 'ID, Note ,Minutes' });
    expect(r.scope!.at).toBe('line 2');
    expect(r.scope!.get('Note')).toEqual([{ value: 'first\r\nsecond', at: 'line 2, column "Note"' }]);
    expect(r.scope!.get('Minutes')).toEqual([{ value: '30', at: 'line 3, column "Minutes"' }]);
    expect(r.scope!.get('Nope')).toEqual([]);
    expect(r.scope!.list('rows')).toEqual([]);
    expect(r.input).toBe('contacts.csv');
  });
});

describe('rows that cannot be read are rejected, and reading goes on', () => {
  it.each<[string, string, Seen[]]>([
    [
      'more cells than the header',
      'a,b,c\n1,2,3,x,\n4,5,6\n',
      [
        { n: 1, where: 'line 2', raw: '1,2,3,x,', error: 'Row has 5 cells, the header has 3; the extra cells hold "x"' },
        { n: 2, where: 'line 3', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
    [
      'a delimiter at the end of a row',
      'a,b\n1,2,\n',
      [{ n: 1, where: 'line 2', raw: '1,2,', error: 'Row has 3 cells, the header has 2 (the extra cells are empty: a delimiter at the end of the row?)' }],
    ],
    [
      'fewer cells than the header',
      'a,b,c,d\n1,2\n3,4,5,6\n',
      [
        { n: 1, where: 'line 2', raw: '1,2', error: 'Row has 2 cells, the header has 4: missing "c", "d"' },
        { n: 2, where: 'line 3', cells: { a: '3', b: '4', c: '5', d: '6' } },
      ],
    ],
    [
      'a quote in the middle of an unquoted field',
      'a,b,c\n1,ab"c,3\n4,5,6\n',
      [
        { n: 1, where: 'line 2', raw: '1,ab"c,3', error: expect.stringMatching(/^Quote in the middle of an unquoted field at line 2, column 5/) },
        { n: 2, where: 'line 3', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
    [
      'text after a closing quote',
      'a,b,c\n1,"ab"c,3\n4,5,6\n',
      [
        { n: 1, where: 'line 2', raw: '1,"ab"c,3', error: expect.stringMatching(/^Text after the closing quote: "c" at line 2, column 7/) },
        { n: 2, where: 'line 3', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
    [
      'an unterminated quote at the end of the input',
      'a,b\n1,2\n3,"open\n4,5\n6,7',
      [
        { n: 1, where: 'line 2', cells: { a: '1', b: '2' } },
        {
          n: 2,
          where: 'line 3',
          raw: '3,"open',
          error: 'Unterminated quote starting at line 3, column 3: the input ends before its closing quote; reading goes on at line 4',
        },
        { n: 3, where: 'line 4', cells: { a: '4', b: '5' } },
        { n: 4, where: 'line 5', cells: { a: '6', b: '7' } },
      ],
    ],
    [
      'an unterminated quote that meets a later quote',
      'a,b,c\n1,"open,x\n2,y,z\n3,"q",w\n',
      [
        {
          n: 1,
          where: 'line 2',
          raw: '1,"open,x',
          error: expect.stringMatching(/^Unterminated quote starting at line 2, column 3: its closing quote at line 4, column 3 is followed by "q"/),
        },
        { n: 2, where: 'line 3', cells: { a: '2', b: 'y', c: 'z' } },
        { n: 3, where: 'line 4', cells: { a: '3', b: 'q', c: 'w' } },
      ],
    ],
    [
      'a quote over lines that leaves the row with the wrong cells',
      'a,b,c\n1,"open,x\n2,",y,z\n4,5,6\n',
      [
        {
          n: 1,
          where: 'line 2',
          raw: '1,"open,x',
          error:
            'Unterminated quote starting at line 2, column 3: the quoted field runs over 2 lines and leaves the row with 4 cells, the header has 3; reading goes on at line 3',
        },
        {
          n: 2,
          where: 'line 3',
          raw: '2,",y,z',
          error: 'Unterminated quote starting at line 3, column 3: the input ends before its closing quote; reading goes on at line 4',
        },
        { n: 3, where: 'line 4', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
    [
      'a bad row on the last line without a line break',
      'a,b\n1,"x"y',
      [{ n: 1, where: 'line 2', raw: '1,"x"y', error: expect.stringMatching(/^Text after the closing quote/) }],
    ],
    [
      'a rejected row after a valid multi-line field keeps its lines',
      'a,b,c\n"x\ny",ab"c,3\n4,5,6\n',
      [
        { n: 1, where: 'lines 2-3', raw: '"x\ny",ab"c,3', error: expect.stringMatching(/^Quote in the middle of an unquoted field at line 3, column 6/) },
        { n: 2, where: 'line 4', cells: { a: '4', b: '5', c: '6' } },
      ],
    ],
  ])('%s', async (_name, text, expected) => {
    expect(await readSeen(text)).toEqual(expected);
  });

  it('a quoted field longer than the limits is an unterminated quote, and reading resumes on the next line', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => `${i},v${i}`);
    const text = `a,b\n1,"runaway\n${rows.join('\n')}\n`;
    const seenRows = await readSeen(text, { maxQuotedLines: 5 });
    expect(seenRows[0]).toEqual({
      n: 1,
      where: 'line 2',
      raw: '1,"runaway',
      error: 'Unterminated quote starting at line 2, column 3: no closing quote within 5 lines or 1048576 characters; reading goes on at line 3',
    });
    expect(seenRows.slice(1)).toEqual(rows.map((_, i) => ({ n: i + 2, where: `line ${i + 3}`, cells: { a: String(i), b: `v${i}` } })));
    expect((await readSeen(`a,b\n1,"${'x'.repeat(50)}\n2,3\n`, { maxQuotedLength: 20 }))[0]).toMatchObject({
      error: expect.stringMatching(/no closing quote within 10000 lines or 20 characters/),
    });
  });

  it('a quoted field within the limits is read', async () => {
    const note = Array.from({ length: 5 }, (_, i) => `line ${i}`).join('\n');
    expect(await readSeen(`a,b\n1,"${note}"\n`, { maxQuotedLines: 5 })).toEqual([{ n: 1, where: 'lines 2-6', cells: { a: '1', b: note } }]);
  });

  it('a rejected row re-read alone after its header gives the same reason', async () => {
    const { records } = await read('a,b,c\n1,2\n1,"ab"c,3\n');
    for (const r of records) {
      const again = (await read(`${r.meta!.header}\n${r.raw}`)).records;
      expect(again.map((x) => x.error)).toEqual([r.error!.replace(/line \d+/g, 'line 2')]);
    }
  });

  it('reads a long quoted note whole: 150 lines, 200,000 characters (valid CSV is not an unterminated quote)', async () => {
    const lines = Array.from({ length: 150 }, (_, i) => `line ${i + 1} of a structured note`).join('\r\n');
    const long = 'x'.repeat(200000);
    const text = `a,b\r\n1,"${lines}"\r\n2,"${long}"\r\n3,ok\r\n`;
    expect(await readSeen(text)).toEqual([
      { n: 1, where: 'lines 2-151', cells: { a: '1', b: lines } },
      { n: 2, where: 'line 152', cells: { a: '2', b: long } },
      { n: 3, where: 'line 153', cells: { a: '3', b: 'ok' } },
    ]);
  });

  it('does not read the rest of a huge input to recover from a broken quote', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<string> {
      yield 'a,b\n1,"open\n';
      for (;;) {
        pulled++;
        yield '2,3\n'.repeat(1000);
      }
    }
    const it = readCsv(endless(), { input: 'big.csv' });
    const first = await it.next();
    expect(first.value).toMatchObject({
      n: 1,
      where: 'line 2',
      error: expect.stringMatching(/^Unterminated quote starting at line 2, column 3: no closing quote within 10000 lines or 1048576 characters/),
    });
    const second = await it.next();
    expect(second.value).toMatchObject({ n: 2, where: 'line 3' });
    expect(pulled).toBeLessThan(13);
    await it.return(undefined);
  });
});

describe('the header', () => {
  async function inputError(text: string, options: Partial<CsvReadOptions> = {}): Promise<InputError> {
    const seenBefore: SourceRecord[] = [];
    try {
      for await (const r of readCsv(stream([text]), { input: 'contacts.csv', ...options })) seenBefore.push(r);
    } catch (err) {
      expect(seenBefore).toEqual([]);
      expect(err).toBeInstanceOf(InputError);
      return err as InputError;
    }
    throw new Error('no InputError');
  }

  it('names every missing column before any record is read', async () => {
    const err = await inputError('ID,Start\n1,2\n', { columns: ['ID', 'Minutes', 'Start', 'ContactType', 'Note'], optionalColumns: ['Note'] });
    expect(err.message).toBe('Missing column(s) "Minutes", "ContactType" in the header of contacts.csv (line 1); the file was not read');
    expect(err.where).toBe('header');
  });

  it('gives the header line after blank lines', async () => {
    expect((await inputError('\n\nID\n1\n', { columns: ['X'] })).message).toBe(
      'Missing column(s) "X" in the header of contacts.csv (line 3); the file was not read',
    );
  });

  it.each<[string, string, string]>([
    ['an empty column name', 'a,,c\n', 'Empty column name in the header of contacts.csv (line 1, column 2 of 3); the file was not read'],
    ['a trailing delimiter in the header', 'a,b,\n', 'Empty column name in the header of contacts.csv (line 1, column 3 of 3); the file was not read'],
    ['a repeated column name', 'a,b, a\n', 'Column "a" appears twice in the header of contacts.csv (line 1, columns 1 and 3); the file was not read'],
    ['an empty input', '', 'contacts.csv is empty: there is no header line; the file was not read'],
    ['only blank lines', '\n \r\n', 'contacts.csv is empty: there is no header line; the file was not read'],
    [
      'broken quoting in the header',
      'a,"b\n',
      'Cannot read the header of contacts.csv (line 1): Unterminated quote starting at line 1, column 3: the input ends before its closing quote',
    ],
  ])('%s is an InputError', async (_name, text, message) => {
    expect((await inputError(text)).message).toBe(message);
  });

  it('accepts the columns it needs and reads the rest', async () => {
    expect(await readSeen('ID,Note\n1,x\n', { columns: ['ID', 'Minutes'], optionalColumns: ['Minutes'] })).toEqual([
      { n: 1, where: 'line 2', cells: { ID: '1', Note: 'x' } },
    ]);
  });

  it('refuses a delimiter that cannot work', async () => {
    await expect(read('a\n', { delimiter: '"' })).rejects.toThrow(/delimiter/);
    await expect(read('a\n', { delimiter: ';;' })).rejects.toThrow(/delimiter/);
  });
});

describe('encodings', () => {
  const latin1 = (text: string) => Buffer.from(text, 'latin1');

  it('skips a UTF-8 byte-order mark', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await readSeen(Buffer.concat([bom, Buffer.from('a,b\nJosé,2\n')]))).toEqual([{ n: 1, where: 'line 2', cells: { a: 'José', b: '2' } }]);
    expect(await readSeen('\ufeffa,b\n1,2\n')).toEqual([{ n: 1, where: 'line 2', cells: { a: '1', b: '2' } }]);
  });

  it('reads UTF-8', async () => {
    const { records, warnings } = await read(Buffer.from('a,b\nJosé,Zoë 😀\n'));
    expect(records.map((r) => seen(r))).toEqual([{ n: 1, where: 'line 2', cells: { a: 'José', b: 'Zoë 😀' } }]);
    expect(warnings).toEqual([]);
  });

  it('reads bytes that are not UTF-8 as Windows-1252, with a warning', async () => {
    const { records, warnings } = await read(latin1('a,b\nJos\xe9,\x93quoted\x94\n'));
    expect(records.map((r) => seen(r))).toEqual([{ n: 1, where: 'line 2', cells: { a: 'José', b: '\u201cquoted\u201d' } }]);
    expect(warnings).toEqual(['not valid UTF-8 (first at line 2); read as Latin-1 (Windows-1252)']);
  });

  it('reads Latin-1 when told to, UTF-8 with replacement characters when told to', async () => {
    expect(await readSeen(Buffer.from('a\nJosé\n'), { encoding: 'latin1' })).toEqual([{ n: 1, where: 'line 2', cells: { a: 'JosÃ©' } }]);
    const { records, warnings } = await read(latin1('a\nJos\xe9\n'), { encoding: 'utf8' });
    expect(records.map((r) => seen(r))).toEqual([{ n: 1, where: 'line 2', cells: { a: 'Jos\ufffd' } }]);
    expect(warnings).toEqual(['line 2 is not valid UTF-8; its invalid bytes were replaced with U+FFFD']);
  });

  it('decodes a line that is not UTF-8 after the first 64 KiB as Windows-1252, naming the line', async () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `${i},filler text to pass 64 KiB ü`).join('\n');
    const bytes = Buffer.concat([Buffer.from(`a,b\n${filler}\n`), latin1('x,Jos\xe9\n'), Buffer.from('y,Zoë\n')]);
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    for (const size of [bytes.length, 4096, 1000]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const { records, warnings } = await read(chunks);
      expect(warnings).toEqual(['line 3002 is not valid UTF-8 (the lines before it were); that line was read as Latin-1 (Windows-1252)']);
      expect(records.slice(-3).map((r) => seen(r))).toEqual([
        { n: 3000, where: 'line 3001', cells: { a: '2999', b: 'filler text to pass 64 KiB ü' } },
        { n: 3001, where: 'line 3002', cells: { a: 'x', b: 'José' } },
        { n: 3002, where: 'line 3003', cells: { a: 'y', b: 'Zoë' } },
      ]);
    }
  });
});

describe('chunking', () => {
  // Every feature at once, in UTF-8 with characters of 2, 3 and 4 bytes.
  const text = ['\ufeffID,Name,Note', '1,José,"multi\r\nline ""quoted"" €"', '', '2,"a,b",😀\r3,x,y', '4,ab"c,bad', '5,"open,x', '6,z,1,2', '7,Zoë,"end"'].join(
    '\n',
  );
  const bytes = Buffer.from(text);

  let expected: Seen[];
  beforeAll(async () => {
    expected = await readSeen(bytes);
    expect(expected.map((r) => r.where)).toEqual(['lines 2-3', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9', 'line 10']);
    expect(expected.map((r) => ('error' in r ? 'error' : 'ok'))).toEqual(['ok', 'ok', 'ok', 'error', 'error', 'error', 'ok']);
  });

  it('gives the same records when the bytes are cut at any offset', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect({ cut, records: await readSeen([bytes.subarray(0, cut), bytes.subarray(cut)]) }).toEqual({ cut, records: expected });
    }
  });

  it('gives the same records for chunks of every small size, as bytes and as text', async () => {
    for (let size = 1; size <= 12; size++) {
      const byteChunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) byteChunks.push(bytes.subarray(i, i + size));
      const textChunks: string[] = [];
      for (let i = 0; i < text.length; i += size) textChunks.push(text.slice(i, i + size));
      expect({ size, records: await readSeen(byteChunks) }).toEqual({ size, records: expected });
      expect({ size, text: true, records: await readSeen(textChunks) }).toEqual({ size, text: true, records: expected });
    }
  });

  it('gives the same records for random chunk sizes', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length;) {
        const size = 1 + Math.floor(random() * 20);
        chunks.push(bytes.subarray(i, i + size));
        i += size;
      }
      expect(await readSeen(chunks)).toEqual(expected);
    }
  });

  it('yields records before the input ends', async () => {
    let pulled = 0;
    async function* rows(): AsyncGenerator<string> {
      yield 'a,b\n';
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield `${i},x\n`;
      }
    }
    const it = readCsv(rows(), { input: 'big.csv' });
    expect((await it.next()).value).toMatchObject({ n: 1 });
    expect(pulled).toBeLessThan(3);
    await it.return(undefined);
  });
});
