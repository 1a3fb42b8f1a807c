/**
 * Regression tests for the validator, one per gap that @medplum/core's validateResource leaves open
 * (docs/architecture.md#validation) and per rule the issue names.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { validateResource } from '@medplum/core';
import { Validator } from '../../src/validation';

const PB = 'http://peerbridge.org/fhir';
const ENCOUNTER_PROFILE = `${PB}/StructureDefinition/peer-support-encounter`;

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A peer support contact</div>' };

/** A valid peer support Encounter; tests break one thing at a time. */
function encounter(): Record<string, any> {
  return {
    resourceType: 'Encounter',
    id: 'contact-1',
    meta: { profile: [ENCOUNTER_PROFILE] },
    text: narrative,
    extension: [
      { url: `${PB}/StructureDefinition/peer-intervention`, valueCodeableConcept: { coding: [{ system: `${PB}/CodeSystem/peer-intervention`, code: 'self-help' }] } },
      { url: `${PB}/StructureDefinition/place-of-service`, valueCodeableConcept: { coding: [{ system: 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set', code: '53' }] } },
    ],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [
      { coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'H0038', display: 'Self-help/peer services, per 15 minutes' }] },
      { coding: [{ system: 'http://snomed.info/sct', code: '185317003', display: 'Telephone encounter' }] },
    ],
    subject: { reference: 'Patient/p1' },
    episodeOfCare: [{ reference: 'EpisodeOfCare/ep1' }],
    participant: [{ individual: { reference: 'Practitioner/pss1' } }],
    period: { start: '2026-03-02T10:00:00-05:00', end: '2026-03-02T10:50:00-05:00' },
    length: { value: 50, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' },
  };
}

function errors(input: unknown, profile?: string): OperationOutcomeIssue[] {
  return validator.validate(input, { profile }).issues.filter((i) => i.severity === 'error');
}

function expectError(input: unknown, expression: string, message: RegExp): void {
  const errs = errors(input);
  const hit = errs.find((i) => i.expression?.[0] === expression && message.test(i.details?.text ?? ''));
  if (!hit) {
    throw new Error(`Expected an error at ${expression} matching ${message}; got:\n${errs.map((i) => `${i.expression?.[0]}: ${i.details?.text}`).join('\n')}`);
  }
}

describe('profiles and slices', () => {
  test('a valid profiled Encounter passes with no issue at all', () => {
    expect(validator.validate(encounter()).issues).toEqual([]);
  });

  test('extension slices by url are recognised (medplum rejects them with SUSHI snapshots)', () => {
    const e = encounter();
    expect(errors(e)).toEqual([]);
    // The slice count shows the extension matched its slice: two place-of-service exceed 0..1.
    e.extension.push({ ...e.extension[1] });
    expectError(e, 'Encounter.extension', /Slice 'placeOfService'.*2 value/);
  });

  test('the required H0038 type slice is enforced', () => {
    const e = encounter();
    e.type = [e.type[1]];
    expectError(e, 'Encounter.type', /Slice 'h0038'.*0 value/);
  });

  test('rules inside a slice are checked: the mode slice has a required binding', () => {
    const e = encounter();
    e.type[1] = { coding: [{ system: 'http://snomed.info/sct', code: '999999' }] };
    // An unknown SNOMED code matches neither slice pattern nor binding: not the mode slice, still open slicing.
    expect(errors(e)).toEqual([]);
    const matchesModeByBinding = encounter();
    matchesModeByBinding.type[1].coding[0].code = '448337001';
    expect(errors(matchesModeByBinding)).toEqual([]);
  });

  test('profile cardinality: diagnosis is 0..0 and episodeOfCare 1..*', () => {
    const e = encounter();
    e.diagnosis = [{ condition: { reference: 'Condition/c1' } }];
    expectError(e, 'Encounter.diagnosis', /allowed 0\.\.0/);
    const f = encounter();
    delete f.episodeOfCare;
    expectError(f, 'Encounter.episodeOfCare', /Missing required element 'episodeOfCare'/);
  });

  test('profile invariant: a finished encounter needs period.end', () => {
    const e = encounter();
    delete e.period.end;
    expectError(e, 'Encounter', /pb-enc-1/);
  });

  test('an unknown meta.profile is a warning, not silence (an error with strictProfiles)', () => {
    const e = encounter();
    e.meta.profile = ['http://example.org/StructureDefinition/nope'];
    const r = validator.validate(e);
    expect(r.issues.map((i) => `${i.severity} ${i.expression?.[0]}`)).toEqual(['warning Encounter.meta.profile[0]']);
    expect(r.issues[0].details?.text).toMatch(/^Profile reference '.*nope' has not been checked because it is unknown/);
    expect(validator.validate(e, { strictProfiles: true }).valid).toBe(false);
  });

  test('a profile can be asked for explicitly', () => {
    const e = encounter();
    delete e.meta;
    delete e.episodeOfCare;
    expect(errors(e)).toEqual([]);
    expect(errors(e, ENCOUNTER_PROFILE).map((i) => i.expression?.[0])).toContain('Encounter.episodeOfCare');
  });

  test('parsed profiles are cached, not re-parsed per call', () => {
    const first = validator.defs.profile(ENCOUNTER_PROFILE);
    validator.validate(encounter());
    expect(validator.defs.profile(ENCOUNTER_PROFILE)).toBe(first);
  });
});

describe('extensions', () => {
  test('wrong extension value type is rejected', () => {
    const e = encounter();
    e.extension[0] = { url: `${PB}/StructureDefinition/peer-intervention`, valueString: 'self help' };
    expectError(e, 'Encounter.extension[0].valueString', /value\[x\] may only be CodeableConcept/);
  });

  test('an extension code outside its required value set is rejected', () => {
    const e = encounter();
    e.extension[0].valueCodeableConcept.coding[0].code = 'therapy';
    const errs = errors(e);
    expect(errs.some((i) => /therapy/.test(i.details?.text ?? ''))).toBe(true);
  });

  test('unknown extension is an error; in an example domain a warning', () => {
    const e = encounter();
    e.extension.push({ url: `${PB}/StructureDefinition/no-such-thing`, valueBoolean: true });
    expectError(e, 'Encounter.extension[2]', /Unknown extension/);
    const g = encounter();
    g.extension.push({ url: 'http://other.org/ext', valueBoolean: true });
    expectError(g, 'Encounter.extension[2]', /Unknown extension/);
    const f = encounter();
    f.extension.push({ url: 'http://example.org/ext', valueBoolean: true });
    const r = validator.validate(f);
    expect(r.valid).toBe(true);
    expect(r.issues.some((i) => i.severity === 'warning' && /Unknown extension/.test(i.details?.text ?? ''))).toBe(true);
  });

  test('an extension used outside its context is rejected', () => {
    const p = { resourceType: 'Patient', id: 'p1', text: narrative, extension: [{ url: `${PB}/StructureDefinition/group-contact`, valueBoolean: true }] };
    expectError(p, 'Patient.extension[0]', /not allowed on Patient/);
  });

  test('SDC extensions are known from the local table and type-checked', () => {
    const q = {
      resourceType: 'Questionnaire',
      id: 'q',
      text: narrative,
      status: 'active',
      item: [
        {
          linkId: 'total',
          type: 'integer',
          extension: [{ url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression', valueString: '1+1' }],
        },
      ],
    };
    expectError(q, 'Questionnaire.item[0].extension[0].valueString', /may only be Expression/);
    q.item[0].extension[0] = {
      url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression',
      valueExpression: { language: 'text/fhirpath', expression: '1 + 1' },
    } as any;
    expect(errors(q)).toEqual([]);
  });
});

describe('base R4 gaps closed', () => {
  const patient = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ resourceType: 'Patient', id: 'p1', text: narrative, ...extra });

  test('invalid resource ids', () => {
    expectError(patient({ id: 'has space' }), 'Patient.id', /Invalid resource id/);
    expectError(patient({ id: 'x'.repeat(65) }), 'Patient.id', /Invalid resource id/);
  });

  test('empty arrays, objects and strings', () => {
    expectError(patient({ name: [] }), 'Patient.name', /Empty array/);
    expectError(patient({ name: [{}] }), 'Patient.name[0]', /Empty object/);
    expectError(patient({ name: [{ family: '' }] }), 'Patient.name[0].family', /Empty string/);
    expectError(patient({ name: [{ family: '   ' }] }), 'Patient.name[0].family', /only whitespace/);
  });

  test('null values are rejected, except as placeholders next to primitive extensions', () => {
    expectError(patient({ birthDate: null }), 'Patient.birthDate', /Null/);
    const ok = patient({ name: [{ given: ['A', null], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }] }] });
    expect(errors(ok)).toEqual([]);
  });

  test('Period.start after Period.end (per-1), also with mixed precision', () => {
    expectError(patient({ name: [{ family: 'A', period: { start: '2024-02-01', end: '2024-01-31' } }] }), 'Patient.name[0].period', /per-1/);
    expect(errors(patient({ name: [{ family: 'A', period: { start: '2024-01-31', end: '2024-01-31T08:00:00Z' } }] }))).toEqual([]);
  });

  test('unsafe or malformed narrative', () => {
    const div = (d: string): Record<string, unknown> => patient({ text: { status: 'generated', div: d } });
    expectError(div('<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script>x</div>'), 'Patient.text.div', /<script>/);
    expectError(div('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">x</p></div>'), 'Patient.text.div', /onclick/);
    expectError(div('<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:alert(1)">x</a></div>'), 'Patient.text.div', /script or data URL/);
    expectError(div('<div>no namespace</div>'), 'Patient.text.div', /xmlns/);
    expectError(div('<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>'), 'Patient.text.div', /not well-formed/);
    expectError(div('<div xmlns="http://www.w3.org/1999/xhtml">  </div>'), 'Patient.text.div', /txt-2/);
  });

  test('codes outside required bindings (base spec value sets, expanded offline)', () => {
    expectError(patient({ gender: 'femme' }), 'Patient.gender', /administrative-gender/);
    expectError({ resourceType: 'Encounter', id: 'e', text: narrative, status: 'done', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } }, 'Encounter.status', /encounter-status/);
  });

  test('an unknown code in a known code system', () => {
    const e = encounter();
    e.class = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'NOPE' };
    expectError(e, 'Encounter.class.code', /Unknown code 'NOPE'/);
  });

  test('invalid primitive values', () => {
    expectError(patient({ birthDate: '2024-02-30' }), 'Patient.birthDate', /not a real calendar date/);
    expectError(patient({ deceasedDateTime: '2024-02-01T10:00:00' }), 'Patient.deceasedDateTime', /time zone/);
    expectError(patient({ active: 'yes' }), 'Patient.active', /Expected a JSON boolean/);
    expectError(patient({ multipleBirthInteger: 1.5 }), 'Patient.multipleBirthInteger', /not an integer/);
  });

  test('unknown elements and wrong choice types', () => {
    expectError(patient({ foo: 1 }), 'Patient.foo', /Unknown element 'foo'/);
    expectError(patient({ deceasedString: 'no' }), 'Patient.deceasedString', /deceased\[x\] may only be boolean, dateTime/);
  });

  test('references: form, unknown type, wrong target type, dangling contained reference', () => {
    const e = encounter();
    e.subject = { reference: 'Practitioner/pss1' };
    expectError(e, 'Encounter.subject.reference', /Reference to a Practitioner is not allowed here; expected Patient/);
    expectError(patient({ managingOrganization: { reference: 'not a reference' } }), 'Patient.managingOrganization.reference', /not of the form/);
    expectError(patient({ managingOrganization: { reference: 'Organisation/1' } }), 'Patient.managingOrganization.reference', /unknown resource type/);
    expectError(patient({ managingOrganization: { reference: '#org' } }), 'Patient.managingOrganization.reference', /no contained resource/);
  });

  test('contained resources are validated and must be referenced (dom-3)', () => {
    const withContained = patient({
      contained: [{ resourceType: 'Organization', id: 'org', name: 'Riverbend CCBHC', active: 'yes' }],
      managingOrganization: { reference: '#org' },
    });
    expectError(withContained, 'Patient.contained[0].active', /Expected a JSON boolean/);
    const unreferenced = patient({ contained: [{ resourceType: 'Organization', id: 'org', name: 'Riverbend CCBHC' }] });
    expectError(unreferenced, 'Patient.contained[0]', /dom-3/);
  });
});

describe('Bundles', () => {
  const bundle = (entries: unknown[]): Record<string, unknown> => ({ resourceType: 'Bundle', id: 'b', type: 'collection', entry: entries });

  test('every entry is validated, with its profile', () => {
    const e = encounter();
    delete e.episodeOfCare;
    expectError(bundle([{ fullUrl: 'urn:uuid:0b6c2d43-5d4e-4f7e-9a45-3c1f2b7d8e90', resource: e }]), 'Bundle.entry[0].resource.episodeOfCare', /Missing required/);
  });

  test('duplicate fullUrl and duplicate resource ids', () => {
    const p = { resourceType: 'Patient', id: 'p1', text: narrative };
    const dupUrl = bundle([
      { fullUrl: 'urn:uuid:0b6c2d43-5d4e-4f7e-9a45-3c1f2b7d8e90', resource: p },
      { fullUrl: 'urn:uuid:0b6c2d43-5d4e-4f7e-9a45-3c1f2b7d8e90', resource: { ...p, id: 'p2' } },
    ]);
    expectError(dupUrl, 'Bundle.entry[1].fullUrl', /Duplicate fullUrl/);
    const dupId = bundle([
      { fullUrl: 'urn:uuid:0b6c2d43-5d4e-4f7e-9a45-3c1f2b7d8e90', resource: p },
      { fullUrl: 'urn:uuid:1b6c2d43-5d4e-4f7e-9a45-3c1f2b7d8e91', resource: p },
    ]);
    expectError(dupId, 'Bundle.entry[1].resource.id', /Duplicate resource Patient\/p1/);
  });

  test('history bundles may repeat a resource', () => {
    const p = { resourceType: 'Patient', id: 'p1', text: narrative };
    const h = {
      resourceType: 'Bundle',
      type: 'history',
      entry: [
        { fullUrl: 'http://example.org/fhir/Patient/p1', resource: { ...p, meta: { versionId: '2' } }, request: { method: 'PUT', url: 'Patient/p1' }, response: { status: '200' } },
        { fullUrl: 'http://example.org/fhir/Patient/p1', resource: { ...p, meta: { versionId: '1' } }, request: { method: 'POST', url: 'Patient' }, response: { status: '201' } },
      ],
    };
    expect(errors(h)).toEqual([]);
  });
});

describe('Questionnaires and responses', () => {
  const q = (): Record<string, any> => ({
    resourceType: 'Questionnaire',
    id: 'q1',
    text: narrative,
    status: 'active',
    item: [
      { linkId: 'a', type: 'boolean', text: 'Any?' },
      { linkId: 'b', type: 'string', text: 'Which?', enableWhen: [{ question: 'a', operator: '=', answerBoolean: true }] },
    ],
  });

  test('a consistent Questionnaire passes', () => {
    expect(errors(q())).toEqual([]);
  });

  test('enableWhen pointing at a missing item', () => {
    const x = q();
    x.item[1].enableWhen[0].question = 'zz';
    expectError(x, 'Questionnaire.item[1].enableWhen[0].question', /not an item/);
  });

  test('enableWhen answer of the wrong type for its question', () => {
    const x = q();
    x.item[1].enableWhen[0] = { question: 'a', operator: '=', answerString: 'yes' };
    expectError(x, 'Questionnaire.item[1].enableWhen[0].answerString', /must use answerBoolean/);
  });

  test('duplicate linkIds (que-2)', () => {
    const x = q();
    x.item[1].linkId = 'a';
    x.item[1].enableWhen = undefined;
    delete x.item[1].enableWhen;
    expectError(x, 'Questionnaire.item[1].linkId', /more than one item/);
  });

  test('several enableWhen need enableBehavior (que-12)', () => {
    const x = q();
    x.item.push({ linkId: 'c', type: 'string', enableWhen: [
      { question: 'a', operator: 'exists', answerBoolean: true },
      { question: 'b', operator: 'exists', answerBoolean: true },
      { question: 'a', operator: '=', answerBoolean: true },
    ] });
    expectError(x, 'Questionnaire.item[2]', /que-12/);
  });

  test('a response is checked against our Questionnaire', () => {
    const qr = {
      resourceType: 'QuestionnaireResponse',
      id: 'r1',
      text: narrative,
      status: 'completed',
      questionnaire: 'http://peerbridge.org/fhir/Questionnaire/supervisor-peer-workers-self-assessment',
      item: [{ linkId: 'sup-1', answer: [{ valueCoding: { system: 'http://example.org/nope', code: '9' } }] }, { linkId: 'nope', answer: [{ valueString: 'x' }] }],
    };
    const errs = errors(qr);
    expect(errs.some((i) => i.expression?.[0] === 'QuestionnaireResponse.item[0].answer[0].valueCoding')).toBe(true);
    expect(errs.some((i) => i.expression?.[0] === 'QuestionnaireResponse.item[1].linkId')).toBe(true);
  });
});

describe('bad input never throws', () => {
  test.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'Patient'],
    ['an array', [{ resourceType: 'Patient' }]],
    ['no resourceType', { id: 'x' }],
    ['unknown resourceType', { resourceType: 'PeerThing' }],
    ['resourceType not a string', { resourceType: 7 }],
  ])('%s gives an invalid verdict with an issue', (_name, input) => {
    const r = validator.validate(input);
    expect(r.valid).toBe(false);
    expect(r.issues.length).toBeGreaterThan(0);
  });

  test('10,000-deep nesting is refused without recursion', () => {
    let deep: any = { url: 'http://example.org/x', valueString: 'x' };
    for (let i = 0; i < 10_000; i++) {
      deep = { url: 'http://example.org/x', extension: [deep] };
    }
    const r = validator.validate({ resourceType: 'Patient', extension: [deep] });
    expect(r.valid).toBe(false);
    expect(r.issues[0].details?.text).toMatch(/nested more than/);
  });
});

describe('agreement with the raw @medplum/core validator where it is right', () => {
  test('both reject a wrong primitive type; only we reject an empty array', () => {
    const bad = { resourceType: 'Patient', id: 'p1', active: 'yes' };
    expect(() => validateResource(bad as any)).toThrow();
    expect(validator.validate(bad).valid).toBe(false);
    const empty = { resourceType: 'Patient', id: 'p1', name: [] };
    expect(validator.validate(empty).valid).toBe(false);
  });
});
