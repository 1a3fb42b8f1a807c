/**
 * The definitions the validator knows: base R4 (from the trimmed cache, loaded lazily), PeerBridge's
 * own package (profiles/package, loaded at start), and a small table of external extensions we use
 * but cannot load as packages offline (SDC).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type InternalTypeSchema,
  loadDataType,
  parseStructureDefinition,
  tryGetDataType,
} from '@medplum/core';
import type { CodeSystem, ElementDefinition, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { type CacheManifest, codesOf, ensureDefinitionsCache, trimStructureDefinition } from './definitions-cache';
import { EXTERNAL_EXTENSIONS, type ExternalExtension } from './external-extensions';
import { canonicalUrl, CodeIndex, type Expansion, expandValueSet } from './terminology';

export interface DefinitionsOptions {
  /** Where the trimmed base definitions cache lives (built on first use). */
  cacheDir?: string;
  /** FHIR package folders whose StructureDefinitions, ValueSets and CodeSystems are loaded. */
  packageDirs?: string[];
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

  constructor(options: DefinitionsOptions = {}) {
    this.options = { ...options };
    this.cacheDir = options.cacheDir ?? join(PROJECT_ROOT, 'build', 'definitions');
    this.manifest = ensureDefinitionsCache(this.cacheDir);
    this.resourceTypes = new Set(this.manifest.resourceTypes);
    const types = JSON.parse(readFileSync(join(this.cacheDir, this.manifest.typesFile), 'utf8')) as StructureDefinition[];
    for (const sd of types) {
      loadDataType(sd);
      this.loadedTypes.add(sd.type);
    }
    this.baseExpansions = JSON.parse(readFileSync(join(this.cacheDir, this.manifest.expansionsFile), 'utf8')) as Record<
      string,
      Expansion
    >;
    for (const dir of options.packageDirs ?? [DEFAULT_PACKAGE_DIR]) {
      this.loadPackage(dir);
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
        if (r.content === 'complete') {
          this.localCodeSystems.set(r.url, new Set(codesOf(r.concept)));
        }
      } else if (r.resourceType === 'ValueSet' && r.url) {
        valueSets.set(r.url, r);
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
    return this.localSds.has(u) || !!this.manifest.byUrl[u];
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
    const schema = parseStructureDefinition(sd);
    const loaded: LoadedProfile = { url: u, sd, schema, innerTypes: indexInner(schema) };
    this.profiles.set(u, loaded);
    return loaded;
  }

  /** All codes of a complete CodeSystem we hold (ours or the base spec's), or undefined. */
  codeSystemCodes(system: string): Set<string> | undefined {
    const local = this.localCodeSystems.get(system);
    if (local) {
      return local;
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
      const exp = this.baseExpansions[u];
      idx = exp ? new CodeIndex(exp) : null;
      this.codeIndexes.set(u, idx);
    }
    return idx ?? undefined;
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

function indexInner(schema: InternalTypeSchema): Map<string, InternalTypeSchema> {
  const m = new Map<string, InternalTypeSchema>();
  for (const t of schema.innerTypes ?? []) {
    m.set(t.name, t);
  }
  return m;
}
