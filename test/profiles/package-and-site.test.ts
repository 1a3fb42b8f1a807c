/**
 * The FHIR package tarball (scripts/build-package.js) and the static IG site (scripts/build-ig-site.js),
 * issue 16 item 6: the .tgz has the FHIR NPM package layout (every file under package/, package.json
 * first, .index.json, the resources of profiles/package byte for byte) and is reproducible; docs/ig
 * is what the package builds to, with a page for every profile, extension, ValueSet, CodeSystem and
 * Questionnaire, each linked from the index.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the build scripts are plain CommonJS (scripts/*.js), run by node without a compile step
const { buildPackage } = require('../../scripts/build-package.js') as { buildPackage: (dir?: string, out?: string) => { file: string } };
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const { buildSite, diffSite } = require('../../scripts/build-ig-site.js') as {
  buildSite: () => Map<string, string>;
  diffSite: (dir: string, files: Map<string, string>) => string[];
};

const ROOT = join(__dirname, '..', '..');
const PACKAGE_DIR = join(ROOT, 'profiles', 'package');

interface TarEntry {
  name: string;
  type: string;
  data: Buffer;
}

/** Reads a ustar archive, checking each header's checksum. */
function untar(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => header.subarray(from, from + len).toString('latin1').replace(/\0.*$/s, '');
    const sum = header.reduce((s, b, i) => s + (i >= 148 && i < 156 ? 32 : b), 0);
    expect(parseInt(field(148, 8).trim(), 8)).toBe(sum);
    expect(field(257, 6)).toBe('ustar');
    const size = parseInt(field(124, 12), 8);
    entries.push({ name: field(0, 100), type: field(156, 1), data: tar.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

describe('npm run build:package', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'peerbridge-package-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('writes org.peerbridge.fhir-<version>.tgz in the FHIR NPM package layout, reproducibly', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
    const { file } = buildPackage(PACKAGE_DIR, out);
    expect(file).toBe(join(out, `org.peerbridge.fhir-${manifest.version}.tgz`));
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    const entries = untar(gunzipSync(bytes));
    const files = entries.filter((e) => e.type === '0');
    expect(files[0].name).toBe('package/package.json');
    expect(files[1].name).toBe('package/.index.json');
    expect(entries.every((e) => e.name.startsWith('package/'))).toBe(true);
    const onDisk = readdirSync(PACKAGE_DIR).sort();
    expect(files.map((e) => e.name.slice('package/'.length)).sort()).toEqual(onDisk);
    for (const e of files) expect(e.data.equals(readFileSync(join(PACKAGE_DIR, e.name.slice('package/'.length))))).toBe(true);

    const index = JSON.parse(files[1].data.toString('utf8')) as { 'index-version': number; files: { filename: string }[] };
    expect(index['index-version']).toBe(1);
    expect(index.files.map((f) => f.filename).sort()).toEqual(onDisk.filter((n) => n !== 'package.json' && n !== '.index.json'));
    expect(manifest.dependencies).toEqual({ 'hl7.fhir.r4.core': '4.0.1', 'hl7.fhir.us.core': '6.1.0', 'hl7.fhir.uv.sdc': '3.0.0' });

    buildPackage(PACKAGE_DIR, out);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });
});

describe('docs/ig', () => {
  const site = buildSite();

  test('is up to date with profiles/package (npm run build:ig)', () => {
    expect(diffSite(join(ROOT, 'docs', 'ig'), site)).toEqual([]);
  });

  test('has a page for every profile, extension, ValueSet, CodeSystem and Questionnaire, linked from the index', () => {
    const index = site.get('index.html') as string;
    const documented = readdirSync(PACKAGE_DIR).filter((n) => /^(StructureDefinition|ValueSet|CodeSystem|Questionnaire)-/.test(n));
    expect(documented.length).toBeGreaterThan(50);
    for (const name of documented) {
      const html = name.replace(/\.json$/, '.html');
      expect({ name, page: site.has(html), linked: index.includes(`href="${html}"`) }).toEqual({ name, page: true, linked: true });
    }
  });

  test('a profile page shows cardinality, type, binding and must-support of its elements, and its constraints', () => {
    const html = site.get('StructureDefinition-peer-support-encounter.html') as string;
    expect(html).toContain('<h2>Differential</h2>');
    expect(html).toMatch(/<code>Encounter\.diagnosis<\/code><\/span><\/td><td>0\.\.0<\/td>/);
    expect(html).toMatch(/Encounter\.class<\/code><\/span><\/td><td>1\.\.1<\/td><td>Coding<\/td><td>required: <a href="ValueSet-peer-encounter-class\.html">/);
    expect(html).toContain('<span class="ms">S</span>');
    expect(html).toContain('pb-enc-1');
  });

  test("the recovery capital Questionnaire's page shows the instruction and the instrument's answer labels", () => {
    const html = site.get('Questionnaire-idaho-recovery-capital-scale.html') as string;
    expect(html).toContain('Place a number by each statement that best describes your situation today.');
    expect(html).toContain('5 Completely Agree');
    expect(html).toContain('4 Mostly Agree');
  });
});
