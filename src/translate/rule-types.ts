/**
 * The compiled forms of field rules (mappings/README.md, "Field rules"): what src/translate/compile.ts
 * builds at load and src/translate/fields.ts runs per record. Types only, so the compiler and the
 * runner both import them and neither imports the other (no compile -> fit -> fields -> compile circle).
 */
import type { SourceScope } from '../inbound/source';
import type { Condition } from './conditions';
import type { Segment, Setter, TargetInfo } from './targets';
import type { Produces } from './transforms';
import type { Env, Got } from './values';

/** A value rule compiled: reads, transforms, defaults. Pushes its own issues; undefined when absent or failed. */
export interface ValueRule {
  get(scope: SourceScope, env: Env, path: string): Got | undefined;
  /** The path read first, for "absent" locations; undefined for const. */
  firstPath?: string;
  fromSource: boolean;
  shape: 'scalar' | 'list';
  produces: Produces;
}

/** An `each` rule: a list of objects, an object keyed per item, or a list of values. */
export interface EachRule {
  each: string;
  when?: Condition;
  required: boolean;
  fields?: FieldGroup;
  key?: ValueRule;
  value?: ValueRule;
  item?: ValueRule;
  /** More `each` rules with fields whose objects follow this one's in the same list (a list of each rules: PID-13 home and PID-14 business phones). */
  also?: EachRule[];
}

/** One compiled target of a `fields` map. */
export interface FieldRun {
  target: string;
  segs: Segment[];
  set: Setter;
  /** A standalone child's `episode.*` target: set on MappedRecord.episode. */
  episode: boolean;
  info: TargetInfo;
  rule: ValueRule | EachRule;
  /** `identifiers[0]` when the target is inside a list element given by index. */
  element?: string;
}

export interface FieldGroup {
  fields: FieldRun[];
  /** The list elements given by index (`identifiers[0]`): left out when no source value reached them. */
  elements: string[];
}
