/**
 * The terminology look-ups of the definitions (src/validation/definitions.ts): the codes of complete
 * CodeSystems and the indexed expansions of ValueSets, from PeerBridge's own package, the FHIR
 * packages loaded (`igPackages`) and the base spec (the trimmed cache: its expansions read at start,
 * its CodeSystems on first use). Expansion itself is src/validation/terminology.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { type CacheManifest, codesOf, displaysOf } from './definitions-cache';
import type { PackageContent } from './definitions-packages';
import { canonicalUrl, CodeIndex, type Expansion, expandValueSet, FLAT_CODE_SYSTEMS, type TerminologySource } from './terminology';

export class DefinitionsTerminology {
  private readonly baseExpansions: Record<string, Expansion>;
  private readonly codeIndexes = new Map<string, CodeIndex | null>();
  private readonly localCodeSystems = new Map<string, Set<string>>();
  private baseCodeSystems: Record<string, string[]> | undefined;
  private readonly localDisplays = new Map<string, Record<string, string[]>>();
  private baseDisplays: Record<string, Record<string, string[]>> | undefined;
  private readonly ownCodeSystems = new Map<string, CodeSystem>();
  private readonly ownValueSets = new Map<string, ValueSet>();

  /**
   * `packages`: the content of the FHIR packages loaded, asked for at each look-up (the definitions
   * load them after PeerBridge's own package, whose terminology is added here first).
   */
  constructor(
    private readonly cacheDir: string,
    private readonly manifest: CacheManifest,
    private readonly packages: () => PackageContent | undefined,
  ) {
    this.baseExpansions = JSON.parse(readFileSync(join(this.cacheDir, this.manifest.expansionsFile), 'utf8')) as Record<string, Expansion>;
  }

  private get ig(): PackageContent | undefined {
    return this.packages();
  }

  /** A CodeSystem of PeerBridge's own package (`packageDirs`); a complete one's codes are indexed. */
  addOwnCodeSystem(url: string, r: CodeSystem): void {
    this.ownCodeSystems.set(url, r);
    if (r.content === 'complete') {
      this.localCodeSystems.set(url, new Set(codesOf(r.concept)));
      this.localDisplays.set(url, displaysOf(r.concept));
    }
  }

  /** A ValueSet of PeerBridge's own package (`packageDirs`). */
  addOwnValueSet(url: string, r: ValueSet): void {
    this.ownValueSets.set(url, r);
  }

  /** Expands and indexes one own package's ValueSets over that package's CodeSystems and ValueSets. */
  indexOwnPackage(codeSystems: Map<string, CodeSystem>, valueSets: Map<string, ValueSet>): void {
    const source = {
      codeSystem: (url: string) => codeSystems.get(url),
      valueSet: (url: string) => valueSets.get(url),
    };
    for (const url of valueSets.keys()) {
      const exp = expandValueSet(url, source);
      if (exp) {
        this.codeIndexes.set(url, new CodeIndex(exp));
      }
    }
  }

  /** True when a ValueSet (canonical URL without version) is one of our own or the base spec's expanded ones. */
  knowsValueSet(url: string): boolean {
    return this.ownValueSets.has(url) || !!this.baseExpansions[url];
  }

  /** All codes of a complete CodeSystem we hold (ours, a loaded package's, or the base spec's), or undefined. */
  codeSystemCodes(system: string): Set<string> | undefined {
    const local = this.localCodeSystems.get(system);
    if (local) {
      return local;
    }
    const pkg = this.packageCodeSystem(system);
    if (pkg !== undefined) {
      if (pkg === null) {
        return undefined;
      }
      const set = new Set(codesOf(pkg.concept));
      this.localCodeSystems.set(system, set);
      return set;
    }
    this.baseCodeSystems ??= JSON.parse(readFileSync(join(this.cacheDir, this.manifest.codeSystemsFile), 'utf8')) as Record<string, string[]>;
    const codes = this.baseCodeSystems[system];
    if (!codes) {
      return undefined;
    }
    const set = new Set(codes);
    this.localCodeSystems.set(system, set);
    return set;
  }

  /**
   * The displays of each code of a complete CodeSystem we hold (ours, a loaded package's, or the base spec's), or
   * undefined. The base displays are read on first use (most workloads never need them).
   */
  codeDisplays(system: string): Record<string, string[]> | undefined {
    const local = this.localDisplays.get(system);
    if (local) {
      return local;
    }
    const pkg = this.packageCodeSystem(system);
    if (pkg !== undefined) {
      if (pkg === null) {
        return undefined;
      }
      const displays = displaysOf(pkg.concept);
      this.localDisplays.set(system, displays);
      return displays;
    }
    this.baseDisplays ??= JSON.parse(readFileSync(join(this.cacheDir, this.manifest.displaysFile), 'utf8')) as Record<string, Record<string, string[]>>;
    return this.baseDisplays[system];
  }

  /** A loaded package's CodeSystem: undefined when no package has it, null when one has it but not in full. */
  private packageCodeSystem(system: string): CodeSystem | null | undefined {
    const pkg = this.ig?.entry('CodeSystem', system) ? this.ig.get<CodeSystem>('CodeSystem', system) : undefined;
    if (!pkg) {
      return undefined;
    }
    return pkg.content === 'complete' ? pkg : null;
  }

  /** The indexed expansion of a ValueSet, or undefined when it cannot be expanded offline. */
  codeIndex(valueSet: string): CodeIndex | undefined {
    const u = canonicalUrl(valueSet);
    let idx = this.codeIndexes.get(u);
    if (idx === undefined) {
      const exp = this.packageExpansion(u) ?? this.baseExpansions[u];
      idx = exp ? new CodeIndex(exp) : null;
      this.codeIndexes.set(u, idx);
    }
    return idx ?? undefined;
  }

  /**
   * A loaded package's ValueSet expanded offline from its compose (over the packages' and the base
   * spec's CodeSystems); when that cannot be done in full, the expansion the package ships (made by
   * the IG publisher with a terminology server) stands in, when it is not truncated.
   */
  private packageExpansion(url: string): Expansion | undefined {
    const vs = this.ig?.get<ValueSet>('ValueSet', url);
    if (!vs) {
      return undefined;
    }
    const composed = vs.compose ? expandValueSet(url, this.terminologySource()) : undefined;
    if (composed?.complete) {
      return composed;
    }
    const shipped = vs.expansion?.contains;
    const truncated = vs.expansion?.parameter?.some((p) => p.name === 'count' || p.name === 'offset');
    if (shipped && !truncated && (vs.expansion?.total === undefined || vs.expansion.total <= flatContains(shipped).length)) {
      return { complete: true, codes: flatContains(shipped).map((c) => `${c.system}|${c.code}`) };
    }
    return composed ?? (shipped ? { complete: false, codes: flatContains(shipped).map((c) => `${c.system}|${c.code}`) } : undefined);
  }

  /** CodeSystems and ValueSets for expanding package ValueSets: ours, the packages', the base spec's. */
  private terminologySource(): TerminologySource {
    return {
      codeSystem: (url) => {
        const own = this.ownCodeSystems.get(url) ?? this.ig?.get<CodeSystem>('CodeSystem', url);
        if (own) {
          return own;
        }
        this.baseCodeSystems ??= JSON.parse(readFileSync(join(this.cacheDir, this.manifest.codeSystemsFile), 'utf8')) as Record<string, string[]>;
        const codes = this.baseCodeSystems[url];
        if (!codes) {
          return undefined;
        }
        // The base cache keeps a complete system's codes, not its hierarchy: filters on it are not expanded.
        const cs = { resourceType: 'CodeSystem', url, status: 'active', content: 'complete', concept: codes.map((code) => ({ code })) } as CodeSystem;
        FLAT_CODE_SYSTEMS.add(cs);
        return cs;
      },
      valueSet: (url) => {
        const own = this.ownValueSets.get(url) ?? this.ig?.get<ValueSet>('ValueSet', url);
        if (own) {
          return own;
        }
        const exp = this.baseExpansions[url];
        if (!exp) {
          return undefined;
        }
        const contains = exp.codes.map((c) => ({ system: c.slice(0, c.lastIndexOf('|')), code: c.slice(c.lastIndexOf('|') + 1) }));
        return {
          resourceType: 'ValueSet',
          url,
          status: 'active',
          expansion: { timestamp: '', total: exp.complete ? contains.length : contains.length + 1, contains },
        };
      },
    };
  }
}

/** An expansion's codes, nested `contains` flattened. */
function flatContains(
  list: NonNullable<NonNullable<ValueSet['expansion']>['contains']>,
  out: { system?: string; code?: string }[] = [],
): { system?: string; code?: string }[] {
  for (const c of list) {
    if (c.code && !c.abstract) out.push(c);
    if (c.contains) flatContains(c.contains, out);
  }
  return out;
}
