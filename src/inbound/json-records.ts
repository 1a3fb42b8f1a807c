/**
 * Streams the records of a large JSON document shaped `{ "key": scalar, "collection": [ {...}, ... ] }`
 * (scanTopLevel) or `[ {...}, ... ]` (scanTopLevelArray, json-array.ts) without holding the whole text: each
 * element of an array is cut out as text and parsed on its own, so memory stays flat whatever the
 * file size. Syntax errors name line and column.
 */
import { parseAt, WS } from './json-text';

export { scanTopLevelArray, type ArrayEvent } from './json-array';
export { parseJsonText } from './json-text';

export type TopLevelEvent =
  | { type: 'property'; key: string; value: unknown }
  /** `text` (the element's JSON text) only with `{ text: true }`. */
  | { type: 'item'; collection: string; index: number; value: unknown; line: number; text?: string }
  /** `text`: with `{ text: true }`, the text of the element that is not valid JSON. */
  | { type: 'error'; message: string; text?: string };

export interface ScanOptions {
  /** Put each element's JSON text on its `item` event (and a broken element's on the `error`). */
  text?: boolean;
}

/** Scans a JSON object's top-level properties; array properties yield one `item` per element. */
export async function* scanTopLevel(chunks: AsyncIterable<string> | Iterable<string>, options: ScanOptions = {}): AsyncGenerator<TopLevelEvent> {
  let line = 1;
  let col = 0;
  let depth = 0;
  let inString = false;
  let escape = false;
  /** 'start' before '{'; 'key' expecting a key or '}'; 'colon'; 'value'; 'in-value' capturing a scalar/object value; 'array' between elements; 'in-item' capturing an element; 'after' after a value; 'end'. */
  let state: 'start' | 'key' | 'in-key' | 'colon' | 'value' | 'in-value' | 'array' | 'in-item' | 'after' | 'end' = 'start';
  let buf = '';
  let key = '';
  let index = 0;
  /** Inside a collection: what may come next ('first': an element or ']'; 'comma': ',' or ']'; 'element': an element). */
  let arrayNeeds: 'first' | 'comma' | 'element' = 'first';
  /** After a ',' between top-level properties a name must follow ('}' would be a trailing comma). */
  let keyNeeded = false;
  let itemLine = 0;
  let itemCol = 0;
  const where = () => `line ${line}, column ${col}`;
  const parse = parseAt;

  for await (const chunk of chunks) {
    // A value or key cut by the chunk boundary goes on from this chunk's first character.
    let segmentStart = state === 'in-item' || state === 'in-value' || state === 'in-key' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk.charCodeAt(i);
      if (ch === 0x0a) {
        line++;
        col = 0;
      } else {
        col++;
      }
      if (state === 'in-item' || state === 'in-value' || state === 'in-key') {
        if (inString) {
          if (escape) escape = false;
          else if (ch === 0x5c) escape = true;
          else if (ch === 0x22) {
            inString = false;
            if (state === 'in-key') {
              const parsedKey = parse(buf + chunk.slice(segmentStart, i + 1), itemLine, itemCol);
              if (!parsedKey.ok) {
                yield { type: 'error', message: `a property name is not valid JSON (${parsedKey.message})` };
                return;
              }
              key = parsedKey.value as string;
              buf = '';
              segmentStart = -1;
              state = 'colon';
            }
          }
          continue;
        }
        const target = state === 'in-item' ? 2 : 1;
        let closesScalar = false;
        if (ch === 0x22) {
          inString = true;
          continue;
        } else if (ch === 0x7b || ch === 0x5b) {
          depth++;
          continue;
        } else if (ch === 0x7d || ch === 0x5d) {
          if (depth > target) {
            depth--;
            if (depth > target) continue;
          } else {
            closesScalar = true;
          }
        } else if (ch === 0x2c && depth === target) {
          closesScalar = true;
        } else {
          continue;
        }
        // The value ends here: with this char for a container, before it for a scalar.
        const end = closesScalar ? i : i + 1;
        const text = buf + chunk.slice(segmentStart, end);
        buf = '';
        segmentStart = -1;
        const parsed = parse(text, itemLine, itemCol);
        if (state === 'in-item') {
          if (options.text) {
            const itemText = closesScalar ? text.trimEnd() : text;
            yield parsed.ok
              ? { type: 'item', collection: key, index, value: parsed.value, line: itemLine, text: itemText }
              : { type: 'error', message: `$.${key}[${index}] is not valid JSON (${parsed.message})`, text: itemText };
          } else {
            yield parsed.ok
              ? { type: 'item', collection: key, index, value: parsed.value, line: itemLine }
              : { type: 'error', message: `$.${key}[${index}] is not valid JSON (${parsed.message})` };
          }
          if (!parsed.ok) return;
          index++;
          state = 'array';
          arrayNeeds = 'comma';
        } else {
          if (!parsed.ok) {
            yield { type: 'error', message: `$.${key} is not valid JSON (${parsed.message})` };
            return;
          }
          yield { type: 'property', key, value: parsed.value };
          state = 'after';
        }
        if (!closesScalar) continue;
        // Fall through so the ',' / ']' / '}' that closed a scalar is handled below.
      }
      if (WS.has(ch)) continue;
      switch (state) {
        case 'start':
          if (ch === 0xfeff && line === 1 && col === 1) {
            // A UTF-8 byte-order mark before the object.
            continue;
          }
          if (ch !== 0x7b) {
            yield { type: 'error', message: `${where()}: expected a JSON object ('{')` };
            return;
          }
          depth = 1;
          state = 'key';
          break;
        case 'key':
          if (ch === 0x7d && keyNeeded) {
            yield { type: 'error', message: `${where()}: unexpected '}' after ',' (trailing comma)` };
            return;
          } else if (ch === 0x7d) {
            depth = 0;
            state = 'end';
          } else if (ch === 0x22) {
            state = 'in-key';
            keyNeeded = false;
            inString = true;
            segmentStart = i;
            itemLine = line;
            itemCol = col;
          } else {
            yield { type: 'error', message: `${where()}: expected a property name` };
            return;
          }
          break;
        case 'colon':
          if (ch !== 0x3a) {
            yield { type: 'error', message: `${where()}: expected ':' after "${key}"` };
            return;
          }
          state = 'value';
          break;
        case 'value':
          if (ch === 0x5b) {
            depth = 2;
            index = 0;
            state = 'array';
            arrayNeeds = 'first';
          } else {
            state = 'in-value';
            segmentStart = i;
            itemLine = line;
            itemCol = col;
            if (ch === 0x22) inString = true;
            else if (ch === 0x7b) depth++;
          }
          break;
        case 'array':
          if (ch === 0x5d) {
            if (arrayNeeds === 'element') {
              yield { type: 'error', message: `${where()}: unexpected ']' after ',' in $.${key} (trailing comma)` };
              return;
            }
            depth = 1;
            state = 'after';
          } else if (ch === 0x2c) {
            if (arrayNeeds !== 'comma') {
              yield { type: 'error', message: `${where()}: unexpected ',' in $.${key}` };
              return;
            }
            arrayNeeds = 'element';
          } else if (arrayNeeds === 'comma') {
            yield { type: 'error', message: `${where()}: expected ',' or ']' after $.${key}[${index - 1}]` };
            return;
          } else {
            state = 'in-item';
            segmentStart = i;
            itemLine = line;
            itemCol = col;
            if (ch === 0x22) inString = true;
            else if (ch === 0x7b || ch === 0x5b) depth++;
          }
          break;
        case 'after':
          if (ch === 0x2c) {
            state = 'key';
            keyNeeded = true;
          } else if (ch === 0x7d) {
            depth = 0;
            state = 'end';
          } else {
            yield { type: 'error', message: `${where()}: expected ',' or '}' after $.${key}` };
            return;
          }
          break;
        case 'end':
          yield { type: 'error', message: `${where()}: unexpected text after the end of the JSON object` };
          return;
        default:
          break;
      }
    }
    if (segmentStart >= 0) buf += chunk.slice(segmentStart);
  }
  if (state !== 'end') {
    yield { type: 'error', message: `line ${line}, column ${col}: unexpected end of JSON (the file is cut short)` };
  }
}

/**
 * The first top-level property name that appears twice in a (syntactically valid) JSON object, if
 * any. JSON.parse keeps only the last occurrence, silently: callers that parsed a whole document use
 * this to refuse it instead.
 */
export function repeatedTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      // Find the end of the string, honouring escapes.
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b || ch === 0x5b) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    } else if (ch === 0x2c && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}
