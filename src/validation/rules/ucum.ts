/**
 * UCUM units: a Quantity whose system is http://unitsofmeasure.org must carry a valid UCUM
 * expression in `code`, checked offline with @lhncbc/ucum-lhc (the NLM library the FHIRPath
 * engines use). The library takes ~0.1 s to load, so it is loaded on the first UCUM code met, and
 * verdicts are kept per code (a workload uses few distinct units).
 * https://hl7.org/fhir/R4/datatypes.html#Quantity, https://ucum.org/ucum
 */
import type { Json, Report } from './types';

export const UCUM = 'http://unitsofmeasure.org';

interface UcumUtils {
  validateUnitString(code: string, suggest?: boolean): { status: string; msg: string[] };
}

let utils: UcumUtils | undefined;
const verdicts = new Map<string, string | null>();
const MAX_VERDICTS = 10_000;

/** Null when the code is a valid UCUM expression, else why not. */
export function ucumProblem(code: string): string | null {
  let v = verdicts.get(code);
  if (v !== undefined) {
    return v;
  }
  if (!utils) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: its ~0.1 s load is not paid at start-up
    const ucum = require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } };
    utils = ucum.UcumLhcUtils.getInstance();
  }
  try {
    const r = utils.validateUnitString(code, false);
    v = r.status === 'valid' ? null : (r.msg[0] ?? `${code} is not a valid UCUM code`);
  } catch (e) {
    v = `${code} could not be parsed as UCUM (${(e as Error).message})`;
  }
  if (verdicts.size < MAX_VERDICTS) {
    verdicts.set(code, v);
  }
  return v;
}

/** One Quantity (or Age, Duration, ...): its UCUM code. */
export function checkUcumQuantity(q: Json, path: string, report: Report): void {
  if (q.system !== UCUM || typeof q.code !== 'string' || !q.code) {
    return;
  }
  const problem = ucumProblem(q.code);
  if (problem) {
    report('error', 'code-invalid', `The UCUM code '${q.code}' is not valid: ${problem.replace(/\s+/g, ' ').trim()}`, `${path}.code`);
  }
}
