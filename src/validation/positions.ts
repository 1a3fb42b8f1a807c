/**
 * Where validation issues are in the JSON text: line and column of the element each issue's
 * `expression` names, for the text output (`file:line:col`) and for the standard OperationOutcome
 * issue extensions `operationoutcome-issue-line` / `-col`
 * (https://hl7.org/fhir/R4/extension-operationoutcome-issue-line.html).
 *
 * JSON.parse keeps no positions, so this is a second, hand-written scan of the text, run once per
 * text and only when validation reported issues (the fast path, JSON.parse + validate, does not
 * pay for it). The scan is guided by the paths wanted: it records positions only for the elements
 * on those paths and skips every other subtree at string-search speed, so memory stays
 * proportional to the issues, not to the file. Iterative (no recursion on deep nesting); it never
 * throws: on text that is not JSON it stops and keeps what it found.
 *
 * Positions: `line` and `col` are 1-based; a line ends at `\n`, `\r\n` or a lone `\r`; columns
 * count UTF-16 code units (as JSON.parse's error offsets, editors' LSP positions and the HL7
 * validator do: a character outside the BMP counts 2). A property is located at its name's
 * opening quote, an array item at its first character.
 *
 * Paths are those the validator writes: `Bundle.entry[2].resource.subject.reference` (the first
 * segment is the root resource's type). Also understood: `value[x]` (any `valueQuantity`,
 * `valueString`, ...), a primitive's extension through its `_name` sibling
 * (`Patient.birthDate.extension[0]` is found in `_birthDate`), and a path to an element that is
 * not in the text (a missing required element) is located at its nearest existing parent.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

export const ISSUE_LINE_URL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line';
export const ISSUE_COL_URL = 'http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col';

export interface SourcePosition {
  line: number;
  col: number;
}

/** One step of a path: a property name (`value[x]` for a choice) or an array index. */
export type PathSegment = string | number;

/** A node of the tree of wanted paths; `pos` is filled in by the scan. */
interface Wanted {
  pos?: SourcePosition;
  /** `pos` came from a `_name` sibling: a position from the element itself replaces it. */
  weak?: boolean;
  keys?: Map<string, Wanted>;
  items?: Map<number, Wanted>;
  /** `value[x]`: keyed by `value`. */
  choices?: Map<string, Wanted>;
}

interface Target {
  node: Wanted;
  weak: boolean;
}

interface Frame {
  array: boolean;
  targets: Target[];
  index: number;
}

const SEGMENT = /([A-Za-z_$][\w$]*(?:\[x\])?)((?:\[\d+\])*)/y;

/**
 * Segments of a validator path, without its first segment (the root resource's type):
 * `Bundle.entry[2].resource` -> ['entry', 2, 'resource']. Stops at anything it does not read
 * (a FHIRPath function, say), which locates the issue at the part before it.
 */
export function pathSegments(expression: string): PathSegment[] {
  const out: PathSegment[] = [];
  let at = 0;
  let first = true;
  while (at < expression.length) {
    SEGMENT.lastIndex = at;
    const m = SEGMENT.exec(expression);
    if (!m) break;
    if (!first) out.push(m[1]);
    first = false;
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
    at = SEGMENT.lastIndex;
    if (expression[at] !== '.') break;
    at++;
  }
  return out;
}

/**
 * Line and column, in `text`, of the element each expression names (undefined expression: the
 * root). `base` is the path from the text's root to the resource the expressions are relative
 * to (`['parameter', 0, 'resource']` for a `$validate` Parameters body). An element missing from
 * the text is located at its nearest existing parent; undefined only when `text` is not JSON.
 */
export function locate(text: string, expressions: readonly (string | undefined)[], base: readonly PathSegment[] = []): (SourcePosition | undefined)[] {
  const root: Wanted = {};
  const paths = expressions.map((e) => [...base, ...(e ? pathSegments(e) : [])]);
  for (const path of paths) {
    let node = root;
    for (const seg of path) node = child(node, seg);
  }
  scan(text, root);
  return paths.map((path) => {
    let node: Wanted | undefined = root;
    let found = root.pos;
    for (const seg of path) {
      node = typeof seg === 'number' ? node.items?.get(seg) : seg.endsWith('[x]') ? node.choices?.get(seg.slice(0, -3)) : node.keys?.get(seg);
      if (!node) break;
      found = node.pos ?? found;
    }
    return found;
  });
}

/**
 * The issues with their line and column as OperationOutcome issue extensions, from one scan of
 * `text` (copies; the issues given are not changed). Issues located nowhere (text not JSON) are
 * returned as they are.
 */
export function withPositions(issues: readonly OperationOutcomeIssue[], text: string, base: readonly PathSegment[] = []): OperationOutcomeIssue[] {
  const positions = locate(
    text,
    issues.map((i) => i.expression?.[0]),
    base,
  );
  return issues.map((issue, n) => {
    const pos = positions[n];
    if (!pos) return issue;
    const others = (issue.extension ?? []).filter((x) => x.url !== ISSUE_LINE_URL && x.url !== ISSUE_COL_URL);
    return {
      extension: [...others, { url: ISSUE_LINE_URL, valueInteger: pos.line }, { url: ISSUE_COL_URL, valueInteger: pos.col }],
      ...withoutExtension(issue),
    };
  });
}

/** Line and column of a UTF-16 offset in `text`, by the same rules as `locate`. */
export function positionAt(text: string, offset: number): SourcePosition {
  const lines = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

/** The line and column an issue carries (from `withPositions`), if any. */
export function issuePosition(issue: OperationOutcomeIssue): SourcePosition | undefined {
  const line = issue.extension?.find((x) => x.url === ISSUE_LINE_URL)?.valueInteger;
  const col = issue.extension?.find((x) => x.url === ISSUE_COL_URL)?.valueInteger;
  return line !== undefined && col !== undefined ? { line, col } : undefined;
}

function withoutExtension(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const { extension: _, ...rest } = issue;
  return rest;
}

function child(node: Wanted, seg: PathSegment): Wanted {
  if (typeof seg === 'number') {
    node.items ??= new Map();
    return getOrAdd(node.items, seg);
  }
  if (seg.endsWith('[x]')) {
    node.choices ??= new Map();
    return getOrAdd(node.choices, seg.slice(0, -3));
  }
  node.keys ??= new Map();
  return getOrAdd(node.keys, seg);
}

function getOrAdd<K>(map: Map<K, Wanted>, key: K): Wanted {
  let n = map.get(key);
  if (!n) {
    n = {};
    map.set(key, n);
  }
  return n;
}

/** The wanted nodes a property `key` of the targets' objects leads to. */
function keyTargets(targets: Target[], key: string): Target[] {
  const out: Target[] = [];
  const shadow = key.startsWith('_');
  const name = shadow ? key.slice(1) : key;
  for (const t of targets) {
    const exact = t.node.keys?.get(key);
    if (exact) out.push({ node: exact, weak: t.weak });
    if (shadow) {
      const primitive = t.node.keys?.get(name);
      if (primitive) out.push({ node: primitive, weak: true });
    }
    if (t.node.choices) {
      for (const [prefix, node] of t.node.choices) {
        const next = name.charCodeAt(prefix.length);
        if (name.length > prefix.length && name.startsWith(prefix) && next >= 65 && next <= 90) {
          out.push({ node, weak: t.weak || shadow });
        }
      }
    }
  }
  return out;
}

function itemTargets(targets: Target[], index: number): Target[] {
  const out: Target[] = [];
  for (const t of targets) {
    const node = t.node.items?.get(index);
    if (node) out.push({ node, weak: t.weak });
  }
  return out;
}

function record(targets: Target[], pos: SourcePosition): void {
  for (const t of targets) {
    if (!t.node.pos || (t.node.weak && !t.weak)) {
      t.node.pos = pos;
      t.node.weak = t.weak;
    }
  }
}

/** Fills in `pos` of the wanted nodes found in `text`. */
function scan(text: string, root: Wanted): void {
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): SourcePosition => ({ line, col: i - lineStart + 1 });

  const ws = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        lineStart = i + 1;
      } else if (c === 13) {
        if (text.charCodeAt(i + 1) !== 10) {
          line++;
          lineStart = i + 1;
        }
      } else if (c !== 32 && c !== 9) {
        return;
      }
    }
  };
  /** From an opening quote to past the closing one; false when the string never ends. */
  const skipString = (): boolean => {
    let j = i + 1;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) return false;
      let slashes = 0;
      while (text.charCodeAt(q - 1 - slashes) === 92) slashes++;
      if (slashes % 2 === 0) {
        i = q + 1;
        return true;
      }
      j = q + 1;
    }
  };
  /** Past a number or literal (true, false, null). */
  const skipScalar = (): void => {
    const start = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 44 || c === 93 || c === 125 || c === 32 || c === 10 || c === 13 || c === 9 || c === 58) break;
      i++;
    }
    if (i === start) i++;
  };
  /** Past a whole object or array no wanted path enters; false on text that is not JSON. */
  const skipContainer = (): boolean => {
    let depth = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        if (!skipString()) return false;
        continue;
      }
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) {
          i++;
          return true;
        }
      } else if (c === 10 || c === 13) {
        ws();
        continue;
      }
      i++;
    }
    return false;
  };
  const stack: Frame[] = [];
  /** A value at `i` (after whitespace): containers open a frame, the rest is skipped. */
  const value = (targets: Target[]): boolean => {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      if (targets.length === 0) return skipContainer();
      stack.push({ array: c === 91, targets, index: 0 });
      i++;
      return true;
    }
    if (c === 34) return skipString();
    skipScalar();
    return true;
  };

  ws();
  const rootTargets = [{ node: root, weak: false }];
  record(rootTargets, here());
  if (i >= n || !value(rootTargets)) return;
  while (stack.length > 0) {
    ws();
    if (i >= n) return;
    const top = stack[stack.length - 1];
    const c = text.charCodeAt(i);
    if (c === 44) {
      i++;
      continue;
    }
    if (c === 125 || c === 93) {
      stack.pop();
      i++;
      continue;
    }
    if (top.array) {
      const targets = itemTargets(top.targets, top.index++);
      if (targets.length) record(targets, here());
      if (!value(targets)) return;
      continue;
    }
    if (c !== 34) return;
    const keyPos = here();
    const keyStart = i;
    if (!skipString()) return;
    const raw = text.slice(keyStart + 1, i - 1);
    const key = raw.includes('\\') ? decodeKey(text.slice(keyStart, i)) : raw;
    const targets = key === undefined ? [] : keyTargets(top.targets, key);
    if (targets.length) record(targets, keyPos);
    ws();
    if (text.charCodeAt(i) !== 58) return;
    i++;
    ws();
    if (i >= n || !value(targets)) return;
  }
}

function decodeKey(quoted: string): string | undefined {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
}
