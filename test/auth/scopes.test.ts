/**
 * SMART system scopes as data tables: parsing v1 and v2 (with restrictions), the allows matrix
 * over interactions and wildcards, and how requested scopes are narrowed to registered ones.
 */
import { allows, grantScopes, hiddenAdminTypes, parseScope, readableTypes, parseScopes, scopeErrors, type Interaction } from '../../src/auth/scopes';

describe('parseScope', () => {
  test.each([
    ['system/*.read', { type: '*', interactions: ['r', 's'], version: 1 }],
    ['system/*.write', { type: '*', interactions: ['c', 'u', 'd'], version: 1 }],
    ['system/*.*', { type: '*', interactions: ['c', 'r', 'u', 'd', 's'], version: 1 }],
    ['system/Patient.write', { type: 'Patient', interactions: ['c', 'u', 'd'], version: 1 }],
    ['system/Encounter.rs', { type: 'Encounter', interactions: ['r', 's'], version: 2 }],
    ['system/*.cruds', { type: '*', interactions: ['c', 'r', 'u', 'd', 's'], version: 2 }],
    ['system/Observation.c', { type: 'Observation', interactions: ['c'], version: 2 }],
    ['system/Observation.ud', { type: 'Observation', interactions: ['u', 'd'], version: 2 }],
    ['system/Observation.rs?category=laboratory', { type: 'Observation', interactions: ['r', 's'], version: 2, restrictions: [['category', 'laboratory']] }],
    [
      'system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|survey&status=final',
      {
        restrictions: [
          ['category', 'http://terminology.hl7.org/CodeSystem/observation-category|survey'],
          ['status', 'final'],
        ],
      },
    ],
  ])('%s', (raw, expected) => {
    expect(parseScope(raw)).toMatchObject({ raw, ...expected });
  });

  test.each([
    'patient/*.read', // not the system context
    'user/Encounter.rs',
    'system/*.sr', // letters out of order
    'system/*.crudsx',
    'system/*.', // no letters
    'system/Encounter', // no suffix
    'system/encounter.rs', // not a type name
    'system/*.read?category=x', // restrictions are v2 only
    'system/Observation.rs?', // empty restriction
    'system/Observation.rs?category', // restriction without a value
    'openid',
    'launch',
    '',
  ])('%s is not a SMART system scope', (raw) => {
    expect(parseScope(raw)).toBeUndefined();
  });

  test('scopeErrors names unknown types when a checker is given', () => {
    const isType = (t: string): boolean => ['Patient', 'Encounter'].includes(t);
    expect(scopeErrors(['system/*.read', 'system/Patient.rs'], isType)).toEqual([]);
    // Client names the client registry (/admin/clients), not a resource type.
    expect(scopeErrors(['system/Client.cruds'], isType)).toEqual([]);
    expect(scopeErrors(['system/Patinet.rs', 'patient/*.read'], isType)).toEqual([
      "'system/Patinet.rs': 'Patinet' is not a FHIR R4 resource type",
      expect.stringContaining("'patient/*.read' is not a SMART system scope"),
    ]);
  });
});

describe('allows', () => {
  const I: Interaction[] = ['c', 'r', 'u', 'd', 's'];
  // granted scopes -> [type, the interactions allowed on it]
  const matrix: Array<[string, string, string]> = [
    ['system/*.read', 'Encounter', 'rs'],
    ['system/*.read', '*', 'rs'],
    ['system/*.read', 'AuditEvent', ''],
    ['system/*.write', 'Patient', 'cud'],
    ['system/*.*', 'Observation', 'cruds'],
    ['system/*.*', 'AuditEvent', ''],
    ['system/*.cruds', '*', 'cruds'],
    ['system/Encounter.rs', 'Encounter', 'rs'],
    ['system/Encounter.rs', 'Patient', ''],
    ['system/Encounter.rs', '*', ''],
    ['system/Encounter.r', 'Encounter', 'r'],
    ['system/Encounter.s', 'Encounter', 's'],
    ['system/Patient.cu', 'Patient', 'cu'],
    ['system/Patient.read system/Encounter.write', 'Patient', 'rs'],
    ['system/Patient.read system/Encounter.write', 'Encounter', 'cud'],
    ['system/Patient.read system/Patient.write', 'Patient', 'cruds'],
    ['system/AuditEvent.rs', 'AuditEvent', 'rs'],
    ['system/AuditEvent.rs', '*', ''],
    ['system/*.read system/AuditEvent.rs', 'AuditEvent', 'rs'],
    // the client registry (/admin/clients) is not covered by `*` either
    ['system/*.*', 'Client', ''],
    ['system/*.cruds', 'Client', ''],
    ['system/Client.cruds', 'Client', 'cruds'],
    ['system/Client.c', 'Client', 'c'],
    ['system/Client.cruds', '*', ''],
    ['system/Observation.rs?category=laboratory', 'Observation', ''],
    ['system/Observation.rs?category=laboratory system/Observation.s', 'Observation', 's'],
    ['patient/*.read', 'Patient', ''],
    ['openid launch', 'Patient', ''],
    ['', 'Patient', ''],
  ];
  test.each(matrix)('%s on %s allows exactly "%s"', (granted, type, letters) => {
    const allowed = I.filter((interaction) => allows(granted, { type, interaction })).join('');
    expect(allowed).toBe(letters);
  });
});

describe('grantScopes (requested ∩ registered)', () => {
  test.each([
    ['system/*.read', ['system/*.read'], ['system/*.read']],
    ['system/*.read', ['system/*.cruds'], ['system/*.read']],
    ['system/*.cruds', ['system/*.read'], ['system/*.rs']],
    ['system/*.*', ['system/*.read'], ['system/*.read']],
    ['system/*.write', ['system/*.read'], []],
    ['system/Patient.rs', ['system/*.read'], ['system/Patient.rs']],
    ['system/Patient.read', ['system/*.cruds'], ['system/Patient.read']],
    ['system/*.read', ['system/Patient.rs', 'system/Encounter.cruds'], ['system/Patient.read', 'system/Encounter.read']],
    ['system/*.rs', ['system/Encounter.r'], ['system/Encounter.r']],
    ['system/Observation.rs', ['system/Encounter.rs'], []],
    ['system/AuditEvent.rs', ['system/*.cruds'], []],
    ['system/Client.cruds', ['system/*.cruds'], []],
    ['system/Client.c', ['system/Client.cruds'], ['system/Client.c']],
    ['system/AuditEvent.rs', ['system/AuditEvent.rs'], ['system/AuditEvent.rs']],
    ['system/*.read', ['system/*.read', 'system/AuditEvent.rs'], ['system/*.read', 'system/AuditEvent.read']],
    ['system/Observation.rs?category=laboratory', ['system/Observation.rs?category=laboratory'], ['system/Observation.rs?category=laboratory']],
    ['system/Observation.rs?category=laboratory', ['system/*.read'], []],
    ['system/*.read', ['system/Observation.rs?category=laboratory'], []],
    ['openid fhirUser launch system/*.read', ['system/*.read'], ['system/*.read']],
    ['system/*.read system/*.read', ['system/*.read'], ['system/*.read']],
    ['  system/*.read   system/Patient.write ', ['system/*.*'], ['system/*.read', 'system/Patient.write']],
  ])('%s under %j gives %j', (requested, registered, granted) => {
    expect(grantScopes(requested, registered)).toEqual(granted);
  });
});

describe('grantScopes leaves out what another granted scope covers', () => {
  test.each([
    ['system/*.read', ['system/*.read', 'system/Encounter.cruds'], ['system/*.read']],
    ['system/*.*', ['system/*.read', 'system/Encounter.cruds'], ['system/*.read', 'system/Encounter.*']],
    ['system/Encounter.rs system/*.rs', ['system/*.rs'], ['system/*.rs']],
    ['system/*.read', ['system/*.read', 'system/AuditEvent.rs'], ['system/*.read', 'system/AuditEvent.read']],
  ])('%s under %j gives %j', (requested, registered, granted) => {
    expect(grantScopes(requested, registered)).toEqual(granted);
  });
});

describe('hiddenAdminTypes: admin types hidden from bulk read paths unless a scope names them', () => {
  it.each([
    ['system/*.read', ['AuditEvent']],
    ['system/*.cruds', ['AuditEvent']],
    ['system/*.cruds system/AuditEvent.rs', []],
    ['system/AuditEvent.read', []],
    ['system/AuditEvent.s', []],
    ['system/AuditEvent.c', ['AuditEvent']],
    ['system/AuditEvent.rs?agent=x', ['AuditEvent']],
  ])('%s hides %j', (scopes, hidden) => {
    expect(hiddenAdminTypes(parseScopes(scopes))).toEqual(hidden);
  });
});

describe('readableTypes: what an $export without _type may hold', () => {
  test.each<[string, string[] | undefined]>([
    ['system/*.read', undefined],
    ['system/*.rs system/AuditEvent.rs', undefined],
    ['system/Patient.rs', ['Patient']],
    ['system/Patient.rs system/Encounter.read system/Goal.s system/Observation.c', ['Encounter', 'Patient']],
    ['system/*.s system/Patient.r', ['Patient']],
    ['system/*.rs?category=x system/Patient.rs', ['Patient']],
    ['system/Encounter.rs?status=finished', []],
    ['system/*.cud', []],
  ])('%s reads %j', (scopes, types) => {
    expect(readableTypes(parseScopes(scopes))).toEqual(types);
  });
});
