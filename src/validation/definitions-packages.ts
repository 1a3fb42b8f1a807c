/**
 * The content of loaded FHIR packages (implementation guides and terminology packages), indexed by
 * canonical URL and read lazily: a terminology package holds thousands of files (hl7.terminology.r4:
 * 4,000, 70 MB), and a validation run needs a few of them. The index comes from the package's
 * `.index.json` (https://hl7.org/fhir/packages.html#2.1.10.4) or, when a package has none, from one
 * scan of its files, kept beside the unpacked packages so the next start does not scan again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { extractRoot, type FhirPackage } from './packages';

export interface PackageEntry {
  pkg: FhirPackage;
  file: string;
  resourceType: string;
  url: string;
  kind?: string;
  type?: string;
  derivation?: string;
  content?: string;
}

interface IndexFile {
  format: number;
  files: Omit<PackageEntry, 'pkg'>[];
}

const INDEX_FORMAT = 1;
/** Resource types of a package that the validator uses. */
const USED = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter', 'ImplementationGuide', 'Questionnaire']);

export class PackageContent {
  private readonly byKey = new Map<string, PackageEntry>();
  private readonly cache = new Map<string, Resource | null>();
  private readonly examples = new Map<string, Map<string, Resource>>();
  readonly entries: PackageEntry[] = [];

  /** Packages first in the list win when two define the same canonical. */
  constructor(readonly packages: readonly FhirPackage[]) {
    for (const pkg of packages) {
      for (const e of indexPackage(pkg)) {
        const entry = { ...e, pkg };
        const key = `${entry.resourceType}|${entry.url}`;
        if (!this.byKey.has(key)) {
          this.byKey.set(key, entry);
          this.entries.push(entry);
        }
      }
    }
  }

  entry(resourceType: string, url: string): PackageEntry | undefined {
    return this.byKey.get(`${resourceType}|${url}`);
  }

  has(resourceType: string, url: string): boolean {
    return this.byKey.has(`${resourceType}|${url}`);
  }

  /** A resource by type and canonical URL, read from its file once. */
  get<T extends Resource>(resourceType: T['resourceType'], url: string): T | undefined {
    const key = `${resourceType}|${url}`;
    let r = this.cache.get(key);
    if (r === undefined) {
      const e = this.byKey.get(key);
      r = e ? readResource(e) : null;
      this.cache.set(key, r);
    }
    return (r ?? undefined) as T | undefined;
  }

  /**
   * A resource of the packages' `example/` folders by type and canonical URL. Only files named
   * `<type>-*.json` (the package layout's naming) are read, once per type, when first asked for.
   */
  example<T extends Resource>(resourceType: T['resourceType'], url: string): T | undefined {
    let byUrl = this.examples.get(resourceType);
    if (!byUrl) {
      byUrl = new Map();
      for (const pkg of this.packages) {
        for (const r of readExamples(pkg, resourceType)) {
          const u = (r as { url?: unknown }).url;
          if (typeof u === 'string' && !byUrl.has(u)) byUrl.set(u, r);
        }
      }
      this.examples.set(resourceType, byUrl);
    }
    return byUrl.get(url) as T | undefined;
  }

  /** Every entry of a resource type. */
  list(resourceType: string): PackageEntry[] {
    return this.entries.filter((e) => e.resourceType === resourceType);
  }
}

function readResource(e: PackageEntry): Resource | null {
  try {
    return JSON.parse(readFileSync(join(e.pkg.dir, e.file), 'utf8').replace(/^\uFEFF/, '')) as Resource;
  } catch {
    return null; // a broken file in a package is as good as absent; the index said what it was
  }
}

/** The resources of a type in a package's `example/` folder (unreadable files skipped). */
function readExamples(pkg: FhirPackage, resourceType: string): Resource[] {
  const dir = join(pkg.dir, 'example');
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.startsWith(`${resourceType}-`) && f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  const out: Resource[] = [];
  for (const file of files) {
    try {
      const r = JSON.parse(readFileSync(join(dir, file), 'utf8').replace(/^\uFEFF/, '')) as Resource;
      if (r.resourceType === resourceType) out.push(r);
    } catch {
      // a broken example is as good as absent
    }
  }
  return out;
}

/** The package's index: its `.index.json`, a cached scan, or a fresh scan (then cached). */
function indexPackage(pkg: FhirPackage): Omit<PackageEntry, 'pkg'>[] {
  const shipped = join(pkg.dir, '.index.json');
  if (existsSync(shipped)) {
    try {
      const idx = JSON.parse(readFileSync(shipped, 'utf8')) as { files?: Record<string, unknown>[] };
      const files = (idx.files ?? [])
        .filter((f) => typeof f.filename === 'string' && typeof f.url === 'string' && USED.has(f.resourceType as string))
        .map((f) => ({
          file: f.filename as string,
          resourceType: f.resourceType as string,
          url: f.url as string,
          kind: f.kind as string | undefined,
          type: f.type as string | undefined,
          derivation: f.derivation as string | undefined,
          content: f.content as string | undefined,
        }));
      if (files.length > 0) {
        return files;
      }
    } catch {
      // fall through to a scan
    }
  }
  const stamp = createHash('sha1')
    .update(`${pkg.dir}\u0000${pkg.name}#${pkg.version}\u0000${statSync(join(pkg.dir, 'package.json')).mtimeMs}`)
    .digest('hex')
    .slice(0, 20);
  const cacheFile = join(extractRoot(), 'index', `${pkg.name}#${pkg.version}-${stamp}.json`);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as IndexFile;
    if (cached.format === INDEX_FORMAT) {
      return cached.files;
    }
  } catch {
    // not cached yet
  }
  const files: Omit<PackageEntry, 'pkg'>[] = [];
  for (const file of readdirSync(pkg.dir).sort()) {
    if (!file.endsWith('.json') || file === 'package.json' || file.startsWith('.')) {
      continue;
    }
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(readFileSync(join(pkg.dir, file), 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof r.url === 'string' && USED.has(r.resourceType as string)) {
      files.push({
        file,
        resourceType: r.resourceType as string,
        url: r.url,
        kind: r.kind as string | undefined,
        type: r.type as string | undefined,
        derivation: r.derivation as string | undefined,
        content: r.content as string | undefined,
      });
    }
  }
  try {
    mkdirSync(join(extractRoot(), 'index'), { recursive: true });
    const tmp = `${cacheFile}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ format: INDEX_FORMAT, files } satisfies IndexFile));
    renameSync(tmp, cacheFile);
  } catch {
    // a read-only cache only costs the next start another scan
  }
  return files;
}
