/**
 * Where a JSON text stops being JSON. Node 20's JSON.parse messages often carry no position, so
 * a small scanner (RFC 8259 grammar, iterative: no recursion on hostile nesting) finds the offset
 * of the first syntax error and reports it as line and column.
 */

/** Offset of the first syntax error in `text`, or -1 when it is valid JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) {
      i++;
    }
  };
  // Stack of containers ('{' or '['); `want` is what the grammar expects next.
  const stack: string[] = [];
  type Want = 'value' | 'key' | 'colon' | 'commaOrEnd' | 'keyOrEnd' | 'valueOrEnd' | 'done';
  let want = 'value' as Want;
  const afterValue = (): void => {
    want = stack.length ? 'commaOrEnd' : 'done';
  };
  for (;;) {
    ws();
    if (i >= n) {
      return want === 'done' ? -1 : i;
    }
    const c = text[i];
    if (want === 'done') {
      return i;
    }
    if (want === 'colon') {
      if (c !== ':') return i;
      i++;
      want = 'value';
      continue;
    }
    if (want === 'commaOrEnd') {
      const top = stack[stack.length - 1];
      if (c === ',') {
        i++;
        want = top === '{' ? 'key' : 'value';
        continue;
      }
      if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        i++;
        stack.pop();
        afterValue();
        continue;
      }
      return i;
    }
    if (want === 'key' || want === 'keyOrEnd') {
      if (want === 'keyOrEnd' && c === '}') {
        i++;
        stack.pop();
        afterValue();
        continue;
      }
      if (c !== '"') return i;
      const end = scanString(text, i);
      if (end < 0) return -end - 1;
      i = end;
      want = 'colon';
      continue;
    }
    // value or valueOrEnd
    if (want === 'valueOrEnd' && c === ']') {
      i++;
      stack.pop();
      afterValue();
      continue;
    }
    if (c === '{') {
      stack.push('{');
      i++;
      want = 'keyOrEnd';
    } else if (c === '[') {
      stack.push('[');
      i++;
      want = 'valueOrEnd';
    } else if (c === '"') {
      const end = scanString(text, i);
      if (end < 0) return -end - 1;
      i = end;
      afterValue();
    } else {
      const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
      if (!m) return i;
      i += m[0].length;
      afterValue();
    }
  }
}

/** End offset of the string starting at `start`, or -(errorOffset+1). */
function scanString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -(i + 1);
    if (c === 0x5c) {
      const e = text[i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -(i + 1);
        i += 6;
        continue;
      }
      if (!e || !'"\\/bfnrt'.includes(e)) return -(i + 1);
      i += 2;
      continue;
    }
    i++;
  }
  return -(text.length + 1);
}

/** "line L, column C: <what>" for a JSON.parse failure. */
export function describeJsonError(err: Error, text: string): string {
  const offset = jsonErrorOffset(text);
  const reason = offset >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text.slice(offset, offset + 1))}`;
  if (offset < 0) {
    return err.message;
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${reason}`;
}
