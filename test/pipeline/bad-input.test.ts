/**
 * Bad input (issue 3, "Bad input"): each bad record of examples/canonical/bad-records.json is
 * rejected with exactly one clear error at its JSON path, the good records around it still go
 * through, and the counts per record kind say exactly what was accepted. Then the file-level
 * cases: no source, and top-level shapes that are not a canonical object.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import { scanTopLevel } from '../../src/inbound/json-records';
import type { PipelineDeps, RecordKind, RecordResult } from '../../src/pipeline/canonical';
import { documentEvents, translateCanonical, type TranslateReport } from '../../src/pipeline/translate-canonical';
import { Validator } from '../../src/validation';

const FILE = join(__dirname, '..', '..', 'examples', 'canonical', 'bad-records.json');
const NOW = new Date('2026-11-22T12:00:00Z');

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

interface Run {
  report: TranslateReport;
  /** Accepted records by path, with the resources made from each. */
  accepted: Map<string, { result: RecordResult; resources: Resource[] }>;
}

async function run(doc: unknown): Promise<Run> {
  const accepted = new Map<string, { result: RecordResult; resources: Resource[] }>();
  const report = await translateCanonical(documentEvents(doc), deps, (resources, result) => {
    accepted.set(result.path, { result, resources });
  });
  return { report, accepted };
}

const errors = (report: TranslateReport): OperationOutcomeIssue[] => report.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
/** Issues at a record's path or below it. */
const under = (issues: OperationOutcomeIssue[], path: string) =>
  issues.filter((i) => {
    const e = i.expression?.[0] ?? '';
    return e === path || e.startsWith(`${path}.`) || e.startsWith(`${path}[`);
  });

describe('examples/canonical/bad-records.json', () => {
  let result: Run;
  beforeAll(async () => {
    result = await run(JSON.parse(readFileSync(FILE, 'utf8')));
  });

  /** [case, record path, issue path, message]: the one error each bad record gets. */
  const BAD: [string, string, string, RegExp][] = [
    ['wrong type (a number for a date)', '$.people[3]', '$.people[3].birthDate', /^Expected a date as YYYY-MM-DD$/],
    ['wrong type (a string for minutes)', '$.episodes[0].contacts[5]', '$.episodes[0].contacts[5].durationMinutes', /expected number, received string/],
    [
      'unknown code (intervention "yoga")',
      '$.episodes[0].contacts[4]',
      '$.episodes[0].contacts[4].interventions[1]',
      /^Invalid option: expected one of "self-help"\|/,
    ],
    ['unknown code (episode status "open")', '$.episodes[1]', '$.episodes[1].status', /^Invalid option: expected one of "planned"\|/],
    [
      'a contact ending before it starts',
      '$.episodes[0].contacts[3]',
      '$.episodes[0].contacts[3].end',
      /^The contact ends \(2026-10-20T12:15:00-07:00\) before or when it starts \(2026-10-20T13:00:00-07:00\)$/,
    ],
    ['a 0-minute contact', '$.episodes[0].contacts[1]', '$.episodes[0].contacts[1].durationMinutes', /^A contact lasts at least 1 minute$/],
    ['a 2000-minute contact', '$.episodes[0].contacts[2]', '$.episodes[0].contacts[2].durationMinutes', /^A contact lasts at most 1440 minutes/],
    ['an IRC answer of 0', '$.recoveryCapital[1]', '$.recoveryCapital[1].answers[4]', /^Ratings run from 1 to 5, got 0$/],
    ['an IRC answer of 6', '$.recoveryCapital[2]', '$.recoveryCapital[2].answers[10]', /^Ratings run from 1 to 5, got 6$/],
    ['a future birth date', '$.people[1]', '$.people[1].birthDate', /^2030-05-01 is in the future$/],
    ['a future start of a finished contact', '$.episodes[0].contacts[6]', '$.episodes[0].contacts[6].start', /^2026-12-01T13:00:00-08:00 is in the future$/],
    ['a future review date', '$.episodes[0].eligibilityReviews[1]', '$.episodes[0].eligibilityReviews[1].date', /^2027-01-10T10:00:00-08:00 is in the future$/],
    ['a duplicate contact id', '$.episodes[0].contacts[7]', '$.episodes[0].contacts[7].id', /^Duplicate contact id "LS-C-1"/],
    [
      'a review with no criteria',
      '$.episodes[0].eligibilityReviews[2]',
      '$.episodes[0].eligibilityReviews[2].criteria',
      /^A review needs at least one criterion$/,
    ],
    ['an unknown property', '$.people[2]', '$.people[2]', /^Unknown property "nickname": not part of the canonical model/],
    [
      'a criterion not part of the review type',
      '$.episodes[0].eligibilityReviews[3]',
      '$.episodes[0].eligibilityReviews[3].criteria.discharge-A',
      /^Criterion discharge-A is not part of a continued-stay review/,
    ],
    // The records of an episode whose header is bad are rejected because of it (and only that).
    [
      'a review of the bad episode',
      '$.episodes[1].eligibilityReviews[0]',
      '$.episodes[1].eligibilityReviews[0]',
      /^Not translated: its episode \$\.episodes\[1\] was rejected$/,
    ],
    ['a contact of the bad episode', '$.episodes[1].contacts[0]', '$.episodes[1].contacts[0]', /^Not translated: its episode \$\.episodes\[1\] was rejected$/],
    ['the plan of the bad episode', '$.episodes[1].recoveryPlan', '$.episodes[1].recoveryPlan', /^Not translated: its episode \$\.episodes\[1\] was rejected$/],
  ];

  it.each(BAD)('%s: rejected with one error at its path', (_case, recordPath, issuePath, message) => {
    // Children of a record have their own rows: only count the issues that belong to this record.
    const own = under(errors(result.report), recordPath).filter(
      (i) => recordPath !== '$.episodes[1]' || !/^\$\.episodes\[1\]\.(eligibilityReviews|contacts|recoveryPlan)/.test(i.expression?.[0] ?? ''),
    );
    expect(own.map((i) => i.expression?.[0])).toEqual([issuePath]);
    expect(own[0].details?.text).toMatch(message);
    expect(own[0].diagnostics).toMatch(/^stage: (canonical|rules)$/);
    expect(result.accepted.has(recordPath)).toBe(false);
  });

  it('reports no other error', () => {
    expect(
      errors(result.report)
        .map((i) => i.expression?.[0])
        .sort(),
    ).toEqual(BAD.map(([, , issuePath]) => issuePath).sort());
  });

  it('accepts exactly the good records', () => {
    expect([...result.accepted.keys()].sort()).toEqual(
      [
        '$.organizations[0]',
        '$.practitioners[0]',
        '$.practitioners[1]',
        '$.people[0]',
        '$.episodes[0]',
        '$.episodes[0].eligibilityReviews[0]',
        '$.episodes[0].contacts[0]',
        '$.episodes[0].contacts[8]',
        '$.episodes[0].recoveryPlan',
        '$.recoveryCapital[0]',
        '$.recoveryCapital[3]',
        '$.supervisorAssessments[0]',
      ].sort(),
    );
  });

  it('counts what was accepted and rejected per record kind', () => {
    const c = (read: number, accepted: number) => ({ read, accepted, rejected: read - accepted });
    const byKind: Record<RecordKind, { read: number; accepted: number; rejected: number }> = {
      organization: c(1, 1),
      practitioner: c(2, 2),
      person: c(4, 1),
      episode: c(2, 1),
      'eligibility-review': c(5, 1),
      contact: c(10, 2),
      'recovery-plan': c(2, 1),
      'recovery-capital': c(4, 2),
      'supervisor-assessment': c(1, 1),
    };
    expect(result.report.summary.byKind).toEqual(byKind);
    expect(result.report.summary).toMatchObject({ read: 31, accepted: 12, rejected: 19 });
    expect(result.report.summary.resources).toBe([...result.accepted.values()].reduce((n, a) => n + a.resources.length, 0));
    expect(result.report.fatal).toBeUndefined();
  });

  it('a missing IRC item: accepted with a warning naming the item, and no total Observation', () => {
    const warnings = under(result.report.outcome.issue, '$.recoveryCapital[3]');
    expect(warnings).toEqual([expect.objectContaining({ severity: 'warning', code: 'incomplete', expression: ['$.recoveryCapital[3].answers[6]'] })]);
    expect(warnings[0].details?.text).toBe('No total: item 7 (irc-7) not answered');
    const made = result.accepted.get('$.recoveryCapital[3]')?.resources ?? [];
    expect(made.map((r) => r.resourceType)).toEqual(['QuestionnaireResponse']);
    expect(made[0]).toMatchObject({ status: 'in-progress' });
    // The complete administration does get its total.
    expect(result.accepted.get('$.recoveryCapital[0]')?.resources.map((r) => r.resourceType)).toEqual(['QuestionnaireResponse', 'Observation']);
    expect(result.report.summary.recoveryCapitalChanges.map((c) => c.administrationId)).toEqual(['LS-IRC-1']);
  });

  it('labels the records of the Part 2 program', () => {
    const patient = result.accepted.get('$.people[0]')?.resources[0];
    expect(patient?.meta?.security?.map((s) => s.code)).toEqual(['R', '42CFRPart2', 'ETH']);
  });

  it('gives the same report when the file is streamed', async () => {
    const text = readFileSync(FILE, 'utf8');
    const streamed = await translateCanonical(scanTopLevel([text]), deps, () => undefined);
    // Same summary and issues; a parsed document takes episodes before people, so the order may differ.
    const key = (i: { expression?: string[]; details?: { text?: string } }) => `${i.expression?.[0]} ${i.details?.text}`;
    expect(streamed.summary).toEqual(result.report.summary);
    expect(streamed.outcome.issue.map(key).sort()).toEqual(result.report.outcome.issue.map(key).sort());
  });
});

describe('file-level problems', () => {
  it('no source: every record rejected, with one clear issue each and one for the file', async () => {
    const doc = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
    delete doc.source;
    const { report, accepted } = await run(doc);
    expect(accepted.size).toBe(0);
    expect(report.summary.accepted).toBe(0);
    expect(report.summary.read).toBe(report.summary.rejected);
    // Children of episodes are not read without their episode: one issue per top-level record.
    const topLevel = (['organizations', 'practitioners', 'people', 'episodes', 'recoveryCapital', 'supervisorAssessments'] as const).reduce(
      (n, k) => n + (doc[k] as unknown[]).length,
      0,
    );
    expect(report.summary.read).toBe(topLevel);
    const issues = errors(report);
    const file = issues.filter((i) => i.expression?.[0] === '$.source' && /^Missing "source"/.test(i.details?.text ?? ''));
    expect(file).toHaveLength(1);
    const perRecord = issues.filter((i) => i !== file[0]);
    expect(perRecord).toHaveLength(topLevel);
    for (const i of perRecord) {
      expect(i).toMatchObject({ severity: 'error', code: 'required', expression: ['$.source'] });
      expect(i.details?.text).toBe('The file has no valid "source" (the URI of the source system) before its records');
    }
  });

  it('a source that is not a URI: the same, naming the problem', async () => {
    const { report, accepted } = await run({ source: 'riverbend ehr', people: [{ id: 'p1', name: { family: 'Reyes' } }] });
    expect(accepted.size).toBe(0);
    expect(errors(report)[0]).toMatchObject({ expression: ['$.source'], details: { text: expect.stringMatching(/absolute URI/) } });
    expect(report.summary.byKind).toEqual({ person: { read: 1, accepted: 0, rejected: 1 } });
  });

  it.each<[string, unknown, RegExp]>([
    ['an array', [{ source: 'http://x.example.org' }], /got an array/],
    ['null', null, /got null/],
    ['a string', 'source', /got string/],
    ['a number', 42, /got number/],
  ])('a top-level %s: one fatal issue, nothing read', async (_name, doc, message) => {
    const { report, accepted } = await run(doc);
    expect(accepted.size).toBe(0);
    expect(report.summary.read).toBe(0);
    const fatal = report.outcome.issue.filter((i) => i.severity === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0].expression).toEqual(['$']);
    expect(fatal[0].details?.text).toMatch(message);
    expect(report.fatal).toMatch(/^A canonical file is a JSON object/);
  });

  it('a collection that is not an array, and an unknown top-level property: errors at their paths, the rest goes through', async () => {
    const { report, accepted } = await run({
      source: 'http://x.example.org/ehr',
      organizations: [{ id: 'o1', name: 'Org' }],
      people: { id: 'p1' },
      nickname: 'x',
    });
    expect([...accepted.keys()]).toEqual(['$.organizations[0]']);
    expect(errors(report).map((i) => [i.expression?.[0], i.details?.text])).toEqual([
      ['$.nickname', expect.stringMatching(/^Unknown property "nickname"/)],
      ['$.people', 'Expected an array of records, got object'],
    ]);
  });
});
