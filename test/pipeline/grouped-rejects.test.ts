/**
 * Rejects a person can act on, for feeds that group rows into one record (issue 13 item 3): the
 * reject is the row that failed, with its own line and raw text; the group's other rows are
 * accepted (or rejected) on their own; rows and groups are counted apart; an error names the
 * column that caused it; one empty column read by several targets is said once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { translateSource, type RejectRecord, type SourceRunReport } from '../../src/pipeline/translate-source';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';
import { formatSourceReport } from '../../src/cli/translate';

const NOW = new Date('2026-11-22T12:00:00Z');

const MAPPING = `name: grouped-test
title: Grouped test EHR
system: https://ehr.grouped.example.org
format: csv
timezone: America/New_York
tables:
  status: { target: contact-status, codes: { Kept: finished, No Show: no-show } }
  mode: { target: contact-mode, codes: { Phone: telephone, Video: video } }
  criterion: { target: criterion, codes: { A: service-A, B: service-B, X: exclusion-A } }
  result: { target: criterion-status, codes: { Y: met, N: not-met } }
feeds:
  staff:
    match: "staff.csv"
    order: 1
    records:
      - record: practitioner
        fields:
          id: StaffId
          role: { const: peer-specialist }
          organizationId: { const: org-1 }
          name.family: Last
          name.given: First
          credential.code: { const: paraprofessional-peer }
  visits:
    match: "visits.csv"
    order: 2
    group: { by: [ClientNo] }
    records:
      - record: person
        fields:
          id: ClientNo
          name.family: Last
          organizationId: { const: org-1 }
      - record: episode
        fields:
          id: { from: ClientNo, transform: { template: "ep-{}" } }
          personId: ClientNo
          organizationId: { const: org-1 }
          status: { const: active }
          start: { from: Enrolled, transform: { date: "MM/dd/yyyy" } }
          contacts:
            each: rows
            fields:
              id: { from: [ClientNo, SvcDate, StartTime], transform: hash }
              status: { from: Status, table: status }
              start: { from: [SvcDate, StartTime], transform: [{ join: " " }, { datetime: "MM/dd/yyyy HH:mm" }] }
              end: { from: [SvcDate, EndTime], transform: [{ join: " " }, { datetime: "MM/dd/yyyy HH:mm" }] }
              mode: { from: Type, table: mode }
              specialistId: Staff
  reviews:
    match: "reviews.csv"
    order: 3
    group: { by: [ReviewID] }
    records:
      - record: eligibility-review
        fields:
          id: ReviewID
          episode.id: { from: ClientNo, transform: { template: "ep-{}" } }
          type: { const: admission }
          date: { from: Date, transform: [{ datetime: "MM/dd/yyyy HH:mm" }] }
          criteria: { each: rows, key: { from: Criterion, table: criterion }, value: { from: Result, table: result } }
`;

const STAFF = 'StaffId,Last,First\nS1,Lopez,Marisol\n';

// 12 rows, 5 clients. Line 6: ends before it starts; line 9: no ClientNo; line 12: an unknown mode.
const VISITS = `ClientNo,Last,Enrolled,SvcDate,StartTime,EndTime,Status,Staff,Type
1001,Avila,09/01/2026,09/15/2026,10:00,10:50,Kept,S1,Phone
1001,Avila,09/01/2026,09/22/2026,10:00,10:45,Kept,S1,Phone
1002,Baker,09/02/2026,09/16/2026,14:30,15:00,Kept,S1,Video
1002,Baker,09/02/2026,09/23/2026,14:30,14:00,Kept,S1,Video
1002,Baker,09/02/2026,09/30/2026,14:30,15:10,Kept,S1,Video
1003,Chen,09/03/2026,09/17/2026,09:00,09:30,Kept,S1,Phone
1003,Chen,09/03/2026,09/24/2026,09:00,09:40,Kept,S1,Phone
,Doyle,09/04/2026,09/18/2026,11:00,11:30,Kept,S1,Phone
1004,Doyle,09/04/2026,09/25/2026,11:00,11:30,Kept,S1,Phone
1005,Evans,09/05/2026,09/19/2026,13:00,13:30,Kept,S1,Phone
1005,Evans,09/05/2026,09/26/2026,13:00,13:30,Kept,S1,Carrier pigeon
1005,Evans,09/05/2026,10/03/2026,13:00,13:30,Kept,S1,Video
`;

// Review R-1's row on line 3 has a criterion code the table does not know: that row alone is rejected.
const REVIEWS = `ReviewID,ClientNo,Date,Criterion,Result
R-1,1001,09/01/2026 09:00,A,Y
R-1,1001,09/01/2026 09:00,Q,N
R-1,1001,09/01/2026 09:00,X,N
`;

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

async function run(files: Record<string, string>): Promise<{ report: SourceRunReport; rejects: RejectRecord[]; resources: Resource[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-grouped-'));
  const file = join(dir, 'grouped-test.yaml');
  writeFileSync(file, MAPPING);
  const source = loadSource(file);
  const rejects: RejectRecord[] = [];
  const resources: Resource[] = [];
  const inputs = Object.entries(files).map(([name, text]) => ({ name, chunks: [Buffer.from(text)] }));
  const report = await translateSource(source, inputs, deps, (list) => void resources.push(...list), { onReject: (r) => void rejects.push(r) });
  return { report, rejects, resources };
}

const errorLines = (report: SourceRunReport): string[] => report.outcome.issue.filter((i) => i.severity === 'error').map((i) => i.details?.text ?? '');

describe('grouped feeds: rejects are rows', () => {
  test('a bad contact row is rejected alone, with its own line and raw text; rows and groups are counted apart', async () => {
    const { report, rejects, resources } = await run({ 'staff.csv': STAFF, 'visits.csv': VISITS });
    const visits = rejects.filter((r) => r.feed === 'visits');
    expect(visits.map((r) => [r.where, r.kind, r.raw])).toEqual([
      ['line 5', 'contact', '1002,Baker,09/02/2026,09/23/2026,14:30,14:00,Kept,S1,Video'],
      ['line 9', undefined, ',Doyle,09/04/2026,09/18/2026,11:00,11:30,Kept,S1,Phone'],
      ['line 12', 'contact', '1005,Evans,09/05/2026,09/26/2026,13:00,13:30,Kept,S1,Carrier pigeon'],
    ]);
    expect(visits[0].record).toBe(4);
    // The end-before-start error names EndTime, the column that is end's own, not SvcDate (the first of the join).
    expect(visits[0].errors).toEqual([
      {
        field: 'contacts[1].end',
        source: 'line 5, column "EndTime"',
        reason: 'The contact ends (2026-09-23T14:00:00-04:00) before or when it starts (2026-09-23T14:30:00-04:00)',
        stage: 'canonical',
      },
    ]);
    expect(visits[2].errors[0]).toMatchObject({ field: 'contacts[1].mode', source: 'line 12, column "Type"' });
    // 13 rows (1 staff + 12 visits): 3 rejected; 5 groups of visits (the row without ClientNo is in none).
    expect(report.records).toEqual({ read: 13, accepted: 10, rejected: 3, skipped: 0, groups: { read: 5, accepted: 3, rejected: 2 } });
    const text = formatSourceReport(report);
    expect(text).toContain('Source records: 13 read, 10 accepted, 3 rejected');
    expect(text).toContain('Groups of rows (feeds with group; rows counted above): 5 read, 3 accepted, 2 with a rejected row');
    expect(report.inputs.map((i) => [i.name, i.read])).toEqual([
      ['staff.csv', 1],
      ['visits.csv', 12],
    ]);
    // The other rows of 1002's and 1005's groups are accepted: their episodes hold 2 contacts each.
    const encounters = resources.filter((r) => r.resourceType === 'Encounter');
    expect(encounters).toHaveLength(12 - 3);
    expect(errorLines(report)).toEqual([
      'visits.csv line 5, column "EndTime": The contact ends (2026-09-23T14:00:00-04:00) before or when it starts (2026-09-23T14:30:00-04:00)',
      'visits.csv line 9: group key ClientNo is empty',
      expect.stringMatching(/^visits\.csv line 12, column "Type": /),
    ]);
  });

  test('a row that breaks a one-record group is rejected alone and the record is made from the other rows', async () => {
    const { report, rejects, resources } = await run({ 'staff.csv': STAFF, 'visits.csv': VISITS, 'reviews.csv': REVIEWS });
    const reviews = rejects.filter((r) => r.feed === 'reviews');
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ record: 2, where: 'line 3', kind: 'eligibility-review', id: 'R-1', raw: 'R-1,1001,09/01/2026 09:00,Q,N' });
    expect(reviews[0].errors[0]).toMatchObject({ source: 'line 3, column "Criterion"' });
    // The review is made from lines 2 and 4 and counted once.
    expect(report.summary.byKind['eligibility-review']).toEqual({ read: 1, accepted: 1, rejected: 0 });
    const reviewInput = report.inputs.find((i) => i.name === 'reviews.csv');
    expect(reviewInput?.read).toBe(3);
    const observations = resources.filter((r) => r.resourceType === 'Observation');
    expect(observations.length).toBeGreaterThan(0);
    expect(report.records.groups).toEqual({ read: 6, accepted: 3, rejected: 3 });
  });

  test('a group whose every row fails is rejected to the last row, never counted as accepted', async () => {
    const reviews = `ReviewID,ClientNo,Date,Criterion,Result
${['A', 'B', 'X', 'A', 'B'].map((c) => `R-9,1001,not a date,${c},Y`).join('\n')}
`;
    const { report, rejects } = await run({ 'staff.csv': STAFF, 'visits.csv': VISITS, 'reviews.csv': reviews });
    const mine = rejects.filter((r) => r.feed === 'reviews');
    // Rows 2-4 are each rejected on their own (the record is tried again from the rows after);
    // after three tries the rows left are rejected together.
    expect(mine.map((r) => r.where)).toEqual(['line 2', 'line 3', 'line 4', 'lines 5-6']);
    expect(mine.every((r) => r.errors.every((e) => e.field === 'date'))).toBe(true);
    expect(report.inputs.find((i) => i.name === 'reviews.csv')?.read).toBe(5);
    expect(report.records.rejected).toBe(3 + 5);
    expect(report.summary.byKind['eligibility-review']).toEqual({ read: 1, accepted: 0, rejected: 1 });
  });

  test('one empty column read by several targets is said once (examples/mappings/acme-csv.yaml)', async () => {
    const source = loadSource(join(__dirname, '..', '..', 'examples', 'mappings', 'acme-csv.yaml'));
    const clients = 'ClientNo,Last,First,DOB,Gender,Enrolled,Program\n,Lopez,Ana,01/02/1980,F,09/01/2026,PS\n';
    const rejects: RejectRecord[] = [];
    const report = await translateSource(source, [{ name: 'clients.csv', chunks: [clients] }], deps, () => undefined, {
      onReject: (r) => void rejects.push(r),
    });
    // person.id, episode.id and episode.personId all come from the empty ClientNo: one line, not three.
    expect(errorLines(report)).toEqual(['clients.csv line 2, column "ClientNo": Invalid input: expected string, received undefined']);
    expect(rejects.map((r) => [r.kind, r.errors.map((e) => e.field)])).toEqual([
      ['person', ['id']],
      ['episode', ['id', 'personId']],
    ]);
    expect(report.records).toEqual({ read: 1, accepted: 0, rejected: 1, skipped: 0 });
  });
});
