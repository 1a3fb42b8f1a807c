/**
 * Issue 18, "Done when": every resource in every golden output (the canonical pipeline's goldens in
 * examples/canonical/*.expected.json, the outside sources' in examples/outside/<source>/expected/)
 * validates against the profile it claims with US Core 6.1.0 loaded: 0 errors. Every resource
 * claims a PeerBridge profile, and those of the types US Core profiles derive from US Core's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import { documentEvents, translateCanonical } from '../../src/pipeline/translate-canonical';
import { Validator } from '../../src/validation';

const ROOT = join(__dirname, '..', '..');
const US_CORE_TGZ = join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');
const US_CORE = 'http://hl7.org/fhir/us/core/StructureDefinition/';

/** The golden output Bundles: test/pipeline/golden.test.ts's and test/translate/golden.test.ts's. */
export function goldenFiles(): string[] {
  const canonical = readdirSync(join(ROOT, 'examples', 'canonical'))
    .filter((f) => f.endsWith('.expected.json'))
    .map((f) => join(ROOT, 'examples', 'canonical', f));
  const outside = readdirSync(join(ROOT, 'examples', 'outside')).flatMap((source) => {
    const dir = join(ROOT, 'examples', 'outside', source, 'expected');
    let files: string[] = [];
    try {
      files = readdirSync(dir);
    } catch {
      return [];
    }
    return files.filter((f) => f.endsWith('.json') && !f.endsWith('.report.json')).map((f) => join(dir, f));
  });
  return [...canonical, ...outside].sort();
}

const resourcesOf = (file: string): Resource[] =>
  ((JSON.parse(readFileSync(file, 'utf8')) as Bundle).entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);

/** The US Core profile each resource type's PeerBridge profiles derive from (EpisodeOfCare and ChargeItem: none exists). */
const US_CORE_BASE: Record<string, string | undefined> = {
  Patient: 'us-core-patient',
  Organization: 'us-core-organization',
  Practitioner: 'us-core-practitioner',
  PractitionerRole: 'us-core-practitionerrole',
  Encounter: 'us-core-encounter',
  ServiceRequest: 'us-core-servicerequest',
  CarePlan: 'us-core-careplan',
  Goal: 'us-core-goal',
  Observation: 'us-core-observation-screening-assessment',
  QuestionnaireResponse: 'us-core-questionnaireresponse',
  EpisodeOfCare: undefined,
  ChargeItem: undefined,
};

let validator: Validator;
beforeAll(() => {
  validator = Validator.create({ igPackages: [US_CORE_TGZ] });
});

const files = goldenFiles();

test('the golden outputs are found: the pipeline goldens and one per outside-source case', () => {
  expect(files.map((f) => f.slice(ROOT.length + 1)).sort()).toEqual(
    expect.arrayContaining([
      'examples/canonical/riverbend-dana-whitfield.expected.json',
      'examples/canonical/bad-records.expected.json',
      'examples/outside/riverbend-csv/expected/export.json',
      'examples/outside/hl7v2/expected/feed.json',
      'examples/outside/hl7v2/expected/updates.json',
      'examples/outside/vendor-json/expected/payload.json',
    ]),
  );
});

describe.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s', (_name, file) => {
  const resources = resourcesOf(file);

  test('every resource validates with US Core 6.1.0 loaded: 0 errors', () => {
    expect(resources.length).toBeGreaterThan(0);
    const errors = resources.flatMap((r) =>
      validator
        .validate(r)
        .issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => `${r.resourceType}/${r.id} ${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`),
    );
    expect(errors).toEqual([]);
  });

  test('every resource claims one PeerBridge profile, derived from US Core where US Core has one', () => {
    const wrong: string[] = [];
    for (const r of resources) {
      // A placeholder for a record the run did not carry (src/outbound/placeholders.ts: a conditional create holding only the
      // target's identifier, tagged SUBSETTED) claims no profile: the real record, sent before or later, does.
      if (r.meta?.tag?.some((t) => t.code === 'SUBSETTED')) continue;
      const claimed = r.meta?.profile ?? [];
      if (claimed.length !== 1 || !claimed[0].startsWith('http://peerbridge.org/fhir/StructureDefinition/')) {
        wrong.push(`${r.resourceType}/${r.id}: claims ${JSON.stringify(claimed)}`);
        continue;
      }
      const sd = validator.defs.profile(claimed[0])?.sd;
      const expected = US_CORE_BASE[r.resourceType];
      const base = sd?.baseDefinition;
      const ok = expected ? base === US_CORE + expected : base === `http://hl7.org/fhir/StructureDefinition/${r.resourceType}`;
      // The supervisor self-assessment is not a patient record: it stays on R4 QuestionnaireResponse.
      const supervisor =
        claimed[0].endsWith('/supervisor-self-assessment-response') && base === 'http://hl7.org/fhir/StructureDefinition/QuestionnaireResponse';
      if (!ok && !supervisor) wrong.push(`${r.resourceType}/${r.id}: ${claimed[0]} is based on ${base}`);
    }
    expect(wrong).toEqual([]);
  });
});

test('US Core rules the outputs now meet, checked on the canonical golden', () => {
  const resources = resourcesOf(join(ROOT, 'examples', 'canonical', 'riverbend-dana-whitfield.expected.json')) as unknown as Record<string, any>[];
  const of = (type: string) => resources.filter((r) => r.resourceType === type);
  for (const plan of of('CarePlan')) {
    expect(plan.text.status).toBe('generated');
    expect(plan.text.div).toMatch(/^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml">.*Goals.*<\/div>$/s);
    expect(plan.category.flatMap((c: any) => c.coding.map((x: any) => `${x.system}#${x.code}`))).toContain(
      'http://hl7.org/fhir/us/core/CodeSystem/careplan-category#assess-plan',
    );
  }
  for (const role of of('PractitionerRole')) expect(role.telecom?.length).toBeGreaterThan(0);
  for (const sr of of('ServiceRequest')) {
    expect(sr.category?.length).toBeGreaterThan(0);
    expect(sr.occurrencePeriod?.start).toBeDefined();
  }
  for (const obs of of('Observation')) {
    expect(obs.category.map((c: any) => c.coding[0].code)).toContain('survey');
  }
  const determination = of('Observation').find((o) => o.meta.profile[0].endsWith('/eligibility-determination'));
  expect(determination).toBeDefined();
  const criteria = determination!.component.slice(1);
  expect(criteria.length).toBeGreaterThan(0);
  for (const c of criteria) {
    expect(c.code.coding[0].system).toBe('http://peerbridge.org/fhir/CodeSystem/eligibility-criterion');
    expect(c.valueCodeableConcept.coding[0].system).toBe('http://peerbridge.org/fhir/CodeSystem/criterion-status');
    expect(['met', 'not-met', 'unknown']).toContain(c.valueCodeableConcept.coding[0].code);
  }
});

test('a mutant is caught: a CarePlan without its narrative, a PractitionerRole without telecom, a bad NPI', () => {
  const resources = resourcesOf(join(ROOT, 'examples', 'canonical', 'riverbend-dana-whitfield.expected.json')) as unknown as Record<string, any>[];
  const errs = (r: unknown) =>
    validator
      .validate(r)
      .issues.filter((i) => i.severity === 'error')
      .map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`);
  const plan = structuredClone(resources.find((r) => r.resourceType === 'CarePlan')!);
  delete plan.text;
  expect(errs(plan)).toEqual([expect.stringMatching(/^CarePlan\.text: Missing required element 'text'/)]);
  const role = structuredClone(resources.find((r) => r.resourceType === 'PractitionerRole')!);
  delete role.telecom;
  expect(errs(role)).toEqual([expect.stringMatching(/^PractitionerRole\.telecom: Missing required element .telecom./)]);
  const org = structuredClone(resources.find((r) => r.resourceType === 'Organization')!);
  org.identifier.find((i: any) => i.system === 'http://hl7.org/fhir/sid/us-npi').value = '1467583920';
  expect(errs(org).join('\n')).toMatch(/us-core-17/);
});

test('the valid examples (examples/valid) validate with US Core 6.1.0 loaded too: 0 errors', () => {
  const dir = join(ROOT, 'examples', 'valid');
  const errors = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) =>
      validator
        .validate(JSON.parse(readFileSync(join(dir, f), 'utf8')))
        .issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
        .map((i) => `${f} ${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`),
    );
  expect(errors).toEqual([]);
});

test('with NARRATIVE=all, the canonical example validates with US Core 6.1.0 loaded: 0 errors, no dom-6 warning', async () => {
  const doc = JSON.parse(readFileSync(join(ROOT, 'examples', 'canonical', 'riverbend-dana-whitfield.json'), 'utf8')) as unknown;
  const made: Resource[] = [];
  const deps = { validator, rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-11-22T12:00:00Z'), narrative: 'all' as const };
  const report = await translateCanonical(documentEvents(doc), deps, (list) => void made.push(...list));
  expect(report.summary.rejected).toBe(0);
  const issues = made.flatMap((r) =>
    validator
      .validate(r)
      .issues.filter((i) => i.severity === 'error' || i.severity === 'fatal' || /dom-6/.test(i.details?.text ?? ''))
      .map((i) => `${r.resourceType}/${r.id} ${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`),
  );
  expect(issues).toEqual([]);
});
