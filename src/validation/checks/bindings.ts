/**
 * Terminology checks: required bindings against offline expansions, codes against the code
 * systems PeerBridge knows, and value-set membership for slice discriminators.
 * https://hl7.org/fhir/R4/terminologies.html#required
 */
import type { CodeIndex } from '../terminology';
import type { RulePlan } from '../plans';
import { checkCodingDisplay } from '../rules/coding-display';
import { type CheckContext, type Json, reporter } from './context';
import { shown } from '../issues';

/** A required binding; the value set's index is looked up once and kept on the plan. */
export function checkBinding(ctx: CheckContext, value: unknown, type: string, binding: NonNullable<RulePlan['binding']>, path: string): void {
  if (binding.index === undefined) {
    binding.index = ctx.defs.codeIndex(binding.valueSet) ?? null;
  }
  const idx = binding.index;
  if (!idx || idx.size === 0) {
    return;
  }
  const vs = binding.display;
  const fail = (text: string, p = path): void => {
    ctx.report(idx.complete ? 'error' : 'warning', 'code-invalid', idx.complete ? text : `${text} (value set only partly known offline)`, p);
  };
  if (type === 'code' || type === 'string' || type === 'uri') {
    if (typeof value === 'string' && !idx.hasCode(value)) {
      fail(`Code '${value}' is not in the required value set ${vs}`);
    }
  } else if (type === 'Coding' || type === 'Quantity') {
    const c = value as Json;
    if (c.code !== undefined && !idx.hasCoding(c.system as string, c.code as string)) {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- String()'s text of a non-string code is in the equivalence test's recorded messages
      fail(`Code '${shown(c.system)}#${String(c.code)}' is not in the required value set ${vs}`);
    }
  } else if (type === 'CodeableConcept') {
    // Null items are reported where the array is walked; here only the codings there are count.
    const codings = Array.isArray((value as Json).coding)
      ? ((value as Json).coding as unknown[]).filter((c): c is Json => c !== null && typeof c === 'object')
      : [];
    if (codings.length === 0) {
      fail(`A code from the required value set ${vs} is needed; found only text`);
    } else if (!codings.some((c) => idx.hasCoding(c.system as string, c.code as string))) {
      const list = codings.map((c) => `${shown(c.system)}#${shown(c.code)}`).join(', ');
      fail(`None of the codes (${list}) is in the required value set ${vs}`);
    }
  }
}

/** A Coding's code must be in its code system when PeerBridge knows the system's codes. */
export function checkCodingInCodeSystem(ctx: CheckContext, obj: Json, path: string): void {
  const system = obj.system;
  const code = obj.code;
  if (typeof system !== 'string' || typeof code !== 'string') {
    return;
  }
  const cs = ctx.defs.codeSystemCodes(system);
  if (cs && !cs.has(code)) {
    ctx.report('error', 'code-invalid', `Unknown code '${code}' in code system ${system}`, `${path}.code`);
  } else if (cs && typeof obj.display === 'string' && ctx.defs.codeDisplays(system)?.[code]?.includes(obj.display) === false) {
    // Only a display that is not one of the code's as given is looked at closely.
    checkCodingDisplay(obj, path, reporter(ctx), (s) => ctx.defs.codeDisplays(s));
  }
}

/** A code, Coding or CodeableConcept (any of its codings) in a value set. */
export function inValueSet(v: unknown, idx: CodeIndex): boolean {
  if (typeof v === 'string') {
    return idx.hasCode(v);
  }
  const o = v as Json;
  if (Array.isArray(o?.coding)) {
    return (o.coding as unknown[]).some((c) => c !== null && typeof c === 'object' && idx.hasCoding((c as Json).system as string, (c as Json).code as string));
  }
  return idx.hasCoding(o?.system as string, o?.code as string);
}
