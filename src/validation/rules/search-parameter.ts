/**
 * SearchParameter and CapabilityStatement consistency, as the reference validator checks it:
 * - a SearchParameter's `expression` must parse as FHIRPath (checked with fhirpath.js, whose
 *   grammar is the specification's ANTLR grammar);
 * - a SearchParameter that says it is `derivedFrom` a known one keeps its `type`;
 * - a CapabilityStatement's `rest.resource.searchParam.type` is the type of the SearchParameter its
 *   `definition` names, when that SearchParameter is known (the base R4 ones, our package's).
 * https://hl7.org/fhir/R4/searchparameter.html, https://hl7.org/fhir/R4/capabilitystatement.html
 */
import { objectsAt, type Json, type Report } from './types';

/** What the rules need of a known SearchParameter. */
export interface KnownSearchParameter {
  url: string;
  type?: string;
}

/** A known SearchParameter by canonical URL (version suffix dropped by the caller). */
export type SearchParameterLookup = (url: string) => KnownSearchParameter | undefined;

type Parse = (expression: string) => unknown;
let parse: Parse | undefined;

/** Null when the expression parses, else the parser's message. */
export function fhirPathSyntaxError(expression: string): string | null {
  if (!parse) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: most validations never see a SearchParameter
    parse = (require('fhirpath') as { parse: Parse }).parse;
  }
  try {
    parse(expression);
    return null;
  } catch (e) {
    return String((e as Error).message ?? e).split('\n')[0];
  }
}

function canonical(url: string): string {
  const bar = url.indexOf('|');
  return bar >= 0 ? url.slice(0, bar) : url;
}

/** One SearchParameter: its expression, and its type against the one it derives from. */
export function checkSearchParameter(sp: Json, path: string, report: Report, lookup: SearchParameterLookup): void {
  if (typeof sp.expression === 'string') {
    const problem = fhirPathSyntaxError(sp.expression);
    if (problem) {
      report('error', 'invalid', `The expression '${sp.expression}' is not valid FHIRPath: ${problem}`, `${path}.expression`);
    }
  }
  if (typeof sp.derivedFrom === 'string' && typeof sp.type === 'string') {
    const base = lookup(canonical(sp.derivedFrom));
    if (base?.type && base.type !== sp.type) {
      report('error', 'invalid', `The type ${sp.type} is different to the type ${base.type} of the SearchParameter it derives from (${sp.derivedFrom})`, `${path}.type`);
    }
  }
}

/** Every rest.resource.searchParam of a CapabilityStatement against the SearchParameter it names. */
export function checkCapabilityStatement(cs: Json, path: string, report: Report, lookup: SearchParameterLookup): void {
  objectsAt(cs, 'rest').forEach((rest, i) => {
    objectsAt(rest, 'resource').forEach((resource, j) => {
      objectsAt(resource, 'searchParam').forEach((param, k) => {
        if (typeof param.definition !== 'string' || typeof param.type !== 'string') {
          return;
        }
        const def = lookup(canonical(param.definition));
        if (def?.type && def.type !== param.type) {
          report(
            'error',
            'invalid',
            `Type mismatch: SearchParameter '${param.definition}' is of type ${def.type}, but the type here is ${param.type}`,
            `${path}.rest[${i}].resource[${j}].searchParam[${k}].type`,
          );
        }
      });
    });
  });
}
