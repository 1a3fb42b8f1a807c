/**
 * Targets: dotted paths into a canonical record (`name.family`, `identifiers[0].value`,
 * `criteria.service-A`), checked at load against the zod schemas of src/domain/model.ts, and
 * compiled into setters that build the nested objects.
 */
import type { z } from 'zod';
import { DateString, DateTimeString } from '../domain/datetime';
import * as model from '../domain/model';
import type { MappedKind } from './types';
import { unwrapSchema } from './yaml-file';

export const KIND_SCHEMAS: Readonly<Record<MappedKind, z.ZodType>> = {
  organization: model.Organization,
  practitioner: model.Practitioner,
  person: model.Person,
  episode: model.Episode,
  'eligibility-review': model.EligibilityReview,
  contact: model.Contact,
  'recovery-plan': model.RecoveryPlan,
  'recovery-capital': model.RecoveryCapitalAdministration,
  'supervisor-assessment': model.SupervisorAssessment,
};

/** Kinds that may come on their own, naming their episode with `episode.*` targets. */
export const STANDALONE_CHILDREN: ReadonlySet<MappedKind> = new Set(['contact', 'eligibility-review', 'recovery-plan']);
export const EPISODE_TARGETS = ['id', 'personId', 'organizationId'] as const;

export interface Segment {
  key: string;
  index?: number;
}

export type TargetType = 'object' | 'record' | 'array' | 'enum' | 'boolean' | 'number' | 'string' | 'date' | 'datetime' | 'unknown';

/** What a target takes. */
export interface TargetInfo {
  /** The schema as declared (with optional/default), to check const and default values. */
  schema?: z.ZodType;
  type: TargetType;
  /** Enum codes (type 'enum'). */
  options?: readonly string[];
  /** Items of a list. */
  element?: TargetInfo;
  /** Keys (enum) and values of a record. */
  keys?: readonly string[];
  value?: TargetInfo;
  /** Properties of an object. */
  shape?: Record<string, z.ZodType>;
  /** A list whose items may be null (answers, ratings). */
  nullableItems?: boolean;
}

const SEGMENT = /^([A-Za-z_$][\w$-]*)(?:\[(\d+)\])?$/;

/** `identifiers[0].value` -> segments; a string is the error. */
export function parseTarget(text: string): Segment[] | string {
  const segs: Segment[] = [];
  for (const part of text.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) {
      return `bad target '${text}': write property names separated by '.', with a list index like identifiers[0]`;
    }
    segs.push(m[2] === undefined ? { key: m[1] } : { key: m[1], index: Number(m[2]) });
  }
  return segs;
}

/** What a schema takes. */
export function describe(schema: z.ZodType | undefined): TargetInfo {
  if (!schema) {
    return { type: 'unknown' };
  }
  const s = unwrapSchema(schema) as z.ZodType;
  if (s === DateString) {
    return { schema, type: 'date' };
  }
  if (s === DateTimeString) {
    return { schema, type: 'datetime' };
  }
  const def = (s as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  switch (def.type) {
    case 'object':
      return { schema, type: 'object', shape: def.shape as Record<string, z.ZodType> };
    case 'array': {
      const el = def.element as z.ZodType;
      const elType = (el as unknown as { _zod: { def: { type: string } } })._zod.def.type;
      return { schema, type: 'array', element: describe(el), nullableItems: elType === 'nullable' };
    }
    case 'record': {
      const keys = describe(def.keyType as z.ZodType);
      return { schema, type: 'record', keys: keys.options, value: describe(def.valueType as z.ZodType) };
    }
    case 'enum':
      return { schema, type: 'enum', options: (s as unknown as { options: string[] }).options };
    case 'boolean':
      return { schema, type: 'boolean' };
    case 'number':
      return { schema, type: 'number' };
    case 'string':
      return { schema, type: (def as { format?: string }).format === 'date' ? 'date' : 'string' };
    default:
      return { schema, type: 'unknown' };
  }
}

export function typeName(t: TargetInfo): string {
  switch (t.type) {
    case 'enum':
      return `a code (${listText(t.options ?? [])})`;
    case 'array': {
      const el = t.element ?? { type: 'unknown' };
      const plural: Partial<Record<TargetType, string>> = {
        object: 'objects',
        number: 'numbers',
        string: 'texts',
        boolean: 'true/false values',
        date: 'dates',
        datetime: 'date-times',
        unknown: 'values',
      };
      return el.type === 'enum' ? `a list of codes (${listText(el.options ?? [])})` : `a list of ${plural[el.type] ?? 'values'}`;
    }
    case 'record':
      return 'an object keyed by code';
    case 'object':
      return 'an object';
    case 'date':
      return 'a date (YYYY-MM-DD)';
    case 'datetime':
      return 'a date-time with offset';
    case 'unknown':
      return 'a value';
    default:
      return `a ${t.type}`;
  }
}

export function listText(codes: readonly string[]): string {
  return codes.length > 12 ? `${codes.slice(0, 12).join(', ')}, ...` : codes.join(', ');
}

/**
 * Follows `segs` from a record's (or list item's) schema; `where` names it in messages
 * (`contact`, `episode.contacts[]`). Returns what the target takes, or an error message.
 */
export function resolveTarget(base: TargetInfo, where: string, segs: readonly Segment[]): TargetInfo | string {
  let cur = base;
  let name = where;
  for (const seg of segs) {
    if (cur.type === 'object' && cur.shape) {
      const field = cur.shape[seg.key];
      if (!field) {
        return `${name} has no field '${seg.key}' (fields: ${Object.keys(cur.shape).join(', ')})`;
      }
      cur = describe(field);
    } else if (cur.type === 'record') {
      if (cur.keys && !cur.keys.includes(seg.key)) {
        return `'${seg.key}' is not a key of ${name} (keys: ${cur.keys.join(', ')})`;
      }
      cur = cur.value ?? { type: 'unknown' };
    } else if (cur.type === 'unknown') {
      return { type: 'unknown' };
    } else {
      return `${name} is ${typeName(cur)}, not an object: it has no field '${seg.key}'`;
    }
    name = `${name}.${seg.key}`;
    if (seg.index !== undefined) {
      if (cur.type !== 'array' && cur.type !== 'unknown') {
        return `${name} is ${typeName(cur)}, not a list: it takes no index [${seg.index}]`;
      }
      cur = cur.element ?? { type: 'unknown' };
      name = `${name}[${seg.index}]`;
    }
  }
  return cur;
}

export type Setter = (obj: Record<string, unknown>, value: unknown) => void;

/** A function that sets `value` at `segs` in `obj`, making the objects and lists on the way. */
export function makeSetter(segs: readonly Segment[]): Setter {
  if (segs.length === 1 && segs[0].index === undefined) {
    const key = segs[0].key;
    return (obj, value) => {
      obj[key] = value;
    };
  }
  return (obj, value) => {
    let cur: Record<string, unknown> | unknown[] = obj;
    for (let i = 0; i < segs.length; i++) {
      const { key, index } = segs[i];
      const last = i === segs.length - 1;
      const o = cur;
      if (index === undefined) {
        if (last) {
          o[key] = value;
        } else {
          cur = container(o, key, false) as Record<string, unknown>;
        }
      } else {
        const arr = container(o, key, true) as unknown[];
        if (last) {
          arr[index] = value;
        } else {
          let item = arr[index];
          if (item === null || typeof item !== 'object') {
            item = {};
            arr[index] = item;
          }
          cur = item as Record<string, unknown>;
        }
      }
    }
  };
}

function container(o: Record<string, unknown>, key: string, list: boolean): unknown {
  const existing = o[key];
  if (existing !== null && typeof existing === 'object' && Array.isArray(existing) === list) {
    return existing;
  }
  const made = list ? [] : {};
  o[key] = made;
  return made;
}

/** The text of segments (`identifiers[0].value`). */
export function segmentsText(segs: readonly Segment[]): string {
  return segs.map((s) => (s.index === undefined ? s.key : `${s.key}[${s.index}]`)).join('.');
}
