/**
 * The transform registry: every step a field rule may use (mappings/README.md, "Transforms"),
 * each a named function whose argument is checked with zod when the mapping is loaded and which
 * is compiled once into a closure. No eval, no templates that run code.
 *
 * Steps work on one value; on a list they apply to each item (nulls skipped) unless marked as
 * working on the list (`join`, `first`, `compact`, `split` makes one) or on absence (`default`,
 * `required`).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { compileFormat, toDateString, toDateTimeString, type DateParts } from './dates';
import { isTimeZone } from './schema';
import { type TableIndex, VALUE_TARGETS } from './tables';
import { present, StepFailure, warn, type Env, type Got, type Item, type Scalar } from './values';

/** A compiled step. Throws StepFailure (its `at` filled in here) or Missing. */
export type Step = (g: Got | undefined, env: Env) => Got | undefined;

/** Thrown by `required` on an absent value; the field rule names the path that was read. */
export class Missing extends Error {}

/** What a value is known to be, statically, after a step (for checks against the target at load). */
export type Produces = 'text' | 'number' | 'boolean' | 'date' | 'datetime' | 'any' | { list: string };

export interface StepContext {
  timezone: string;
  /** The table of this name; throws Error(reason) when there is none. */
  table(name: string): TableIndex;
}

export interface BuiltStep {
  step: Step;
  /** What the value becomes: a list (`split`) or one value (`join`, `first`); unchanged when absent. */
  shape?: 'list' | 'scalar';
  /** The step needs one value, not a list. */
  needsScalar?: boolean;
  produces?: Produces;
}

interface TransformDef {
  /** One line for the README and error messages. */
  doc: string;
  /** The argument's schema; undefined = the step takes none. */
  arg?: z.ZodType;
  /** The argument may be left out. */
  argOptional?: boolean;
  build(arg: unknown, ctx: StepContext): BuiltStep;
}

/** Applies `fn` to a value, or to each non-null item of a list; '' results are absent. */
function itemwise(fn: (v: Scalar, env: Env) => Scalar | undefined): Step {
  const one = (v: Scalar, at: string | undefined, env: Env): Scalar | undefined => {
    env.at = at;
    try {
      const r = fn(v, env);
      return r === '' ? undefined : r;
    } catch (e) {
      if (e instanceof StepFailure && e.at === undefined) {
        throw new StepFailure(e.message, at);
      }
      throw e;
    }
  };
  return (g, env) => {
    if (g === undefined) {
      return undefined;
    }
    if (!Array.isArray(g.v)) {
      const r = one(g.v, g.at, env);
      return r === undefined ? undefined : r === g.v ? g : { v: r, at: g.at };
    }
    const ats = g.ats ?? [];
    const v = new Array<Item>(g.v.length);
    const outAts = new Array<string | undefined>(g.v.length);
    let first: string | undefined;
    for (let i = 0; i < g.v.length; i++) {
      const x = g.v[i];
      const r = x === null ? undefined : one(x, ats[i], env);
      v[i] = r === undefined ? null : r;
      // A null item keeps where it was looked for (a blank Q7 is still column "Q7").
      outAts[i] = ats[i];
      if (first === undefined && r !== undefined) {
        first = ats[i];
      }
    }
    return { v, at: first, ats: outAts };
  };
}

const fail = (message: string): never => {
  throw new StepFailure(message, undefined);
};
const show = (v: Scalar): string => (typeof v === 'string' ? `'${v}'` : String(v));

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+(?:\.0*)?$/;
const DEFAULT_TRUE = ['true', 'yes', 'y', '1', 't'];
const DEFAULT_FALSE = ['false', 'no', 'n', '0', 'f'];

const ScalarArg = z.union([z.string(), z.number(), z.boolean()]);
const FormatArg = z.union([z.string().min(1), z.strictObject({ format: z.string().min(1) })]);
const formatOf = (a: unknown): string => (typeof a === 'string' ? a : (a as { format: string }).format);

function dateText(v: Scalar): string {
  if (typeof v === 'boolean') {
    fail(`Not a date: ${v}`);
  }
  return String(v);
}

export const TRANSFORMS: Readonly<Record<string, TransformDef>> = {
  trim: { doc: 'removes surrounding white space', build: () => ({ step: itemwise((v) => String(v).trim()), produces: 'text' }) },
  upper: { doc: 'upper case', build: () => ({ step: itemwise((v) => String(v).toUpperCase()), produces: 'text' }) },
  lower: { doc: 'lower case', build: () => ({ step: itemwise((v) => String(v).toLowerCase()), produces: 'text' }) },
  number: {
    doc: 'text -> number',
    build: () => ({
      step: itemwise((v) => {
        if (typeof v === 'number') return Number.isFinite(v) ? v : fail(`Not a number: ${v}`);
        if (typeof v === 'boolean' || !NUMBER_RE.test(v)) return fail(`Not a number: ${show(v)}`);
        return Number(v);
      }),
      produces: 'number',
    }),
  },
  integer: {
    doc: 'text -> whole number',
    build: () => ({
      step: itemwise((v) => {
        if (typeof v === 'number') return Number.isInteger(v) ? v : fail(`Not a whole number: ${v}`);
        if (typeof v === 'boolean' || !INTEGER_RE.test(v)) return fail(`Not a whole number: ${show(v)}`);
        return Number.parseInt(v, 10);
      }),
      produces: 'number',
    }),
  },
  boolean: {
    doc: 'yes/no text -> true/false',
    arg: z.strictObject({ true: z.array(ScalarArg).min(1), false: z.array(ScalarArg).min(1) }),
    argOptional: true,
    build: (arg) => {
      const a = arg as { true: Scalar[]; false: Scalar[] } | undefined;
      const t = new Set((a?.true ?? DEFAULT_TRUE).map((x) => String(x).toLowerCase()));
      const f = new Set((a?.false ?? DEFAULT_FALSE).map((x) => String(x).toLowerCase()));
      const both = [...t].filter((x) => f.has(x));
      if (both.length > 0) {
        throw new Error(`'${both[0]}' is both true and false`);
      }
      const known = `true: ${[...t].join(', ')}; false: ${[...f].join(', ')}`;
      return {
        step: itemwise((v) => {
          if (typeof v === 'boolean') return v;
          const k = String(v).toLowerCase();
          return t.has(k) ? true : f.has(k) ? false : fail(`Not a yes/no value: ${show(v)} (${known})`);
        }),
        produces: 'boolean',
      };
    },
  },
  date: {
    doc: 'a date -> YYYY-MM-DD',
    arg: FormatArg,
    build: (arg) => {
      const parse = compileFormat(formatOf(arg), 'date');
      return {
        step: itemwise((v) => {
          const p = parse(dateText(v));
          return typeof p === 'string' ? fail(p) : toDateString(p);
        }),
        produces: 'date',
      };
    },
  },
  datetime: {
    doc: 'a local date-time -> ISO 8601 with offset',
    arg: z.union([z.string().min(1), z.strictObject({ format: z.string().min(1), zone: z.string().optional() })]),
    build: (arg, ctx) => {
      const zone = typeof arg === 'string' ? ctx.timezone : ((arg as { zone?: string }).zone ?? ctx.timezone);
      if (!isTimeZone(zone)) {
        throw new Error(`'${zone}' is not an IANA time zone (e.g. America/Chicago)`);
      }
      const parse = compileFormat(formatOf(arg), 'datetime');
      return {
        step: itemwise((v, env) => {
          const text = dateText(v);
          const p = parse(text);
          if (typeof p === 'string') {
            return fail(p);
          }
          return dateTime(text, p, zone, env);
        }),
        produces: 'datetime',
      };
    },
  },
  split: {
    doc: 'text -> list',
    arg: z.string().min(1),
    build: (arg) => {
      const sep = arg as string;
      return {
        needsScalar: true,
        shape: 'list',
        produces: 'text',
        step: (g) => {
          if (g === undefined) return undefined;
          const texts = Array.isArray(g.v) ? g.v.filter((x): x is Scalar => x !== null).map(String) : [String(g.v)];
          const v = texts
            .flatMap((t) => t.split(sep))
            .map((s) => s.trim())
            .filter((s) => s !== '');
          return v.length === 0 ? undefined : { v, at: g.at, ats: v.map(() => g.at) };
        },
      };
    },
  },
  join: {
    doc: 'list -> text (absent items skipped)',
    arg: z.string(),
    build: (arg) => ({
      shape: 'scalar',
      produces: 'text',
      step: (g) => {
        if (g === undefined || !Array.isArray(g.v)) return g;
        const parts = g.v.filter((x) => x !== null).map(String);
        return parts.length === 0 ? undefined : { v: parts.join(arg as string), at: g.at };
      },
    }),
  },
  first: {
    doc: 'list -> its first present item',
    build: () => ({
      shape: 'scalar',
      step: (g) => {
        if (g === undefined || !Array.isArray(g.v)) return g;
        const i = g.v.findIndex((x) => x !== null);
        return i < 0 ? undefined : { v: g.v[i] as Scalar, at: g.ats?.[i] };
      },
    }),
  },
  compact: {
    doc: 'drops absent items from a list',
    build: () => ({
      step: (g) => {
        if (g === undefined || !Array.isArray(g.v)) return g;
        const list = g.v;
        const keep = list.map((_, i) => i).filter((i) => list[i] !== null);
        return keep.length === 0 ? undefined : { v: keep.map((i) => list[i]), at: g.at, ats: keep.map((i) => g.ats?.[i]) };
      },
    }),
  },
  template: {
    doc: "puts the value in place of '{}'",
    arg: z.string().refine((s) => s.includes('{}'), 'needs \'{}\' where the value goes, e.g. "rb-{}"'),
    build: (arg) => {
      const parts = (arg as string).split('{}');
      return { step: itemwise((v) => parts.join(String(v))), produces: 'text' };
    },
  },
  replace: {
    doc: 'regular-expression replace',
    arg: z.strictObject({ pattern: z.string().min(1), with: z.string(), ignoreCase: z.boolean().optional() }),
    build: (arg) => {
      const a = arg as { pattern: string; with: string; ignoreCase?: boolean };
      let re: RegExp;
      try {
        re = new RegExp(a.pattern, a.ignoreCase ? 'gi' : 'g');
      } catch (e) {
        throw new Error(`bad regular expression '${a.pattern}': ${(e as Error).message}`);
      }
      return { step: itemwise((v) => String(v).replace(re, a.with)), produces: 'text' };
    },
  },
  'null-if': {
    doc: 'these values become absent',
    arg: z.union([ScalarArg, z.array(ScalarArg).min(1)]),
    build: (arg) => {
      const set = new Set((Array.isArray(arg) ? arg : [arg]).map((x) => String(x).toLowerCase()));
      return { step: itemwise((v) => (set.has(String(v).toLowerCase()) ? undefined : v)) };
    },
  },
  default: {
    doc: 'the value when absent',
    arg: z.union([ScalarArg, z.array(ScalarArg)]),
    build: (arg) => {
      const v = arg as Scalar | Scalar[];
      const got: Got = Array.isArray(v) ? { v, at: undefined, ats: v.map(() => undefined) } : { v, at: undefined };
      return { step: (g) => (present(g) ? g : got), ...(Array.isArray(v) ? { shape: 'list' as const } : {}) };
    },
  },
  required: {
    doc: 'absent -> the record is rejected',
    build: () => ({
      step: (g) => {
        if (!present(g)) {
          throw new Missing();
        }
        return g;
      },
    }),
  },
  'person-name': {
    doc: 'a person\'s name as one text -> its family or given part: "Family, Given Middle" or "Given Middle Family"',
    arg: z.enum(['family', 'given']),
    build: (arg) => {
      const part = arg as 'family' | 'given';
      return {
        needsScalar: true,
        ...(part === 'given' ? { shape: 'list' as const } : {}),
        produces: 'text',
        step: (g) => {
          if (g === undefined || Array.isArray(g.v)) return g;
          const { family, given } = splitName(String(g.v));
          if (part === 'family') return family === undefined ? undefined : { v: family, at: g.at };
          return given.length === 0 ? undefined : { v: given, at: g.at, ats: given.map(() => g.at) };
        },
      };
    },
  },
  hash: {
    doc: 'a value or list of values -> a stable id: SHA-256 hex of the items (absent ones as empty), first `length` characters (default 16)',
    arg: z.strictObject({ length: z.number().int().min(8).max(64) }),
    argOptional: true,
    build: (arg) => {
      const length = (arg as { length: number } | undefined)?.length ?? 16;
      return {
        shape: 'scalar',
        produces: 'text',
        step: (g) => {
          if (!present(g)) return undefined;
          const items = Array.isArray(g.v) ? g.v.map((x) => (x === null ? '' : String(x))) : [String(g.v)];
          return { v: createHash('sha256').update(items.join('\u001f')).digest('hex').slice(0, length), at: g.at };
        },
      };
    },
  },
  lookup: {
    doc: 'code table lookup',
    arg: z.string().min(1),
    build: (arg, ctx) => lookupStep(ctx.table(arg as string)),
  },
};

/**
 * "Lopez, Marisol A." -> family Lopez, given [Marisol, A.]; "Marisol A. Lopez" -> the same; one
 * word is a family name. With a comma, everything before it is the family name (so "de la Cruz,
 * Ana" keeps its particles); without one, the last word is.
 */
export function splitName(text: string): { family?: string; given: string[] } {
  const words = (s: string) => s.split(/\s+/).filter((w) => w !== '');
  const comma = text.indexOf(',');
  if (comma >= 0) {
    const family = words(text.slice(0, comma)).join(' ');
    return { ...(family !== '' ? { family } : {}), given: words(text.slice(comma + 1).replace(/,/g, ' ')) };
  }
  const all = words(text);
  return all.length === 0 ? { given: [] } : { family: all[all.length - 1], given: all.slice(0, -1) };
}

/** A table lookup, applying the table's unmapped policy. */
export function lookupStep(index: TableIndex): BuiltStep {
  const { table } = index;
  return {
    produces: table.target in VALUE_TARGETS ? 'text' : { list: table.target },
    step: itemwise((v, env) => {
      const code = String(v);
      const hit = index.get(code);
      if (hit !== undefined) {
        return hit;
      }
      switch (table.unmapped) {
        case 'default':
          return table.default;
        case 'warn':
          warn(env, `${index.unknown(code)}; left out`);
          return undefined;
        default:
          return fail(index.unknown(code));
      }
    }),
  };
}

function dateTime(text: string, p: DateParts, zone: string, env: Env): string {
  try {
    return toDateTimeString(p, zone, (m) => warn(env, m));
  } catch (e) {
    return fail(`'${text}': ${(e as Error).message}`);
  }
}

export const TRANSFORM_NAMES = Object.keys(TRANSFORMS);
