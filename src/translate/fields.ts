/**
 * Running compiled field rules on a source scope: sets the targets of one canonical record (or
 * list item), with the trace of where each value came from.
 */
import type { SourceScope } from '../inbound/source';
import type { EachRule, FieldGroup, FieldRun } from './rule-types';
import type { TargetInfo } from './targets';
import { absentAt, type Env, type Got, type Item, StepFailure } from './values';

const TEXT_TYPES = new Set(['string', 'enum', 'date', 'datetime']);

/** A value as the target takes it: a scalar wrapped for a list target; numbers and booleans as text for a text target. */
export function fillTarget(v: unknown, info: TargetInfo): unknown {
  if (info.type === 'array') {
    const list: unknown[] = Array.isArray(v) ? v : [v];
    const el = info.element;
    return el && TEXT_TYPES.has(el.type) ? list.map((x) => (x === null ? x : toText(x))) : list;
  }
  return TEXT_TYPES.has(info.type) && !Array.isArray(v) ? toText(v) : v;
}

function toText(x: unknown): unknown {
  return typeof x === 'number' || typeof x === 'boolean' ? String(x) : x;
}

/**
 * Sets the group's targets on `out` (and `episode` for `episode.*`); `prefix` is the path of the
 * object in the record (`contacts[1]`, '' at the top). Returns whether any value came from the source.
 */
export function runGroup(
  group: FieldGroup,
  scope: SourceScope,
  env: Env,
  prefix: string,
  out: Record<string, unknown>,
  episode?: Record<string, unknown>,
): boolean {
  let any = false;
  const sourced = group.elements.length > 0 ? new Set<string>() : undefined;
  const fields = group.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const path = prefix === '' ? f.target : `${prefix}.${f.target}`;
    const target = f.episode ? episode : out;
    if (target === undefined) {
      continue;
    }
    const rule = f.rule;
    let got: boolean;
    if ('get' in rule) {
      const g = rule.get(scope, env, path);
      if (g !== undefined) {
        put(g, f, target, env, path);
        got = rule.fromSource && g.at !== undefined;
        if (rule.fromSource && g.at === undefined) {
          env.trace[path] = absentAt(env.format, scope, rule.firstPath as string);
        }
      } else {
        got = false;
        if (rule.firstPath !== undefined && env.trace[path] === undefined) {
          env.trace[path] = absentAt(env.format, scope, rule.firstPath);
        }
      }
    } else {
      got = runEach(rule, f, scope, env, path, target);
    }
    if (got) {
      any = true;
      if (sourced && f.element !== undefined) {
        sourced.add(f.element);
      }
    }
  }
  if (sourced) {
    dropElements(group.elements, sourced, out, env.trace, prefix);
  }
  return any;
}

function put(g: Got, f: FieldRun, out: Record<string, unknown>, env: Env, path: string): void {
  const info = f.info;
  const trace = env.trace;
  if (info.type === 'array' || (info.type === 'unknown' && Array.isArray(g.v))) {
    let v: Item[] = Array.isArray(g.v) ? g.v : [g.v];
    let ats: (string | undefined)[] = Array.isArray(g.v) ? (g.ats ?? []) : [g.at];
    if (info.type === 'array' && !info.nullableItems && v.includes(null)) {
      const keep = v.map((_, i) => i).filter((i) => v[i] !== null);
      v = keep.map((i) => v[i]);
      ats = keep.map((i) => ats[i]);
    }
    if (v.length === 0) {
      return;
    }
    f.set(out, fillTarget(v, info));
    let first: string | undefined;
    for (let i = 0; i < ats.length; i++) {
      const at = ats[i];
      if (at !== undefined) {
        trace[`${path}[${i}]`] = at;
        first ??= at;
      }
    }
    if (first !== undefined) {
      trace[path] = first;
    }
    return;
  }
  f.set(out, TEXT_TYPES.has(info.type) ? toText(g.v) : g.v);
  if (g.at !== undefined) {
    trace[path] = g.at;
  }
}

function passes(rule: EachRule, item: SourceScope, env: Env, path: string): boolean {
  if (!rule.when) {
    return true;
  }
  try {
    return rule.when(item);
  } catch (e) {
    if (e instanceof StepFailure) {
      env.issues.push({ severity: 'error', field: path, ...(e.at !== undefined ? { source: e.at } : {}), message: `when: ${e.message}` });
      return false;
    }
    throw e;
  }
}

function runEach(rule: EachRule, f: FieldRun, scope: SourceScope, env: Env, path: string, out: Record<string, unknown>): boolean {
  const items = scope.list(rule.each);
  let any = false;
  let made = false;
  if (rule.fields) {
    const list: Record<string, unknown>[] = [];
    // This rule's items, then those of the rules after it (`also`), into one list.
    for (const r of [rule, ...(rule.also ?? [])]) {
      for (const item of r === rule ? items : scope.list(r.each)) {
        if (!passes(r, item, env, path) || !r.fields) {
          continue;
        }
        const obj: Record<string, unknown> = {};
        const p = `${path}[${list.length}]`;
        const got = runGroup(r.fields, item, env, p, obj);
        if (Object.keys(obj).length > 0) {
          list.push(obj);
          any ||= got;
        } else {
          clearTrace(env.trace, p);
        }
      }
    }
    if (list.length > 0) {
      f.set(out, list);
      made = true;
    }
  } else if (rule.key && rule.value) {
    const obj: Record<string, unknown> = {};
    const ats: Record<string, string | undefined> = {};
    for (const item of items) {
      if (!passes(rule, item, env, path)) {
        continue;
      }
      const before = env.issues.length;
      const k: Got | undefined = rule.key.get(item, env, path);
      if (k === undefined) {
        if (env.issues.length === before) {
          env.issues.push({
            severity: 'error',
            field: path,
            source: absentAt(env.format, item, rule.key.firstPath ?? rule.each),
            message: `No key: ${rule.key.firstPath ?? 'the key'} has no value`,
          });
        }
        continue;
      }
      const key: string = String(k.v);
      const vp = `${path}.${key}`;
      const v: Got | undefined = rule.value.get(item, env, vp);
      if (v === undefined) {
        if (rule.value.firstPath !== undefined && env.trace[vp] === undefined) {
          env.trace[vp] = absentAt(env.format, item, rule.value.firstPath);
        }
        continue;
      }
      const value = fillTarget(v.v, f.info.value ?? { type: 'unknown' });
      if (Object.prototype.hasOwnProperty.call(obj, key) && JSON.stringify(obj[key]) !== JSON.stringify(value)) {
        env.issues.push({
          severity: 'error',
          field: vp,
          ...(v.at !== undefined ? { source: v.at } : {}),
          message: `${key} is given twice: ${JSON.stringify(obj[key])}${ats[key] ? ` (${ats[key]})` : ''} and ${JSON.stringify(value)}`,
        });
        continue;
      }
      Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      ats[key] = v.at;
      if (v.at !== undefined) {
        env.trace[vp] = v.at;
        any = true;
      }
    }
    if (Object.keys(obj).length > 0) {
      f.set(out, obj);
      made = true;
    }
  } else if (rule.item) {
    const list: Item[] = [];
    const listAts: (string | undefined)[] = [];
    for (const item of items) {
      if (!passes(rule, item, env, path)) {
        continue;
      }
      const g: Got | undefined = rule.item.get(item, env, `${path}[${list.length}]`);
      if (g === undefined) {
        continue;
      }
      if (Array.isArray(g.v)) {
        g.v.forEach((x, i) => {
          if (x !== null) {
            list.push(x);
            listAts.push(g.ats?.[i]);
          }
        });
      } else {
        list.push(g.v);
        listAts.push(g.at);
      }
      any ||= rule.item.fromSource;
    }
    if (list.length > 0) {
      put({ v: list, at: listAts.find((a) => a !== undefined), ats: listAts }, f, out, env, path);
      made = true;
    }
  }
  if (!made && rule.required) {
    env.issues.push({
      severity: 'error',
      field: path,
      source: absentAt(env.format, scope, rule.each),
      message: `Required, but ${rule.each} has no items that give a value`,
    });
  }
  return any;
}

function clearTrace(trace: Record<string, string>, prefix: string): void {
  for (const k of Object.keys(trace)) {
    if (k === prefix || k.startsWith(`${prefix}.`) || k.startsWith(`${prefix}[`)) {
      delete trace[k];
    }
  }
}

/**
 * Leaves out list elements given by index that got no value from the source (an identifier with
 * only its const system), then closes the gaps so the list has no holes, moving the trace along.
 */
function dropElements(elements: string[], sourced: Set<string>, out: Record<string, unknown>, trace: Record<string, string>, prefix: string): void {
  const lists = new Map<string, number[]>();
  for (const el of elements) {
    const open = el.lastIndexOf('[');
    const listPath = el.slice(0, open);
    const index = Number(el.slice(open + 1, -1));
    const list = lookup(out, listPath);
    if (!Array.isArray(list)) {
      continue;
    }
    if (!sourced.has(el)) {
      list[index] = undefined;
      clearTrace(trace, prefix === '' ? el : `${prefix}.${el}`);
    }
    if (!lists.has(listPath)) {
      lists.set(listPath, []);
    }
  }
  for (const listPath of lists.keys()) {
    const list = lookup(out, listPath) as unknown[];
    const full = prefix === '' ? listPath : `${prefix}.${listPath}`;
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      if (list[i] === undefined) {
        continue;
      }
      if (i !== j) {
        list[j] = list[i];
        moveTrace(trace, `${full}[${i}]`, `${full}[${j}]`);
      }
      j++;
    }
    list.length = j;
    if (j === 0) {
      removeAt(out, listPath);
    }
  }
}

function moveTrace(trace: Record<string, string>, from: string, to: string): void {
  for (const k of Object.keys(trace)) {
    if (k === from || k.startsWith(`${from}.`) || k.startsWith(`${from}[`)) {
      trace[to + k.slice(from.length)] = trace[k];
      delete trace[k];
    }
  }
}

function lookup(obj: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = obj;
  for (const k of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') {
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function removeAt(obj: Record<string, unknown>, dotted: string): void {
  const keys = dotted.split('.');
  const parent = lookup(obj, keys.slice(0, -1).join('.') || '');
  const holder = keys.length === 1 ? obj : parent;
  if (holder && typeof holder === 'object') {
    delete (holder as Record<string, unknown>)[keys[keys.length - 1]];
  }
}
