/**
 * Values as they flow through a field rule, and reading them from a source scope.
 *
 * A value is absent (undefined), a scalar, or a list whose absent items are null (positions are
 * kept: the 23 answers of a recovery capital scale). Each carries where it was read (`at`), so a
 * failing step and the trace name the exact source location.
 */
import type { SourceScope, SourceValue } from '../inbound/source';
import type { InputFormat, MappingIssue } from './types';

export type Scalar = string | number | boolean;
export type Item = Scalar | null;

/** A present value. `ats` is set (same length as `v`) when `v` is a list. */
export interface Got {
  v: Scalar | Item[];
  at: string | undefined;
  ats?: (string | undefined)[];
}

/** A failed step or read: rejects the field, naming the value and where it was read. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly at: string | undefined,
  ) {
    super(message);
  }
}

/** What applying one record rule collects. */
export interface Env {
  readonly format: InputFormat;
  issues: MappingIssue[];
  trace: Record<string, string>;
  /** Targets read from several paths: every path's place (MappedRecord.fed). */
  fed?: Record<string, string[]>;
  /** The target being set (for issues). */
  field: string;
  /** Where the value being worked on was read (for warnings). */
  at: string | undefined;
  /** The source record being mapped (`from: $row` reads its number). */
  record?: { n: number; where: string };
}

export function warn(env: Env, message: string): void {
  env.issues.push({ severity: 'warning', field: env.field, ...(env.at !== undefined ? { source: env.at } : {}), message });
}

/** A list value with no present item is absent. */
export function present(g: Got | undefined): g is Got {
  if (g === undefined) {
    return false;
  }
  if (Array.isArray(g.v)) {
    for (const x of g.v) {
      if (x !== null) {
        return true;
      }
    }
    return false;
  }
  return true;
}

/**
 * One source value as the engine sees it: text trimmed; '' (and HL7's "" null) absent; a JSON
 * object or array where a value is expected is a StepFailure.
 */
export function normalize(sv: SourceValue, format: InputFormat): Scalar | undefined {
  const v = sv.value;
  if (typeof v !== 'string') {
    return v === null ? undefined : v;
  }
  if (sv.structured !== undefined) {
    throw new StepFailure(`expected a value, found an ${sv.structured}`, sv.at);
  }
  const t = v.trim();
  return t === '' || (t === '""' && format === 'hl7v2') ? undefined : t;
}

/** The first value at `path`, or undefined. */
export function readOne(scope: SourceScope, path: string, format: InputFormat): Got | undefined {
  const vals = scope.get(path);
  if (vals.length === 0) {
    return undefined;
  }
  const v = normalize(vals[0], format);
  return v === undefined ? undefined : { v, at: vals[0].at };
}

/** Every value at `path` (a `[*]` path), absent repetitions as null. */
export function readAll(scope: SourceScope, path: string, format: InputFormat): Got | undefined {
  const vals = scope.get(path);
  if (vals.length === 0) {
    return undefined;
  }
  const v = new Array<Item>(vals.length);
  const ats = new Array<string | undefined>(vals.length);
  let first: string | undefined;
  for (let i = 0; i < vals.length; i++) {
    const x = normalize(vals[i], format);
    v[i] = x === undefined ? null : x;
    ats[i] = x === undefined ? undefined : vals[i].at;
    if (first === undefined && x !== undefined) {
      first = vals[i].at;
    }
  }
  return { v, at: first, ats };
}

/** One item per path (`from: [A, B]`), absent ones null. */
export function readEach(scope: SourceScope, paths: readonly string[], format: InputFormat): Got {
  const v = new Array<Item>(paths.length);
  const ats = new Array<string | undefined>(paths.length);
  let first: string | undefined;
  for (let i = 0; i < paths.length; i++) {
    const g = readOne(scope, paths[i], format);
    v[i] = g === undefined ? null : (g.v as Scalar);
    // An absent item is located too (where it was looked for), so `answers[6]` points at its column.
    ats[i] = g?.at ?? absentAt(format, scope, paths[i]);
    if (first === undefined && g !== undefined) {
      first = g.at;
    }
  }
  return { v, at: first, ats };
}

/**
 * Where an absent value would have been, in the readers' own style: CSV `line 13, column
 * "Minutes"`, JSON `$.clients[3].name.family`, HL7 `FT1[2]-7.1` (or the path itself).
 */
export function absentAt(format: InputFormat, scope: SourceScope, path: string): string {
  const at = scope.at;
  switch (format) {
    case 'csv':
      return at ? `${at}, column ${JSON.stringify(path)}` : `column ${JSON.stringify(path)}`;
    case 'json':
      if (path === '$' || path.startsWith('$.') || path.startsWith('$[')) {
        return path;
      }
      return `${at && at.startsWith('$') ? at : '$'}${path.startsWith('[') ? '' : '.'}${path}`;
    case 'hl7v2': {
      // Inside `each: FT1` the scope is `FT1[2]`; its own segment's paths are read there.
      const m = /^([A-Z][A-Z0-9]{2})\[\d+\]$/.exec(at);
      return m && path.startsWith(`${m[1]}-`) ? `${at}${path.slice(3)}` : path;
    }
  }
}
