/**
 * The definitions the validator knows: base R4 (from the trimmed cache, loaded lazily), PeerBridge's
 * own package (profiles/package, loaded at start), FHIR packages asked for (`igPackages`: IGs and
 * their dependencies, read lazily by canonical URL, see definitions-packages.ts), and a small table
 * of external extensions we use but cannot load as packages offline (SDC).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type InternalTypeSchema,
  loadDataType,
  parseStructureDefinition,
  tryGetDataType,
} from '@medplum/core';
import type { CodeSystem, ElementDefinition, OperationOutcomeIssue, Questionnaire, Resource, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { type CacheManifest, codesOf, ensureDefinitionsCache, trimStructureDefinition } from './definitions-cache';
import { PackageContent } from './definitions-packages';
import { generateSnapshot, prepareSnapshot } from './definitions-snapshot';
import { EXTERNAL_EXTENSIONS, type ExternalExtension } from './external-extensions';
import { canonicalBases, type FhirPackage, loadPackageSet, type MissingDependency, missingDependencyIssue } from './packages';
import { canonicalUrl, CodeIndex, type Expansion, expandValueSet, FLAT_CODE_SYSTEMS, type TerminologySource } from './terminology';

export interface DefinitionsOptions {
  /** Where the trimmed base definitions cache lives (built on first use). */
  cacheDir?: string;
  /** FHIR package folders whose StructureDefinitions, ValueSets and CodeSystems are loaded. */
  packageDirs?: string[];
  /**
   * FHIR packages (implementation guides) to load with their dependencies: a `.tgz`, a package
   * folder, or `name#version` from the package cache (src/validation/packages). Throws a
   * PackageError when one of these cannot be read; a missing dependency is a warning in `loadIssues`.
   */
  igPackages?: string[];
}

/** A profile or type, parsed once, with its inner (backbone) types indexed by name. */
export interface LoadedProfile {
  url: string;
  sd: StructureDefinition;
  schema: InternalTypeSchema;
  innerTypes: Map<string, InternalTypeSchema>;
}

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const DEFAULT_PACKAGE_DIR = join(PROJECT_ROOT, 'profiles', 'package');

export class Definitions {
  private readonly manifest: CacheManifest;
  private readonly cacheDir: string;
  private readonly profiles = new Map<string, LoadedProfile>();
  private readonly localSds = new Map<string, StructureDefinition>();
  private readonly baseExpansions: Record<string, Expansion>;
  private readonly codeIndexes = new Map<string, CodeIndex | null>();
  private readonly loadedTypes = new Set<string>();
  private readonly localCodeSystems = new Map<string, Set<string>>();
  private baseCodeSystems: Record<string, string[]> | undefined;
  readonly resourceTypes: Set<string>;
  /** Resources of the loaded packages (Questionnaires, CodeSystems, ...), by canonical URL. */
  readonly packageResources = new Map<string, Resource>();
  readonly packageResourceList: Resource[] = [];

  /** What this was loaded from: a validation worker loads the same (src/validation/pool.ts). */
  readonly options: DefinitionsOptions;
  /** The FHIR packages loaded from `igPackages` (those asked for first, then their dependencies). */
  readonly igPackages: FhirPackage[] = [];
  /** What loading the packages had to say: dependencies not found, versions standing in for others. */
  readonly loadIssues: OperationOutcomeIssue[] = [];
  /** PeerBridge's own packages (`packageDirs`): `name#version` and canonical URL. */
  private readonly ownPackages: { id: string; canonical: string }[] = [];
  /** Dependencies of the loaded packages that could not be found (each also a warning in `loadIssues`). */
  readonly missingDependencies: MissingDependency[] = [];
  private readonly ig: PackageContent | undefined;
  private readonly typeSds = new Map<string, StructureDefinition>();
  private readonly ownCodeSystems = new Map<string, CodeSystem>();
  private readonly ownValueSets = new Map<string, ValueSet>();
  /** Package StructureDefinitions that could not be used, with why (a differential without a base, ...). */
  readonly brokenDefinitions = new Map<string, string>();
  private readonly snapshots = new Map<string, ElementDefinition[] | null>();

  constructor(options: DefinitionsOptions = {}) {
    this.options = { ...options };
    this.cacheDir = options.cacheDir ?? join(PROJECT_ROOT, 'build', 'definitions');
    this.manifest = ensureDefinitionsCache(this.cacheDir);
    this.resourceTypes = new Set(this.manifest.resourceTypes);
    const types = JSON.parse(readFileSync(join(this.cacheDir, this.manifest.typesFile), 'utf8')) as StructureDefinition[];
    for (const sd of types) {
      loadDataType(sd);
      this.loadedTypes.add(sd.type);
      this.typeSds.set(sd.type, sd);
    }
    this.baseExpansions = JSON.parse(readFileSync(join(this.cacheDir, this.manifest.expansionsFile), 'utf8')) as Record<
      string,
      Expansion
    >;
    for (const dir of options.packageDirs ?? [DEFAULT_PACKAGE_DIR]) {
      this.loadPackage(dir);
    }
    if (options.igPackages?.length) {
      const set = loadPackageSet(options.igPackages);
      this.igPackages.push(...set.packages);
      this.ig = new PackageContent(set.packages);
      this.loadIssues.push(...set.issues);
      this.missingDependencies.push(...set.missing);
      if (set.missing.length > 0) {
        const unresolved = this.unresolvedReferences();
        for (const m of set.missing) {
          this.loadIssues.push(missingDependencyIssue(m, unresolved));
        }
      }
    }
    const baseExtension = types.find((t) => t.type === 'Extension')?.snapshot?.element ?? [];
    for (const ext of EXTERNAL_EXTENSIONS) {
      this.localSds.set(ext.url, externalExtensionDefinition(baseExtension, ext));
    }
  }

  /** Loads every resource JSON in a FHIR package folder. */
  private loadPackage(dir: string): void {
    if (!existsSync(dir)) {
      return;
    }
    if (existsSync(join(dir, 'package.json'))) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown; canonical?: unknown };
      if (typeof manifest.canonical === 'string') {
        this.ownPackages.push({ id: `${String(manifest.name)}#${String(manifest.version)}`, canonical: manifest.canonical });
      }
    }
    const codeSystems = new Map<string, CodeSystem>();
    const valueSets = new Map<string, ValueSet>();
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.json') || file === 'package.json' || file.startsWith('.')) {
        continue;
      }
      const r = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Resource & { url?: string };
      this.packageResourceList.push(r);
      if (r.url) {
        this.packageResources.set(r.url, r);
      }
      if (r.resourceType === 'StructureDefinition' && r.url) {
        this.localSds.set(r.url, r);
      } else if (r.resourceType === 'CodeSystem' && r.url) {
        codeSystems.set(r.url, r);
        this.ownCodeSystems.set(r.url, r);
        if (r.content === 'complete') {
          this.localCodeSystems.set(r.url, new Set(codesOf(r.concept)));
        }
      } else if (r.resourceType === 'ValueSet' && r.url) {
        valueSets.set(r.url, r);
        this.ownValueSets.set(r.url, r);
      }
    }
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

  /** Makes sure the base definition of a type or resource is loaded into @medplum/core. */
  ensureType(type: string): boolean {
    if (this.loadedTypes.has(type)) {
      return true;
    }
    const url = this.manifest.byType[type];
    if (!url) {
      return false;
    }
    const sd = this.readCached(url);
    if (!sd) {
      return false;
    }
    loadDataType(sd);
    this.loadedTypes.add(type);
    return true;
  }

  /** Base schema of a type (datatype, resource, or backbone type name such as `EncounterParticipant`). */
  baseType(type: string): InternalTypeSchema | undefined {
    this.ensureType(type);
    return tryGetDataType(type);
  }

  isResourceType(type: string): boolean {
    return this.resourceTypes.has(type);
  }

  private readCached(url: string): StructureDefinition | undefined {
    const file = this.manifest.byUrl[url];
    if (!file || file === this.manifest.typesFile) {
      return undefined;
    }
    return JSON.parse(readFileSync(join(this.cacheDir, file), 'utf8')) as StructureDefinition;
  }

  /** True when a StructureDefinition with this canonical is known (ours, base, or external table). */
  hasDefinition(url: string): boolean {
    const u = canonicalUrl(url);
    return this.localSds.has(u) || !!this.manifest.byUrl[u] || !!this.ig?.has('StructureDefinition', u);
  }

  /** A StructureDefinition (profile, extension or base type) by canonical URL, parsed once. */
  profile(url: string): LoadedProfile | undefined {
    const u = canonicalUrl(url);
    const hit = this.profiles.get(u);
    if (hit) {
      return hit;
    }
    let sd = this.localSds.get(u);
    if (sd) {
      sd = trimStructureDefinition(sd);
    } else if (this.ig?.has('StructureDefinition', u)) {
      sd = this.packageStructure(u);
    } else if (this.manifest.byUrl[u] === this.manifest.typesFile) {
      const type = u.slice(u.lastIndexOf('/') + 1);
      const schema = tryGetDataType(type);
      if (!schema) {
        return undefined;
      }
      const loaded: LoadedProfile = { url: u, sd: { resourceType: 'StructureDefinition', url: u, type } as StructureDefinition, schema, innerTypes: indexInner(schema) };
      this.profiles.set(u, loaded);
      return loaded;
    } else {
      sd = this.readCached(u);
    }
    if (!sd?.snapshot) {
      return undefined;
    }
    if (sd.type && this.resourceTypes.has(sd.type)) {
      this.ensureType(sd.type);
    }
    let schema: InternalTypeSchema;
    try {
      schema = parseStructureDefinition(sd);
    } catch (e) {
      // A package's snapshot the parser cannot take: the profile is unknown (and the reason kept).
      this.brokenDefinitions.set(u, (e as Error).message);
      return undefined;
    }
    const loaded: LoadedProfile = { url: u, sd, schema, innerTypes: indexInner(schema) };
    this.profiles.set(u, loaded);
    return loaded;
  }

  /** All codes of a complete CodeSystem we hold (ours, a loaded package's, or the base spec's), or undefined. */
  codeSystemCodes(system: string): Set<string> | undefined {
    const local = this.localCodeSystems.get(system);
    if (local) {
      return local;
    }
    const pkg = this.ig?.entry('CodeSystem', system) ? this.ig.get<CodeSystem>('CodeSystem', system) : undefined;
    if (pkg) {
      if (pkg.content !== 'complete') {
        return undefined;
      }
      const set = new Set(codesOf(pkg.concept));
      this.localCodeSystems.set(system, set);
      return set;
    }
    this.baseCodeSystems ??= JSON.parse(
      readFileSync(join(this.cacheDir, this.manifest.codeSystemsFile), 'utf8'),
    ) as Record<string, string[]>;
    const codes = this.baseCodeSystems[system];
    if (!codes) {
      return undefined;
    }
    const set = new Set(codes);
    this.localCodeSystems.set(system, set);
    return set;
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
        return { resourceType: 'ValueSet', url, status: 'active', expansion: { timestamp: '', total: exp.complete ? contains.length : contains.length + 1, contains } };
      },
    };
  }

  /**
   * A loaded package's StructureDefinition, ready for the parser: trimmed, its snapshot generated
   * from the differential when the package ships none, repaired where the parser needs it.
   */
  private packageStructure(url: string): StructureDefinition | undefined {
    const raw = this.ig?.get<StructureDefinition>('StructureDefinition', url);
    if (!raw) {
      return undefined;
    }
    const elements = this.snapshotOf(url);
    if (!elements) {
      return undefined;
    }
    return trimStructureDefinition({ ...raw, snapshot: { element: prepareSnapshot(elements) } });
  }

  /** Snapshot elements of any StructureDefinition we know, generated from its differential if need be. */
  snapshotOf(url: string): ElementDefinition[] | undefined {
    const u = canonicalUrl(url);
    const hit = this.snapshots.get(u);
    if (hit !== undefined) {
      return hit ?? undefined;
    }
    this.snapshots.set(u, null); // a base cycle ends here
    let elements: ElementDefinition[] | undefined;
    const sd = this.localSds.get(u) ?? this.ig?.get<StructureDefinition>('StructureDefinition', u);
    if (sd?.snapshot?.element?.length) {
      elements = sd.snapshot.element;
    } else if (sd) {
      try {
        elements = generateSnapshot(sd, { snapshotOf: (b) => this.snapshotOf(b), typeElements: (t) => this.typeElements(t) });
      } catch (e) {
        this.brokenDefinitions.set(u, `No snapshot could be generated: ${(e as Error).message}`);
      }
    } else if (this.manifest.byUrl[u] === this.manifest.typesFile) {
      elements = this.typeSds.get(u.slice(u.lastIndexOf('/') + 1))?.snapshot?.element;
    } else {
      elements = this.readCached(u)?.snapshot?.element;
    }
    this.snapshots.set(u, elements ?? null);
    return elements;
  }

  /** Snapshot elements of a base datatype or resource. */
  private typeElements(type: string): ElementDefinition[] | undefined {
    const url = this.manifest.byType[type];
    return url ? this.snapshotOf(url) : undefined;
  }

  /** Resource profiles of the loaded packages, by resource type (for the CapabilityStatement). */
  packageProfiles(): { url: string; type: string }[] {
    return (this.ig?.list('StructureDefinition') ?? [])
      .filter((e) => e.kind === 'resource' && e.type && this.resourceTypes.has(e.type) && e.url !== `http://hl7.org/fhir/StructureDefinition/${e.type}`)
      .map((e) => ({ url: e.url, type: e.type as string }));
  }

  /** Canonical URLs of the ImplementationGuides of the packages asked for (not of their dependencies). */
  implementationGuides(): string[] {
    const asked = new Set(this.igPackages.filter((p) => !p.source.startsWith('dependency of ')).map((p) => p.dir));
    return (this.ig?.list('ImplementationGuide') ?? []).filter((e) => asked.has(e.pkg.dir)).map((e) => e.url);
  }

  /**
   * The loaded package (`name#version`: PeerBridge's own, or an IG asked for or found as a
   * dependency) whose canonical URL a URL lies under: every definition of it is known, so a URL
   * there that no definition answers does not exist (rather than being in a package not loaded).
   */
  loadedPackageFor(url: string): string | undefined {
    const own = this.ownPackages.find((p) => url.startsWith(p.canonical + '/'));
    if (own) {
      return own.id;
    }
    const ig = this.igPackages.find((p) => p.canonical && url.startsWith(p.canonical + '/'));
    return ig ? `${ig.name}#${ig.version}` : undefined;
  }

  /**
   * The missing dependency a canonical URL that no loaded definition answers most likely belongs
   * to (by the package's canonical URL bases), so that what it leaves unchecked can name it.
   */
  missingDependencyFor(url: string): MissingDependency | undefined {
    return this.missingDependencies.find((m) => canonicalBases(m.name).some((b) => url.startsWith(b)));
  }

  /**
   * A Questionnaire by canonical URL: PeerBridge's own, else one of the loaded packages' (their
   * conformance resources, then their examples: IGs such as US Core ship the Questionnaires their
   * QuestionnaireResponse examples answer only as examples).
   */
  questionnaire(url: string): Questionnaire | undefined {
    const u = canonicalUrl(url);
    const own = this.packageResources.get(u);
    if (own) {
      return own.resourceType === 'Questionnaire' ? own : undefined;
    }
    return this.ig?.get<Questionnaire>('Questionnaire', u) ?? this.ig?.example<Questionnaire>('Questionnaire', u);
  }

  /** A SearchParameter of the loaded packages by canonical URL. */
  searchParameter(url: string): SearchParameter | undefined {
    return this.ig?.get<SearchParameter>('SearchParameter', canonicalUrl(url));
  }

  /** SearchParameters of the loaded packages. */
  packageSearchParameters(): SearchParameter[] {
    return (this.ig?.list('SearchParameter') ?? []).map((e) => this.ig?.get<SearchParameter>('SearchParameter', e.url)).filter((r): r is SearchParameter => !!r);
  }

  /**
   * Canonicals the loaded packages' profiles refer to (type profiles, extensions, bound value sets)
   * that no loaded definition answers: what a missing dependency leaves unchecked.
   */
  private unresolvedReferences(): string[] {
    const out = new Set<string>();
    for (const e of this.ig?.list('StructureDefinition') ?? []) {
      if (e.pkg.source.startsWith('dependency of ')) {
        continue;
      }
      const sd = this.ig?.get<StructureDefinition>('StructureDefinition', e.url);
      for (const el of [...(sd?.snapshot?.element ?? []), ...(sd?.differential?.element ?? [])]) {
        for (const t of el.type ?? []) {
          for (const p of t.profile ?? []) {
            if (!this.hasDefinition(p)) out.add(canonicalUrl(p));
          }
        }
        const vs = el.binding?.valueSet ? canonicalUrl(el.binding.valueSet) : undefined;
        if (vs && !this.ig?.has('ValueSet', vs) && !this.ownValueSets.has(vs) && !this.baseExpansions[vs] && !vs.startsWith('http://hl7.org/fhir/ValueSet/')) {
          out.add(vs);
        }
      }
    }
    // Value sets the packages' own value sets import (US Core's race categories draw on VSAC's).
    for (const e of this.ig?.list('ValueSet') ?? []) {
      if (e.pkg.source.startsWith('dependency of ')) {
        continue;
      }
      const vs = this.ig?.get<ValueSet>('ValueSet', e.url);
      for (const inc of [...(vs?.compose?.include ?? []), ...(vs?.compose?.exclude ?? [])]) {
        for (const imported of inc.valueSet ?? []) {
          const u = canonicalUrl(imported);
          if (!this.ig?.has('ValueSet', u) && !this.ownValueSets.has(u) && !this.baseExpansions[u] && !u.startsWith('http://hl7.org/fhir/ValueSet/')) out.add(u);
        }
      }
    }
    return [...out].sort();
  }

}

/**
 * Builds a StructureDefinition for an external extension from the base Extension definition:
 * url fixed, value[x] restricted to the listed types, no nested extensions.
 */
function externalExtensionDefinition(baseElements: ElementDefinition[], ext: ExternalExtension): StructureDefinition {
  const elements = baseElements.map((el): ElementDefinition => {
    if (el.path === 'Extension.url') {
      return { ...el, fixedUri: ext.url };
    }
    if (el.path === 'Extension.value[x]') {
      return { ...el, min: 1, type: ext.valueTypes.map((code) => ({ code })) };
    }
    if (el.path === 'Extension.extension') {
      return { ...el, max: '0' };
    }
    return el;
  });
  return {
    resourceType: 'StructureDefinition',
    url: ext.url,
    name: ext.url.slice(ext.url.lastIndexOf('/') + 1),
    status: 'active',
    kind: 'complex-type',
    abstract: false,
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    context: ext.context.map((expression) => ({ type: 'element', expression })),
    snapshot: { element: elements },
  };
}

/** An expansion's codes, nested `contains` flattened. */
function flatContains(list: NonNullable<NonNullable<ValueSet['expansion']>['contains']>, out: { system?: string; code?: string }[] = []): { system?: string; code?: string }[] {
  for (const c of list) {
    if (c.code && !c.abstract) out.push(c);
    if (c.contains) flatContains(c.contains, out);
  }
  return out;
}

function indexInner(schema: InternalTypeSchema): Map<string, InternalTypeSchema> {
  const m = new Map<string, InternalTypeSchema>();
  for (const t of schema.innerTypes ?? []) {
    m.set(t.name, t);
  }
  return m;
}
