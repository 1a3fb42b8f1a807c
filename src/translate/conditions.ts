/**
 * `when:` conditions of records, `each` rules and field rules: `{ path, equals }`, `{ path, not }`,
 * `{ path, in: [...] }`, `{ path, present: true|false }`, `{ path, empty: true|false }`,
 * optionally `ignoreCase: true`; a list of them must all hold. `equals` and `not` take a value,
 * (`not`) a list of values, or `{ path: <other path> }` to compare with another column of the
 * same record. Values are compared as text. A `[*]` path holds when any of its repetitions does
 * (`not`: when none of them is one of the values).
 */
import { z } from 'zod';
import type { SourceScope } from '../inbound/source';
import type { InputFormat } from './types';
import { normalize } from './values';
import type { YamlFile, YamlPath } from './yaml-file';

export type Condition = (scope: SourceScope) => boolean;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const OtherPath = z.strictObject({ path: z.string().min(1) });
const ConditionData = z.strictObject({
  path: z.string().min(1),
  equals: z.union([Scalar, OtherPath]).optional(),
  not: z.union([Scalar, z.array(Scalar).min(1), OtherPath]).optional(),
  in: z.array(Scalar).min(1).optional(),
  present: z.boolean().optional(),
  empty: z.boolean().optional(),
  ignoreCase: z.boolean().optional(),
});

/**
 * Compiles a `when`; `usePath` hears every path it reads (for the feed's columns and path checks).
 * Reading a JSON object where a value is expected throws StepFailure from the condition.
 */
export function compileCondition(
  data: unknown,
  file: YamlFile,
  at: YamlPath,
  format: InputFormat,
  usePath: (path: string, at: YamlPath) => boolean,
): Condition {
  if (Array.isArray(data)) {
    if (data.length === 0) {
      throw file.error(at, 'an empty list of conditions');
    }
    const all = data.map((d, i) => compileCondition(d, file, [...at, i], format, usePath));
    return (scope) => all.every((c) => c(scope));
  }
  const c = file.check(ConditionData, data, at);
  const tests = [c.equals !== undefined, c.not !== undefined, c.in !== undefined, c.present !== undefined, c.empty !== undefined].filter(Boolean).length;
  if (tests !== 1) {
    throw file.error(at, 'a condition has a path and exactly one of equals, not, in, present, empty');
  }
  const fold = c.ignoreCase ? (s: string) => s.toLowerCase() : (s: string) => s;
  const reader = (path: string, pathAt: YamlPath) => {
    const many = usePath(path, pathAt);
    return (scope: SourceScope): string[] => {
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
  };
  const values = reader(c.path, [...at, 'path']);
  if (c.present !== undefined || c.empty !== undefined) {
    const want = c.present ?? !c.empty;
    return (scope) => values(scope).length > 0 === want;
  }
  const test = c.equals ?? c.not;
  const negate = c.not !== undefined;
  if (test !== undefined && typeof test === 'object' && !Array.isArray(test)) {
    // Compared with another path of the record: holds when some value of each is the same.
    const other = reader(test.path, [...at, negate ? 'not' : 'equals', 'path']);
    return (scope) => {
      const theirs = new Set(other(scope));
      const same = values(scope).some((v) => theirs.has(v));
      return negate ? !same : same;
    };
  }
  const given = c.in ?? (Array.isArray(test) ? test : [test as string | number | boolean]);
  const set = new Set(given.map((x) => fold(String(x))));
  return negate ? (scope) => !values(scope).some((v) => set.has(v)) : (scope) => values(scope).some((v) => set.has(v));
}
