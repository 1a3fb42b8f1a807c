import * as fs from 'node:fs';
import * as path from 'node:path';
import { feedFor, loadSource, loadSources, MappingLoadError } from '../../src/translate';
import { sourceYaml, writeMapping } from './helpers';

const TABLES = `tables:
  contact-mode:
    description: Riverbend ContactType codes
    target: contact-mode
    codes:
      F2F: in-person
      PH: telephone
`;

const contactFeed = (fields: string, extra = '') => `match: "contacts*.csv"
${extra}records:
  - record: contact
    fields:
      id: ContactID
      episode.id: EpisodeID
${fields}`;

function loadError(files: Record<string, string>, name?: string): MappingLoadError {
  const dir = writeMapping(files, name);
  try {
    loadSource(dir);
  } catch (e) {
    if (e instanceof MappingLoadError) {
      return e;
    }
    throw e;
  }
  throw new Error('expected a MappingLoadError');
}

describe('loadSource: a good folder', () => {
  test('source, tables and feeds, with merged csv options and columns', () => {
    const dir = writeMapping({
      'source.yaml': `${sourceYaml()}part2Organizations: [rb-sud]\ncsv:\n  delimiter: ";"\n`,
      'tables.yaml': TABLES,
      'contacts.yaml': contactFeed(
        `      start: { from: [ServiceDate, StartTime], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }] }
      durationMinutes: { from: Minutes, transform: [integer] }
      mode: { from: ContactType, table: contact-mode }
`,
        'csv:\n  optionalColumns: [Note]\n',
      ),
      'episodes.yaml': `match: "episodes*.csv"\norder: 10\nrecords:\n  - record: episode\n    fields:\n      id: EpisodeID\n`,
      'README.md': 'not a feed',
    });
    const s = loadSource(dir);
    expect(s).toMatchObject({
      name: 'test-src',
      title: 'Test EHR',
      system: 'https://ehr.test.example.org/peer',
      format: 'csv',
      timezone: 'America/Chicago',
      part2Organizations: ['rb-sud'],
    });
    expect(s.feeds.map((f) => f.name)).toEqual(['episodes', 'contacts']);
    const contacts = s.feeds[1];
    expect(contacts.csv).toEqual({ delimiter: ';', encoding: 'auto', optionalColumns: ['Note'] });
    expect(contacts.columns).toEqual(['ContactID', 'EpisodeID', 'ServiceDate', 'StartTime', 'Minutes', 'ContactType']);
    expect(contacts.file).toMatch(/contacts\.yaml$/);
    expect(s.tables.get('contact-mode')).toEqual({
      name: 'contact-mode',
      description: 'Riverbend ContactType codes',
      system: 'https://ehr.test.example.org/peer/codes/contact-mode',
      target: 'contact-mode',
      unmapped: 'reject',
      ignoreCase: false,
      codes: { F2F: 'in-person', PH: 'telephone' },
    });
    expect(feedFor(s, 'contacts')?.name).toBe('contacts');
    expect(feedFor(s, 'Contacts-2026-09.CSV')?.name).toBe('contacts');
    expect(feedFor(s, 'other.csv')).toBeUndefined();
  });

  test('hl7v2 feeds match message types; the feed name wins over a match', () => {
    const dir = writeMapping({
      'source.yaml': sourceYaml('hl7v2'),
      'adt.yaml': `match: [ADT^A04, ADT^A08]\nrecords:\n  - record: person\n    fields:\n      id: PID-3.1\n      name.family: PID-5.1.1\n`,
      'siu.yaml': `match: "SIU^*"\nrecords:\n  - record: person\n    fields:\n      id: PID-3.1\n`,
    });
    const s = loadSource(dir);
    expect(feedFor(s, 'ADT^A08')?.name).toBe('adt');
    expect(feedFor(s, 'ADT^A08^ADT_A01')?.name).toBe('adt');
    expect(feedFor(s, 'SIU^S14')?.name).toBe('siu');
    expect(feedFor(s, 'ADT^A01')).toBeUndefined();
    expect(feedFor(s, 'siu')?.name).toBe('siu');
  });

  test('codes written like numbers keep their text: 01 and 02 stay "01" and "02"', () => {
    const dir = writeMapping({
      'source.yaml': sourceYaml(),
      'tables.yaml': `tables:\n  pos:\n    target: place-of-service\n    codes:\n      01: "02"\n      7: 53\n      TELE: 02\n`,
    });
    expect(loadSource(dir).tables.get('pos')?.codes).toEqual({ '01': '02', '7': '53', TELE: '02' });
  });

  test('loadSources loads every folder with a source.yaml except canonical', () => {
    const a = writeMapping({ 'source.yaml': sourceYaml('csv', 'alpha') }, 'alpha');
    const root = path.dirname(a);
    fs.mkdirSync(path.join(root, 'beta'));
    fs.writeFileSync(path.join(root, 'beta', 'source.yaml'), sourceYaml('json', 'beta'));
    fs.mkdirSync(path.join(root, 'canonical'));
    fs.writeFileSync(path.join(root, 'canonical', 'source.yaml'), 'not: checked');
    fs.mkdirSync(path.join(root, 'notes'));
    fs.writeFileSync(path.join(root, 'README.md'), '#');
    expect([...loadSources(root).keys()]).toEqual(['alpha', 'beta']);
  });

  test('symbolic links are followed: a linked feed file and a linked source folder load (a ConfigMap mount is all links)', () => {
    const real = writeMapping(
      {
        'source.yaml': sourceYaml('csv', 'linked'),
        'tables.yaml': TABLES,
        'real-contacts.yaml': contactFeed('      mode: { from: ContactType, table: contact-mode }\n'),
      },
      'linked',
    );
    const mount = fs.mkdtempSync(path.join(path.dirname(path.dirname(real)), 'mount-'));
    const dir = path.join(mount, 'linked');
    fs.mkdirSync(dir);
    for (const f of ['source.yaml', 'tables.yaml']) fs.symlinkSync(path.join(real, f), path.join(dir, f));
    fs.symlinkSync(path.join(real, 'real-contacts.yaml'), path.join(dir, 'contacts.yaml'));
    fs.symlinkSync(path.join(real, 'missing.yaml'), path.join(dir, 'dangling.yaml'));
    expect(loadSource(dir).feeds.map((f) => f.name)).toEqual(['contacts']);
    const root = fs.mkdtempSync(path.join(path.dirname(path.dirname(real)), 'root-'));
    fs.symlinkSync(dir, path.join(root, 'linked'));
    expect([...loadSources(root).keys()]).toEqual(['linked']);
    expect(
      loadSources(root)
        .get('linked')
        ?.feeds.map((f) => f.name),
    ).toEqual(['contacts']);
  });

  test('loadSources stops at the first bad folder, with its file and line', () => {
    const a = writeMapping({ 'source.yaml': sourceYaml('csv', 'alpha').replace('csv', 'xml') }, 'alpha');
    expect(() => loadSources(path.dirname(a))).toThrow(/alpha[/\\]source\.yaml line 4, format: must be one of csv, hl7v2, json; found 'xml'/);
  });
});

describe('loadSource: mistakes stop loading with file, line and field', () => {
  const cases: [string, Record<string, string>, RegExp, number | undefined, string][] = [
    [
      'unknown transform',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      start: { from: Date, transform: [trim, dat] }\n') },
      /unknown transform 'dat' \(known: trim, upper, lower, number, integer, boolean, date, datetime, split, join/,
      7,
      'records[0].fields.start.transform[1]',
    ],
    [
      'bad date format token',
      {
        'source.yaml': sourceYaml(),
        'contacts.yaml': contactFeed('      start:\n        from: Date\n        transform:\n          - datetime: { format: "MM/dd/yyyy HH:mm Q" }\n'),
      },
      /bad date format token 'Q' in 'MM\/dd\/yyyy HH:mm Q'/,
      10,
      'records[0].fields.start.transform[0].datetime',
    ],
    [
      'unknown table',
      { 'source.yaml': sourceYaml(), 'tables.yaml': TABLES, 'contacts.yaml': contactFeed('      mode: { from: Type, table: contact-mood }\n') },
      /unknown table 'contact-mood' \(tables: contact-mode\)/,
      7,
      'records[0].fields.mode.table',
    ],
    [
      'lookup step with no tables.yaml',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      mode: { from: Type, transform: [{ lookup: modes }] }\n') },
      /unknown table 'modes' \(there is no tables.yaml\)/,
      7,
      'records[0].fields.mode.transform[0].lookup',
    ],
    [
      'target code not in the canonical list',
      { 'source.yaml': sourceYaml(), 'tables.yaml': `${TABLES}      TH: vidoe\n` },
      /code 'vidoe' is not in the contact-mode list \(codes: in-person, telephone, video\)/,
      8,
      'tables.contact-mode.codes.TH',
    ],
    [
      'unknown code list',
      { 'source.yaml': sourceYaml(), 'tables.yaml': TABLES.replace('target: contact-mode', 'target: contact-modes') },
      /unknown code list 'contact-modes' \(lists: contact-status, contact-mode/,
      4,
      'tables.contact-mode.target',
    ],
    [
      'unknown target field',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      modee: Type\n') },
      /contact has no field 'modee' \(fields: id, status, start, end, durationMinutes, mode, setting, placeOfService, group, specialistId, interventions, supportTypes, icrcTasks, note\)/,
      7,
      'records[0].fields.modee',
    ],
    [
      'unknown nested target field',
      { 'source.yaml': sourceYaml(), 'people.yaml': 'match: "*.csv"\nrecords:\n  - record: person\n    fields:\n      id: ID\n      name.famly: Last\n' },
      /person.name has no field 'famly' \(fields: family, given, suffix\)/,
      6,
      'records[0].fields.name.famly',
    ],
    [
      'episode.* on a kind that is not a standalone child',
      { 'source.yaml': sourceYaml(), 'people.yaml': 'match: "*.csv"\nrecords:\n  - record: person\n    fields:\n      id: ID\n      episode.id: E\n' },
      /person has no field 'episode' .*\(episode\.\* targets are for a contact, eligibility-review or recovery-plan on its own\)/,
      6,
      'records[0].fields.episode.id',
    ],
    [
      'a standalone contact without episode.id',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': 'match: "*.csv"\nrecords:\n  - record: contact\n    fields:\n      id: ID\n' },
      /a contact on its own needs episode.id/,
      5,
      'records[0].fields',
    ],
    [
      'bad YAML syntax',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': 'match: "*.csv"\nrecords:\n  - record: contact\n    fields: { id: ID\n' },
      /YAML syntax error/,
      5,
      '(file)',
    ],
    ['missing source.yaml', { 'contacts.yaml': 'match: "*.csv"\n' }, /missing source\.yaml/, undefined, '(file)'],
    ['name is not the folder name', { 'source.yaml': sourceYaml('csv', 'riverbend') }, /name 'riverbend' must be the folder's name 'test-src'/, 1, 'name'],
    [
      'unknown key in a feed',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': `${contactFeed('')}sorted: true\n` },
      /unknown key 'sorted' \(allowed: description, match, order, csv, json, group, records\)/,
      7,
      'sorted',
    ],
    [
      'unknown key in a rule',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      note:\n        from: Note\n        transfrom: [trim]\n') },
      /unknown key 'transfrom' in a rule \(allowed: from, const, when, transform, table, default, required\)/,
      9,
      'records[0].fields.note.transfrom',
    ],
    ['unknown key in source.yaml', { 'source.yaml': `${sourceYaml()}timeZone: UTC\n` }, /unknown key 'timeZone'/, 6, 'timeZone'],
    [
      'unknown key in a table',
      { 'source.yaml': sourceYaml(), 'tables.yaml': TABLES.replace('    codes:', '    ignorecase: true\n    codes:') },
      /unknown key 'ignorecase'/,
      5,
      'tables.contact-mode.ignorecase',
    ],
    ['system ending in /', { 'source.yaml': sourceYaml().replace('peer\n', 'peer/\n') }, /must not end with "\/"/, 3, 'system'],
    ['a time zone that is not IANA', { 'source.yaml': sourceYaml('csv', 'test-src', 'America/Chicgo') }, /not an IANA time zone/, 5, 'timezone'],
    [
      'a feed without match',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': 'records:\n  - record: person\n    fields:\n      id: ID\n' },
      /required/,
      1,
      'match',
    ],
    [
      'an HL7 match that is not a message type',
      { 'source.yaml': sourceYaml('hl7v2'), 'adt.yaml': 'match: [ADT_A04]\nrecords:\n  - record: person\n    fields:\n      id: PID-3.1\n' },
      /'ADT_A04' is not an HL7 message type like ADT\^A04/,
      1,
      'match[0]',
    ],
    [
      'the same message type in two feeds',
      {
        'source.yaml': sourceYaml('hl7v2'),
        'a.yaml': 'match: [ADT^A04]\nrecords:\n  - record: person\n    fields:\n      id: PID-3.1\n',
        'b.yaml': 'match: [ADT^A08, ADT^A04]\nrecords:\n  - record: person\n    fields:\n      id: PID-3.1\n',
      },
      /ADT\^A04 is read by feed a too/,
      1,
      'match[1]',
    ],
    [
      'an HL7 path that is not one',
      { 'source.yaml': sourceYaml('hl7v2'), 'adt.yaml': 'match: [ADT^A04]\nrecords:\n  - record: person\n    fields:\n      id: PID.3.1\n' },
      /'PID.3.1' is not an HL7 path like PID-3.1/,
      5,
      'records[0].fields.id.from',
    ],
    [
      'a number target without a number step',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      durationMinutes: Minutes\n') },
      /contact.durationMinutes takes a number: add a step 'integer' or 'number'/,
      7,
      'records[0].fields.durationMinutes',
    ],
    [
      'a list onto a one-value target',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      note: { from: [A, B] }\n') },
      /contact.note takes a string, but this rule gives a list: add a join or first step/,
      7,
      'records[0].fields.note',
    ],
    [
      'a table of another list',
      { 'source.yaml': sourceYaml(), 'tables.yaml': TABLES, 'contacts.yaml': contactFeed('      status: { from: Status, table: contact-mode }\n') },
      /contact.status takes a code \(finished, planned, cancelled, no-show\): the table gives contact-mode codes/,
      7,
      'records[0].fields.status',
    ],
    [
      'a const that does not fit',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      status: { const: finishd }\n') },
      /"finishd" does not fit contact.status/,
      7,
      'records[0].fields.status.const',
    ],
    [
      'a step argument that is wrong',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      note: { from: Note, transform: [{ replace: { pattern: "(" , with: "" } }] }\n') },
      /bad regular expression '\('/,
      7,
      'records[0].fields.note.transform[0].replace',
    ],
    [
      'a step that needs an argument',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      start: { from: Date, transform: [datetime] }\n') },
      /transform 'datetime' needs an argument/,
      7,
      'records[0].fields.start.transform[0]',
    ],
    [
      'split after a list',
      { 'source.yaml': sourceYaml(), 'contacts.yaml': contactFeed('      interventions: { from: [A, B], transform: [{ split: ";" }] }\n') },
      /split works on one value, but the value here is a list/,
      7,
      'records[0].fields.interventions.transform[0]',
    ],
    [
      'each: rows without group',
      {
        'source.yaml': sourceYaml(),
        'reviews.yaml':
          'match: "*.csv"\nrecords:\n  - record: eligibility-review\n    fields:\n      id: ID\n      episode.id: E\n      criteria: { each: rows, key: C, value: R }\n',
      },
      /each: rows reads the rows of a group; this feed has no 'group'/,
      7,
      'records[0].fields.criteria.each',
    ],
    [
      'a record key that is not a criterion',
      {
        'source.yaml': sourceYaml(),
        'reviews.yaml':
          'match: "*.csv"\nrecords:\n  - record: eligibility-review\n    fields:\n      id: ID\n      episode.id: E\n      criteria.service-Z: R\n',
      },
      /'service-Z' is not a key of eligibility-review.criteria/,
      7,
      'records[0].fields.criteria.service-Z',
    ],
    [
      'a target inside another target',
      {
        'source.yaml': sourceYaml(),
        'people.yaml': 'match: "*.csv"\nrecords:\n  - record: person\n    fields:\n      id: ID\n      name: { const: x }\n      name.family: Last\n',
      },
      /'name.family' is inside 'name'/,
      7,
      'records[0].fields.name.family',
    ],
    [
      'unmapped: default without a default',
      { 'source.yaml': sourceYaml(), 'tables.yaml': TABLES.replace('    codes:', '    unmapped: default\n    codes:') },
      /unmapped: default needs a 'default' code/,
      5,
      'tables.contact-mode.unmapped',
    ],
    [
      'a boolean table with a code that is not true/false',
      { 'source.yaml': sourceYaml(), 'tables.yaml': 'tables:\n  yn:\n    target: boolean\n    codes:\n      Y: true\n      N: nope\n' },
      /table yn maps to boolean: use true or false, not 'nope'/,
      6,
      'tables.yn.codes.N',
    ],
    [
      'csv options in a json source',
      {
        'source.yaml': sourceYaml('json'),
        'clients.yaml': 'match: "*.json"\ncsv: { delimiter: ";" }\nrecords:\n  - record: person\n    fields:\n      id: id\n',
      },
      /csv options are for csv feeds/,
      2,
      'csv',
    ],
  ];

  test.each(cases)('%s', (_name, files, reason, line, field) => {
    const e = loadError(files);
    expect(e.reason).toMatch(reason);
    expect(e.line).toBe(line);
    expect(e.field).toBe(field === '(file)' ? '' : field);
    expect(e.message).toContain(e.file);
    expect(e.message).toContain(field);
    if (line !== undefined) {
      expect(e.message).toContain(`line ${line}`);
    }
    expect(path.isAbsolute(e.file) || !e.file.startsWith('..')).toBe(true);
  });
});

describe('loadSource: YAML conveniences', () => {
  test('anchors and aliases reuse a rule; a bad JSON records selector is refused', () => {
    const dir = writeMapping({
      'source.yaml': sourceYaml('json'),
      'clients.yaml':
        'match: "*.json"\njson: { records: "$.clients[*]" }\nrecords:\n  - record: person\n    fields:\n      id: &id { from: id, required: true }\n  - record: recovery-capital\n    fields:\n      id: *id\n      personId: *id\n',
    });
    expect(loadSource(dir).feeds[0].json).toEqual({ records: '$.clients[*]' });
    const e = loadError({
      'source.yaml': sourceYaml('json'),
      'clients.yaml': 'match: "*.json"\njson: { records: "clients" }\nrecords:\n  - record: person\n    fields:\n      id: id\n',
    });
    expect(e.field).toBe('json.records');
    expect(e.line).toBe(2);
    expect(e.reason).toMatch(/Not a JSON records selector/);
  });
});

describe('loadSource: values that cannot fit their target', () => {
  const person = (fields: string) => ({
    'source.yaml': sourceYaml(),
    'people.yaml': `match: "*.csv"\nrecords:\n  - record: person\n    fields:\n      id: ID\n${fields}`,
  });
  test.each([
    ['      name: Name\n', /person.name takes an object: set its parts \(name.<field>\)/],
    ['      identifiers: MRN\n', /person.identifiers takes a list of objects: use each with fields, or targets by index \(identifiers\[0\].<field>\)/],
    ['      birthDate: { from: DOB, transform: [{ datetime: iso }] }\n', /person.birthDate takes a date \(YYYY-MM-DD\): use the 'date' step, not 'datetime'/],
    ['      sex: { from: Sex, transform: [boolean] }\n', /person.sex takes a code \(female, male, other, unknown\): this rule gives a boolean/],
  ])('%s', (fields, reason) => {
    expect(loadError(person(fields)).reason).toMatch(reason);
  });
});
