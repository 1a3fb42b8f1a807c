/**
 * `peerbridge package install|list` (the local FHIR package cache) and `peerbridge validate --ig`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run-cli';

const US_CORE_TGZ = join(__dirname, '..', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');
const saved = process.env.PEERBRIDGE_PACKAGE_CACHE;
let tmp: string;
let cache: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-cli-pkg-'));
  cache = join(tmp, 'packages');
  process.env.PEERBRIDGE_PACKAGE_CACHE = cache;
});
afterAll(() => {
  if (saved === undefined) delete process.env.PEERBRIDGE_PACKAGE_CACHE;
  else process.env.PEERBRIDGE_PACKAGE_CACHE = saved;
  rmSync(tmp, { recursive: true, force: true });
});

test('install copies a .tgz into the cache as <name>#<version>/package; list shows it', async () => {
  const r = await run('package', 'install', US_CORE_TGZ);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^Installed hl7\.fhir\.us\.core#6\.1\.0 into /);
  expect(existsSync(join(cache, 'hl7.fhir.us.core#6.1.0', 'package', 'StructureDefinition-us-core-patient.json'))).toBe(true);
  const list = await run('package', 'list');
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/^hl7\.fhir\.us\.core#6\.1\.0 {2}US Core Implementation Guide$/m);
  const json = await run('package', 'list', '--format', 'json');
  expect(JSON.parse(json.out)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'hl7.fhir.us.core', version: '6.1.0' })]));
});

test('install of something that is not a package: exit 1 and why; usage errors: exit 2', async () => {
  const bad = join(tmp, 'bad.tgz');
  writeFileSync(bad, 'not a package');
  const r = await run('package', 'install', bad);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/bad\.tgz is not a FHIR package archive/);
  expect((await run('package', 'install')).code).toBe(2);
  expect((await run('package', 'frobnicate')).code).toBe(2);
});

test('validate --ig name#version from the cache: a US Core example is valid with US Core, not without', async () => {
  const ex = join(cache, 'hl7.fhir.us.core#6.1.0', 'package', 'example', 'Patient-example.json');
  expect(existsSync(ex)).toBe(true);
  const without = await run('validate', ex);
  expect(without.code).toBe(1);
  // without US Core: its profile is a warning (checked against base Patient), its extensions are errors
  expect(without.out).toMatch(
    /warning +\[Patient\/example\] Patient\.meta\.profile\[0\]: Profile reference 'http:\/\/hl7\.org\/fhir\/us\/core\/StructureDefinition\/us-core-patient' has not been checked because it is unknown/,
  );
  // (us-core-race and us-core-ethnicity are known without --ig: profiles/external; the other US Core extensions are not)
  expect(without.out).toMatch(
    /error +\[Patient\/example\] Patient\.extension\[2\]: Unknown extension 'http:\/\/hl7\.org\/fhir\/us\/core\/StructureDefinition\/us-core-tribal-affiliation'/,
  );
  const r = await run('validate', '--ig', 'hl7.fhir.us.core#6.1.0', ex);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^VALID/);
  // Each dependency that cannot be had offline: one warning, on stderr, once.
  const sdc = r.err.split('\n').filter((l) => l.includes('hl7.fhir.uv.sdc#3.0.0'));
  expect(sdc).toHaveLength(1);
  expect(sdc[0]).toMatch(/^warning: Package hl7\.fhir\.uv\.sdc#3\.0\.0 \(a dependency of hl7\.fhir\.us\.core#6\.1\.0\)/);
});

test('validate --ig with the .tgz (repeatable, = form too) catches a mutant at its path', async () => {
  const p = JSON.parse(readFileSync(join(cache, 'hl7.fhir.us.core#6.1.0', 'package', 'example', 'Patient-example.json'), 'utf8')) as Record<string, unknown>;
  delete p.identifier;
  const file = join(tmp, 'patient-no-identifier.json');
  writeFileSync(file, JSON.stringify(p));
  const r = await run('validate', `--ig=${US_CORE_TGZ}`, '--ig', 'hl7.fhir.us.core#6.1.0', file);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/error +\[Patient\/example\] Patient\.identifier: Missing required element 'identifier'/);
});

test('validate --ig with a package that is not there: exit 2 and why', async () => {
  const r = await run('validate', '--ig', 'no.such.ig#1.0.0', US_CORE_TGZ);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^--ig: Package no\.such\.ig#1\.0\.0 is not in the package cache/);
});
