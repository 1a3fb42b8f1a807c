/**
 * Issue 18 item 3 on ingest: an NPI with a wrong check digit is a reject with its reason (Luhn with
 * the 80840 prefix, src/domain/npi.ts); a practitioner's role carries the organization's phone (US
 * Core pd-1) and a practitioner whose role would have no telecom is rejected with why; NARRATIVE=all
 * gives every emitted resource a generated narrative, so dom-6 no longer warns; both HCPCS spellings
 * are accepted on input (item 6).
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { npiCheckDigit, npiProblem } from '../../src/domain/npi';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import { generatedNarrative, narrativeModeFromEnv } from '../../src/fhir/narrative';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { documentEvents, translateCanonical, type TranslateReport } from '../../src/pipeline/translate-canonical';
import { Validator } from '../../src/validation';

const ROOT = join(__dirname, '..', '..');
const NOW = new Date('2026-11-22T12:00:00Z');
const EXAMPLE = JSON.parse(readFileSync(join(ROOT, 'examples', 'canonical', 'riverbend-dana-whitfield.json'), 'utf8')) as Record<string, any>;

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});
const deps = (extra: Partial<PipelineDeps> = {}): PipelineDeps => ({ validator, rules: loadRules(), terms: loadPackageTerms(), now: () => NOW, ...extra });

async function run(doc: unknown, extra: Partial<PipelineDeps> = {}): Promise<{ report: TranslateReport; resources: Resource[] }> {
  const resources: Resource[] = [];
  const report = await translateCanonical(documentEvents(doc), deps(extra), (list) => void resources.push(...list));
  return { report, resources };
}
const errorsOf = (report: TranslateReport): OperationOutcomeIssue[] => report.outcome.issue.filter((i) => i.severity === 'error');

describe('NPI check digits', () => {
  test('Luhn with the 80840 prefix: the CMS example 1234567893 is valid, a changed check digit is not', () => {
    expect(npiProblem('1234567893')).toBeUndefined();
    expect(npiCheckDigit('123456789')).toBe('3');
    expect(npiProblem('1234567890')).toBe("NPI '1234567890' has a wrong check digit (Luhn with the 80840 prefix gives 3)");
    expect(npiProblem('123456789')).toBe("NPI '123456789' is not 10 digits");
    expect(npiProblem('12345678AB')).toBe("NPI '12345678AB' is not 10 digits");
  });

  test('every NPI in the shipped examples is valid', () => {
    const npis = [...readFileSync(join(ROOT, 'examples', 'canonical', 'riverbend-dana-whitfield.json'), 'utf8').matchAll(/us-npi",\s*"value": "(\d+)"/g)].map(
      (m) => m[1],
    );
    const csv =
      readFileSync(join(ROOT, 'examples', 'outside', 'riverbend-csv', 'staff.csv'), 'utf8') +
      readFileSync(join(ROOT, 'examples', 'outside', 'riverbend-csv', 'organizations.csv'), 'utf8');
    npis.push(...[...csv.matchAll(/,(1\d{9}),/g)].map((m) => m[1]));
    expect(npis.length).toBeGreaterThan(8);
    expect(npis.filter((n) => npiProblem(n) !== undefined)).toEqual([]);
  });

  test('an organization and a practitioner with a bad NPI are rejected, each with the reason at the identifier', async () => {
    const doc = structuredClone(EXAMPLE);
    doc.organizations[0].identifiers[0].value = '1467583920';
    doc.practitioners[1].identifiers[0].value = '1528406713';
    const { report } = await run(doc);
    const npiErrors = errorsOf(report).filter((i) => /NPI/.test(i.details?.text ?? ''));
    expect(npiErrors.map((i) => [i.expression?.[0], i.details?.text])).toEqual([
      ['$.organizations[0].identifiers[0].value', "NPI '1467583920' has a wrong check digit (Luhn with the 80840 prefix gives 2)"],
      ['$.practitioners[1].identifiers[0].value', "NPI '1528406713' has a wrong check digit (Luhn with the 80840 prefix gives 7)"],
    ]);
    expect(report.summary.byKind.organization).toEqual({ read: 1, accepted: 0, rejected: 1 });
  });
});

describe('PractitionerRole telecom (US Core pd-1)', () => {
  test("a role carries the organization's phone, or the practitioner's own telecom", async () => {
    const doc = structuredClone(EXAMPLE);
    doc.practitioners[1].telecom = [{ system: 'phone', value: '555-0199', use: 'work' }];
    const { resources } = await run(doc);
    const roles = resources.filter((r) => r.resourceType === 'PractitionerRole') as Record<string, any>[];
    expect(roles.map((r) => r.telecom)).toEqual([
      [{ system: 'phone', value: '555-0100', use: 'work', rank: 1 }],
      [{ system: 'phone', value: '555-0199', use: 'work', rank: 1 }],
    ]);
  });

  test('with no telecom known, the role says so (data-absent-reason, US Core missing data) and the record is accepted with a warning', async () => {
    const doc = structuredClone(EXAMPLE);
    delete doc.organizations[0].telecom;
    const { report, resources } = await run(doc);
    expect(report.summary.rejected).toBe(0);
    const warnings = report.outcome.issue.filter((i) => i.severity === 'warning' && /pd-1/.test(i.details?.text ?? ''));
    expect(warnings.map((i) => i.expression?.[0])).toEqual(['$.practitioners[0].telecom', '$.practitioners[1].telecom']);
    const unknown = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
    const roles = resources.filter((r) => r.resourceType === 'PractitionerRole') as Record<string, any>[];
    expect(roles.map((r) => r.telecom)).toEqual([[{ _system: unknown, _value: unknown }], [{ _system: unknown, _value: unknown }]]);
    const usCore = Validator.create({ igPackages: [join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz')] });
    for (const role of roles) expect(usCore.validate(role).issues.filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('NARRATIVE=all', () => {
  test('reads the environment: all, else required', () => {
    expect(narrativeModeFromEnv({ NARRATIVE: 'all' })).toBe('all');
    expect(narrativeModeFromEnv({})).toBe('required');
    expect(narrativeModeFromEnv({ NARRATIVE: 'none' })).toBe('required');
  });

  test('every resource gets a generated narrative, and dom-6 no longer warns', async () => {
    const dom6 = (list: Resource[]) => list.flatMap((r) => validator.validate(r).issues.filter((i) => /dom-6/.test(i.details?.text ?? '')));
    const required = await run(EXAMPLE, { narrative: 'required' });
    expect(dom6(required.resources).length).toBeGreaterThan(10);
    const all = await run(EXAMPLE, { narrative: 'all' });
    expect(all.report.summary.rejected).toBe(0);
    expect(all.resources.length).toBe(required.resources.length);
    expect(all.resources.every((r) => (r as { text?: { status: string } }).text?.status === 'generated')).toBe(true);
    expect(dom6(all.resources)).toEqual([]);
  });

  test('the narrative is made from the content, escaped', () => {
    const text = generatedNarrative({
      resourceType: 'Goal',
      lifecycleStatus: 'active',
      description: { text: 'Walk <every> day & rest' },
      subject: { reference: 'Patient/1' },
    });
    expect(text.div).toBe(
      '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Goal</b></p><table><tr><th>lifecycleStatus</th><td>active</td></tr><tr><th>description</th><td>Walk &lt;every&gt; day &amp; rest</td></tr><tr><th>subject</th><td>Patient/1</td></tr></table></div>',
    );
  });
});

describe('HCPCS: both spellings accepted on input', () => {
  test("an Encounter and a ChargeItem with US Core's https:// spelling validate; another system is an error", async () => {
    const { resources } = await run(EXAMPLE);
    const encounter = structuredClone(resources.find((r) => r.resourceType === 'Encounter')) as Record<string, any>;
    const charge = structuredClone(resources.find((r) => r.resourceType === 'ChargeItem')) as Record<string, any>;
    expect(encounter.type[0].coding[0].system).toBe('http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets');
    for (const [r, coding] of [
      [encounter, encounter.type[0].coding[0]],
      [charge, charge.code.coding[0]],
    ]) {
      coding.system = 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets';
      expect(validator.validate(r).issues.filter((i) => i.severity === 'error')).toEqual([]);
      coding.system = 'http://example.org/billing';
      expect(
        validator
          .validate(r)
          .issues.filter((i) => i.severity === 'error')
          .map((i) => i.details?.text),
      ).toEqual([expect.stringMatching(/pb-hcpcs-[12]/)]);
    }
  });

  test("ServiceRequest.code carries H0038 in US Core's spelling (US Core binds HCPCS there)", async () => {
    const { resources } = await run(EXAMPLE);
    const sr = resources.find((r) => r.resourceType === 'ServiceRequest') as Record<string, any>;
    expect(sr.code.coding).toContainEqual(expect.objectContaining({ system: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'H0038' }));
  });
});
