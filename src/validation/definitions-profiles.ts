/**
 * The StructureDefinitions of the definitions (src/validation/definitions.ts): base types and
 * resources (the trimmed cache: its datatypes loaded at start, the rest into @medplum/core on first
 * use), PeerBridge's own and the external extensions' (added by the definitions), and the loaded
 * FHIR packages' (snapshots generated from differentials when a package ships none, see
 * definitions-snapshot.ts), each parsed once by canonical URL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type InternalTypeSchema, loadDataType, parseStructureDefinition, tryGetDataType } from '@medplum/core';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { type CacheManifest, trimStructureDefinition } from './definitions-cache';
import type { PackageContent } from './definitions-packages';
import { generateSnapshot, prepareSnapshot } from './definitions-snapshot';
import { canonicalUrl } from './terminology';

/** A profile or type, parsed once, with its inner (backbone) types indexed by name. */
export interface LoadedProfile {
  url: string;
  sd: StructureDefinition;
  schema: InternalTypeSchema;
  innerTypes: Map<string, InternalTypeSchema>;
}

export class DefinitionsProfiles {
  private readonly profiles = new Map<string, LoadedProfile>();
  private readonly localSds = new Map<string, StructureDefinition>();
  private readonly loadedTypes = new Set<string>();
  private readonly typeSds = new Map<string, StructureDefinition>();
  /** Package StructureDefinitions that could not be used, with why (a differential without a base, ...). */
  readonly brokenDefinitions = new Map<string, string>();
  private readonly snapshots = new Map<string, ElementDefinition[] | null>();

  /**
   * `types`: the cache's datatype definitions, loaded into @medplum/core here. `packages`: the
   * content of the FHIR packages loaded, asked for at each look-up (the definitions load them after
   * PeerBridge's own package).
   */
  constructor(
    private readonly cacheDir: string,
    private readonly manifest: CacheManifest,
    private readonly resourceTypes: ReadonlySet<string>,
    types: StructureDefinition[],
    private readonly packages: () => PackageContent | undefined,
  ) {
    for (const sd of types) {
      loadDataType(sd);
      this.loadedTypes.add(sd.type);
      this.typeSds.set(sd.type, sd);
    }
  }

  private get ig(): PackageContent | undefined {
    return this.packages();
  }

  /** A StructureDefinition of our own (PeerBridge's package, an external extension's); a later one of the same URL wins. */
  addLocal(url: string, sd: StructureDefinition): void {
    this.localSds.set(url, sd);
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
      const loaded: LoadedProfile = {
        url: u,
        sd: { resourceType: 'StructureDefinition', url: u, type } as StructureDefinition,
        schema,
        innerTypes: indexInner(schema),
      };
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
}

function indexInner(schema: InternalTypeSchema): Map<string, InternalTypeSchema> {
  const m = new Map<string, InternalTypeSchema>();
  for (const t of schema.innerTypes ?? []) {
    m.set(t.name, t);
  }
  return m;
}
