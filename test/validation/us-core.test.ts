/**
 * US Core 6.1.0 as the proof that IG packages work offline: its 183 shipped examples validate
 * (except the documented list in test/fixtures/packages/us-core-examples-differ.json), and mutants
 * of them are rejected at the right path: a required element removed, a required binding broken,
 * a wrong slice, bad cardinality, a us-core-* invariant violated.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '../../src/validation';
import { installPackage } from '../../src/validation/packages';

const US_CORE_TGZ = join(__dirname, '..', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');
const DIFFER = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'packages', 'us-core-examples-differ.json'), 'utf8')) as {
  examples: Record<string, { kind: 'defect'; error: string; reason: string }>;
  validWithWarnings: Record<string, { warning: string; reason: string }>;
};

type Json = Record<string, any>;
let validator: Validator;
let exampleDir: string;

beforeAll(() => {
  validator = Validator.create({ igPackages: [US_CORE_TGZ] });
  exampleDir = join(validator.defs.igPackages[0].dir, 'example');
});

const example = (file: string): Json => JSON.parse(readFileSync(join(exampleDir, file), 'utf8')) as Json;
const errors = (input: unknown): string[] =>
  validator
    .validate(input)
    .issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${i.expression?.[0]}: ${i.details?.text}`);

test('US Core, its terminology stand-in, and one warning per dependency that cannot be had offline', () => {
  expect(validator.defs.igPackages.map((p) => `${p.name}#${p.version}`)).toEqual(['hl7.fhir.us.core#6.1.0', 'hl7.terminology.r4#7.0.1']);
  const missing = validator.defs.loadIssues.filter((i) => i.severity === 'warning').map((i) => /^Package (\S+)/.exec(i.details?.text ?? '')?.[1]);
  expect(missing).toEqual(expect.arrayContaining(['hl7.fhir.uv.extensions.r4#1.0.0', 'us.nlm.vsac#0.10.0', 'hl7.fhir.uv.sdc#3.0.0']));
  expect(new Set(missing).size).toBe(missing.length);
  expect(validator.defs.implementationGuides()).toEqual(['http://hl7.org/fhir/us/core/ImplementationGuide/hl7.fhir.us.core']);
});

test('the 183 examples validate, except the documented list, each with its error', () => {
  const files = readdirSync(exampleDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  expect(files).toHaveLength(183);
  const invalid: Record<string, string[]> = {};
  for (const f of files) {
    const e = errors(example(f));
    if (e.length > 0) invalid[f] = e;
  }
  const defects = Object.entries(DIFFER.examples)
    .filter(([, d]) => d.kind === 'defect')
    .map(([f]) => f);
  for (const f of defects) {
    expect(invalid[f]).toContain(DIFFER.examples[f].error);
  }
  for (const [f, errs] of Object.entries(invalid)) {
    expect({ file: f, listed: f in DIFFER.examples }).toEqual({ file: f, listed: true });
    expect(errs).toEqual([DIFFER.examples[f].error]);
  }
});

test('the examples that need a dependency that cannot be had offline are valid, with exactly the listed warning', () => {
  const listed = Object.entries(DIFFER.validWithWarnings);
  expect(listed.length).toBeGreaterThan(0);
  for (const [f, d] of listed) {
    const r = validator.validate(example(f));
    const warnings = r.issues
      .filter((i) => i.severity === 'warning' && !/dom-6/.test(i.details?.text ?? ''))
      .map((i) => `${i.expression?.[0]}: ${i.details?.text}`);
    expect({ file: f, valid: r.valid, warnings }).toEqual({ file: f, valid: true, warnings: [d.warning] });
  }
});

test('no sub-extension of a US Core complex extension (race, ethnicity, tribal affiliation) is reported as unknown', () => {
  const files = readdirSync(exampleDir).filter((f) => f.endsWith('.json'));
  const unknown = files.flatMap((f) =>
    validator
      .validate(example(f))
      .issues.filter((i) => /extension/i.test(i.details?.text ?? '') && i.severity !== 'information')
      .map((i) => `${f} ${i.expression?.[0]}: ${i.details?.text}`),
  );
  // the one extension left is targetElement, from a package not to be had offline
  expect(unknown).toEqual([expect.stringMatching(/^Provenance-example-targeted-provenance\.json .*targetElement/)]);
});

describe('mutants of US Core examples are rejected at the right path', () => {
  test('a required (must-support, min 1) element removed: Patient.name, Patient.identifier', () => {
    const p = example('Patient-example.json');
    delete p.name;
    expect(errors(p)).toEqual([expect.stringMatching(/^Patient\.name: Missing required element 'name'/)]);
    const q = example('Patient-example.json');
    delete q.identifier;
    expect(errors(q)).toEqual([expect.stringMatching(/^Patient\.identifier: Missing required element 'identifier'/)]);
  });

  test('a required binding to a US Core value set broken', () => {
    const smoker = example('Observation-some-day-smoker.json');
    smoker.status = 'preliminary';
    expect(errors(smoker)).toEqual([
      expect.stringMatching(/^Observation\.status: Code 'preliminary' is not in the required value set .*us-core-observation-smoking-status-status/),
    ]);
    const plan = example('CarePlan-colonoscopy.json');
    plan.text.status = 'empty';
    expect(errors(plan)).toEqual([expect.stringMatching(/^CarePlan\.text\.status: Code 'empty' is not in the required value set .*us-core-narrative-status/)]);
  });

  test('a wrong slice: a blood pressure whose category is not vital-signs', () => {
    const bp = example('Observation-blood-pressure.json');
    bp.category[0].coding[0].code = 'laboratory';
    bp.category[0].coding[0].display = 'Laboratory'; // a consistent display: only the slice is wrong
    expect(errors(bp)).toEqual([expect.stringMatching(/^Observation\.category: Slice 'VSCat' of 'category' has 0 value\(s\); allowed 1\.\.1/)]);
  });

  test('bad cardinality: two systolic components', () => {
    const bp = example('Observation-blood-pressure.json');
    bp.component.push(bp.component[0]);
    expect(errors(bp)).toEqual([expect.stringMatching(/^Observation\.component: Slice 'systolic' of 'component' has 2 value\(s\); allowed 1\.\.1/)]);
  });

  test('a package extension where its context does not allow it: us-core-race on an Observation', () => {
    const race = example('Patient-example.json').extension.find((e: Json) => e.url.endsWith('us-core-race'));
    const obs = example('Observation-some-day-smoker.json');
    obs.extension = [race];
    expect(errors(obs)).toEqual([
      "Observation.extension[0]: Extension 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race' is not allowed on Observation; it may be used on Patient, RelatedPerson, Person, Practitioner, FamilyMemberHistory",
    ]);
  });

  test("a profile under US Core's canonical URL that US Core does not have", () => {
    const p = example('Patient-example.json');
    p.meta.profile = ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patients'];
    expect(errors(p)).toEqual([
      "Patient.meta.profile[0]: Unknown profile 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patients': package hl7.fhir.us.core#6.1.0 is loaded and has no such StructureDefinition",
    ]);
  });

  test('a US Core extension whose sub-extension url is none of its slices', () => {
    const p = example('Patient-example.json');
    p.extension.find((e: Json) => e.url.endsWith('us-core-race')).extension.push({ url: 'ombcategory', valueString: 'x' });
    expect(errors(p)).toEqual([
      expect.stringMatching(
        /^Patient\.extension\[0\]\.extension\[\d+\]: Sub-extension url 'ombcategory' is not defined by the extension http:\/\/hl7\.org\/fhir\/us\/core\/StructureDefinition\/us-core-race$/,
      ),
    ]);
  });

  test('a QuestionnaireResponse is checked against the Questionnaire US Core ships (as an example)', () => {
    const qr = example('QuestionnaireResponse-hunger-vital-sign-example.json');
    expect(validator.validate(qr).issues.filter((i) => i.severity !== 'information')).toEqual([]);
    qr.item[0].answer[0] = { valueString: 'often' };
    expect(errors(qr)).toEqual([expect.stringMatching(/^QuestionnaireResponse\.item\[0\]\.answer\[0\]/)]);
  });

  test('us-core-* invariants violated', () => {
    const p = example('Patient-example.json');
    p.name = [{ text: 'Amy Shaw' }];
    expect(errors(p)).toEqual([expect.stringMatching(/^Patient\.name\[0\]: At least name\.given and\/or name\.family are present .*\(us-core-6\)$/)]);
    const md = example('MedicationDispense-medicationdispense-example.json');
    delete md.whenHandedOver;
    expect(errors(md)).toEqual(['MedicationDispense: whenHandedOver SHALL be present if the status is "completed" (us-core-20)']);
    const dr = example('Practitioner-practitioner-1.json');
    dr.identifier[0].value = '99413391';
    expect(errors(dr)).toEqual(["Practitioner.identifier[0]: NPI must be 10 digits (us-core-16) (slice 'NPI')"]);
  });
});

test('a package built on US Core (differential only), with US Core found in the package cache as its dependency', () => {
  const saved = process.env.PEERBRIDGE_PACKAGE_CACHE;
  const tmp = mkdtempSync(join(tmpdir(), 'pb-uscore-'));
  process.env.PEERBRIDGE_PACKAGE_CACHE = join(tmp, 'cache');
  try {
    installPackage(US_CORE_TGZ);
    const dir = join(tmp, 'state-ig', 'package');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'example.state', version: '1.0.0', dependencies: { 'hl7.fhir.r4.core': '4.0.1', 'hl7.fhir.us.core': '6.1.0' } }),
    );
    writeFileSync(
      join(dir, 'StructureDefinition-state-patient.json'),
      JSON.stringify({
        resourceType: 'StructureDefinition',
        url: 'http://example.org/state/StructureDefinition/state-patient',
        name: 'StatePatient',
        status: 'active',
        kind: 'resource',
        abstract: false,
        type: 'Patient',
        derivation: 'constraint',
        baseDefinition: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient',
        differential: { element: [{ id: 'Patient.address', path: 'Patient.address', min: 1 }] },
      }),
    );
    const v = Validator.create({ igPackages: [join(tmp, 'state-ig')] });
    expect(v.defs.igPackages.map((p) => `${p.name}#${p.version} (${p.source})`)).toEqual([
      `example.state#1.0.0 (${join(tmp, 'state-ig')})`,
      'hl7.fhir.us.core#6.1.0 (dependency of example.state#1.0.0)',
      'hl7.terminology.r4#7.0.1 (dependency of hl7.fhir.us.core#6.1.0)',
    ]);
    const p: Json = { ...example('Patient-example.json'), meta: { profile: ['http://example.org/state/StructureDefinition/state-patient'] } };
    expect(v.validate(p).valid).toBe(true);
    const { address: _a, name: _n, ...bare } = p;
    const errs = v
      .validate(bare)
      .issues.filter((i) => i.severity === 'error')
      .map((i) => `${i.expression?.[0]}: ${i.details?.text}`);
    // address from the state profile, name from US Core below it
    expect(errs).toEqual([
      expect.stringMatching(/^Patient\.name: Missing required element 'name'/),
      expect.stringMatching(/^Patient\.address: Missing required element 'address'/),
    ]);
  } finally {
    if (saved === undefined) delete process.env.PEERBRIDGE_PACKAGE_CACHE;
    else process.env.PEERBRIDGE_PACKAGE_CACHE = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
});
