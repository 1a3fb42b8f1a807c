/**
 * A mapping YAML file with line numbers: every load error names the file, the line and the field
 * path (`records[0].fields.start.transform[1]`), as mappings/README.md promises.
 *
 * Two reading rules of the mapping format live here, because only the YAML source has the facts:
 * map keys are always text as written (`01: in-person` keeps `01`), and a plain number written
 * with a leading zero (`02`, `007`) stays text, so place-of-service codes and zero-padded source
 * codes survive YAML 1.2's number rules.
 */
import * as fs from 'node:fs';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { MappingLoadError } from './types';
import { readParsedYaml, writeParsedYaml } from './parsed-yaml-cache';

export type YamlPath = readonly (string | number)[];

/** `records[0].fields.start.transform[1]` */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const p of path) {
    out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  }
  return out;
}

/** A file's text and, once needed, its parsed tree with line positions (shared by its parts). */
interface Source {
  text: string;
  tree?: { doc: Document.Parsed; lines: LineCounter };
}

function parseTree(text: string): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { doc, lines };
}

export class YamlFile {
  private constructor(
    readonly file: string,
    private readonly source: Source,
    /** The file's content as plain data (see the reading rules above); of the part at `base` for a part. */
    readonly data: unknown,
    /** Where this part is in the file: [] for the whole file, `['feeds', 'contacts']` for a feed of a one-file mapping. */
    private readonly base: YamlPath = [],
  ) {}

  /** The part of the file at `path` (a feed of a one-file mapping): its errors name the full path and the file's line. */
  part(path: YamlPath): YamlFile {
    return new YamlFile(this.file, this.source, valueAt(this.data, path as (string | number)[]), [...this.base, ...path]);
  }

  /** The parsed tree, for line numbers: parsed again from the text when the data came from the cache. */
  private get tree(): { doc: Document.Parsed; lines: LineCounter } {
    return (this.source.tree ??= parseTree(this.source.text));
  }

  /** Reads and parses a file; a YAML syntax error throws MappingLoadError with its line. */
  static read(file: string, displayName = file): YamlFile {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new MappingLoadError(displayName, undefined, '', `cannot read the file: ${(e as Error).message}`);
    }
    return YamlFile.parse(text, displayName);
  }

  /**
   * Parses a file's text. Its plain data is kept in a cache by the text's hash (parsed-yaml-cache.ts):
   * a file read before is not parsed again (start-up loads every mapping; parsing YAML with line
   * positions was most of it), and its tree is parsed only if a load error needs a line.
   */
  static parse(text: string, file: string): YamlFile {
    const cached = readParsedYaml(text);
    if (cached !== undefined) return new YamlFile(file, { text }, cached);
    const tree = parseTree(text);
    const err = tree.doc.errors[0];
    if (err) {
      const line = tree.lines.linePos(err.pos[0]).line;
      throw new MappingLoadError(file, line, '', `YAML syntax error: ${err.message.split('\n')[0]}`);
    }
    const data = toPlain(tree.doc.contents, tree.doc);
    writeParsedYaml(text, data);
    return new YamlFile(file, { text, tree }, data);
  }

  /** The line of the node at `path` (of its key when `key` is set), or of the nearest existing parent. */
  lineOf(relative: YamlPath, key = false): number | undefined {
    const path = [...this.base, ...relative];
    let node: unknown = this.tree.doc.contents;
    let line = node ? this.line(node) : 1;
    for (let i = 0; i < path.length; i++) {
      const p = path[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.source ?? it.key.value) === String(p));
        if (!pair) {
          return line;
        }
        if (key && i === path.length - 1) {
          return this.line(pair.key) ?? line;
        }
        node = pair.value;
        line = this.line(pair.value ?? pair.key) ?? line;
      } else if (isSeq(node) && typeof p === 'number' && node.items[p] !== undefined) {
        node = node.items[p];
        line = this.line(node) ?? line;
      } else {
        return line;
      }
    }
    return line;
  }

  /** A MappingLoadError at `path`. */
  error(path: YamlPath, reason: string, key = false): MappingLoadError {
    return new MappingLoadError(this.file, this.lineOf(path, key), formatPath([...this.base, ...path]), reason);
  }

  /** Checks `value` (at `path` in this file) with a zod schema; the first problem throws, with its line. */
  check<T extends z.ZodType>(schema: T, value: unknown, path: YamlPath = []): z.infer<T> {
    const r = schema.safeParse(value);
    if (r.success) {
      return r.data;
    }
    const issue = r.error.issues[0];
    const at = [...path, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, issue.path as (string | number)[]);
      const k = issue.keys[0];
      throw this.error([...at, k], `unknown key '${k}'${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}`, true);
    }
    throw this.error(at, zodMessage(issue, valueAt(value, issue.path as (string | number)[])));
  }

  private line(node: unknown): number | undefined {
    const range = (node as Node | null)?.range;
    return range ? this.tree.lines.linePos(range[0]).line : undefined;
  }
}

function toPlain(node: unknown, doc: Document.Parsed, depth = 0): unknown {
  if (depth > 100) {
    return null;
  }
  if (isAlias(node)) {
    // An alias (*name) stands for its anchor's value (&name): mappings may reuse a rule.
    return toPlain(node.resolve(doc), doc, depth + 1);
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isPair(pair)) {
        continue;
      }
      const k = isScalar(pair.key) ? String(pair.key.source ?? pair.key.value) : String(toPlain(pair.key, doc, depth + 1));
      Object.defineProperty(out, k, { value: toPlain(pair.value, doc, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (isSeq(node)) {
    return node.items.map((item) => toPlain(item, doc, depth + 1));
  }
  if (isScalar(node)) {
    if (typeof node.value === 'number' && node.type === 'PLAIN' && node.source !== undefined && /^[-+]?0\d/.test(node.source)) {
      return node.source;
    }
    return node.value;
  }
  return node === null || node === undefined ? null : ((node as { toJSON?: () => unknown }).toJSON?.() ?? null);
}

function valueAt(value: unknown, path: (string | number)[]): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') {
      return undefined;
    }
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function zodMessage(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, found ${describe(input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}; found ${describe(input)}`;
    default:
      return issue.message;
  }
}

function describe(v: unknown): string {
  if (v === null) {
    return 'nothing';
  }
  if (Array.isArray(v)) {
    return 'a list';
  }
  if (typeof v === 'object') {
    return 'a map';
  }
  if (typeof v === 'string') {
    return `'${v}'`;
  }
  // YAML gives nothing else (numbers, booleans, undefined for an absent key); a function or a
  // symbol cannot come from a file.
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined ? String(v) : typeof v;
}

/** The keys a strict object schema allows, found by following `path` into it (best effort). */
function allowedKeys(schema: z.ZodType, path: (string | number)[]): string[] | undefined {
  let s: unknown = schema;
  for (const p of [...path, null]) {
    s = unwrap(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) {
      return undefined;
    }
    if (p === null) {
      return def.type === 'object' ? Object.keys(def.shape as object) : undefined;
    }
    if (def.type === 'object') {
      s = (def.shape as Record<string, unknown>)[String(p)];
    } else if (def.type === 'array') {
      s = def.element;
    } else if (def.type === 'record') {
      s = def.valueType;
    } else {
      return undefined;
    }
  }
  return undefined;
}

function unwrap(s: unknown): unknown {
  for (;;) {
    const def = (s as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    if (!def) {
      return s;
    }
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') {
      s = def.innerType;
    } else if (def.type === 'pipe') {
      s = (def.in as { _zod: { def: { type: string } } })._zod.def.type === 'transform' ? def.out : def.in;
    } else {
      return s;
    }
  }
}

export { unwrap as unwrapSchema };
