/**
 * SearchParameter (expression parses, type kept from derivedFrom) and CapabilityStatement
 * (searchParam type matches its definition), against the base R4 SearchParameters held offline.
 */
import { fhirPathSyntaxError } from '../../../src/validation/rules/search-parameter';
import { errorsOf, lines } from './support';

function searchParameter(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: 'SearchParameter',
    url: 'https://fhir.peerbridge.org/SearchParameter/patient-family',
    name: 'PatientFamily',
    status: 'active',
    description: 'Family name',
    code: 'family',
    base: ['Patient'],
    type: 'string',
    expression: 'Patient.name.family',
    ...extra,
  };
}

function capability(type: string): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-03-02',
    kind: 'instance',
    implementation: { description: 'PeerBridge' },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', resource: [{ type: 'Patient', searchParam: [{ name: 'name', definition: 'http://hl7.org/fhir/SearchParameter/Patient-name', type }] }] }],
  };
}

describe('SearchParameter', () => {
  test('a valid one derived from Patient-family passes', () => {
    expect(errorsOf(searchParameter({ derivedFrom: 'http://hl7.org/fhir/SearchParameter/individual-family' }))).toEqual([]);
  });

  test('an expression that does not parse is an error', () => {
    expect(lines(errorsOf(searchParameter({ expression: 'Patient.name.(((' })))).toEqual([
      expect.stringMatching(/^error SearchParameter.expression: The expression 'Patient.name.\(\(\(' is not valid FHIRPath: /),
    ]);
    expect(fhirPathSyntaxError("Patient.name.where(use = 'official').family | Practitioner.name.family")).toBeNull();
    expect(fhirPathSyntaxError('Patient.name.family bar')).toEqual(expect.any(String));
  });

  test('a type other than the base definition it derives from is an error', () => {
    expect(lines(errorsOf(searchParameter({ type: 'token', derivedFrom: 'http://hl7.org/fhir/SearchParameter/individual-family' })))).toEqual([
      'error SearchParameter.type: The type token is different to the type string of the SearchParameter it derives from (http://hl7.org/fhir/SearchParameter/individual-family)',
    ]);
  });
});

describe('CapabilityStatement searchParam types', () => {
  test('the type of the SearchParameter named by definition', () => {
    expect(errorsOf(capability('string'))).toEqual([]);
    expect(lines(errorsOf(capability('token')))).toEqual([
      "error CapabilityStatement.rest[0].resource[0].searchParam[0].type: Type mismatch: SearchParameter 'http://hl7.org/fhir/SearchParameter/Patient-name' is of type string, but the type here is token",
    ]);
  });

  test('an unknown definition is not judged', () => {
    const cs = capability('token') as { rest: { resource: { searchParam: { definition: string }[] }[] }[] };
    cs.rest[0].resource[0].searchParam[0].definition = 'https://example.invalid/SearchParameter/x';
    expect(errorsOf(cs)).toEqual([]);
  });
});
