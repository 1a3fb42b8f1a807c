/**
 * The one thing every rule in this folder needs: a way to report an issue. Rules are pure
 * functions of (value, path, report, ...what little else they need), independent of the walker,
 * so they can be tested on their own and called from wherever the value is met.
 */
import type { IssueCode, Severity } from '../issues';

/** Reports one issue at a FHIRPath expression. */
export type Report = (severity: Severity, code: IssueCode, message: string, path: string) => void;

export type Json = Record<string, unknown>;

/** The array at `key` of an object, without null or non-object items. */
export function objectsAt(obj: unknown, key: string): Json[] {
  const v = obj && typeof obj === 'object' ? (obj as Json)[key] : undefined;
  return Array.isArray(v) ? v.filter((x): x is Json => !!x && typeof x === 'object' && !Array.isArray(x)) : [];
}
