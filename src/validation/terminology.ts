/**
 * Offline ValueSet expansion and code checks for required bindings.
 *
 * There is no terminology server here (and none is reachable), so ValueSets are expanded from the
 * CodeSystems we hold: ours (profiles/package) and the base spec's. A ValueSet that draws on a code
 * system we do not have (SNOMED CT, LOINC, UCUM, BCP-47 ...) is marked incomplete: a code found in
 * what we could expand is accepted, a code not found is reported as a warning, not an error,
 * because we cannot prove it wrong. See https://hl7.org/fhir/R4/valueset.html#expansion
 */
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

export interface Expansion {
  /** True when every code of the ValueSet is listed. */
  complete: boolean;
  /** `system|code` entries. */
  codes: string[];
}

export interface TerminologySource {
  codeSystem(url: string): CodeSystem | undefined;
  valueSet(url: string): ValueSet | undefined;
}

/**
 * CodeSystems made from a list of codes without their hierarchy (the base cache keeps only codes):
 * a filter on one of them cannot be expanded.
 */
export const FLAT_CODE_SYSTEMS = new WeakSet<CodeSystem>();

/** Strips a `|version` suffix from a canonical. */
export function canonicalUrl(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}

function allConcepts(concepts: CodeSystemConcept[] | undefined, out: CodeSystemConcept[] = []): CodeSystemConcept[] {
  for (const c of concepts ?? []) {
    out.push(c);
    allConcepts(c.concept, out);
  }
  return out;
}

function descendantsOf(concepts: CodeSystemConcept[] | undefined, code: string, includeSelf: boolean): string[] {
  for (const c of allConcepts(concepts)) {
    if (c.code === code) {
      const below = allConcepts(c.concept).map((d) => d.code);
      return includeSelf ? [code, ...below] : below;
    }
  }
  return [];
}

/**
 * Expands a ValueSet by URL. Returns undefined when the ValueSet itself is unknown.
 * @param url - canonical URL (version suffix allowed)
 * @param source - where CodeSystems and ValueSets are looked up
 * @param seen - guards against import cycles
 */
export function expandValueSet(url: string, source: TerminologySource, seen = new Set<string>()): Expansion | undefined {
  const vsUrl = canonicalUrl(url);
  const vs = source.valueSet(vsUrl);
  if (!vs || seen.has(vsUrl)) {
    return undefined;
  }
  seen.add(vsUrl);
  if (!vs.compose && vs.expansion?.contains) {
    const codes = vs.expansion.contains.filter((c) => c.code).map((c) => `${c.system}|${c.code}`);
    return { complete: vs.expansion.total === undefined || vs.expansion.total === codes.length, codes };
  }
  let complete = true;
  const codes = new Set<string>();
  const includeInto = (inc: ValueSetComposeInclude, target: Set<string>): boolean => {
    let ok = true;
    const part = new Set<string>();
    if (inc.system) {
      const cs = source.codeSystem(inc.system);
      if (inc.concept) {
        for (const c of inc.concept) {
          part.add(`${inc.system}|${c.code}`);
        }
      } else if (!cs || (cs.content && cs.content !== 'complete')) {
        ok = false;
      } else if (inc.filter?.length && FLAT_CODE_SYSTEMS.has(cs)) {
        ok = false;
      } else if (inc.filter?.length) {
        for (const f of inc.filter) {
          if ((f.op === 'is-a' || f.op === 'descendent-of') && f.property === 'concept' && f.value) {
            for (const code of descendantsOf(cs.concept, f.value, f.op === 'is-a')) {
              part.add(`${inc.system}|${code}`);
            }
          } else {
            ok = false;
          }
        }
      } else {
        for (const c of allConcepts(cs.concept)) {
          part.add(`${inc.system}|${c.code}`);
        }
      }
    }
    for (const imported of inc.valueSet ?? []) {
      const sub = expandValueSet(imported, source, seen);
      if (!sub) {
        ok = false;
        continue;
      }
      ok = ok && sub.complete;
      for (const c of sub.codes) {
        if (!inc.system || c.startsWith(`${inc.system}|`)) {
          part.add(c);
        }
      }
    }
    for (const c of part) {
      target.add(c);
    }
    return ok;
  };
  for (const inc of vs.compose?.include ?? []) {
    complete = includeInto(inc, codes) && complete;
  }
  for (const exc of vs.compose?.exclude ?? []) {
    const excluded = new Set<string>();
    includeInto(exc, excluded);
    for (const c of excluded) {
      codes.delete(c);
    }
  }
  return { complete, codes: [...codes] };
}

/** An expansion indexed for look-ups. */
export class CodeIndex {
  readonly complete: boolean;
  /** Codes by system: a look-up builds no `system|code` string (it ran for every Coding validated). */
  private readonly bySystem = new Map<string, Set<string>>();
  private readonly bareCodes: Set<string>;
  readonly systems: Set<string>;
  private readonly count: number;

  constructor(exp: Expansion) {
    this.complete = exp.complete;
    this.bareCodes = new Set();
    this.systems = new Set();
    for (const c of exp.codes) {
      const bar = c.lastIndexOf('|');
      const system = c.slice(0, bar);
      const code = c.slice(bar + 1);
      this.bareCodes.add(code);
      this.systems.add(system);
      let codes = this.bySystem.get(system);
      if (!codes) {
        codes = new Set();
        this.bySystem.set(system, codes);
      }
      codes.add(code);
    }
    this.count = new Set(exp.codes).size;
  }

  /** For `code` elements, which carry no system. */
  hasCode(code: string): boolean {
    return this.bareCodes.has(code);
  }

  hasCoding(system: string | undefined, code: string | undefined): boolean {
    if (!system || !code) {
      return false;
    }
    // Malformed JSON (an array for a system, a number for a code) is looked up by its text, as `system|code` was.
    const s = typeof system === 'string' ? system : String(system);
    const c = typeof code === 'string' ? code : String(code);
    return this.bySystem.get(s)?.has(c) === true;
  }

  get size(): number {
    return this.count;
  }
}
