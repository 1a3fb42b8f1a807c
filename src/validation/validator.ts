/**
 * PeerBridge's validator: base R4 + profiles from `meta.profile` (or one asked for) + required
 * bindings + whole-resource rules, for a resource or a Bundle and everything inside it.
 * Never throws on bad input: every problem is an OperationOutcome issue.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { Definitions, type DefinitionsOptions } from './definitions';
import { hasErrors, issue, outcome } from './issues';
import { checkResourceRules } from './resource-rules';
import { Walker } from './walker';

/** Deeper JSON than this is refused before walking it (FHIR content is rarely deeper than 20). */
export const MAX_DEPTH = 128;

export interface ValidateOptions {
  /** A profile to check against, in addition to those in meta.profile. */
  profile?: string;
  /** FHIRPath prefix for reported issues (defaults to the resource type). */
  path?: string;
  /**
   * An unknown profile in meta.profile is an error. By default it is a warning and the resource
   * is checked against its base type, as the reference validator does. (An unknown `profile`
   * asked for above is always an error.)
   */
  strictProfiles?: boolean;
}

export interface ValidationResult {
  valid: boolean;
  outcome: OperationOutcome;
  issues: OperationOutcomeIssue[];
}

export class Validator {
  constructor(readonly defs: Definitions) {}

  /** Loads definitions (base cache, profiles/package) once. */
  static create(options?: DefinitionsOptions): Validator {
    return new Validator(new Definitions(options));
  }

  /** Canonical URLs of the resource profiles this validator knows from its packages. */
  profileUrls(): string[] {
    return this.defs.packageResourceList
      .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && r.derivation === 'constraint')
      .map((r) => (r as { url: string }).url)
      .sort();
  }

  validate(input: unknown, options: ValidateOptions = {}): ValidationResult {
    const issues = this.collect(input, options);
    return { valid: !hasErrors(issues), outcome: outcome(issues), issues };
  }

  private collect(input: unknown, options: ValidateOptions): OperationOutcomeIssue[] {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      const what = Array.isArray(input) ? 'a JSON array' : input === null ? 'null' : `a JSON ${typeof input}`;
      return [issue('error', 'structure', `Expected a FHIR resource (a JSON object with a resourceType), got ${what}`)];
    }
    const depth = jsonDepth(input, MAX_DEPTH + 1);
    if (depth > MAX_DEPTH) {
      return [issue('error', 'too-long', `JSON is nested more than ${MAX_DEPTH} levels deep; refusing to validate it`)];
    }
    const rt = (input as { resourceType?: unknown }).resourceType;
    const path = options.path ?? (typeof rt === 'string' && /^[A-Z][A-Za-z]+$/.test(rt) ? rt : 'Resource');
    const walker = new Walker(this.defs, checkResourceRules, { strictProfiles: options.strictProfiles === true });
    walker.validateResource(input, path, options.profile ? [options.profile] : []);
    return walker.issues;
  }
}

/** Depth of a JSON value, counted iteratively (no recursion on hostile input), capped at `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) {
      max = d;
      if (max >= limit) {
        return max;
      }
    }
    if (Array.isArray(v)) {
      for (const x of v) {
        if (x !== null && typeof x === 'object') {
          stack.push([x, d + 1]);
        }
      }
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v as Record<string, unknown>)) {
        if (x !== null && typeof x === 'object') {
          stack.push([x, d + 1]);
        }
      }
    }
  }
  return max;
}
