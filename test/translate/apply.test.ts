import type { SourceRecord } from '../../src/inbound/source';
import { jsonScope } from '../../src/inbound/json-source';
import { type Feed, type LoadedSource, loadSource, mapRecord } from '../../src/translate';
import { csvRecords, hl7Record, jsonRecord, sourceYaml, writeMapping } from './helpers';

function load(format: 'csv' | 'json' | 'hl7v2', feed: string, tables?: string): { source: LoadedSource; feed: Feed } {
  const files: Record<string, string> = { 'source.yaml': sourceYaml(format), 'feed.yaml': feed };
  if (tables) files['tables.yaml'] = tables;
  const source = loadSource(writeMapping(files));
  return { source, feed: source.feeds[0] };
}

function one(source: LoadedSource, feed: Feed, record: SourceRecord) {
  const out = mapRecord(source, feed, record);
  expect(out.issues).toEqual([]);
  return out.results;
}

describe('field rules on a CSV row', () => {
  const { source, feed } = load(
    'csv',
    `match: "*.csv"
records:
  - record: contact
    fields:
      id: ContactID
      episode.id: EpisodeID
      episode.personId: { from: ClientID, transform: [{ template: "rb-{}" }] }
      episode.organizationId: { const: riverbend }
      start: { from: [ServiceDate, StartTime], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }], required: true }
      durationMinutes: { from: Minutes, transform: [integer], required: true }
      mode: { from: Mode, default: in-person }
      placeOfService: { const: 53 }
      group: { from: Group, transform: [boolean], default: false }
      interventions: { from: Interventions, transform: [{ split: ";" }] }
      supportTypes: { from: [Support1, Support2, Support3] }
      specialistId: Staff
      note: Note
`,
  );
  const header = [
    'ContactID',
    'EpisodeID',
    'ClientID',
    'ServiceDate',
    'StartTime',
    'Minutes',
    'Mode',
    'Group',
    'Interventions',
    'Support1',
    'Support2',
    'Support3',
    'Staff',
    'Note',
  ];

  test('a full row: values, episode targets apart, trace of every target', () => {
    const [rec] = csvRecords(
      header,
      [
        [
          'C-1',
          'E-7',
          '1001',
          '09/15/2026',
          '10:00 AM',
          '52',
          'video',
          'Y',
          'self-help; pre-crisis-support',
          'emotional',
          '',
          'affiliational',
          'S-17',
          '  Met at the clinic  ',
        ],
      ],
      13,
    );
    const [r] = one(source, feed, rec);
    expect(r.kind).toBe('contact');
    expect(r.issues).toEqual([]);
    expect(r.episode).toEqual({ id: 'E-7', personId: 'rb-1001', organizationId: 'riverbend' });
    expect(r.value).toEqual({
      id: 'C-1',
      start: '2026-09-15T10:00:00-05:00',
      durationMinutes: 52,
      mode: 'video',
      placeOfService: '53',
      group: true,
      interventions: ['self-help', 'pre-crisis-support'],
      supportTypes: ['emotional', 'affiliational'],
      specialistId: 'S-17',
      note: 'Met at the clinic',
    });
    expect(r.trace).toEqual({
      id: 'line 13, column "ContactID"',
      'episode.id': 'line 13, column "EpisodeID"',
      'episode.personId': 'line 13, column "ClientID"',
      start: 'line 13, column "ServiceDate"',
      durationMinutes: 'line 13, column "Minutes"',
      mode: 'line 13, column "Mode"',
      group: 'line 13, column "Group"',
      interventions: 'line 13, column "Interventions"',
      'interventions[0]': 'line 13, column "Interventions"',
      'interventions[1]': 'line 13, column "Interventions"',
      supportTypes: 'line 13, column "Support1"',
      'supportTypes[0]': 'line 13, column "Support1"',
      'supportTypes[1]': 'line 13, column "Support3"',
      specialistId: 'line 13, column "Staff"',
      note: 'line 13, column "Note"',
    });
  });

  test('errors name the target, the source place and the value; absent values are traced to where they would be', () => {
    const [rec] = csvRecords(header, [['C-2', 'E-7', '1001', '09/15/2026', '', '4O', '', 'maybe', '', '', '', '', '', '']], 13);
    const [r] = one(source, feed, rec);
    expect(r.issues).toEqual([
      { severity: 'error', field: 'start', source: 'line 13, column "ServiceDate"', message: "'09/15/2026' does not match the date format MM/dd/yyyy h:mm a" },
      { severity: 'error', field: 'durationMinutes', source: 'line 13, column "Minutes"', message: "Not a whole number: '4O'" },
      { severity: 'error', field: 'group', source: 'line 13, column "Group"', message: expect.stringMatching(/^Not a yes\/no value: 'maybe'/) },
    ]);
    expect(r.value).toEqual({ id: 'C-2', mode: 'in-person', placeOfService: '53' });
    expect(r.trace.mode).toBe('line 13, column "Mode"');
    expect(r.trace.specialistId).toBe('line 13, column "Staff"');
    expect(r.trace.note).toBe('line 13, column "Note"');
  });

  test('required: an absent value is an error naming the column that was read', () => {
    const [rec] = csvRecords(header, [['C-3', 'E-7', '1001', '', '', ' ', 'video', '', '', '', '', '', 'S-1', '']], 13);
    const [r] = one(source, feed, rec);
    expect(r.issues).toEqual([
      { severity: 'error', field: 'start', source: 'line 13, column "ServiceDate"', message: 'Required, but ServiceDate has no value' },
      { severity: 'error', field: 'durationMinutes', source: 'line 13, column "Minutes"', message: 'Required, but Minutes has no value' },
    ]);
  });

  test('a copy of the feed object works too (its rules are found by name)', () => {
    const [rec] = csvRecords(header, [['C-9', 'E-7', '1001', '09/15/2026', '10:00 AM', '52', 'video', '', '', '', '', '', 'S-1', '']], 13);
    expect(mapRecord(source, { ...feed }, rec).results[0].value.id).toBe('C-9');
  });

  test("a row that could not be read is rejected with the reader's reason and no results", () => {
    const [rec] = csvRecords(header, [{ error: 'Unclosed quote' }], 20);
    expect(mapRecord(source, feed, rec)).toEqual({
      record: rec,
      feed: 'feed',
      results: [],
      issues: [{ severity: 'error', field: '', source: 'line 20', message: 'Unclosed quote' }],
    });
  });
});

describe('nesting, indexes and lists', () => {
  const { source, feed } = load(
    'json',
    `match: "*.json"
records:
  - record: person
    fields:
      id: client.id
      name.family: client.name.last
      name.given: { from: [client.name.first, client.name.middle] }
      identifiers[0].system: { const: "https://ehr.example.org/mrn" }
      identifiers[0].value: client.mrn
      identifiers[1].system: { const: "http://hl7.org/fhir/sid/us-medicaid" }
      identifiers[1].value: client.medicaid
      birthDate: { from: client.dob, transform: [{ date: { format: iso } }] }
  - record: recovery-capital
    each: assessments
    when: { path: kind, equals: IRCS }
    fields:
      id: id
      personId: $.client.id
      date: { from: taken, transform: [{ datetime: iso }] }
      answers: { from: "answers[*]", transform: [integer] }
      helpers: { from: helpers, transform: [{ split: "," }] }
`,
  );

  const client = {
    client: { id: 1001, name: { last: 'Whitfield', first: 'Dana', middle: null }, mrn: '', medicaid: 'MC-1', dob: '1990-04-02' },
    assessments: [
      { id: 'A1', kind: 'IRCS', taken: '2026-09-15T10:30', answers: ['5', null, '3', ''], helpers: 'Sam, Alex' },
      { id: 'A2', kind: 'OTHER' },
      { id: 'A3', kind: 'IRCS', taken: '2026-10-15T10:30', answers: [] },
    ],
  };

  test('targets build nested objects; an indexed element with only consts is left out and the list closes up', () => {
    const [person] = one(source, feed, jsonRecord(client, 3));
    expect(person.value).toEqual({
      id: '1001',
      name: { family: 'Whitfield', given: ['Dana'] },
      identifiers: [{ system: 'http://hl7.org/fhir/sid/us-medicaid', value: 'MC-1' }],
      birthDate: '1990-04-02',
    });
    expect(person.trace).toEqual({
      id: '$[2].client.id',
      'name.family': '$[2].client.name.last',
      'name.given': '$[2].client.name.first',
      'name.given[0]': '$[2].client.name.first',
      'identifiers[0].value': '$[2].client.medicaid',
      birthDate: '$[2].client.dob',
    });
  });

  test('each + when make one record per matching item; [*] lists keep nulls where the target takes them, with per-item trace', () => {
    const [, a1, a3] = one(source, feed, jsonRecord(client, 3));
    expect(a1.kind).toBe('recovery-capital');
    expect(a1.value).toEqual({ id: 'A1', personId: '1001', date: '2026-09-15T10:30:00-05:00', answers: [5, null, 3, null], helpers: ['Sam', 'Alex'] });
    expect(a1.trace).toMatchObject({
      answers: '$[2].assessments[0].answers[0]',
      'answers[0]': '$[2].assessments[0].answers[0]',
      'answers[2]': '$[2].assessments[0].answers[2]',
      personId: '$[2].client.id',
    });
    expect(a1.trace['answers[1]']).toBeUndefined();
    expect(a3.value).toEqual({ id: 'A3', personId: '1001', date: '2026-10-15T10:30:00-05:00' });
    expect(a3.trace.answers).toBe('$[2].assessments[2].answers[*]');
  });

  test('a JSON object where a value is expected is an error naming the path; text that looks like JSON is text', () => {
    const bad = { client: { id: 7, name: { last: { text: 'W' }, first: '[Dana]' }, dob: ['1990-04-02'] } };
    const [person] = one(source, feed, jsonRecord(bad, 1));
    expect(person.issues).toEqual([
      { severity: 'error', field: 'name.family', source: '$[0].client.name.last', message: 'expected a value, found an object' },
      { severity: 'error', field: 'birthDate', source: '$[0].client.dob', message: 'expected a value, found an array' },
    ]);
    expect(person.value.name).toEqual({ given: ['[Dana]'] });
  });
});

describe('JSON [*] paths on a value sent without its array (read by the JSON reader)', () => {
  const { source, feed } = load(
    'json',
    `match: "*.json"
records:
  - record: person
    fields:
      id: id
      name.family: name.last
      name.given: { from: "name.first[*]" }
  - record: recovery-capital
    each: "assessments[*]"
    fields:
      id: id
      personId: $.id
      date: { from: taken, transform: [{ datetime: iso }] }
`,
  );

  test('a single given name and a single assessment object are a list of one, not dropped', () => {
    const value = { id: 'P2', name: { last: 'Ok', first: 'Solo' }, assessments: { id: 'A9', taken: '2026-09-15T10:30' } };
    const record: SourceRecord = { n: 2, input: 'p.json', where: '$[1]', raw: JSON.stringify(value), scope: jsonScope(value, '$[1]') };
    const [person, rc] = one(source, feed, record);
    expect(person.value).toEqual({ id: 'P2', name: { family: 'Ok', given: ['Solo'] } });
    expect(person.trace['name.given[0]']).toBe('$[1].name.first');
    expect(rc.value).toEqual({ id: 'A9', personId: 'P2', date: '2026-09-15T10:30:00-05:00' });
  });
});

describe('each rules inside a record', () => {
  const { source, feed } = load(
    'json',
    `match: "*.json"
records:
  - record: episode
    fields:
      id: id
      personId: person
      organizationId: { const: org-1 }
      status: { const: active }
      start: { from: start, transform: [{ date: { format: "MM/dd/yyyy" } }] }
      referral.date: { from: referral.on, transform: [{ datetime: iso }] }
      referral.reasons: { each: referral.reasons, from: code, table: reason }
      contacts:
        each: sessions
        when: { path: cancelled, present: false }
        fields:
          id: id
          start: { from: at, transform: [{ datetime: iso }] }
          durationMinutes: { from: minutes, transform: [integer] }
          mode: { const: in-person }
          specialistId: $.staff
      eligibilityReviews:
        each: reviews
        fields:
          id: id
          type: { const: admission }
          date: { from: on, transform: [{ datetime: iso }] }
          criteria: { each: answers, key: { from: q, table: criterion }, value: { from: a, table: status } }
`,
    `tables:
  reason:
    target: referral-reason
    codes: { NEW: new-to-system, ISO: socially-isolated }
  criterion:
    target: criterion
    codes: { A: service-A, B: service-B, X: exclusion-A }
  status:
    target: criterion-status
    ignoreCase: true
    codes: { Y: met, N: not-met, U: unknown }
`,
  );

  const episode = {
    id: 'E-1',
    person: 'P-1',
    start: '09/01/2026',
    staff: 'S-9',
    referral: { on: '2026-08-30T09:00', reasons: [{ code: 'NEW' }, { code: 'ISO' }] },
    sessions: [
      { id: 'C-1', at: '2026-09-15T10:00', minutes: 52 },
      { id: 'C-X', at: '2026-09-16T10:00', minutes: 30, cancelled: true },
      { id: 'C-2', at: '2026-09-17T10:00', minutes: 'x' },
    ],
    reviews: [
      {
        id: 'R-1',
        on: '2026-09-01T09:00',
        answers: [
          { q: 'A', a: 'y' },
          { q: 'B', a: 'N' },
          { q: 'X', a: 'n' },
        ],
      },
    ],
  };

  test('lists of objects, lists of values and objects keyed per item, with item paths in trace and issues', () => {
    const [r] = one(source, feed, jsonRecord(episode));
    expect(r.value).toEqual({
      id: 'E-1',
      personId: 'P-1',
      organizationId: 'org-1',
      status: 'active',
      start: '2026-09-01',
      referral: { date: '2026-08-30T09:00:00-05:00', reasons: ['new-to-system', 'socially-isolated'] },
      contacts: [
        { id: 'C-1', start: '2026-09-15T10:00:00-05:00', durationMinutes: 52, mode: 'in-person', specialistId: 'S-9' },
        { id: 'C-2', start: '2026-09-17T10:00:00-05:00', mode: 'in-person', specialistId: 'S-9' },
      ],
      eligibilityReviews: [
        { id: 'R-1', type: 'admission', date: '2026-09-01T09:00:00-05:00', criteria: { 'service-A': 'met', 'service-B': 'not-met', 'exclusion-A': 'not-met' } },
      ],
    });
    expect(r.issues).toEqual([
      { severity: 'error', field: 'contacts[1].durationMinutes', source: '$[0].sessions[2].minutes', message: "Not a whole number: 'x'" },
    ]);
    expect(r.trace).toMatchObject({
      'referral.reasons[1]': '$[0].referral.reasons[1].code',
      'contacts[0].start': '$[0].sessions[0].at',
      'contacts[1].id': '$[0].sessions[2].id',
      'contacts[1].specialistId': '$[0].staff',
      'eligibilityReviews[0].criteria.service-B': '$[0].reviews[0].answers[1].a',
    });
  });

  test('a key twice with different values is an error; a key with no value is an error', () => {
    const bad = { ...episode, sessions: [], reviews: [{ id: 'R-1', on: '2026-09-01T09:00', answers: [{ q: 'A', a: 'y' }, { q: 'A', a: 'n' }, { a: 'y' }] }] };
    const [r] = one(source, feed, jsonRecord(bad));
    expect(r.issues).toEqual([
      {
        severity: 'error',
        field: 'eligibilityReviews[0].criteria.service-A',
        source: '$[0].reviews[0].answers[1].a',
        message: 'service-A is given twice: "met" ($[0].reviews[0].answers[0].a) and "not-met"',
      },
      { severity: 'error', field: 'eligibilityReviews[0].criteria', source: '$[0].reviews[0].answers[2].q', message: 'No key: q has no value' },
    ]);
  });
});

describe('HL7-style records', () => {
  const { source, feed } = load(
    'hl7v2',
    `match: [DFT^P03]
records:
  - record: contact
    each: FT1
    when: { path: FT1-7.1, in: [H0038, h0038], ignoreCase: true }
    fields:
      id: FT1-2
      episode.id: PV1-19.1
      start: { from: FT1-4, transform: [{ datetime: { format: hl7 } }] }
      durationMinutes: { from: FT1-10, transform: [integer, required] }
      mode: { const: in-person }
      specialistId: FT1-20.1
      icrcTasks: { from: "FT1-25[*].1" }
`,
  );

  test('one record per FT1 segment; other segments read from the message; "" is absent', () => {
    const rec = hl7Record(
      'DFT^P03',
      { 'PV1-19.1': 'E-9' },
      {
        FT1: [
          { 'FT1-2': 'T-1', 'FT1-7.1': 'H0038', 'FT1-4': '202609151000', 'FT1-10': '45', 'FT1-20.1': 'S-1', 'FT1-25[*].1': ['I4', '""', 'IV3'] },
          { 'FT1-2': 'T-2', 'FT1-7.1': '99213' },
          { 'FT1-2': 'T-3', 'FT1-7.1': 'h0038', 'FT1-4': '202609161000', 'FT1-10': '""', 'FT1-20.1': 'S-1' },
        ],
      },
    );
    const [a, b] = one(source, feed, rec);
    expect(a.value).toEqual({
      id: 'T-1',
      start: '2026-09-15T10:00:00-05:00',
      durationMinutes: 45,
      mode: 'in-person',
      specialistId: 'S-1',
      icrcTasks: ['I4', 'IV3'],
    });
    expect(a.episode).toEqual({ id: 'E-9' });
    expect(a.trace).toMatchObject({ id: 'FT1[1]-2', 'episode.id': 'PV1-19.1', 'icrcTasks[1]': 'FT1[1]-25[3].1' });
    expect(b.value.id).toBe('T-3');
    expect(b.issues).toEqual([{ severity: 'error', field: 'durationMinutes', source: 'FT1[3]-10', message: 'Required, but FT1-10 has no value' }]);
  });

  test('a message type the feed does not read is rejected', () => {
    const out = mapRecord(source, feed, hl7Record('ADT^A04', {}));
    expect(out.results).toEqual([]);
    expect(out.issues).toEqual([
      { severity: 'error', field: '', source: 'message 1', message: 'Message type ADT^A04 is not read by feed feed (it reads DFT^P03)' },
    ]);
  });
});
