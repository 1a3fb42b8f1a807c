/**
 * The streaming record scanner (src/inbound/json-records.ts): whatever the chunking, it yields
 * the records JSON.parse sees, and every syntax error stops it with a line and column (and the
 * record's `$.collection[i]` when the error is inside one).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanTopLevel, type TopLevelEvent } from '../../src/inbound/json-records';

const FIXTURE = join(__dirname, '..', '..', 'examples', 'canonical', 'riverbend-dana-whitfield.json');

function chunked(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function scan(chunks: Iterable<string> | AsyncIterable<string>): Promise<TopLevelEvent[]> {
  const events: TopLevelEvent[] = [];
  for await (const e of scanTopLevel(chunks)) events.push(e);
  return events;
}

/** What JSON.parse makes of a document, as scanner events (item lines left out). */
type Parsed = { type: 'item'; collection: string; index: number; value: unknown } | { type: 'property'; key: string; value: unknown };
function parsedEvents(text: string): Parsed[] {
  return Object.entries(JSON.parse(text) as Record<string, unknown>).flatMap(([key, value]): Parsed[] =>
    Array.isArray(value) ? value.map((v: unknown, index) => ({ type: 'item', collection: key, index, value: v })) : [{ type: 'property', key, value }],
  );
}

const withoutLines = (events: TopLevelEvent[]) =>
  events.map((e) => (e.type === 'item' ? { type: e.type, collection: e.collection, index: e.index, value: e.value } : e));

/** Scans `text` cut every way (each chunk size from 1 to its length) and expects the same events each time. */
async function expectSameForEveryChunking(text: string, expected: unknown[]): Promise<void> {
  for (let size = 1; size <= text.length; size++) {
    expect({ size, events: withoutLines(await scan(chunked(text, size))) }).toEqual({ size, events: expected });
  }
}

describe('the example file', () => {
  const text = readFileSync(FIXTURE, 'utf8');

  it.each([1, 7, 4096, text.length])('yields what JSON.parse sees, in chunks of %i characters', async (size) => {
    const events = await scan(chunked(text, size));
    expect(withoutLines(events)).toEqual(parsedEvents(text));
    expect(events.filter((e) => e.type === 'item')).toHaveLength(8);
  });

  it('reads an async stream of chunks', async () => {
    async function* stream() {
      for (const c of chunked(text, 64)) yield c;
    }
    expect(withoutLines(await scan(stream()))).toEqual(parsedEvents(text));
  });

  it('gives each record the line it starts on', async () => {
    const lines = text.split('\n');
    for (const e of await scan(chunked(text, 7))) {
      if (e.type !== 'item') continue;
      const id = (e.value as { id: string }).id;
      // The example is pretty-printed: "{" on one line, "id" first on the next.
      expect({ id, opening: lines[e.line - 1].trim(), next: lines[e.line].trim() }).toEqual({ id, opening: '{', next: `"id": ${JSON.stringify(id)},` });
    }
  });

  it('reads CRLF line endings alike', async () => {
    const crlf = text.replace(/\n/g, '\r\n');
    expect(withoutLines(await scan(chunked(crlf, 7)))).toEqual(parsedEvents(text));
  });
});

describe('tricky but valid JSON', () => {
  it.each<[string, string]>([
    ['brackets and braces inside strings', '{"source": "x]}[{", "people": [{"note": "a ] } [ { , :"}, {"note": "}"}], "z": "]"}'],
    ['escaped quotes and backslashes', '{"s\\"k": "a\\"]}", "people": [{"note": "say \\"hi\\" \\\\"}, "\\\\", "\\"]"]}'],
    ['unicode escapes and characters beyond the BMP', '{"a\\u0041": ["\\u00e9\\ud83d\\ude00", "😀 Zoë"], "b": "\\u005d"}'],
    ['nested arrays as elements', '{"m": [[1, [2, 3]], [], [[]], [[[{"a": [1]}]]]]}'],
    ['scalars as elements and properties', '{"n": [1, -0.5, 1e5, true, false, null, "x"], "p": 2.5e-3, "q": null, "r": false, "o": {"a": [1, {"b": "]"}]}}'],
    ['white space everywhere', ' \n\t{ \r\n "a" \n : \t [ \n 1 \n , \n { } \n ] \n , "b" : "c" \n } \n '],
    ['empty arrays and an empty object', '{"a": [], "b": {}, "c": [ ]}'],
    ['an empty document', '{}'],
  ])('%s', async (_name, text) => {
    await expectSameForEveryChunking(text, parsedEvents(text));
  });
});

describe('syntax errors: one error event with line and column, and nothing after it', () => {
  const fileText = readFileSync(FIXTURE, 'utf8');

  it('a truncated file: the records before the cut, then where it ends', async () => {
    // Cut inside the second practitioner.
    const cut = fileText.indexOf('"STAFF-003"') + 5;
    const text = fileText.slice(0, cut);
    const lines = text.split('\n');
    for (const size of [1, 7, 4096]) {
      const events = await scan(chunked(text, size));
      const last = events[events.length - 1];
      expect(withoutLines(events.slice(0, -1))).toEqual(parsedEvents(fileText).slice(0, 2));
      expect(last).toEqual({
        type: 'error',
        message: `line ${lines.length}, column ${lines[lines.length - 1].length}: unexpected end of JSON (the file is cut short)`,
      });
    }
  });

  it.each<[string, string, string]>([
    ['a file cut after a record', '{"a": [1, {"b": 2}', 'line 1, column 18: unexpected end of JSON (the file is cut short)'],
    ['a file cut inside a string', '{"a": "abc', 'line 1, column 10: unexpected end of JSON (the file is cut short)'],
    ['an empty file', '', 'line 1, column 0: unexpected end of JSON (the file is cut short)'],
    ['garbage after the end', '{"a": []} x', 'line 1, column 11: unexpected text after the end of the JSON object'],
    ['a second closing bracket, lines later', '{"a": [] }\n\n  ]', 'line 3, column 3: unexpected text after the end of the JSON object'],
    ['a second object', '{"a": 1}{"b": 2}', 'line 1, column 9: unexpected text after the end of the JSON object'],
    ['a top-level array', '[{"a": 1}]', "line 1, column 1: expected a JSON object ('{')"],
    ['a top-level string', '  "x"', "line 1, column 3: expected a JSON object ('{')"],
    ['a key without quotes', '{a: []}', 'line 1, column 2: expected a property name'],
    ['no colon', '{"a" []}', 'line 1, column 6: expected \':\' after "a"'],
    ['no comma between properties', '{"a": [1]\n "b": 2}', "line 2, column 2: expected ',' or '}' after $.a"],
    ['a leading comma in an array', '{"a": [,1]}', "line 1, column 8: unexpected ',' in $.a"],
  ])('%s', async (_name, text, message) => {
    for (const size of [1, 3, 4096]) {
      const events = await scan(chunked(text, size));
      expect(events[events.length - 1]).toEqual({ type: 'error', message });
      expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    }
  });

  it.each<[string, string, string]>([
    [
      'an element with a doubled comma',
      '{"source": "x",\n "people": [\n   {"id": "a"},\n   {"id": "b",, "x": 1}\n ]}',
      '$.people[1] is not valid JSON (line 4, column 15: unexpected ",")',
    ],
    ['an element that is not a value', '{"people": [\n  {"id": "a"}, tru\n]}', '$.people[1] is not valid JSON (line 2, column 16: unexpected "t")'],
    ['two scalars without a comma', '{"n": [1 2]}', '$.n[0] is not valid JSON (line 1, column 10: unexpected "2")'],
    ['a raw line break in a string', '{"n": [{"a": 1}, "x\ny"]}', '$.n[1] is not valid JSON (line 1, column 20: unexpected "\\n")'],
    ['a bad property value', '{"source": tru, "people": []}', '$.source is not valid JSON (line 1, column 12: unexpected "t")'],
  ])('an invalid element names $.collection[i], line and column: %s', async (_name, text, message) => {
    for (const size of [1, 5, 4096]) {
      const events = await scan(chunked(text, size));
      expect(events[events.length - 1]).toEqual({ type: 'error', message });
      // The valid elements before it were yielded.
      const good = events.filter((e) => e.type === 'item');
      expect(good.every((e) => e.type === 'item' && e.index < Number(/\[(\d+)\]/.exec(message)?.[1] ?? 0))).toBe(true);
    }
  });

  // Stray or missing commas between records: JSON.parse rejects each, and so does the scanner.
  it.each<[string, string]>([
    ['a trailing comma in a collection', '{"a": [1, 2,]}'],
    ['a doubled comma between elements', '{"a": [1,, 2]}'],
    ['no comma between two object elements', '{"a": [{"x": 1} {"y": 2}]}'],
    ['a trailing comma in the top-level object', '{"a": 1,}'],
  ])('%s is an error', async (_name, text) => {
    expect(() => JSON.parse(text)).toThrow();
    const events = await scan([text]);
    expect(events[events.length - 1]).toMatchObject({ type: 'error', message: expect.stringMatching(/^line \d+, column \d+: /) });
  });
});
