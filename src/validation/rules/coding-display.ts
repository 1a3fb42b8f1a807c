/**
 * The display of a Coding from a code system PeerBridge holds in full (the base spec's, THO's
 * v2/v3 tables shipped with it, our own) must be one of that code's displays, as the reference
 * validator reports it: "Wrong Display Name ... Valid display is ...", an error. Case and runs
 * of whitespace are not held against a display (see README, "knowingly differs").
 * https://hl7.org/fhir/R4/datatypes.html#Coding ("display ... SHALL be one of the displays
 * defined for the code by the system")
 */
import type { Json, Report } from './types';

/** The displays of each code of a code system, or undefined when the system is not held in full. */
export type DisplayLookup = (system: string) => Record<string, string[]> | undefined;

function normal(s: string): string {
  return s.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** One Coding's display against its code system. */
export function checkCodingDisplay(coding: Json, path: string, report: Report, displaysOf: DisplayLookup): void {
  const { system, code, display } = coding;
  if (typeof display !== 'string' || typeof system !== 'string' || typeof code !== 'string') {
    return;
  }
  const valid = displaysOf(system)?.[code];
  if (!valid || valid.includes(display)) {
    return;
  }
  const wanted = normal(display);
  if (valid.some((d) => normal(d) === wanted)) {
    return;
  }
  const expected = valid.length === 1 ? `'${valid[0]}'` : `one of ${valid.map((d) => `'${d}'`).join(', ')}`;
  report('error', 'code-invalid', `Wrong display '${display}' for ${system}#${code}: the valid display is ${expected}`, `${path}.display`);
}
