/**
 * The JSON reader (src/inbound/json-source.ts) and the top-level array scanner it streams with
 * (src/inbound/json-records.ts): records by selector, element text and locations, syntax errors
 * with line and column, non-object elements, and scopes (paths, fan-out, structured values, lists).
 */
import { scanTopLevel, scanTopLevelArray, type ArrayEvent } from '../../src/inbound/json-records';
import { isStructured, jsonScope, parseJsonSelector, readJson } from '../../src/inbound/json-source';
import { InputError, type SourceRecord } from '../../src/inbound/source';

async function* stream(chunks: (string | Buffer)[]): AsyncGenerator<string | Buffer> {
  for (const c of chunks) yield c;
}

function chunked(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function read(chunks: (string | Buffer)[] | string, records: string): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readJson(stream(typeof chunks === 'string' ? [chunks] : chunks), { input: 'clients.json', records })) out.push(r);
  return out;
}

const brief = (r: SourceRecord) => ({ n: r.n, where: r.where, raw: r.raw, ...(r.error ? { error: r.error } : { id: r.scope!.get('id')[0]?.value }) });

describe('selectors', () => {
  const array = '[\n  {"id": "a", "n": 1},\n  {"id": "b"}\n]\n';
  const object = '{"source": "x", "clients": [{"id": "a"}, {"id": "b"}], "other": [1, 2]}';
  const deep = '{"meta": {"n": 2}, "data": {"page": 1, "clients": [{"id": "a"}, {"id": "b"}]}}';

  it.each<[string, string, string, unknown[]]>([
    [
      '$[*] on a top-level array',
      array,
      '$[*]',
      [
        { n: 1, where: '$[0]', raw: '{"id": "a", "n": 1}', id: 'a' },
        { n: 2, where: '$[1]', raw: '{"id": "b"}', id: 'b' },
      ],
    ],
    [
      '$ on a top-level array',
      array,
      '$',
      [
        { n: 1, where: '$[0]', raw: '{"id": "a", "n": 1}', id: 'a' },
        { n: 2, where: '$[1]', raw: '{"id": "b"}', id: 'b' },
      ],
    ],
    ['$ on an object', ' {"id": "only"} \n', '$', [{ n: 1, where: '$', raw: '{"id": "only"}', id: 'only' }]],
    [
      '$.prop[*]',
      object,
      '$.clients[*]',
      [
        { n: 1, where: '$.clients[0]', raw: '{"id": "a"}', id: 'a' },
        { n: 2, where: '$.clients[1]', raw: '{"id": "b"}', id: 'b' },
      ],
    ],
    [
      '$.prop without [*] on an array',
      object,
      '$.clients',
      [
        { n: 1, where: '$.clients[0]', raw: '{"id": "a"}', id: 'a' },
        { n: 2, where: '$.clients[1]', raw: '{"id": "b"}', id: 'b' },
      ],
    ],
    ['$.prop on an object', '{"client": {"id": "c"}}', '$.client', [{ n: 1, where: '$.client', raw: '{"id":"c"}', id: 'c' }]],
    [
      'a deeper selector (raw re-serialised)',
      deep,
      '$.data.clients[*]',
      [
        { n: 1, where: '$.data.clients[0]', raw: '{"id":"a"}', id: 'a' },
        { n: 2, where: '$.data.clients[1]', raw: '{"id":"b"}', id: 'b' },
      ],
    ],
    ['a missing array gives no records', object, '$.nobody[*]', []],
    ['an empty array gives no records', '{"clients": []}', '$.clients[*]', []],
    ['an empty top-level array', ' [ ] ', '$[*]', []],
  ])('%s', async (_name, text, records, expected) => {
    expect((await read(text, records)).map(brief)).toEqual(expected);
  });

  it('parses selectors and refuses others', () => {
    expect(parseJsonSelector('$')).toEqual({ keys: [], each: false });
    expect(parseJsonSelector('$[*]')).toEqual({ keys: [], each: true });
    expect(parseJsonSelector('$.a.b[*]')).toEqual({ keys: ['a', 'b'], each: true });
    for (const bad of ['clients', '$.a[0]', '$..a', '$.a[*].b', '']) expect(() => parseJsonSelector(bad)).toThrow(/Not a JSON records selector/);
  });

  it('reads bytes as UTF-8, with a byte-order mark', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"id": "Zoë 😀"}]')]);
    const cut = bytes.indexOf(0x98); // inside the emoji
    expect((await read([bytes.subarray(0, cut), bytes.subarray(cut)], '$[*]')).map(brief)).toEqual([
      { n: 1, where: '$[0]', raw: '{"id": "Zoë 😀"}', id: 'Zoë 😀' },
    ]);
  });
});

describe('bad input', () => {
  it('rejects an element that is not an object, and goes on', async () => {
    expect((await read('[{"id": "a"}, "text", 3, null, [1], true, {"id": "b"}]', '$[*]')).map(brief)).toEqual([
      { n: 1, where: '$[0]', raw: '{"id": "a"}', id: 'a' },
      { n: 2, where: '$[1]', raw: '"text"', error: 'Expected an object, found a string' },
      { n: 3, where: '$[2]', raw: '3', error: 'Expected an object, found a number' },
      { n: 4, where: '$[3]', raw: 'null', error: 'Expected an object, found null' },
      { n: 5, where: '$[4]', raw: '[1]', error: 'Expected an object, found an array' },
      { n: 6, where: '$[5]', raw: 'true', error: 'Expected an object, found a boolean' },
      { n: 7, where: '$[6]', raw: '{"id": "b"}', id: 'b' },
    ]);
  });

  it('a syntax error in a record is a record with line and column, and reading stops', async () => {
    const text = '{"clients": [\n  {"id": "a"},\n  {"id": "b",, "x": 1},\n  {"id": "c"}\n]}';
    expect((await read(text, '$.clients[*]')).map(brief)).toEqual([
      { n: 1, where: '$.clients[0]', raw: '{"id": "a"}', id: 'a' },
      {
        n: 2,
        where: '$.clients[1]',
        raw: '{"id": "b",, "x": 1}',
        error: '$.clients[1] is not valid JSON (line 3, column 14: unexpected ","); the rest of the input was not read',
      },
    ]);
    expect((await read('[{"id": "a"},\n {"id": }]', '$[*]')).map(brief)).toEqual([
      { n: 1, where: '$[0]', raw: '{"id": "a"}', id: 'a' },
      { n: 2, where: '$[1]', raw: '{"id": }', error: '$[1] is not valid JSON (line 2, column 9: unexpected "}"); the rest of the input was not read' },
    ]);
  });

  it('a file cut short after records is a record naming where it ends', async () => {
    expect((await read('[{"id": "a"}, {"id"', '$[*]')).map(brief)).toEqual([
      { n: 1, where: '$[0]', raw: '{"id": "a"}', id: 'a' },
      {
        n: 2,
        where: 'line 1, column 19',
        raw: '',
        error: 'line 1, column 19: unexpected end of JSON (the file is cut short); the rest of the input was not read',
      },
    ]);
  });

  it.each<[string, string, string, string]>([
    ['not JSON at all', 'hello', '$', 'clients.json is not valid JSON: line 1, column 1: unexpected "h"'],
    ['an object cut short', '{"id": 1', '$', 'clients.json is not valid JSON: line 1, column 9: unexpected end of input'],
    ['an empty input', '  ', '$', 'clients.json is empty: there is no JSON in it'],
    ['an object where $[*] wants an array', '{"id": 1}', '$[*]', 'clients.json is not a JSON array: $[*] reads the elements of a top-level array'],
    ['an array where $.x[*] wants an object', '[1]', '$.clients[*]', "clients.json is not valid JSON: line 1, column 1: expected a JSON object ('{')"],
    [
      'an error before the records',
      '{"source": tru, "clients": [{"id": "a"}]}',
      '$.clients[*]',
      'clients.json is not valid JSON: $.source is not valid JSON (line 1, column 12: unexpected "t")',
    ],
    ['a property that is not an array', '{"clients": {"id": "a"}}', '$.clients[*]', '$.clients in clients.json is an object, not an array of records'],
    ['a first element that is broken in a top-level array', '[tru, {"id": "a"}]', '$[*]', 'never'],
  ])('%s is an InputError', async (name, text, records, message) => {
    if (message === 'never') {
      // Inside the records: a record, not an InputError.
      expect((await read(text, records)).map((r) => r.error)).toEqual([
        '$[0] is not valid JSON (line 1, column 2: unexpected "t"); the rest of the input was not read',
      ]);
      return;
    }
    await expect(read(text, records)).rejects.toThrow(new InputError(message, '$'));
    await expect(read(text, records)).rejects.toBeInstanceOf(InputError);
  });
});

describe('bytes that are not UTF-8', () => {
  it('are read as Windows-1252 with a warning, never as U+FFFD, in every selector and chunking', async () => {
    const latin1 = Buffer.from('{"clients": [{"id": "Caf\xe9 \x93q\x94"}]}', 'latin1');
    const later = Buffer.concat([
      Buffer.from(`{"clients": [{"id": "Zo\u00eb"},\n${' '.repeat(70000)}\n{"id": "`),
      Buffer.from('Caf\xe9', 'latin1'),
      Buffer.from('"}]}'),
    ]);
    for (const [bytes, ids, warning] of [
      [latin1, ['Café “q”'], 'not valid UTF-8 (first at line 1); read as Latin-1 (Windows-1252)'],
      [later, ['Zoë', 'Café'], 'line 3 is not valid UTF-8 (the lines before it were); that line was read as Latin-1 (Windows-1252)'],
    ] as const) {
      for (const records of ['$.clients[*]', '$']) {
        for (const size of [bytes.length, 5]) {
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
          const warnings: string[] = [];
          const out: SourceRecord[] = [];
          for await (const r of readJson(stream(chunks), { input: 'clients.json', records, onWarning: (w) => warnings.push(w) })) out.push(r);
          const got = records === '$' ? out[0].scope!.get('clients[*].id').map((v) => v.value) : out.map((r) => r.scope!.get('id')[0].value);
          expect({ records, size, got, warnings }).toEqual({ records, size, got: [...ids], warnings: [warning] });
        }
      }
    }
  });
});

describe('integers too long for a double', () => {
  const text =
    '{"clients": [{"id": 12345678901234567890, "n": 9007199254740993, "ok": 9007199254740991, "neg": -98765432109876543210, "s": "12345678901234567890", "f": 1.2345678901234567890, "e": 12345678901234567e3}], "page": {"cursor": 12345678901234567891}}';

  it.each<[string, string]>([
    ['$.clients[*]', '$.clients[0]'],
    ['$.page', '$.page'],
  ])('keep their digits as text, every selector (%s)', async (records) => {
    const [r] = await read(chunked(text, 7), records);
    const get = (p: string) => r.scope!.get(p)[0]?.value;
    if (records === '$.page') {
      expect(get('cursor')).toBe('12345678901234567891');
      return;
    }
    expect(get('id')).toBe('12345678901234567890');
    expect(get('n')).toBe('9007199254740993');
    expect(get('ok')).toBe(9007199254740991);
    expect(get('neg')).toBe('-98765432109876543210');
    expect(get('s')).toBe('12345678901234567890');
    expect(get('f')).toBe(1.2345678901234567);
    expect(get('e')).toBe(1.2345678901234567e19);
    expect(r.raw).toContain('"id": 12345678901234567890');
  });

  it('in a top-level array, a whole document, and a deeper selector', async () => {
    for (const [doc, sel] of [
      ['[{"id": 12345678901234567890}]', '$[*]'],
      ['{"id": 12345678901234567890}', '$'],
      ['{"a": {"b": [{"id": 12345678901234567890}]}}', '$.a.b[*]'],
    ]) {
      const [r] = await read(doc, sel);
      expect(r.scope!.get('id')[0].value).toBe('12345678901234567890');
    }
  });

  it('a syntax error after one still names the position as written', async () => {
    await expect(read('{"id": 12345678901234567890, }', '$')).rejects.toThrow(/line 1, column 3\d/);
  });
});

describe('scopes', () => {
  const client = {
    id: 'c1',
    name: { family: 'Doe', given: ['Jo', 'Q'] },
    sessions: [{ minutes: 30, tags: ['a'] }, { minutes: 45 }, { note: 'no minutes' }],
    empty: null,
    'odd name': 'x',
  };
  const scope = jsonScope(client, '$.clients[3]');

  it.each<[string, unknown[]]>([
    ['id', [{ value: 'c1', at: '$.clients[3].id' }]],
    ['name.family', [{ value: 'Doe', at: '$.clients[3].name.family' }]],
    ['name.given[1]', [{ value: 'Q', at: '$.clients[3].name.given[1]' }]],
    ['name.given[5]', []],
    [
      'name.given[*]',
      [
        { value: 'Jo', at: '$.clients[3].name.given[0]' },
        { value: 'Q', at: '$.clients[3].name.given[1]' },
      ],
    ],
    [
      'sessions[*].minutes',
      [
        { value: 30, at: '$.clients[3].sessions[0].minutes' },
        { value: 45, at: '$.clients[3].sessions[1].minutes' },
      ],
    ],
    ['sessions[0].tags[0]', [{ value: 'a', at: '$.clients[3].sessions[0].tags[0]' }]],
    ['empty', [{ value: null, at: '$.clients[3].empty' }]],
    ['missing.deeper', []],
    ['id.deeper', []],
    ['["odd name"]', [{ value: 'x', at: '$.clients[3]["odd name"]' }]],
    ['$.id', [{ value: 'c1', at: '$.clients[3].id' }]],
    ['name', [{ value: '{"family":"Doe","given":["Jo","Q"]}', at: '$.clients[3].name', structured: 'object' }]],
    ['name.given', [{ value: '["Jo","Q"]', at: '$.clients[3].name.given', structured: 'array' }]],
    // [*] on a single value: a list of one, not nothing (the value is not lost)
    ['id[*]', [{ value: 'c1', at: '$.clients[3].id' }]],
    ['name.family[*]', [{ value: 'Doe', at: '$.clients[3].name.family' }]],
    ['name[*].family', [{ value: 'Doe', at: '$.clients[3].name.family' }]],
    ['name[*]', [{ value: '{"family":"Doe","given":["Jo","Q"]}', at: '$.clients[3].name', structured: 'object' }]],
    ['missing[*]', []],
  ])('get(%s)', (path, expected) => {
    expect(scope.get(path)).toEqual(expected);
  });

  it('marks objects and arrays', () => {
    expect(scope.get('name').map(isStructured)).toEqual([true]);
    expect(scope.get('id').map(isStructured)).toEqual([false]);
  });

  it('lists the elements of an array; $. paths read the record from inside', () => {
    for (const path of ['sessions', 'sessions[*]']) {
      const items = scope.list(path);
      expect(items.map((s) => s.at)).toEqual(['$.clients[3].sessions[0]', '$.clients[3].sessions[1]', '$.clients[3].sessions[2]']);
      expect(items.map((s) => s.get('minutes').map((v) => v.value))).toEqual([[30], [45], []]);
      expect(items[1].get('$.id')).toEqual([{ value: 'c1', at: '$.clients[3].id' }]);
      expect(items[0].list('tags').map((s) => s.at)).toEqual(['$.clients[3].sessions[0].tags[0]']);
    }
    expect(scope.list('name').map((s) => s.at)).toEqual(['$.clients[3].name']);
    // one object sent without its array is one item, with or without [*]
    expect(scope.list('name[*]').map((s) => s.at)).toEqual(['$.clients[3].name']);
    expect(scope.list('name[*]')[0].get('family')).toEqual([{ value: 'Doe', at: '$.clients[3].name.family' }]);
    expect(scope.list('nothing')).toEqual([]);
    expect(scope.list('empty')).toEqual([]);
  });

  it('reads $. paths from a given root', () => {
    const inner = jsonScope({ minutes: 5 }, '$.x[0].s[1]', { id: 'root' }, '$.x[0]');
    expect(inner.get('$.id')).toEqual([{ value: 'root', at: '$.x[0].id' }]);
    expect(inner.get('minutes')).toEqual([{ value: 5, at: '$.x[0].s[1].minutes' }]);
  });

  it('refuses a path that is not one', () => {
    expect(() => scope.get('a..b')).toThrow(/Not a JSON path/);
    expect(() => scope.get('a[x]')).toThrow(/Not a JSON path/);
  });
});

describe('the top-level array scanner', () => {
  /** What JSON.parse makes of an array, as scanner events (lines left out). */
  const parsed = (text: string) => (JSON.parse(text) as unknown[]).map((value, index) => ({ type: 'item', index, value }));
  const scan = async (chunks: string[]): Promise<ArrayEvent[]> => {
    const out: ArrayEvent[] = [];
    for await (const e of scanTopLevelArray(chunks)) out.push(e);
    return out;
  };
  const withoutLines = (events: ArrayEvent[]) => events.map((e) => (e.type === 'item' ? { type: e.type, index: e.index, value: e.value } : e));

  it.each<[string, string]>([
    ['objects with brackets in strings', '[{"a": "]}[{,"}, {"b": "\\"]"}]'],
    ['scalars', '[1, -0.5, 1e5, true, false, null, "x", "\\\\"]'],
    ['nested arrays', '[[1, [2]], [], [[{"a": [1]}]]]'],
    ['white space and a BOM', '\ufeff \n[ \r\n {"a": 1} \n , \t 2 \n ] \n'],
    ['an empty array', '[]'],
  ])('%s: the same events for every chunk size', async (_name, text) => {
    const expected = parsed(text.replace(/^\ufeff/, ''));
    for (let size = 1; size <= text.length; size++) {
      expect({ size, events: withoutLines(await scan(chunked(text, size))) }).toEqual({ size, events: expected });
    }
  });

  it('gives element text and line', async () => {
    const events = await scan(['[\n {"a": 1},\n  2 ,\n "x"\n]']);
    expect(events).toEqual([
      { type: 'item', index: 0, value: { a: 1 }, line: 2, text: '{"a": 1}' },
      { type: 'item', index: 1, value: 2, line: 3, text: '2' },
      { type: 'item', index: 2, value: 'x', line: 4, text: '"x"' },
    ]);
  });

  it.each<[string, string, string]>([
    ['not an array', '{"a": 1}', "line 1, column 1: expected a JSON array ('[')"],
    ['a trailing comma', '[1, 2,]', "line 1, column 7: unexpected ']' after ',' (trailing comma)"],
    ['a leading comma', '[,1]', "line 1, column 2: unexpected ','"],
    ['no comma', '[{"a": 1} {"b": 2}]', "line 1, column 11: expected ',' or ']' after $[0]"],
    ['text after the end', '[1] x', 'line 1, column 5: unexpected text after the end of the JSON array'],
    ['cut short', '[1, {"a"', 'line 1, column 8: unexpected end of JSON (the file is cut short)'],
    ['an empty input', '', 'line 1, column 0: unexpected end of JSON (the file is cut short)'],
  ])('%s is one error event', async (_name, text, message) => {
    for (const size of [1, 3, 100]) {
      const events = await scan(chunked(text, size));
      expect(events[events.length - 1]).toEqual({ type: 'error', message });
      expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    }
  });

  it('names a broken element and gives its text', async () => {
    const events = await scan(['[1, {"a": 1,, "b": 2}]']);
    expect(events[events.length - 1]).toEqual({
      type: 'error',
      message: '$[1] is not valid JSON (line 1, column 13: unexpected ",")',
      index: 1,
      text: '{"a": 1,, "b": 2}',
    });
  });

  it('scanTopLevel gives element text only when asked', async () => {
    const events = [];
    for await (const e of scanTopLevel(['{"a": [ {"x": 1} , 2 ]}'], { text: true })) events.push(e);
    expect(events).toEqual([
      { type: 'item', collection: 'a', index: 0, value: { x: 1 }, line: 1, text: '{"x": 1}' },
      { type: 'item', collection: 'a', index: 1, value: 2, line: 1, text: '2' },
    ]);
    const plain = [];
    for await (const e of scanTopLevel(['{"a": [2]}'])) plain.push(e);
    expect(plain).toEqual([{ type: 'item', collection: 'a', index: 0, value: 2, line: 1 }]);
  });
});

describe('streaming', () => {
  it.each(['$[*]', '$.clients[*]'])('%s yields records before the input ends', async (records) => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<string> {
      yield records === '$[*]' ? '[' : '{"clients": [';
      for (let i = 0; ; i++) {
        pulled++;
        yield `${i ? ',' : ''}{"id": ${i}}`;
      }
    }
    const it = readJson(endless(), { input: 'big.json', records });
    expect((await it.next()).value).toMatchObject({ n: 1 });
    expect(pulled).toBeLessThan(4);
    await it.return(undefined);
  });

  it('gives the same records for every chunking', async () => {
    const text = '{"source": "x", "clients": [{"id": "a", "s": "]},"}, "str", {"id": "b"}]}';
    const expected = (await read(text, '$.clients[*]')).map(brief);
    for (let size = 1; size <= text.length; size++) expect((await read(chunked(text, size), '$.clients[*]')).map(brief)).toEqual(expected);
    const array = '[{"id": "a"}, 7, {"id": "b", "x": [1, {"y": "]"}]}]';
    const expectedArray = (await read(array, '$')).map(brief);
    expect(expectedArray.map((r) => r.where)).toEqual(['$[0]', '$[1]', '$[2]']);
    for (let size = 1; size <= array.length; size++) expect((await read(chunked(array, size), '$')).map(brief)).toEqual(expectedArray);
  });
});
