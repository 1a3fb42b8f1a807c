import * as codes from '../../src/domain/codes';
import { CANONICAL_LISTS, loadSource, mapRecord } from '../../src/translate';
import { csvRecords, sourceYaml, writeMapping } from './helpers';

/** The README's list names and the arrays they stand for. */
const CODE_LISTS_FOR_TEST = {
  'contact-status': codes.CONTACT_STATUSES,
  'contact-mode': codes.CONTACT_MODES,
  setting: codes.SETTINGS,
  'place-of-service': codes.PLACES_OF_SERVICE,
  intervention: codes.INTERVENTIONS,
  'support-type': codes.SUPPORT_TYPES,
  'icrc-task': codes.ICRC_TASKS,
  credential: codes.CREDENTIALS,
  'referral-reason': codes.REFERRAL_REASONS,
  'referral-status': codes.REFERRAL_STATUSES,
  criterion: codes.CRITERIA,
  'criterion-status': codes.CRITERION_STATUSES,
  'review-type': codes.REVIEW_TYPES,
  'episode-status': codes.EPISODE_STATUSES,
  'plan-status': codes.PLAN_STATUSES,
  'goal-status': codes.GOAL_STATUSES,
  'goal-achievement': codes.GOAL_ACHIEVEMENTS,
  'activity-status': codes.ACTIVITY_STATUSES,
  sex: codes.SEXES,
  race: codes.RACES,
  ethnicity: codes.ETHNICITIES,
  'gender-identity': codes.GENDER_IDENTITIES,
  'marital-status': codes.MARITAL_STATUSES,
  'address-use': codes.ADDRESS_USES,
  'telecom-system': codes.TELECOM_SYSTEMS,
  'telecom-use': codes.TELECOM_USES,
  'practitioner-role': ['peer-specialist', 'supervisor'],
  boolean: ['true', 'false'],
};

const TABLES = `tables:
  contact-mode:
    description: Riverbend ContactType codes
    target: contact-mode
    codes: { F2F: in-person, PH: telephone, TH: video }
  status:
    target: contact-status
    unmapped: warn
    codes: { DONE: finished, NS: no-show }
  pos:
    target: place-of-service
    unmapped: default
    default: "99"
    ignoreCase: true
    codes: { Clinic: "53", Home: "12", Tele: "02" }
  yes-no:
    target: boolean
    ignoreCase: true
    codes: { "Y": true, "N": false, "Group": true, "Indiv": false }
`;

const FEED = `match: "*.csv"
records:
  - record: contact
    fields:
      id: ID
      episode.id: E
      mode: { from: Mode, table: contact-mode }
      status: { from: Status, table: status }
      placeOfService: { from: Place, transform: [{ lookup: pos }] }
      group: { from: Group, table: yes-no }
`;

const source = loadSource(writeMapping({ 'source.yaml': sourceYaml(), 'tables.yaml': TABLES, 'contacts.yaml': FEED }));
const feed = source.feeds[0];
const header = ['ID', 'E', 'Mode', 'Status', 'Place', 'Group'];
const map = (row: string[]) => mapRecord(source, feed, csvRecords(header, [row], 5)[0]).results[0];

describe('code tables', () => {
  test('codes map to canonical codes; booleans to true/false; ignoreCase matches any case', () => {
    const r = map(['C-1', 'E-1', 'TH', 'NS', 'clinic', 'GROUP']);
    expect(r.issues).toEqual([]);
    expect(r.value).toEqual({ id: 'C-1', mode: 'video', status: 'no-show', placeOfService: '53', group: true });
    expect(map(['C-1', 'E-1', 'PH', 'DONE', 'HOME', 'n']).value).toMatchObject({ mode: 'telephone', status: 'finished', placeOfService: '12', group: false });
  });

  test('reject: an unknown code is an error naming the code, the table and its codes, at the source place', () => {
    const r = map(['C-1', 'E-1', 'XYZ', 'DONE', 'Clinic', 'Y']);
    expect(r.issues).toEqual([
      {
        severity: 'error',
        field: 'mode',
        source: 'line 5, column "Mode"',
        message: "Code 'XYZ' is not in table contact-mode (Riverbend ContactType codes); known codes: F2F, PH, TH",
      },
    ]);
    expect(r.value.mode).toBeUndefined();
  });

  test('a table without ignoreCase is exact', () => {
    expect(map(['C-1', 'E-1', 'f2f', 'DONE', 'Clinic', 'Y']).issues[0].message).toMatch(/^Code 'f2f' is not in table contact-mode/);
  });

  test('warn: an unknown code is left out with a warning', () => {
    const r = map(['C-1', 'E-1', 'F2F', 'CXL', 'Clinic', 'Y']);
    expect(r.issues).toEqual([
      {
        severity: 'warning',
        field: 'status',
        source: 'line 5, column "Status"',
        message: "Code 'CXL' is not in table status; known codes: DONE, NS; left out",
      },
    ]);
    expect('status' in r.value).toBe(false);
  });

  test('default: an unknown code becomes the default, silently', () => {
    const r = map(['C-1', 'E-1', 'F2F', 'DONE', 'Van', 'Y']);
    expect(r.issues).toEqual([]);
    expect(r.value.placeOfService).toBe('99');
  });

  test('an absent value is not looked up', () => {
    const r = map(['C-1', 'E-1', '', '', '', '']);
    expect(r.issues).toEqual([]);
    expect(r.value).toEqual({ id: 'C-1' });
  });

  test('CANONICAL_LISTS are the lists of src/domain/codes.ts, with practitioner-role and boolean', () => {
    expect(CANONICAL_LISTS).toEqual(CODE_LISTS_FOR_TEST);
  });
});
