/**
 * Edge cases of the canonical pipeline: inputs that once crashed a run or slipped through.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import { fromFhir } from '../../src/fhir/from-fhir';
import { putEntry } from '../../src/fhir/bundle';
import { scanTopLevel } from '../../src/inbound/json-records';
import { documentEvents, translateCanonical } from '../../src/pipeline/translate-canonical';
import { Validator } from '../../src/validation';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'canonical', 'riverbend-dana-whitfield.json');
const example = () => JSON.parse(readFileSync(EXAMPLE, 'utf8'));
let deps: Parameters<typeof translateCanonical>[1];
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-11-22T12:00:00Z') };
});

async function run(doc: unknown) {
  const resources: Resource[] = [];
  const report = await translateCanonical(documentEvents(doc), deps, (r) => {
    resources.push(...r);
  });
  const errors = report.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return { report, resources, errors, paths: errors.map((i) => i.expression?.[0]) };
}

test('an offset outside -14:00..+14:00 is a per-record error, not a crash', async () => {
  const doc = example();
  doc.episodes[0].contacts[0].start = '2026-09-15T10:00:00+24:00';
  const { paths, report } = await run(doc);
  expect(paths).toEqual(['$.episodes[0].contacts[0].start']);
  expect(report.summary.accepted).toBe(14);
});

test('contacts that are not an array are counted as rejected', async () => {
  const doc = example();
  doc.episodes[0].contacts = { 'C-1': {} };
  const { report, paths } = await run(doc);
  expect(paths).toEqual(['$.episodes[0].contacts']);
  expect(report.summary.byKind.contact).toEqual({ read: 1, accepted: 0, rejected: 1 });
});

test('a "__proto__" criterion is an error, not dropped', async () => {
  const doc = JSON.parse(readFileSync(EXAMPLE, 'utf8').replace('"service-A": "not-met"', '"__proto__": "met", "service-A": "not-met"'));
  const { paths } = await run(doc);
  expect(paths).toEqual(['$.episodes[0].eligibilityReviews[0].criteria']);
});

test('a finished contact or episode ending in the future is an error', async () => {
  const doc = example();
  doc.episodes[0].contacts[0].start = '2026-11-22T11:00:00Z';
  doc.episodes[0].contacts[0].durationMinutes = 1440;
  delete doc.episodes[0].contacts[0].end;
  const { paths } = await run(doc);
  expect(paths).toEqual(['$.episodes[0].contacts[0].end']);
});

test('end and durationMinutes must agree to the minute', async () => {
  const doc = example();
  doc.episodes[0].contacts[2].durationMinutes = 91;
  const { paths } = await run(doc);
  expect(paths).toEqual(['$.episodes[0].contacts[2].durationMinutes']);
});

test('goal ids with "/" never collide across plans, and come back unchanged', async () => {
  const doc = example();
  const plan = doc.episodes[0].recoveryPlan;
  plan.id = 'p/1';
  plan.goals[0].id = 'g';
  plan.goals[1].id = '1/g';
  plan.activities[0].goalIds = ['g', '1/g', 'G3'];
  const { resources, errors } = await run(doc);
  expect(errors).toEqual([]);
  const goals = resources.filter((r) => r.resourceType === 'Goal').map((r) => r.id);
  expect(new Set(goals).size).toBe(3);
  const back = fromFhir({ resourceType: 'Bundle', type: 'transaction', entry: resources.map(putEntry) });
  expect(back.episodes[0].recoveryPlan?.goals.map((g) => g.id)).toEqual(['g', '1/g', 'G3']);
  expect(back.episodes[0].recoveryPlan?.activities[0].goalIds).toEqual(['g', '1/g', 'G3']);
});

test('a person with an episode at a Part 2 program is labelled, whichever collection comes first', async () => {
  const doc = example();
  doc.organizations.push({ id: 'SUD-1', name: 'Riverbend SUD program', part2Program: true });
  doc.episodes[0].organizationId = 'SUD-1';
  const { resources } = await run(doc);
  // The person's records, not the supervisor's self-assessment.
  const personal = resources.filter((r) => !(r.resourceType === 'QuestionnaireResponse' && r.questionnaire?.includes('supervisor')));
  const labelled = (type: string) => personal.filter((r) => r.resourceType === type).every((r) => r.meta?.security?.some((c) => c.code === '42CFRPart2'));
  for (const type of ['Patient', 'EpisodeOfCare', 'Encounter', 'ChargeItem', 'QuestionnaireResponse', 'Observation', 'CarePlan', 'Goal']) {
    expect([type, labelled(type)]).toEqual([type, true]);
  }
});

describe('the streaming scanner', () => {
  const events = async (text: string) => {
    const out = [];
    for await (const e of scanTopLevel([text])) out.push(e);
    return out;
  };

  test('skips a byte-order mark before the object', async () => {
    expect(await events('\uFEFF{"source": "urn:x", "people": [{"id": "a"}]}')).toEqual([
      { type: 'property', key: 'source', value: 'urn:x' },
      { type: 'item', collection: 'people', index: 0, value: { id: 'a' }, line: 1 },
    ]);
  });

  test('a bad escape in a property name is an error event, not an exception', async () => {
    const out = await events('{"source": "urn:x", "pe\\qople": []}');
    expect(out.at(-1)).toMatchObject({ type: 'error', message: expect.stringMatching(/property name is not valid JSON \(line 1, column \d+/) });
  });

  test('a collection given twice stops the run with a fatal issue naming it', async () => {
    const text = '{"source": "http://x.example.org", "people": [{"id": "a", "name": {"given": ["A"]}}], "people": [{"id": "b", "name": {"given": ["B"]}}]}';
    const report = await translateCanonical(scanTopLevel([text]), deps, () => undefined);
    expect(report.fatal).toMatch(/"people" appears twice/);
    expect(report.summary.accepted).toBe(1);
  });
});

test('the daily-cap ledger is bounded: a contact on a day it released is billed and warned about, not dropped', async () => {
  const doc = example();
  // C-10001 (09-15) and C-10002 (09-22) fill a ledger of one contact: 09-15 is released.
  const late = { ...doc.episodes[0].contacts[1], id: 'C-10099', start: '2026-09-15T15:00:00-05:00' };
  doc.episodes[0].contacts.splice(2, 0, late);
  const resources: Resource[] = [];
  const report = await translateCanonical(documentEvents(doc), { ...deps, ledgerMaxContacts: 1 }, (r) => {
    resources.push(...r);
  });
  const released = report.outcome.issue.filter((i) => /released that person's day/.test(i.details?.text ?? ''));
  expect(released.map((i) => i.expression?.[0])).toEqual(['$.episodes[0].contacts[2].start']);
  expect(released[0].severity).toBe('warning');
  expect(report.summary.byKind.contact).toEqual({ read: 6, accepted: 6, rejected: 0 });
  const charges = resources.filter((r) => r.resourceType === 'ChargeItem');
  expect(charges).toHaveLength(4);
});
