/**
 * Streams the elements of a JSON document that is one top-level array (`[ {...}, ... ]`), as
 * json-records.ts streams the arrays of an object: memory stays flat whatever the file size.
 */
import { parseAt, WS } from './json-text';

export type ArrayEvent =
  | { type: 'item'; index: number; value: unknown; line: number; text: string }
  /** `index` and `text` when an element is not valid JSON. */
  | { type: 'error'; message: string; index?: number; text?: string };

/**
 * Streams the elements of a top-level JSON array (`[ {...}, {...} ]`) the way scanTopLevel streams
 * an object's arrays: each element is cut out as text and parsed on its own. Syntax errors name
 * line and column, and end the scan.
 */
export async function* scanTopLevelArray(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<ArrayEvent> {
  let line = 1;
  let col = 0;
  let depth = 0;
  let inString = false;
  let escape = false;
  let state: 'start' | 'array' | 'in-item' | 'end' = 'start';
  let needs: 'first' | 'comma' | 'element' = 'first';
  let buf = '';
  let index = 0;
  let itemLine = 0;
  let itemCol = 0;
  const where = () => `line ${line}, column ${col}`;
  for await (const chunk of chunks) {
    let segmentStart = state === 'in-item' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk.charCodeAt(i);
      if (ch === 0x0a) {
        line++;
        col = 0;
      } else {
        col++;
      }
      if (state === 'in-item') {
        if (inString) {
          if (escape) escape = false;
          else if (ch === 0x5c) escape = true;
          else if (ch === 0x22) inString = false;
          continue;
        }
        let closesScalar = false;
        if (ch === 0x22) {
          inString = true;
          continue;
        } else if (ch === 0x7b || ch === 0x5b) {
          depth++;
          continue;
        } else if (ch === 0x7d || ch === 0x5d) {
          if (depth > 1) {
            depth--;
            if (depth > 1) continue;
          } else {
            closesScalar = true;
          }
        } else if (ch === 0x2c && depth === 1) {
          closesScalar = true;
        } else {
          continue;
        }
        const text = buf + chunk.slice(segmentStart, closesScalar ? i : i + 1);
        buf = '';
        segmentStart = -1;
        const parsed = parseAt(text, itemLine, itemCol);
        const itemText = closesScalar ? text.trimEnd() : text;
        if (!parsed.ok) {
          yield { type: 'error', message: `$[${index}] is not valid JSON (${parsed.message})`, index, text: itemText };
          return;
        }
        yield { type: 'item', index, value: parsed.value, line: itemLine, text: itemText };
        index++;
        state = 'array';
        needs = 'comma';
        if (!closesScalar) continue;
      }
      if (WS.has(ch)) continue;
      if (state === 'start') {
        if (ch === 0xfeff && line === 1 && col === 1) continue;
        if (ch !== 0x5b) {
          yield { type: 'error', message: `${where()}: expected a JSON array ('[')` };
          return;
        }
        depth = 1;
        state = 'array';
      } else if (state === 'array') {
        if (ch === 0x5d) {
          if (needs === 'element') {
            yield { type: 'error', message: `${where()}: unexpected ']' after ',' (trailing comma)` };
            return;
          }
          depth = 0;
          state = 'end';
        } else if (ch === 0x2c) {
          if (needs !== 'comma') {
            yield { type: 'error', message: `${where()}: unexpected ','` };
            return;
          }
          needs = 'element';
        } else if (needs === 'comma') {
          yield { type: 'error', message: `${where()}: expected ',' or ']' after $[${index - 1}]` };
          return;
        } else {
          state = 'in-item';
          segmentStart = i;
          itemLine = line;
          itemCol = col;
          if (ch === 0x22) inString = true;
          else if (ch === 0x7b || ch === 0x5b) depth++;
        }
      } else {
        yield { type: 'error', message: `${where()}: unexpected text after the end of the JSON array` };
        return;
      }
    }
    if (segmentStart >= 0) buf += chunk.slice(segmentStart);
  }
  if (state !== 'end') yield { type: 'error', message: `line ${line}, column ${col}: unexpected end of JSON (the file is cut short)` };
}
