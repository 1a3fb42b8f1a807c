import * as fs from 'node:fs';
import * as path from 'node:path';
import { cs, SYSTEMS } from '../../src/fhir/codes';
import { CANONICAL_LISTS, conceptMapId, conceptMaps, listSystem, loadSource } from '../../src/translate';
import { LIST_SYSTEMS } from '../../src/translate/concept-map';
import { Validator } from '../../src/validation';
import { sourceYaml, writeMapping } from './helpers';

const TABLES = `tables:
  contact-mode:
    description: Riverbend ContactType codes
    system: https://ehr.riverbend.example.org/peer/codes/contact-type
    target: contact-mode
    codes: { F2F: in-person, PH: telephone, TH: video }
  pos:
    target: place-of-service
    unmapped: default
    default: "99"
    codes: { CL: "53", HM: "12" }
  group_flag:
    target: boolean
    unmapped: default
    default: false
    ignoreCase: true
    codes: { Y: true, N: false }
  reason:
    target: referral-reason
    codes: { NEW: new-to-system }
  interv:
    target: intervention
    unmapped: warn
    codes: { SH: self-help }
`;

const source = loadSource(writeMapping({ 'source.yaml': sourceYaml(), 'tables.yaml': TABLES }));

describe('conceptMaps', () => {
  const maps = conceptMaps(source);

  test('one ConceptMap per table', () => {
    expect(maps.map((m) => m.id)).toEqual(['test-src-contact-mode', 'test-src-pos', 'test-src-group-flag', 'test-src-reason', 'test-src-interv']);
    expect(maps[0]).toEqual({
      resourceType: 'ConceptMap',
      id: 'test-src-contact-mode',
      url: 'http://peerbridge.org/fhir/ConceptMap/test-src-contact-mode',
      name: 'TestSrcContactMode',
      title: 'Test EHR: Riverbend ContactType codes',
      status: 'active',
      description: expect.stringContaining('contact-mode'),
      group: [
        {
          source: 'https://ehr.riverbend.example.org/peer/codes/contact-type',
          target: 'http://peerbridge.org/fhir/canonical/contact-mode',
          element: [
            { code: 'F2F', target: [{ code: 'in-person', equivalence: 'equivalent' }] },
            { code: 'PH', target: [{ code: 'telephone', equivalence: 'equivalent' }] },
            { code: 'TH', target: [{ code: 'video', equivalence: 'equivalent' }] },
          ],
        },
      ],
    });
  });

  test('unmapped: default becomes group.unmapped fixed; booleans are the codes true/false', () => {
    expect(maps[1].group?.[0]).toMatchObject({
      source: 'https://ehr.test.example.org/peer/codes/pos',
      target: SYSTEMS.pos,
      unmapped: { mode: 'fixed', code: '99' },
    });
    expect(maps[2].group?.[0]).toEqual({
      source: 'https://ehr.test.example.org/peer/codes/group_flag',
      target: 'http://peerbridge.org/fhir/canonical/boolean',
      element: [
        { code: 'Y', target: [{ code: 'true', equivalence: 'equivalent' }] },
        { code: 'N', target: [{ code: 'false', equivalence: 'equivalent' }] },
      ],
      unmapped: { mode: 'fixed', code: 'false' },
    });
    expect(maps[4].group?.[0].unmapped).toBeUndefined();
  });

  test('every ConceptMap is valid FHIR R4', () => {
    const validator = Validator.create();
    for (const m of maps) {
      expect(validator.validate(m).issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    }
    // The check has teeth: a target without its equivalence is refused.
    const broken = structuredClone(maps[0]);
    delete (broken.group?.[0].element?.[0].target?.[0] as { equivalence?: string }).equivalence;
    expect(validator.validate(broken).valid).toBe(false);
  });

  test('ids are FHIR ids: [A-Za-z0-9.-], at most 64 characters', () => {
    expect(conceptMapId('vendor_json', 'Contact Mode!')).toBe('vendor-json-Contact-Mode-');
    const long = conceptMapId('a'.repeat(40), 'b'.repeat(40));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[A-Za-z0-9.-]{1,64}$/);
  });

  test('list systems: PeerBridge CodeSystems of profiles/package, the FHIR systems of src/fhir/codes.ts, or canonical/<list>', () => {
    const pkg = path.join(__dirname, '..', '..', 'profiles', 'package');
    const codeSystems = new Set(
      fs
        .readdirSync(pkg)
        .filter((f) => f.startsWith('CodeSystem-'))
        .map((f) => (JSON.parse(fs.readFileSync(path.join(pkg, f), 'utf8')) as { url: string }).url),
    );
    const pbSystems = Object.values(LIST_SYSTEMS).filter((u) => u.startsWith('http://peerbridge.org/'));
    for (const u of pbSystems) {
      expect(codeSystems).toContain(u);
    }
    expect(listSystem('intervention')).toBe(cs('peer-intervention'));
    expect(listSystem('setting')).toBe(SYSTEMS.actCode);
    expect(listSystem('goal-achievement')).toBe(SYSTEMS.goalAchievement);
    expect(listSystem('place-of-service')).toBe(SYSTEMS.pos);
    for (const list of Object.keys(LIST_SYSTEMS)) {
      expect(CANONICAL_LISTS[list]).toBeDefined();
    }
    expect(listSystem('contact-status')).toBe('http://peerbridge.org/fhir/canonical/contact-status');
    expect(listSystem('boolean')).toBe('http://peerbridge.org/fhir/canonical/boolean');
  });
});
