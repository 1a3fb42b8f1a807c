/**
 * The shape of a JSON text read from its characters, without parsing it: how deep it nests and
 * how many values it holds. A request body is measured before `JSON.parse` builds it, so a body
 * of a million tiny values is refused for what it is in one pass over its bytes, instead of being
 * built, walked and validated on the event loop first.
 */

export interface JsonShape {
  /** Deepest nesting of objects and arrays (`[[1]]` is 2), as `jsonDepth` counts containers. */
  depth: number;
  /**
   * Values (objects, arrays, primitives) at least: one plus the commas outside strings, which
   * undercounts by at most the number of containers. Counting stops once it passes `maxValues`.
   */
  values: number;
}

/** Measures a JSON text (meaningful for valid JSON; anything else is refused by `JSON.parse` anyway). */
export function jsonTextShape(text: string, maxValues = Infinity): JsonShape {
  let depth = 0;
  let deepest = 0;
  let values = 1;
  for (let i = 0; i < text.length && values <= maxValues; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      // Skip the string, honouring escapes: brackets and commas inside it are text.
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      i = j;
    } else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > deepest) deepest = depth;
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    } else if (ch === 0x2c) {
      values++;
    }
  }
  return { depth: deepest, values };
}
