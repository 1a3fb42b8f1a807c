/**
 * Profiles and extensions the validator cannot find, as the reference validator treats them
 * (issue 12, item 3), on base R4 content:
 * - an unknown profile in meta.profile is a warning and the resource is still checked against its
 *   base type (https://hl7.org/fhir/R4/profiling.html#profile-uses: meta.profile is a claim the
 *   receiver may not be able to check); `strictProfiles` makes it an error; a profile asked for is
 *   always an error when unknown;
 * - an extension whose definition cannot be found is an error
 *   (https://hl7.org/fhir/R4/extensibility.html#Extension: "the url SHALL be a URL, not a URN ... and
 *   SHALL point to a StructureDefinition"), except in the example domains (a warning);
 * - the sub-extensions of a complex extension have relative urls that name the parent's slices
 *   (https://hl7.org/fhir/R4/extensibility.html#complex), so they have no definition of their own;
 * - an extension may only be used where its definition's context says
 *   (https://hl7.org/fhir/R4/defining-extensions.html#context), for every loaded definition.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { Validator } from '../../src/validation';

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

const HL7 = 'http://hl7.org/fhir/StructureDefinition/';
const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A patient</div>' };
const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ resourceType: 'Patient', id: 'p1', text: narrative, ...extra });
const shown = (issues: OperationOutcomeIssue[]): string[] => issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.details?.text}`);

describe('an unknown profile in meta.profile', () => {
  const unknown = 'http://example.org/fhir/StructureDefinition/no-such-profile';

  test('is a warning, and the resource is checked against its base type', () => {
    const r = validator.validate(patient({ meta: { profile: [unknown] } }));
    expect(r.valid).toBe(true);
    expect(shown(r.issues)).toEqual([
      `warning Patient.meta.profile[0]: Profile reference '${unknown}' has not been checked because it is unknown; the resource is checked against the base Patient definition`,
    ]);
    // still checked against Patient: a gender outside its required value set is an error
    const bad = validator.validate(patient({ meta: { profile: [unknown] }, gender: 'mal' }));
    expect(bad.valid).toBe(false);
    expect(shown(bad.issues.filter((i) => i.severity === 'error'))).toEqual([expect.stringMatching(/^error Patient\.gender: .*'mal'/)]);
  });

  test('is an error with strictProfiles', () => {
    const r = validator.validate(patient({ meta: { profile: [unknown] } }), { strictProfiles: true });
    expect(r.valid).toBe(false);
    expect(shown(r.issues)).toEqual([`error Patient.meta.profile[0]: Profile reference '${unknown}' has not been checked because it is unknown`]);
  });

  test('a profile asked for that is unknown is an error, strict or not', () => {
    const r = validator.validate(patient(), { profile: unknown });
    expect(r.valid).toBe(false);
    expect(shown(r.issues)).toEqual([`error Patient: Profile reference '${unknown}' has not been checked because it is unknown`]);
  });

  test("under the canonical URL of a package that is loaded (PeerBridge's own) it is an error: that package has no such profile", () => {
    const url = 'http://peerbridge.org/fhir/StructureDefinition/peer-patient';
    const r = validator.validate(patient({ meta: { profile: [url] } }));
    expect(shown(r.issues)).toEqual([
      `error Patient.meta.profile[0]: Unknown profile '${url}': package org.peerbridge.fhir#0.1.0 is loaded and has no such StructureDefinition`,
    ]);
  });

  test('a known definition that is not a resource profile is an error', () => {
    const r = validator.validate(patient({ meta: { profile: [`${HL7}patient-birthTime`] } }));
    expect(shown(r.issues)).toEqual([`error Patient.meta.profile[0]: Profile '${HL7}patient-birthTime' is not a resource profile: it defines an Extension`]);
  });

  test('in a Bundle entry and a contained resource too', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:2d3c0c2c-5b4f-4f7a-9b8e-0a1b2c3d4e5f', resource: patient({ meta: { profile: [unknown] } }) }],
    };
    const r = validator.validate(bundle);
    expect(r.valid).toBe(true);
    expect(r.issues.map((i) => `${i.severity} ${i.expression?.[0]}`)).toEqual(['warning Bundle.entry[0].resource.meta.profile[0]']);
    expect(validator.validate(bundle, { strictProfiles: true }).valid).toBe(false);
  });
});

describe('an extension whose definition cannot be found', () => {
  test('is an error, in HL7 namespace or elsewhere', () => {
    for (const url of [`${HL7}patient-no-such-extension`, 'http://acme.org/fhir/StructureDefinition/x', 'urn:oid:1.2.3']) {
      const r = validator.validate(patient({ extension: [{ url, valueBoolean: true }] }));
      expect(shown(r.issues)).toEqual([`error Patient.extension[0]: Unknown extension '${url}': the extension could not be found so is not allowed here`]);
    }
  });

  test('a core R4 extension is found (the base spec holds them)', () => {
    const r = validator.validate(patient({ extension: [{ url: `${HL7}patient-birthPlace`, valueAddress: { city: 'Springfield' } }] }));
    expect(r.issues).toEqual([]);
  });

  test('in an example domain it is a warning: its content is not checked', () => {
    for (const url of ['http://example.org/fhir/StructureDefinition/trials', 'https://www.example.com/ext', 'http://nema.org/fhir/extensions#0010:1010']) {
      const r = validator.validate(patient({ extension: [{ url, valueBoolean: true }] }));
      expect(shown(r.issues)).toEqual([`warning Patient.extension[0]: Unknown extension '${url}': its content is not checked`]);
    }
  });

  test('a url that names a definition of something else is an error', () => {
    const r = validator.validate(patient({ extension: [{ url: `${HL7}Patient`, valueBoolean: true }] }));
    expect(shown(r.issues)).toEqual([
      `error Patient.extension[0]: '${HL7}Patient' is not an extension definition (it defines Patient), so it cannot be used as an extension url`,
    ]);
  });

  test('a relative url outside a complex extension is an error', () => {
    const r = validator.validate(patient({ extension: [{ url: 'ombCategory', valueBoolean: true }] }));
    expect(r.valid).toBe(false);
    expect(shown(r.issues)).toContain("error Patient.extension[0]: Unknown extension 'ombCategory': the extension could not be found so is not allowed here");
  });
});

describe('sub-extensions of a complex extension', () => {
  // R4 core's translation extension: sub-extensions lang (code, 1..1) and content (string, 1..1).
  const translation = (subs: unknown[]): Record<string, unknown> =>
    patient({ name: [{ family: 'Chalmers', _family: { extension: [{ url: `${HL7}translation`, extension: subs }] } }] });

  test('are matched by the parent\'s url slices: no "Unknown extension"', () => {
    const r = validator.validate(
      translation([
        { url: 'lang', valueCode: 'fr' },
        { url: 'content', valueString: 'Chalmers' },
      ]),
    );
    expect(r.issues).toEqual([]);
  });

  test('the slice rules apply to them', () => {
    const r = validator.validate(
      translation([
        { url: 'lang', valueCode: 'fr' },
        { url: 'content', valueBoolean: true },
      ]),
    );
    expect(r.valid).toBe(false);
    expect(shown(r.issues.filter((i) => i.severity === 'error')).join('\n')).toMatch(/extension\[1\]\.valueBoolean/);
  });

  test("a relative url that is none of the parent's slices is an error", () => {
    const r = validator.validate(
      translation([
        { url: 'lang', valueCode: 'fr' },
        { url: 'content', valueString: 'x' },
        { url: 'langue', valueCode: 'fr' },
      ]),
    );
    expect(shown(r.issues)).toEqual([
      `error Patient.name[0]._family.extension[0].extension[2]: Sub-extension url 'langue' is not defined by the extension ${HL7}translation`,
    ]);
  });

  test('inside an unknown extension they are not reported again', () => {
    const r = validator.validate(patient({ extension: [{ url: 'http://acme.org/fhir/complex', extension: [{ url: 'part', valueString: 'x' }] }] }));
    expect(shown(r.issues)).toEqual([
      "error Patient.extension[0]: Unknown extension 'http://acme.org/fhir/complex': the extension could not be found so is not allowed here",
    ]);
  });
});

describe('extension contexts', () => {
  test('a core extension on an element its context does not name is reported', () => {
    // patient-birthTime: context Patient.birthDate
    const r = validator.validate(
      patient({ birthDate: '2001-02-03', _birthDate: { extension: [{ url: `${HL7}patient-birthTime`, valueDateTime: '2001-02-03T04:05:06Z' }] } }),
    );
    expect(r.issues).toEqual([]);
    const wrong = validator.validate(patient({ extension: [{ url: `${HL7}patient-birthTime`, valueDateTime: '2001-02-03T04:05:06Z' }] }));
    expect(shown(wrong.issues)).toEqual([
      expect.stringMatching(
        /^warning Patient\.extension\[0\]: Extension '.*patient-birthTime' is not allowed on Patient; it may be used on Patient\.birthDate$/,
      ),
    ]);
  });

  test("a loaded package's extension whose context is another extension: allowed in it, not elsewhere", () => {
    const tmp = mkdtempSync(join(tmpdir(), 'pb-ext-ctx-'));
    try {
      const dir = join(tmp, 'package');
      mkdirSync(dir);
      const parent = 'http://acme.org/fhir/StructureDefinition/parent';
      const child = 'http://acme.org/fhir/StructureDefinition/child';
      const ext = (url: string, context: { type: string; expression: string }, value: Record<string, unknown>): Record<string, unknown> => ({
        resourceType: 'StructureDefinition',
        url,
        name: url.slice(url.lastIndexOf('/') + 1),
        status: 'active',
        kind: 'complex-type',
        abstract: false,
        type: 'Extension',
        baseDefinition: `${HL7}Extension`,
        derivation: 'constraint',
        context: [context],
        differential: {
          element: [
            { id: 'Extension', path: 'Extension' },
            { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
            { id: 'Extension.value[x]', path: 'Extension.value[x]', ...value },
          ],
        },
      });
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'acme.ext', version: '1.0.0', canonical: 'http://acme.org/fhir', dependencies: { 'hl7.fhir.r4.core': '4.0.1' } }),
      );
      writeFileSync(join(dir, 'StructureDefinition-parent.json'), JSON.stringify(ext(parent, { type: 'element', expression: 'Patient' }, { max: '0' })));
      writeFileSync(
        join(dir, 'StructureDefinition-child.json'),
        JSON.stringify(ext(child, { type: 'extension', expression: parent }, { type: [{ code: 'boolean' }] })),
      );
      const v = Validator.create({ igPackages: [tmp] });
      const inParent = v.validate(patient({ extension: [{ url: parent, extension: [{ url: child, valueBoolean: true }] }] }));
      expect(inParent.issues).toEqual([]);
      const onPatient = v.validate(patient({ extension: [{ url: child, valueBoolean: true }] }));
      expect(shown(onPatient.issues)).toEqual([`error Patient.extension[0]: Extension '${child}' is not allowed on Patient; it may be used on ${parent}`]);
      const parentOnObservation = v.validate({
        resourceType: 'Basic',
        id: 'b',
        text: narrative,
        code: { text: 'x' },
        extension: [{ url: parent, extension: [{ url: child, valueBoolean: true }] }],
      });
      expect(shown(parentOnObservation.issues)).toEqual([`error Basic.extension[0]: Extension '${parent}' is not allowed on Basic; it may be used on Patient`]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
