/**
 * Does a rule's value fit its target? Checked at load from what the rule is known to give (one
 * value or a list; text, number, true/false, a date, codes of which list) against the canonical
 * schema of the target, so that most mapping mistakes never reach the data.
 */
import { fillTarget } from './fields';
import { CANONICAL_LISTS } from './tables';
import { listText, type TargetInfo, typeName } from './targets';
import type { Produces } from './transforms';
import type { YamlFile, YamlPath } from './yaml-file';

export type ConstValue = string | number | boolean | (string | number | boolean)[];
export interface Target {
  info: TargetInfo;
  /** How messages name it: `contact.durationMinutes`. */
  where: string;
}

export function produced(v: ConstValue): Produces {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'number' ? 'number' : typeof x === 'boolean' ? 'boolean' : 'text';
}

/** Does a rule's value fit its target? (one value vs list; number, boolean, codes of which list, date vs date-time) */
export function checkFits(target: Target, shape: 'scalar' | 'list', produces: Produces, file: YamlFile, at: YamlPath): void {
  const { info, where } = target;
  if (info.type === 'unknown') {
    return;
  }
  if (info.type === 'object' || info.type === 'record') {
    throw file.error(at, `${where} takes ${typeName(info)}: set its parts (${where.split('.').pop()}.<field>) or use each with key and value`);
  }
  if (info.type === 'array' && (info.element?.type === 'object' || info.element?.type === 'record')) {
    throw file.error(at, `${where} takes ${typeName(info)}: use each with fields, or targets by index (${where.split('.').pop()}[0].<field>)`);
  }
  if (shape === 'list' && info.type !== 'array') {
    throw file.error(at, `${where} takes ${typeName(info)}, but this rule gives a list: add a join or first step`);
  }
  const leaf = info.type === 'array' ? (info.element ?? { type: 'unknown' as const }) : info;
  const fail = (why: string) => file.error(at, `${where} takes ${typeName(info)}: ${why}`);
  if (typeof produces === 'object') {
    const codes = CANONICAL_LISTS[produces.list];
    if (leaf.type === 'boolean' && produces.list !== 'boolean') {
      throw fail(`the table gives ${produces.list} codes, not true/false`);
    }
    if (leaf.type === 'enum' && leaf.options) {
      const bad = produces.list === 'boolean' ? ['true/false'] : codes.filter((c) => !leaf.options?.includes(c));
      if (bad.length > 0) {
        throw fail(`the table gives ${produces.list} codes (${listText(codes)})`);
      }
    }
    if (leaf.type === 'number') {
      throw fail(`the table gives ${produces.list} codes`);
    }
    return;
  }
  if (produces === 'any') {
    return;
  }
  if (leaf.type === 'number' && produces !== 'number') {
    throw fail("add a step 'integer' or 'number'");
  }
  if (leaf.type === 'boolean' && produces !== 'boolean') {
    throw fail("add a step 'boolean', or a table with target: boolean");
  }
  if (leaf.type === 'date' && produces === 'datetime') {
    throw fail("use the 'date' step, not 'datetime'");
  }
  if (leaf.type === 'datetime' && produces === 'date') {
    throw fail("use the 'datetime' step, not 'date'");
  }
  if ((leaf.type === 'enum' || leaf.type === 'date' || leaf.type === 'datetime') && (produces === 'number' || produces === 'boolean')) {
    throw fail(`this rule gives a ${produces}`);
  }
}

/** A const or default checked against the target's canonical schema. */
export function checkValue(v: unknown, target: Target, file: YamlFile, at: YamlPath): void {
  const { info, where } = target;
  if (!info.schema) {
    return;
  }
  const value = fillTarget(v, info);
  const r = info.schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw file.error(at, `${JSON.stringify(v)} does not fit ${where}: ${issue.message}`);
  }
}
