/**
 * What a check may use: the issue sink, the definition and terminology look-ups, and the
 * resources being walked. The walker implements it; checks see nothing else of the walker
 * (its plans, its traversal state), so a check can be read, tested and added on its own.
 *
 * Where a new check goes (see the files of this folder):
 *   - a rule on every value of a datatype (Attachment, Quantity, Coding ...): a function in the
 *     file of its kind, listed under the type in `DATATYPE_CHECKS` (datatypes.ts);
 *   - a rule on a whole resource (Bundle, Questionnaire, SearchParameter ...): a function
 *     listed under the resource type in `RESOURCE_CHECKS` (../resource-rules.ts);
 *   - a rule on a primitive's JSON value: primitives.ts;
 *   - an invariant the FHIRPath engine cannot evaluate: its key in NATIVE_INVARIANTS (plans.ts,
 *     so the engine skips it) and a native check in one of the lists above.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Definitions } from '../definitions';
import type { IssueCode, Severity } from '../issues';

export type Json = Record<string, unknown>;

/** Canonical URL prefix of HL7's own StructureDefinitions (types, resources, core extensions). */
export const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

/** Where issues go. */
export interface IssueSink {
  report(severity: Severity, code: IssueCode, text: string, path: string): void;
}

/**
 * The look-ups checks make: types, profiles and extension definitions, value sets, code systems,
 * Questionnaires, and why a definition is unknown (a missing package, a definition that could not be used).
 */
export type Lookups = Pick<
  Definitions,
  | 'isResourceType'
  | 'profile'
  | 'baseType'
  | 'codeIndex'
  | 'codeSystemCodes'
  | 'packageResources'
  | 'questionnaire'
  | 'missingDependencyFor'
  | 'loadedPackageFor'
  | 'brokenDefinitions'
>;

/** How strict a run is (ValidateOptions). */
export interface Policy {
  /** An unknown profile in meta.profile is an error (default: a warning, the resource is checked against its base type). */
  readonly strictProfiles: boolean;
}

export interface CheckContext extends IssueSink {
  readonly defs: Lookups;
  readonly policy: Policy;
  /** The resources being walked, outermost first (a Bundle, then its entry, ...). */
  enclosingResources(): Resource[];
  /** The resource being walked (innermost): FHIRPath's %resource. */
  currentResource(): Resource | undefined;
  /** FHIRPath's %rootResource: the innermost resource that is not itself contained. */
  rootResource(): Resource | undefined;
}

/** `an` before a vowel, else `a`. */
export function article(word: string): string {
  return /^[AEIOUaeiou]/.test(word) ? 'an' : 'a';
}

/** Long values cut for messages. */
export function truncate(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n) + '...' : s;
}
