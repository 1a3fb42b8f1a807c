/**
 * `when:` conditions of records and `each` rules: `{ path, equals }`, `{ path, in: [...] }`,
 * `{ path, present: true|false }`, optionally `ignoreCase: true`; a list of them must all hold.
 * Values are compared as text. A `[*]` path holds when any of its repetitions does.
 */
import { z } from 'zod';
import type { SourceScope } from '../inbound/source';
import type { InputFormat } from './types';
import { normalize } from './values';
import type { YamlFile, YamlPath } from './yaml-file';

export type Condition = (scope: SourceScope) => boolean;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const ConditionData = z.strictObject({
  path: z.string().min(1),
  equals: Scalar.optional(),
  in: z.array(Scalar).min(1).optional(),
  present: z.boolean().optional(),
  ignoreCase: z.boolean().optional(),
});

/**
 * Compiles a `when`; `usePath` hears every path it reads (for the feed's columns and path checks).
 * Reading a JSON object where a value is expected throws StepFailure from the condition.
 */
export function compileCondition(data: unknown, file: YamlFile, at: YamlPath, format: InputFormat, usePath: (path: string, at: YamlPath) => boolean): Condition {
  if (Array.isArray(data)) {
    if (data.length === 0) {
      throw file.error(at, 'an empty list of conditions');
    }
    const all = data.map((d, i) => compileCondition(d, file, [...at, i], format, usePath));
    return (scope) => all.every((c) => c(scope));
  }
  const c = file.check(ConditionData, data, at);
  const tests = [c.equals !== undefined, c.in !== undefined, c.present !== undefined].filter(Boolean).length;
  if (tests !== 1) {
    throw file.error(at, 'a condition has a path and exactly one of equals, in, present');
  }
  const many = usePath(c.path, [...at, 'path']);
  const fold = c.ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  const path = c.path;
  const values = (scope: SourceScope): string[] => {
    const out: string[] = [];
    const vals = scope.get(path);
    for (let i = 0; i < (many ? vals.length : Math.min(1, vals.length)); i++) {
      const v = normalize(vals[i], format);
      if (v !== undefined) {
        out.push(fold(String(v)));
      }
    }
    return out;
  };
  if (c.present !== undefined) {
    const want = c.present;
    return (scope) => values(scope).length > 0 === want;
  }
  const set = new Set((c.in ?? [c.equals as string | number | boolean]).map((x) => fold(String(x))));
  return (scope) => values(scope).some((v) => set.has(v));
}
