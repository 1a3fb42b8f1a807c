/**
 * FHIR packages, offline: a .tgz (unpacked once), a folder, name#version from a package cache,
 * dependencies (found, standing in, missing: one warning each), and profiles shipped with only a
 * differential (snapshot generated from the base).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Validator } from '../../src/validation';
import { loadPackageSet, PackageError, readPackageFolder, resolvePackageSpec } from '../../src/validation/packages';
import { readTgz } from '../../src/validation/packages/tar';

const US_CORE_TGZ = join(__dirname, '..', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');
const EX = 'http://example.org/fhir';
const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };

let tmp: string;
const saved = { cache: process.env.PEERBRIDGE_PACKAGE_CACHE, defs: process.env.PEERBRIDGE_CACHE_DIR };

/** A package folder of differential-only definitions: an extension, a profile, a profile on it. */
function writeDiffPackage(dir: string, deps: Record<string, string> = { 'hl7.fhir.r4.core': '4.0.1' }): void {
  mkdirSync(join(dir, 'package'), { recursive: true });
  const w = (name: string, r: unknown): void => writeFileSync(join(dir, 'package', name), JSON.stringify(r));
  w('package.json', { name: 'example.diff', version: '0.1.0', canonical: EX, dependencies: deps });
  w('StructureDefinition-eye-color.json', {
    resourceType: 'StructureDefinition',
    url: `${EX}/StructureDefinition/eye-color`,
    name: 'EyeColor',
    status: 'active',
    kind: 'complex-type',
    abstract: false,
    context: [{ type: 'element', expression: 'Patient' }],
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Extension', path: 'Extension', max: '1' },
        { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
        { id: 'Extension.url', path: 'Extension.url', fixedUri: `${EX}/StructureDefinition/eye-color` },
        { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'string' }] },
      ],
    },
  });
  w('ValueSet-mf.json', {
    resourceType: 'ValueSet',
    url: `${EX}/ValueSet/mf`,
    status: 'active',
    compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'male' }, { code: 'female' }] }] },
  });
  w('StructureDefinition-diff-patient.json', {
    resourceType: 'StructureDefinition',
    url: `${EX}/StructureDefinition/diff-patient`,
    name: 'DiffPatient',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Patient.extension', path: 'Patient.extension', slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } },
        {
          id: 'Patient.extension:eyeColor',
          path: 'Patient.extension',
          sliceName: 'eyeColor',
          min: 1,
          max: '1',
          type: [{ code: 'Extension', profile: [`${EX}/StructureDefinition/eye-color`] }],
        },
        { id: 'Patient.identifier', path: 'Patient.identifier', min: 1 },
        { id: 'Patient.identifier.system', path: 'Patient.identifier.system', min: 1 },
        { id: 'Patient.gender', path: 'Patient.gender', binding: { strength: 'required', valueSet: `${EX}/ValueSet/mf` } },
      ],
    },
  });
  w('StructureDefinition-diff-weight.json', {
    resourceType: 'StructureDefinition',
    url: `${EX}/StructureDefinition/diff-weight`,
    name: 'DiffWeight',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Observation',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
    derivation: 'constraint',
    differential: {
      element: [
        { id: 'Observation.value[x]:valueQuantity', path: 'Observation.value[x]', sliceName: 'valueQuantity', min: 1 },
        { id: 'Observation.value[x]:valueQuantity.system', path: 'Observation.value[x].system', min: 1, fixedUri: 'http://unitsofmeasure.org' },
        { id: 'Observation.effectiveDateTime', path: 'Observation.effectiveDateTime', min: 1 },
      ],
    },
  });
  w('StructureDefinition-diff-patient-born.json', {
    resourceType: 'StructureDefinition',
    url: `${EX}/StructureDefinition/diff-patient-born`,
    name: 'DiffPatientBorn',
    status: 'active',
    kind: 'resource',
    abstract: false,
    type: 'Patient',
    baseDefinition: `${EX}/StructureDefinition/diff-patient`,
    derivation: 'constraint',
    differential: { element: [{ id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 }] },
  });
}

/** A conforming Patient; `undefined` in `over` leaves an element out. */
function patient(over: Record<string, unknown> = {}): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({
      resourceType: 'Patient',
      id: 'p1',
      text: narrative,
      meta: { profile: [`${EX}/StructureDefinition/diff-patient-born`] },
      extension: [{ url: `${EX}/StructureDefinition/eye-color`, valueString: 'brown' }],
      identifier: [{ system: 'urn:oid:1.2.3', value: '7' }],
      gender: 'female',
      birthDate: '1990-01-02',
      ...over,
    }),
  ) as Record<string, unknown>;
}

const errors = (r: ReturnType<Validator['validate']>): string[] =>
  r.issues.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.details?.text}`);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-pkg-'));
  process.env.PEERBRIDGE_PACKAGE_CACHE = join(tmp, 'fhir-cache');
  mkdirSync(join(tmp, 'fhir-cache'), { recursive: true });
});
afterAll(() => {
  for (const [k, v] of [
    ['PEERBRIDGE_PACKAGE_CACHE', saved.cache],
    ['PEERBRIDGE_CACHE_DIR', saved.defs],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('tar reader', () => {
  /** A one-file ustar archive. */
  function tarOf(name: string, body: string): Buffer {
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
    data.write(body);
    return Buffer.concat([header, data, Buffer.alloc(1024)]);
  }

  test('reads files of a gzipped archive', () => {
    const entries = readTgz(gzipSync(tarOf('package/package.json', '{"name":"x"}')));
    expect(entries.map((e) => [e.path, e.data.toString()])).toEqual([['package/package.json', '{"name":"x"}']]);
  });

  test('never yields a path that leaves the target folder', () => {
    expect(readTgz(tarOf('../../etc/evil', 'x'))).toEqual([]);
    expect(readTgz(tarOf('/etc/evil', 'x'))).toEqual([]);
  });

  test('a file that is not an archive is an error, not a crash', () => {
    expect(() => readTgz(Buffer.from('hello, this is not a tar archive'.repeat(40)))).toThrow(/Not a tar archive/);
    const file = join(tmp, 'broken.tgz');
    writeFileSync(file, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(() => resolvePackageSpec(file)).toThrow(PackageError);
  });
});

describe('loading packages', () => {
  test('a .tgz is unpacked once, keyed by its content', () => {
    process.env.PEERBRIDGE_CACHE_DIR = join(tmp, 'build', 'definitions');
    try {
      const first = resolvePackageSpec(US_CORE_TGZ);
      expect(first).toMatchObject({ name: 'hl7.fhir.us.core', version: '6.1.0', canonical: 'http://hl7.org/fhir/us/core' });
      expect(first.dir.startsWith(join(tmp, 'build', 'packages'))).toBe(true);
      expect(existsSync(join(first.dir, 'StructureDefinition-us-core-patient.json'))).toBe(true);
      const stamp = statSync(join(first.dir, '..', '.complete')).mtimeMs;
      const again = resolvePackageSpec(US_CORE_TGZ);
      expect(again.dir).toBe(first.dir);
      expect(statSync(join(first.dir, '..', '.complete')).mtimeMs).toBe(stamp);
    } finally {
      delete process.env.PEERBRIDGE_CACHE_DIR;
    }
  });

  test('a folder: the package/ folder or its parent', () => {
    const dir = join(tmp, 'diff-folder');
    writeDiffPackage(dir);
    expect(readPackageFolder(dir).name).toBe('example.diff');
    expect(readPackageFolder(join(dir, 'package')).dir).toBe(join(dir, 'package'));
    expect(() => readPackageFolder(tmp)).toThrow(/no package.json/);
  });

  test('name#version (and name alone) from the package cache in PEERBRIDGE_PACKAGE_CACHE', () => {
    writeDiffPackage(join(tmp, 'fhir-cache', 'example.diff#0.1.0'));
    expect(resolvePackageSpec('example.diff#0.1.0').dir).toBe(join(tmp, 'fhir-cache', 'example.diff#0.1.0', 'package'));
    expect(resolvePackageSpec('example.diff').version).toBe('0.1.0');
    expect(() => resolvePackageSpec('example.diff#9.9.9')).toThrow(/not in the package cache/);
    const v = Validator.create({ igPackages: ['example.diff#0.1.0'] });
    expect(errors(v.validate(patient()))).toEqual([]);
  });

  test('dependencies: found in the cache, the base taken as held, a missing one is one warning naming it', () => {
    const dep = join(tmp, 'fhir-cache', 'example.dep#1.0.0');
    mkdirSync(join(dep, 'package'), { recursive: true });
    writeFileSync(join(dep, 'package', 'package.json'), JSON.stringify({ name: 'example.dep', version: '1.0.0', dependencies: { 'example.gone': '2.0.0' } }));
    const root = join(tmp, 'with-deps');
    writeDiffPackage(root, { 'hl7.fhir.r4.core': '4.0.1', 'example.dep': '1.0.0', 'example.gone': '2.0.0' });
    const set = loadPackageSet([root]);
    expect(set.packages.map((p) => `${p.name}#${p.version}`)).toEqual(['example.diff#0.1.0', 'example.dep#1.0.0']);
    expect(set.missing).toEqual([{ name: 'example.gone', version: '2.0.0', neededBy: 'example.diff#0.1.0' }]);
    const v = Validator.create({ igPackages: [root] });
    const warnings = v.defs.loadIssues.filter((i) => i.severity === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].details?.text).toMatch(
      /^Package example\.gone#2\.0\.0 \(a dependency of example\.diff#0\.1\.0\) is not in the package cache .* not checked/,
    );
  });

  test('another version of hl7.terminology is answered by the hl7.terminology.r4 PeerBridge ships, with one information issue', () => {
    const root = join(tmp, 'wants-tho');
    writeDiffPackage(root, { 'hl7.terminology.r4': '5.0.0' });
    const set = loadPackageSet([root]);
    expect(set.packages.map((p) => `${p.name}#${p.version}`)).toEqual(['example.diff#0.1.0', 'hl7.terminology.r4#7.0.1']);
    expect(set.issues).toHaveLength(1);
    expect(set.issues[0]).toMatchObject({ severity: 'information' });
    expect(set.issues[0].details?.text).toMatch(/hl7\.terminology\.r4#5\.0\.0.*hl7\.terminology\.r4#7\.0\.1/);
  });

  test('a package asked for that is not there is a PackageError naming it', () => {
    expect(() => Validator.create({ igPackages: ['no.such.package#1.0.0'] })).toThrow(PackageError);
    expect(() => Validator.create({ igPackages: [join(tmp, 'nope.tgz')] })).toThrow(/no such file/);
  });
});

describe('profiles shipped with only a differential', () => {
  let v: Validator;
  beforeAll(() => {
    const dir = join(tmp, 'diff-only');
    writeDiffPackage(dir);
    v = Validator.create({ igPackages: [dir] });
  });

  test('a resource that conforms passes (profile on a profile on Patient)', () => {
    expect(errors(v.validate(patient()))).toEqual([]);
  });

  test('cardinality from the differential and from the profile it is based on', () => {
    expect(errors(v.validate(patient({ birthDate: undefined })))).toEqual([expect.stringMatching(/^Patient\.birthDate: Missing required element 'birthDate'/)]);
    expect(errors(v.validate(patient({ identifier: undefined })))).toEqual([expect.stringMatching(/^Patient\.identifier: Missing required element/)]);
  });

  test('children of a datatype constrained in the differential', () => {
    expect(errors(v.validate(patient({ identifier: [{ value: '7' }] })))).toEqual([
      expect.stringMatching(/^Patient\.identifier\[0\]\.system: Missing required element 'system'/),
    ]);
  });

  test('a required binding to the package ValueSet', () => {
    expect(errors(v.validate(patient({ gender: 'other' })))).toEqual([
      expect.stringMatching(/^Patient\.gender: Code 'other' is not in the required value set/),
    ]);
  });

  test('choice elements named by type (value[x]:valueQuantity, effectiveDateTime) and their children', () => {
    const obs = {
      resourceType: 'Observation',
      id: 'o1',
      text: narrative,
      meta: { profile: [`${EX}/StructureDefinition/diff-weight`] },
      status: 'final',
      code: { text: 'weight' },
      effectiveDateTime: '2026-01-01',
      valueQuantity: { value: 70, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    };
    expect(errors(v.validate(obs))).toEqual([]);
    expect(v.defs.brokenDefinitions.size).toBe(0);
    expect(errors(v.validate({ ...obs, valueQuantity: undefined, valueString: 'heavy' }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Observation\.valueString: 'valueString' is not allowed here: value\[x\] may only be Quantity/)]),
    );
    expect(errors(v.validate({ ...obs, valueQuantity: { value: 70, system: 'http://example.org/units' } }))).toEqual([
      expect.stringMatching(/^Observation\.valueQuantity\.system: Value must be exactly "http:\/\/unitsofmeasure\.org"/),
    ]);
    const { effectiveDateTime: _e, ...noDate } = obs;
    expect(errors(v.validate({ ...noDate, effectivePeriod: { start: '2026-01-01' } }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Observation\.effectivePeriod: 'effectivePeriod' is not allowed here/)]),
    );
  });

  test('a required extension slice, and the extension definition itself', () => {
    expect(errors(v.validate(patient({ extension: undefined })))).toEqual([
      expect.stringMatching(/^Patient\.extension: Slice 'eyeColor'|^Patient\.extension: Missing/),
    ]);
    const wrongType = errors(v.validate(patient({ extension: [{ url: `${EX}/StructureDefinition/eye-color`, valueInteger: 3 }] })));
    expect(wrongType.some((e) => e.startsWith('Patient.extension[0].valueInteger'))).toBe(true);
  });
});
