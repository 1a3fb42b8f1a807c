#!/usr/bin/env node
'use strict';
/**
 * Packs profiles/package/ (the generated FHIR package content, see scripts/build-profiles.js) as a
 * FHIR NPM package tarball: build/<name>-<version>.tgz, e.g. build/org.peerbridge.fhir-0.1.0.tgz.
 *
 *   node scripts/build-package.js              write build/org.peerbridge.fhir-<version>.tgz
 *   node scripts/build-package.js --out DIR    write it into DIR instead
 *
 * Layout (FHIR NPM Package Specification, https://confluence.hl7.org/display/FHIR/NPM+Package+Specification):
 * every file under `package/`: package.json first, then .index.json, then the resources
 * (<ResourceType>-<id>.json) by name. validator_cli (`-ig <file>.tgz`), HAPI's package installer
 * and `npm install <file>.tgz` read this layout.
 *
 * The tarball is reproducible: ustar entries with fixed mode, owner 0, the package's date
 * (ImplementationGuide.date) as modification time, gzip without a name or time stamp. The same
 * profiles/package/ gives the same bytes.
 *
 * Plain CommonJS with Node built-ins only, like build-profiles.js.
 */
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE_DIR = path.join(ROOT, 'profiles', 'package');
const DEFAULT_OUT_DIR = path.join(ROOT, 'build');

const BLOCK = 512;

/** An octal number field of `width` bytes: digits padded with zeros, then a NUL. */
function octal(value, width) {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new Error(`${value} does not fit a ${width}-byte tar field`);
  return digits.padStart(width - 1, '0') + '\0';
}

/** One ustar header block (POSIX.1-1988) for a regular file or a directory. */
function tarHeader(name, size, mtimeSeconds, type) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name longer than 100 bytes: ${name}`);
  const header = Buffer.alloc(BLOCK, 0);
  const put = (offset, text) => header.write(text, offset, 'latin1');
  put(0, name);
  put(100, octal(type === 'dir' ? 0o755 : 0o644, 8));
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(size, 12));
  put(136, octal(mtimeSeconds, 12));
  put(148, '        '); // checksum field counts as spaces while summing
  put(156, type === 'dir' ? '5' : '0');
  put(257, 'ustar\0');
  put(263, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, sum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}

/** A tar archive (uncompressed) of entries [{ name, data }], with a directory entry for `package/`. */
function tarArchive(entries, mtimeSeconds) {
  const parts = [tarHeader('package/', 0, mtimeSeconds, 'dir')];
  for (const { name, data } of entries) {
    parts.push(tarHeader(name, data.length, mtimeSeconds, 'file'), data);
    const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0)); // end of archive
  return Buffer.concat(parts);
}

/** The files of a FHIR package directory, in the order the tarball holds them. */
function packageEntries(dir) {
  const names = fs.readdirSync(dir).filter((n) => fs.statSync(path.join(dir, n)).isFile());
  for (const required of ['package.json', '.index.json']) {
    if (!names.includes(required)) throw new Error(`${path.relative(ROOT, dir)}/${required} is missing: run npm run build:profiles`);
  }
  const rank = (n) => (n === 'package.json' ? 0 : n === '.index.json' ? 1 : 2);
  names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => ({ name: `package/${name}`, data: fs.readFileSync(path.join(dir, name)) }));
}

/** Modification time for every entry: the ImplementationGuide's date, so rebuilds are identical. */
function packageTime(dir, manifest) {
  const ig = fs.readdirSync(dir).find((n) => n.startsWith('ImplementationGuide-'));
  const date = ig ? JSON.parse(fs.readFileSync(path.join(dir, ig), 'utf8')).date : undefined;
  const ms = Date.parse(date || manifest.date || '2000-01-01T00:00:00Z');
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/**
 * Builds the .tgz of the package in `dir` into `outDir`. Returns { file, bytes, entries }.
 */
function buildPackage(dir = PACKAGE_DIR, outDir = DEFAULT_OUT_DIR) {
  const entries = packageEntries(dir);
  const manifest = JSON.parse(entries[0].data.toString('utf8'));
  if (!manifest.name || !manifest.version) throw new Error('package.json has no name or version');
  const tar = tarArchive(entries, packageTime(dir, manifest));
  const tgz = zlib.gzipSync(tar, { level: 9 });
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${manifest.name}-${manifest.version}.tgz`);
  fs.writeFileSync(file, tgz);
  return { file, bytes: tgz.length, entries: entries.length };
}

function main(argv) {
  const args = argv.slice(2);
  let outDir = DEFAULT_OUT_DIR;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' && args[i + 1]) {
      outDir = path.resolve(args[++i]);
    } else {
      console.error(`usage: build-package.js [--out DIR]   (unknown: ${args[i]})`);
      return 2;
    }
  }
  const { file, bytes, entries } = buildPackage(PACKAGE_DIR, outDir);
  console.log(`build-package: wrote ${path.relative(process.cwd(), file) || file} (${entries} files, ${bytes} bytes)`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv);
  } catch (e) {
    console.error(`build-package: ${e && e.message ? e.message : e}`);
    process.exitCode = 1;
  }
}

module.exports = { buildPackage, tarArchive };
