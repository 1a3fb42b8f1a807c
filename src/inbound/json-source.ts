/**
 * JSON payloads -> source records (RFC 8259 text, UTF-8).
 *
 * `records` says where the records are: `$` (the document, or each element when it is an array),
 * `$[*]` (a top-level array's elements), `$.<prop>[*]` or `$.<a>.<b>[*]` (an array property's
 * elements); without `[*]` an object is one record and an array gives its elements.
 *
 * Memory: a top-level array and an array property of the top-level object are streamed (each
 * element is cut out and parsed on its own: json-records.ts). A deeper selector (`$.a.b[*]`) holds
 * the top-level property it starts in (`a`) whole, and its records' `raw` is re-serialised
 * (JSON.stringify), not the exact input text. `$` on an object holds the document.
 *
 * Bytes: UTF-8; bytes that are not UTF-8 are read as Windows-1252 (Latin-1), with `onWarning`.
 *
 * Errors: text that is not JSON before the first record is an InputError. A syntax error from the
 * first record on is a record with `error` (line and column), and reading stops there: JSON cannot
 * be resynchronised. A missing or empty array gives no records.
 */
import { decodeChunks, invalidUtf8Warning } from './decode';
import { parseJsonText, scanTopLevel, scanTopLevelArray } from './json-records';
import { describeJsonError } from './json-error';
import { InputError, type SourceRecord, type SourceScope, type SourceValue } from './source';

export interface JsonReadOptions {
  /** The input's name for records and messages (`clients.json`, `request body`). */
  input: string;
  /** Where the records are: `$`, `$[*]`, `$.clients[*]`, `$.data.clients[*]`. */
  records: string;
  /** Told when the bytes are not UTF-8 and were read as Latin-1 (Windows-1252) instead, as the CSV reader says it. */
  onWarning?: (message: string) => void;
}

/** A parsed `records` selector: property names from the root, and whether it ends with `[*]`. */
export interface JsonSelector {
  keys: string[];
  each: boolean;
}

/** Parses a `records` selector; throws on one that is not `$`, `$[*]`, `$.a[*]`, `$.a.b`, ... */
export function parseJsonSelector(records: string): JsonSelector {
  const m = /^\$((?:\.[^.[\]\s]+)*)(\[\*\])?$/.exec(records.trim());
  if (!m) throw new Error(`Not a JSON records selector: ${JSON.stringify(records)} (expected $, $[*], $.<property>[*] or $.<a>.<b>[*])`);
  return { keys: m[1] === '' ? [] : m[1].slice(1).split('.'), each: m[2] !== undefined };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const member = (name: string): string => (IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`);

/** `an object`, `an array`, `a string`, ... for messages. */
function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v === 'number' ? 'a number' : 'a string';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when a value read from JSON is an object or array (its JSON text), not a scalar. */
export function isStructured(v: SourceValue): boolean {
  return v.structured !== undefined;
}

/** A path step: a key, an index, or '*' (every item; a string like the keys). */
type Step = string | number;
const pathCache = new Map<string, { fromRoot: boolean; steps: Step[] }>();
const STEP = /^(?:\.?([^.[\]"]+)|\[(\d+|\*)\]|\[("(?:[^"\\]|\\.)*")\])/;

/** `a.b[0].c`, `sessions[*].minutes`, `["odd name"].x`, `$.x` (from the root); '' is the scope's own value. */
function parsePath(path: string): { fromRoot: boolean; steps: Step[] } {
  const cached = pathCache.get(path);
  if (cached) return cached;
  const fromRoot = path === '$' || path.startsWith('$.') || path.startsWith('$[');
  let rest = fromRoot ? path.slice(1) : path;
  const steps: Step[] = [];
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (!m || (steps.length === 0 && !fromRoot && rest.startsWith('.'))) {
      throw new Error(
        `Not a JSON path: ${JSON.stringify(path)} (expected names and indexes such as client.name.family, sessions[0].minutes, sessions[*].minutes, $.id)`,
      );
    }
    steps.push(m[1] !== undefined ? m[1] : m[2] !== undefined ? (m[2] === '*' ? '*' : Number(m[2])) : (JSON.parse(m[3]) as string));
    rest = rest.slice(m[0].length);
  }
  const parsed = { fromRoot, steps };
  if (pathCache.size > 4096) pathCache.clear();
  pathCache.set(path, parsed);
  return parsed;
}

interface Node {
  v: unknown;
  at: string;
}

function walk(start: Node, steps: Step[]): Node[] {
  let nodes = [start];
  for (const step of steps) {
    const next: Node[] = [];
    for (const { v, at } of nodes) {
      if (step === '*') {
        // A single value where a list is expected is a list of one: APIs often send one item
        // without its array (`"sessions": {...}`), and skipping it would lose it silently.
        if (Array.isArray(v)) v.forEach((item: unknown, i) => next.push({ v: item, at: `${at}[${i}]` }));
        else if (v !== undefined) next.push({ v, at });
      } else if (typeof step === 'number') {
        if (Array.isArray(v) && step < v.length) next.push({ v: v[step], at: `${at}[${step}]` });
      } else if (isObject(v) && Object.prototype.hasOwnProperty.call(v, step)) {
        next.push({ v: v[step], at: `${at}${member(step)}` });
      }
    }
    nodes = next;
  }
  return nodes;
}

class JsonScope implements SourceScope {
  constructor(
    private readonly value: unknown,
    readonly at: string,
    private readonly root: Node,
  ) {}

  private nodes(path: string): Node[] {
    const { fromRoot, steps } = parsePath(path);
    return walk(fromRoot ? this.root : { v: this.value, at: this.at }, steps);
  }

  get(path: string): SourceValue[] {
    const out: SourceValue[] = [];
    for (const { v, at } of this.nodes(path)) {
      if (v === undefined) continue;
      if (typeof v === 'object' && v !== null) out.push({ value: JSON.stringify(v), at, structured: Array.isArray(v) ? 'array' : 'object' });
      else out.push({ value: v as string | number | boolean | null, at });
    }
    return out;
  }

  list(path: string): SourceScope[] {
    const out: SourceScope[] = [];
    const expand = !/\[\*\]$/.test(path);
    for (const node of this.nodes(path)) {
      const items = expand && Array.isArray(node.v) ? node.v.map((v: unknown, i) => ({ v, at: `${node.at}[${i}]` })) : [node];
      for (const item of items) if (item.v !== undefined && item.v !== null) out.push(new JsonScope(item.v, item.at, this.root));
    }
    return out;
  }
}

/**
 * A JSON value as a scope. `get` walks objects and arrays (`a.b[0].c`), fans out on `[*]`, and
 * reads `$.x` from `root` (default: the value itself; `rootAt` its location). An object or array
 * where a path ends is returned as its JSON text with `structured` set. `list('sessions')` or
 * `list('sessions[*]')` gives a scope per element (`$.clients[3].sessions[1]`).
 */
export function jsonScope(value: unknown, at: string, root?: unknown, rootAt?: string): SourceScope {
  return new JsonScope(value, at, root === undefined ? { v: value, at } : { v: root, at: rootAt ?? '$' });
}

function recordOf(value: unknown, n: number, input: string, where: string, raw: string): SourceRecord {
  if (!isObject(value)) return { n, input, where, raw, error: `Expected an object, found ${kind(value)}` };
  return { n, input, where, raw, scope: jsonScope(value, where) };
}

/** Pulls from an iterator after giving back the chunks already taken from it. */
async function* replay(taken: string[], rest: AsyncIterator<string>): AsyncGenerator<string> {
  yield* taken;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/** Records of the value at `selector` in an already parsed value (`at` is where `value` is). */
function* recordsIn(value: unknown, selector: JsonSelector, from: number, at: string, input: string, exact?: string): Generator<SourceRecord> {
  const target = walk({ v: value, at }, selector.keys.slice(from))[0];
  if (target === undefined) return;
  if (Array.isArray(target.v)) {
    let i = 0;
    for (const item of target.v as unknown[]) {
      yield recordOf(item, i + 1, input, `${target.at}[${i}]`, JSON.stringify(item));
      i++;
    }
  } else if (selector.each) {
    throw new InputError(`${target.at} in ${input} is ${kind(target.v)}, not an array of records`, target.at);
  } else {
    yield recordOf(target.v, 1, input, target.at, exact ?? JSON.stringify(target.v));
  }
}

/** `line L, column C` in a scanner message, else `$`. */
const positionOf = (message: string): string => /line \d+, column \d+/.exec(message)?.[0] ?? '$';

/** The syntax error as an InputError before any record, else as the record where reading stopped. */
function syntaxError(message: string, n: number, input: string, where: string, raw: string | undefined, inRecords: boolean): SourceRecord {
  if (!inRecords) throw new InputError(`${input} is not valid JSON: ${message}`, positionOf(message));
  return { n, input, where, raw: raw ?? '', error: `${message}; the rest of the input was not read` };
}

/** Reads the source records of a JSON input (see the file comment for `records` and memory). */
export async function* readJson(
  chunks: AsyncIterable<string | Buffer | Uint8Array> | Iterable<string | Buffer | Uint8Array>,
  options: JsonReadOptions,
): AsyncGenerator<SourceRecord> {
  const selector = parseJsonSelector(options.records);
  const input = options.input;
  // JSON is UTF-8 (RFC 8259 section 8.1), but exports from older systems come in Latin-1: read
  // those bytes as Windows-1252 as the CSV reader does, never as U+FFFD (which would store
  // "Caf\uFFFD" for "Café", with nothing said and the original text lost, even in the raw input).
  const warn = options.onWarning;
  const texts = decodeChunks(chunks, { encoding: 'auto', onInvalidUtf8: warn && ((e) => warn(invalidUtf8Warning(e))) });

  if (selector.keys.length > 0) {
    const [key] = selector.keys;
    const prefix = `$${member(key)}`;
    let count = 0;
    for await (const e of scanTopLevel(texts, { text: true })) {
      if (e.type === 'item') {
        if (e.collection !== key) continue;
        if (selector.keys.length > 1) throw new InputError(`${prefix} in ${input} is an array: ${options.records} cannot be read from it`, prefix);
        count++;
        yield recordOf(e.value, e.index + 1, input, `${prefix}[${e.index}]`, e.text ?? JSON.stringify(e.value));
      } else if (e.type === 'property') {
        if (e.key !== key) continue;
        for (const r of recordsIn(e.value, selector, 1, prefix, input)) {
          count++;
          yield r;
        }
      } else {
        const element = e.message.startsWith(`${prefix}[`) ? /^(\S+\[\d+\]) is not valid JSON/.exec(e.message)?.[1] : undefined;
        yield syntaxError(e.message, count + 1, input, element ?? positionOf(e.message), e.text, count > 0 || element !== undefined);
        return;
      }
    }
    return;
  }

  // `$` or `$[*]`: look at the first character to choose.
  const it = texts[Symbol.asyncIterator]();
  const taken: string[] = [];
  let first = '';
  while (first === '') {
    const r = await it.next();
    if (r.done) break;
    taken.push(r.value);
    first = r.value.trimStart().charAt(0);
  }
  if (first === '[') {
    let count = 0;
    for await (const e of scanTopLevelArray(replay(taken, it))) {
      if (e.type === 'item') {
        count++;
        yield recordOf(e.value, e.index + 1, input, `$[${e.index}]`, e.text);
      } else {
        const inRecords = e.index !== undefined || count > 0;
        yield syntaxError(e.message, count + 1, input, e.index !== undefined ? `$[${e.index}]` : positionOf(e.message), e.text, inRecords);
        return;
      }
    }
    return;
  }
  if (selector.each) throw new InputError(`${input} is not a JSON array: ${options.records} reads the elements of a top-level array`, '$');
  const parts = [...taken];
  for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value);
  const text = parts.join('');
  if (text.trim() === '') throw new InputError(`${input} is empty: there is no JSON in it`, '$');
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (err) {
    throw new InputError(`${input} is not valid JSON: ${describeJsonError(err as Error, text)}`, '$');
  }
  yield* recordsIn(value, selector, 0, '$', input, text.trim());
}
