/**
 * IG_PACKAGES: parsed from the environment, loaded by the validator, listed in the
 * CapabilityStatement (implementationGuide, supportedProfile), and loaded by the validation workers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { capabilityStatement } from '../../src/http/capability';
import { ValidationPool, Validator } from '../../src/validation';

const US_CORE_TGZ = join(__dirname, '..', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');

test('IG_PACKAGES is a comma-separated list; unset, none', () => {
  expect(loadConfig({ IG_PACKAGES: `${US_CORE_TGZ}, hl7.fhir.us.core#6.1.0 ,` }).IG_PACKAGES).toEqual([US_CORE_TGZ, 'hl7.fhir.us.core#6.1.0']);
  expect(loadConfig({}).IG_PACKAGES).toEqual([]);
});

describe('with US Core loaded', () => {
  const validator = Validator.create({ igPackages: loadConfig({ IG_PACKAGES: US_CORE_TGZ }).IG_PACKAGES });
  const example = JSON.parse(readFileSync(join(validator.defs.igPackages[0].dir, 'example', 'Patient-example.json'), 'utf8')) as Record<string, unknown>;

  test('the CapabilityStatement lists the IG and its profiles', () => {
    const cs = capabilityStatement(validator, 'http://localhost/fhir');
    expect(cs.implementationGuide).toEqual([
      'http://peerbridge.org/fhir/ImplementationGuide/org.peerbridge.fhir',
      'http://hl7.org/fhir/us/core/ImplementationGuide/hl7.fhir.us.core',
    ]);
    const patient = cs.rest?.[0].resource?.find((r) => r.type === 'Patient');
    expect(patient?.supportedProfile).toContain('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient');
    expect(capabilityStatement(Validator.create(), 'http://localhost/fhir').implementationGuide).toEqual([
      'http://peerbridge.org/fhir/ImplementationGuide/org.peerbridge.fhir',
    ]);
  });

  test('validation workers load the same packages', async () => {
    const pool = new ValidationPool({ size: 1, definitions: validator.defs.options });
    try {
      const broken = { ...example, identifier: undefined };
      delete broken.identifier;
      const [ok, bad] = await Promise.all([pool.validate(example), pool.validate(broken)]);
      expect(ok).toEqual(validator.validate(example));
      expect(ok.valid).toBe(true);
      expect(bad).toEqual(validator.validate(broken));
      expect(bad.issues.map((i) => i.expression?.[0])).toContain('Patient.identifier');
    } finally {
      await pool.close();
    }
  }, 60_000);
});
