/**
 * The walker's memo of values found valid (walker.ts, memoJson): a coded value or extension that
 * was valid once is skipped the next time it appears at the same definition. These pin what it
 * must not do: carry a verdict to a different definition, or to a place where the value's verdict
 * depends on the resource around it. One validator serves every test, in order, so each later
 * check meets what the earlier ones remembered.
 */
import { Validator } from '../../src/validation';

const PB = 'http://peerbridge.org/fhir';
const POS_SYSTEM = 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set';
const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

function errors(resource: unknown): string[] {
  return validator
    .validate(resource)
    .issues.filter((i) => i.severity === 'error')
    .map((i) => `${i.expression?.[0]}: ${i.details?.text}`);
}

describe('values remembered as valid', () => {
  it('a reference to a contained resource is judged in each resource, not remembered from the last', () => {
    const ext = { url: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal', valueReference: { reference: '#g1' } };
    const goal = {
      resourceType: 'Goal',
      id: 'g1',
      text,
      lifecycleStatus: 'active',
      description: { text: 'Stay housed' },
      subject: { reference: 'Patient/p1' },
    };
    const holder = { resourceType: 'Patient', id: 'p1', text, contained: [goal], extension: [ext] };
    const without = { resourceType: 'Patient', id: 'p2', text, extension: [structuredClone(ext)] };
    for (let round = 0; round < 2; round++) {
      expect(errors(holder)).toEqual([]);
      expect(errors(without)).toEqual(["Patient.extension[0].valueReference.reference: Reference '#g1' points to no contained resource with id 'g1'"]);
    }
  });

  it('a coded value valid under one extension is checked again under another', () => {
    const pos = { coding: [{ system: POS_SYSTEM, code: '10' }] };
    const organization = (url: string): unknown => ({
      resourceType: 'Organization',
      id: 'o1',
      text,
      extension: [{ url, valueCodeableConcept: structuredClone(pos) }],
      name: 'Riverbend',
    });
    // Valid where the code belongs, twice (the second time from the memo) ...
    expect(errors(organization(`${PB}/StructureDefinition/place-of-service`)).filter((e) => e.includes('valueCodeableConcept'))).toEqual([]);
    expect(errors(organization(`${PB}/StructureDefinition/place-of-service`)).filter((e) => e.includes('valueCodeableConcept'))).toEqual([]);
    // ... and still refused under a definition whose required binding it is not in.
    expect(
      errors(organization(`${PB}/StructureDefinition/peer-intervention`)).some((e) => e.startsWith('Organization.extension[0].valueCodeableConcept')),
    ).toBe(true);
  });

  it('a value found invalid is reported every time it appears', () => {
    const bad = {
      url: `${PB}/StructureDefinition/peer-intervention`,
      valueCodeableConcept: { coding: [{ system: `${PB}/CodeSystem/peer-intervention`, code: 'not-a-code' }] },
    };
    const organization = { resourceType: 'Organization', id: 'o2', text, name: 'Riverbend', extension: [bad, structuredClone(bad)] };
    for (let round = 0; round < 2; round++) {
      const found = errors(organization);
      expect(found.filter((e) => e.startsWith('Organization.extension[0].valueCodeableConcept')).length).toBeGreaterThan(0);
      expect(found.filter((e) => e.startsWith('Organization.extension[1].valueCodeableConcept')).length).toBeGreaterThan(0);
    }
  });

  it('a contained resource that refers to another is judged in each container, not remembered from the last', () => {
    // The Location's partOf '#site' resolves in the first container only: same text, two verdicts.
    const location = { resourceType: 'Location', id: 'place', text, name: 'Home', partOf: { reference: '#site' } };
    const site = { resourceType: 'Location', id: 'site', text, name: 'Riverbend' };
    const encounter = (contained: unknown[], id: string): unknown => ({
      resourceType: 'Encounter',
      id,
      text,
      contained,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
      location: [{ location: { reference: '#place' } }],
    });
    for (let round = 0; round < 2; round++) {
      expect(errors(encounter([structuredClone(location), structuredClone(site)], 'e1'))).toEqual([]);
      expect(errors(encounter([structuredClone(location)], 'e2'))).toEqual([
        "Encounter.contained[0].partOf.reference: Reference '#site' points to no contained resource with id 'site'",
      ]);
    }
  });

  it('a contained resource found valid is valid again, and an invalid one is reported every time', () => {
    const place = { resourceType: 'Location', id: 'place', text, status: 'active', name: 'Home', mode: 'kind' };
    const encounter = (location: unknown): unknown => ({
      resourceType: 'Encounter',
      id: 'e3',
      text,
      contained: [location],
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
      location: [{ location: { reference: '#place' } }],
    });
    for (let round = 0; round < 3; round++) {
      expect(errors(encounter(structuredClone(place)))).toEqual([]);
      expect(errors(encounter({ ...place, mode: 'nowhere' })).some((e) => e.startsWith('Encounter.contained[0].mode'))).toBe(true);
    }
  });

  describe('frozen values, remembered by identity', () => {
    const deepFreeze = <T>(v: T): T => {
      if (v !== null && typeof v === 'object') {
        Object.values(v).forEach(deepFreeze);
        Object.freeze(v);
      }
      return v;
    };
    const organization = (extension: unknown[]): unknown => ({ resourceType: 'Organization', id: 'o3', text, name: 'Riverbend', extension });
    const interventionErrors = (extension: unknown[]): string[] =>
      errors(organization(extension)).filter((e) => e.startsWith('Organization.extension[0].valueCodeableConcept'));

    it('a frozen value valid under one extension is checked again under another', () => {
      const pos = deepFreeze({ coding: [{ system: POS_SYSTEM, code: '10' }] });
      for (let round = 0; round < 2; round++) {
        expect(interventionErrors([{ url: `${PB}/StructureDefinition/place-of-service`, valueCodeableConcept: pos }])).toEqual([]);
        expect(interventionErrors([{ url: `${PB}/StructureDefinition/peer-intervention`, valueCodeableConcept: pos }]).length).toBeGreaterThan(0);
      }
    });

    it('a frozen value whose check reads the resource around it is judged in each resource', () => {
      const ext = deepFreeze({ url: 'http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal', valueReference: { reference: '#g1' } });
      const goal = {
        resourceType: 'Goal',
        id: 'g1',
        text,
        lifecycleStatus: 'active',
        description: { text: 'Stay housed' },
        subject: { reference: 'Patient/p1' },
      };
      for (let round = 0; round < 2; round++) {
        expect(errors({ resourceType: 'Patient', id: 'p1', text, contained: [goal], extension: [ext] })).toEqual([]);
        expect(errors({ resourceType: 'Patient', id: 'p2', text, extension: [ext] })).toEqual([
          "Patient.extension[0].valueReference.reference: Reference '#g1' points to no contained resource with id 'g1'",
        ]);
      }
    });

    it('a frozen value that can still change (a getter, an unfrozen part) is checked each time', () => {
      const system = `${PB}/CodeSystem/peer-intervention`;
      let code = 'self-help';
      const byGetter = Object.freeze({
        url: `${PB}/StructureDefinition/peer-intervention`,
        valueCodeableConcept: Object.freeze({
          coding: Object.freeze([
            Object.freeze({
              system,
              get code(): string {
                return code;
              },
            }),
          ]),
        }),
      });
      const coding = { system, code: 'self-help' };
      const shallow = Object.freeze({ url: `${PB}/StructureDefinition/peer-intervention`, valueCodeableConcept: Object.freeze({ coding: [coding] }) });
      for (let round = 0; round < 2; round++) {
        code = 'self-help';
        coding.code = 'self-help';
        expect(interventionErrors([byGetter])).toEqual([]);
        expect(interventionErrors([shallow])).toEqual([]);
        code = 'not-a-code';
        coding.code = 'not-a-code';
        expect(interventionErrors([byGetter]).length).toBeGreaterThan(0);
        expect(interventionErrors([shallow]).length).toBeGreaterThan(0);
      }
    });

    it('a frozen contained resource valid in one container is judged again where it refers to nothing', () => {
      const location = deepFreeze({ resourceType: 'Location', id: 'place', text, name: 'Home', partOf: { reference: '#site' } });
      const site = { resourceType: 'Location', id: 'site', text, name: 'Riverbend' };
      const encounter = (contained: unknown[]): unknown => ({
        resourceType: 'Encounter',
        id: 'e4',
        text,
        contained,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
        location: [{ location: { reference: '#place' } }],
      });
      for (let round = 0; round < 2; round++) {
        expect(errors(encounter([location, site]))).toEqual([]);
        expect(errors(encounter([location]))).toEqual([
          "Encounter.contained[0].partOf.reference: Reference '#site' points to no contained resource with id 'site'",
        ]);
      }
    });
  });
});
