/**
 * Field rules -> closures, once, at load (mappings/README.md, "Field rules"). Everything that can
 * be known before a record is read is checked here, with the file and line: the rule's form, each
 * step and its argument, the table names, the target against the canonical schema, and whether
 * the value the rule gives (one value or a list; text, number, code of which list) fits the target.
 */
import { RecordId } from '../domain/model';
import type { SourceScope } from '../inbound/source';
import { compileCondition } from './conditions';
import { checkFits, checkValue, type ConstValue, produced } from './fit';
import type { TableIndex } from './tables';
import { makeSetter, parseTarget, resolveTarget, type Segment, segmentsText, type TargetInfo, typeName } from './targets';
import { type BuiltStep, lookupStep, Missing, type Produces, type Step, type StepContext, TRANSFORM_NAMES, TRANSFORMS } from './transforms';
import type { EachRule, FieldGroup, FieldRun, ValueRule } from './rule-types';
import type { InputFormat } from './types';
import { absentAt, type Env, type Got, present, readAll, readEach, readOne, StepFailure } from './values';
import type { YamlFile, YamlPath } from './yaml-file';

/** What compiling a feed needs. */
export interface CompileContext extends StepContext {
  file: YamlFile;
  format: InputFormat;
  tables: Map<string, TableIndex>;
  /** Hears (and checks) every source path the feed reads; returns whether it is a list path (`[*]`). `each`: the path of a list. */
  usePath(path: string, at: YamlPath, each?: boolean): boolean;
}

/** `from: $row`: the number of the source record in its input (CSV row without the header, JSON element, HL7 message). */
export const ROW = '$row';

const VALUE_KEYS = ['from', 'const', 'when', 'transform', 'table', 'default', 'required'];
const EACH_KEYS = ['each', 'when', 'fields', 'key', 'value', 'required', 'from', 'const', 'transform', 'table'];

type RuleData = Record<string, unknown>;

function asRule(data: unknown, cx: CompileContext, at: YamlPath): RuleData {
  if (typeof data === 'string') {
    return { from: data };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw cx.file.error(
      at,
      `a rule is a source path or a map (from, const, when, transform, table, default, required, each), not ${Array.isArray(data) ? 'a list' : String(data)}`,
    );
  }
  const rule = data as RuleData;
  const allowed = 'each' in rule ? EACH_KEYS : VALUE_KEYS;
  for (const k of Object.keys(rule)) {
    if (!allowed.includes(k)) {
      const hint = k === 'fields' || k === 'key' || k === 'value' ? ` ('${k}' goes with each)` : '';
      throw cx.file.error([...at, k], `unknown key '${k}' in a rule (allowed: ${allowed.join(', ')})${hint}`, true);
    }
  }
  return rule;
}

/** Compiles a value rule (`from`/`const` + steps + table + default + required). */
export function compileValue(data: unknown, cx: CompileContext, at: YamlPath, target?: { info: TargetInfo; where: string }): ValueRule {
  const rule = asRule(data, cx, at);
  const { file, format } = cx;
  const hasFrom = rule.from !== undefined;
  if (hasFrom === 'const' in rule) {
    throw file.error(at, hasFrom ? "a rule has 'from' or 'const', not both" : "a rule needs 'from' (a source path) or 'const' (a fixed value)");
  }
  let read: (scope: SourceScope, env: Env) => Got | undefined;
  let shape: 'scalar' | 'list';
  let produces: Produces = format === 'json' ? 'any' : 'text';
  let firstPath: string | undefined;
  if (hasFrom) {
    const from = rule.from;
    if (from === ROW) {
      // The source record's number: a documented source of record ids for exports without one.
      shape = 'scalar';
      produces = 'number';
      read = (_s, env) => (env.record ? { v: env.record.n, at: env.record.where } : undefined);
    } else if (typeof from === 'string' && from.length > 0) {
      firstPath = from;
      const many = cx.usePath(from, [...at, 'from']);
      shape = many ? 'list' : 'scalar';
      read = many ? (s) => readAll(s, from, format) : (s) => readOne(s, from, format);
    } else if (Array.isArray(from) && from.length > 0 && from.every((p) => typeof p === 'string' && p.length > 0)) {
      const paths = from as string[];
      paths.forEach((p, i) => {
        if (p === ROW) {
          throw file.error([...at, 'from', i], `${ROW} is read on its own (from: ${ROW}, with a template step to add text)`);
        }
        if (cx.usePath(p, [...at, 'from', i])) {
          throw file.error([...at, 'from', i], `a list of paths takes one value from each; '${p}' is a list ([*])`);
        }
      });
      firstPath = paths[0];
      shape = 'list';
      read = (s, env) => {
        const g = readEach(s, paths, format);
        // Every path's place, for an error on the target that one of them caused (MappedRecord.fed).
        if (env.fed !== undefined && g.ats !== undefined) {
          env.fed[env.field] = g.ats.filter((x): x is string => x !== undefined);
        }
        return g;
      };
    } else {
      throw file.error([...at, 'from'], 'from is a source path, or a list of source paths');
    }
  } else {
    const value = constValue(rule.const, cx, [...at, 'const']);
    const got: Got = Array.isArray(value) ? { v: value, at: undefined, ats: value.map(() => undefined) } : { v: value, at: undefined };
    shape = Array.isArray(value) ? 'list' : 'scalar';
    produces = produced(value);
    read = () => got;
  }

  // A field rule's `when`: when it does not hold, the rule sets nothing (no default, no required).
  const when = rule.when === undefined ? undefined : compileCondition(rule.when, cx.file, [...at, 'when'], format, (p, a) => cx.usePath(p, a));

  const steps: Step[] = [];
  const add = (built: BuiltStep, name: string, stepAt: YamlPath) => {
    if (built.needsScalar && shape === 'list') {
      throw file.error(stepAt, `${name} works on one value, but the value here is a list: add join or first before it`);
    }
    shape = built.shape ?? shape;
    produces = built.produces ?? produces;
    steps.push(built.step);
  };
  if (rule.transform !== undefined) {
    const list = Array.isArray(rule.transform) ? rule.transform : [rule.transform];
    list.forEach((s, i) => {
      const stepAt = Array.isArray(rule.transform) ? [...at, 'transform', i] : [...at, 'transform'];
      const { built, name } = compileStep(s, cx, stepAt);
      add(built, name, stepAt);
    });
  }
  if (rule.table !== undefined) {
    if (typeof rule.table !== 'string') {
      throw file.error([...at, 'table'], 'table is the name of a table in tables.yaml');
    }
    add(lookupStep(tableOf(rule.table, cx, [...at, 'table'])), 'table', [...at, 'table']);
  }
  let dflt: Got | undefined;
  if (rule.default !== undefined) {
    const value = constValue(rule.default, cx, [...at, 'default']);
    dflt = Array.isArray(value) ? { v: value, at: undefined, ats: value.map(() => undefined) } : { v: value, at: undefined };
  }
  if (rule.required !== undefined && typeof rule.required !== 'boolean') {
    throw file.error([...at, 'required'], 'required is true or false');
  }
  const required = rule.required === true;

  if (target) {
    if (!hasFrom && steps.length === 0) {
      checkValue(rule.const, target, file, [...at, 'const']);
    } else {
      checkFits(target, shape, produces, file, at);
    }
    if (dflt) {
      checkValue(rule.default, target, file, [...at, 'default']);
    }
  }

  const n = steps.length;
  const get = (scope: SourceScope, env: Env, path: string): Got | undefined => {
    env.field = path;
    try {
      if (when !== undefined && !when(scope)) {
        return undefined;
      }
      let g = read(scope, env);
      for (let i = 0; i < n; i++) {
        g = steps[i](g, env);
      }
      if (dflt !== undefined && !present(g)) {
        g = dflt;
      }
      if (required && !present(g)) {
        throw new Missing();
      }
      return present(g) ? g : undefined;
    } catch (e) {
      if (e instanceof StepFailure) {
        env.issues.push({ severity: 'error', field: path, ...sourceOf(e.at, scope, firstPath, format), message: e.message });
        return undefined;
      }
      if (e instanceof Missing) {
        env.issues.push({
          severity: 'error',
          field: path,
          ...sourceOf(undefined, scope, firstPath, format),
          message: firstPath ? `Required, but ${firstPath} has no value` : 'Required, but there is no value',
        });
        return undefined;
      }
      throw e;
    }
  };
  return { get, firstPath, fromSource: hasFrom, shape, produces };
}

function sourceOf(at: string | undefined, scope: SourceScope, path: string | undefined, format: InputFormat): { source?: string } {
  const source = at ?? (path !== undefined ? absentAt(format, scope, path) : undefined);
  return source !== undefined ? { source } : {};
}

function compileStep(data: unknown, cx: CompileContext, at: YamlPath): { built: BuiltStep; name: string } {
  const { file } = cx;
  let name: string;
  let arg: unknown;
  let argAt = at;
  if (typeof data === 'string') {
    name = data;
  } else if (data !== null && typeof data === 'object' && !Array.isArray(data) && Object.keys(data).length === 1) {
    name = Object.keys(data)[0];
    arg = (data as Record<string, unknown>)[name];
    argAt = [...at, name];
  } else {
    throw file.error(at, 'a step is a name (integer) or a map of one name to its argument ({ date: { format: "MM/dd/yyyy" } })');
  }
  const def = Object.prototype.hasOwnProperty.call(TRANSFORMS, name) ? TRANSFORMS[name] : undefined;
  if (!def) {
    throw file.error(at, `unknown transform '${name}' (known: ${TRANSFORM_NAMES.join(', ')})`);
  }
  if (arg === null) {
    arg = undefined;
  }
  if (!def.arg && arg !== undefined) {
    throw file.error(argAt, `transform '${name}' takes no argument`);
  }
  if (def.arg && arg === undefined && !def.argOptional) {
    throw file.error(at, `transform '${name}' needs an argument (${def.doc})`);
  }
  if (def.arg && arg !== undefined) {
    arg = file.check(def.arg, arg, argAt);
  }
  try {
    return { built: def.build(arg, cx), name };
  } catch (e) {
    if (e instanceof Error && !(e instanceof StepFailure)) {
      throw file.error(argAt, e.message);
    }
    throw e;
  }
}

function tableOf(name: string, cx: CompileContext, at: YamlPath): TableIndex {
  const t = cx.tables.get(name);
  if (!t) {
    throw cx.file.error(at, `unknown table '${name}' (${cx.tables.size === 0 ? 'there is no tables.yaml' : `tables: ${[...cx.tables.keys()].join(', ')}`})`);
  }
  return t;
}

function constValue(v: unknown, cx: CompileContext, at: YamlPath): ConstValue {
  const ok = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if (ok(v) || (Array.isArray(v) && v.every(ok))) {
    return v;
  }
  throw cx.file.error(at, 'a fixed value is text, a number, true/false, or a list of those');
}

/** A field rule of a `fields` map: a value rule, or an `each` rule. */
export function compileField(target: string, data: unknown, cx: CompileContext, at: YamlPath, base: TargetInfo, where: string, episodeKind: boolean): FieldRun {
  const { file } = cx;
  const segs = parseTarget(target);
  if (typeof segs === 'string') {
    throw file.error(at, segs, true);
  }
  let info: TargetInfo | string;
  let targetWhere = `${where}.${segmentsText(segs)}`;
  const episode = episodeKind && segs[0].key === 'episode';
  if (episode) {
    if (segs.length !== 2 || segs[0].index !== undefined || segs[1].index !== undefined || !['id', 'personId', 'organizationId'].includes(segs[1].key)) {
      throw file.error(at, `a ${where} on its own names its episode with episode.id, episode.personId and episode.organizationId only`, true);
    }
    info = { type: 'string', schema: RecordId };
    targetWhere = target;
  } else {
    info = resolveTarget(base, where, segs);
    if (typeof info === 'string') {
      const hint = segs[0].key === 'episode' ? ' (episode.* targets are for a contact, eligibility-review or recovery-plan on its own)' : '';
      throw file.error(at, `${info}${hint}`, true);
    }
  }
  const set = makeSetter(episode ? segs.slice(1) : segs);
  const isEach = (d: unknown): d is RuleData => d !== null && typeof d === 'object' && !Array.isArray(d) && 'each' in d;
  let rule: ValueRule | EachRule;
  if (Array.isArray(data) && data.length > 0 && data.some(isEach)) {
    // A list of each rules: one list of objects, the items of each rule after the previous one's.
    const rules = data.map((d, i) => {
      if (!isEach(d)) throw file.error([...at, i], 'a list of rules is a list of each rules (each with fields), one after the other');
      const r = compileEach(d, cx, [...at, i], info, targetWhere);
      if (!r.fields) throw file.error([...at, i], 'in a list of each rules, each one has fields (they make one list of objects)');
      return r;
    });
    rule = { ...rules[0], also: rules.slice(1) };
  } else {
    rule = isEach(data) ? compileEach(data, cx, at, info, targetWhere) : compileValue(data, cx, at, { info, where: targetWhere });
  }
  return { target, segs, set, episode, info, rule, element: indexedElement(segs) };
}

function indexedElement(segs: Segment[]): string | undefined {
  const i = segs.findIndex((s) => s.index !== undefined);
  return i < 0 ? undefined : segmentsText(segs.slice(0, i + 1));
}

function compileEach(rule: RuleData, cx: CompileContext, at: YamlPath, info: TargetInfo, where: string): EachRule {
  const { file, format } = cx;
  asRule(rule, cx, at);
  const each = rule.each;
  if (typeof each !== 'string' || each.length === 0) {
    throw file.error([...at, 'each'], 'each is the path of a list (rows, FT1, sessions)');
  }
  cx.usePath(each, [...at, 'each'], true);
  const when = rule.when === undefined ? undefined : compileCondition(rule.when, file, [...at, 'when'], format, (p, a) => cx.usePath(p, a));
  if (rule.required !== undefined && typeof rule.required !== 'boolean') {
    throw file.error([...at, 'required'], 'required is true or false');
  }
  const out: EachRule = { each, ...(when ? { when } : {}), required: rule.required === true };
  const forms = [rule.fields !== undefined, rule.key !== undefined || rule.value !== undefined, rule.from !== undefined || rule.const !== undefined].filter(
    Boolean,
  ).length;
  if (forms !== 1) {
    throw file.error(at, 'an each rule has fields (a list of objects), or key and value (an object), or from/const (a list of values)');
  }
  if (rule.fields !== undefined) {
    if (info.type !== 'array' && info.type !== 'unknown') {
      throw file.error(at, `${where} takes ${typeName(info)}, not a list of objects`);
    }
    const el = info.element ?? { type: 'unknown' as const };
    if (el.type !== 'object' && el.type !== 'unknown') {
      throw file.error(at, `${where} takes ${typeName(info)}: use each with from, not fields`);
    }
    out.fields = compileFields(rule.fields, cx, [...at, 'fields'], el, `${where}[]`, false);
  } else if (rule.key !== undefined || rule.value !== undefined) {
    if (rule.key === undefined || rule.value === undefined) {
      throw file.error(at, 'an each rule with key needs value too (and the other way round)');
    }
    if (info.type !== 'record' && info.type !== 'object' && info.type !== 'unknown') {
      throw file.error(at, `${where} takes ${typeName(info)}, not an object keyed per item`);
    }
    const keyInfo: TargetInfo = info.keys ? { type: 'enum', options: info.keys } : { type: 'string' };
    out.key = compileValue(rule.key, cx, [...at, 'key'], { info: keyInfo, where: `the keys of ${where}` });
    out.value = compileValue(rule.value, cx, [...at, 'value'], { info: info.value ?? { type: 'unknown' }, where: `the values of ${where}` });
  } else {
    if (info.type !== 'array' && info.type !== 'unknown') {
      throw file.error(at, `${where} takes ${typeName(info)}, not a list`);
    }
    const item: RuleData = {};
    for (const k of ['from', 'const', 'transform', 'table']) {
      if (rule[k] !== undefined) {
        item[k] = rule[k];
      }
    }
    out.item = compileValue(item, cx, at, { info: info.element ?? { type: 'unknown' }, where: `the items of ${where}` });
  }
  return out;
}

/** A `fields` map: one FieldRun per target, conflicts checked. */
export function compileFields(data: unknown, cx: CompileContext, at: YamlPath, base: TargetInfo, where: string, episodeKind: boolean): FieldGroup {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw cx.file.error(at, 'fields is a map of target -> rule');
  }
  const targets = Object.keys(data);
  for (const a of targets) {
    for (const b of targets) {
      if (a !== b && (b.startsWith(`${a}.`) || b.startsWith(`${a}[`))) {
        throw cx.file.error([...at, b], `'${b}' is inside '${a}', which is set as a whole too`, true);
      }
    }
  }
  const fields = targets.map((t) => compileField(t, (data as Record<string, unknown>)[t], cx, [...at, t], base, where, episodeKind));
  return { fields, elements: [...new Set(fields.map((f) => f.element).filter((e): e is string => e !== undefined))] };
}
