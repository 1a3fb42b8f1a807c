/** Small pieces shared by the mappers. */
import type { Coding, Meta, Reference } from '@medplum/fhirtypes';
import { PART2_LABELS } from './codes';
import { deepFreeze } from './shared';

/** The Part 2 labels as frozen values every resource's own `meta.security` list shares (src/fhir/shared.ts says why). */
const PART2_SECURITY: readonly Coding[] = deepFreeze(PART2_LABELS.map((c) => ({ ...c })));

/** `meta` with the profile and, for records of a 42 CFR Part 2 program, its security labels. */
export function metaFor(profile: string | undefined, part2: boolean): { meta?: Meta } {
  const meta: Meta = {};
  if (profile) meta.profile = [profile];
  if (part2) meta.security = PART2_SECURITY.slice();
  return Object.keys(meta).length ? { meta } : {};
}

/**
 * Resolves a reference found in FHIR back to the source record id of its target (through the
 * source-record identifiers of the resources at hand); undefined when the target is unknown.
 */
export type ResolveRef = (ref: Reference | undefined) => string | undefined;

/** The code of the first coding with this system. */
export function codeOf(codings: Coding[] | undefined, system: string): string | undefined {
  return codings?.find((c) => c.system === system)?.code;
}

/** Sets `key` on `target` only when `value` is defined (keeps optional properties absent, not undefined). */
export function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) {
    target[key] = value;
  }
}
