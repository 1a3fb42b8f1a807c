/**
 * Frozen values the mappers share between resources (src/fhir/shared.ts): one value per key,
 * frozen all the way down, so a resource cannot change what another holds; the JSON written is
 * the same as when each resource had its own.
 */
import { Contact } from '../../src/domain/model';
import { loadRules } from '../../src/domain/rules';
import { toChargeItem } from '../../src/fhir/charge-item';
import { loadPackageTerms, type MapContext } from '../../src/fhir/context';
import { toEncounter } from '../../src/fhir/encounter';
import { deepFreeze, SharedValues } from '../../src/fhir/shared';

describe('SharedValues', () => {
  it('makes each value once per key and owner, frozen all the way down', () => {
    const values = new SharedValues<{ coding: { code: string }[] }>();
    let made = 0;
    const make = (code: string) => () => {
      made++;
      return { coding: [{ code }] };
    };
    const a = values.get('a', make('a'));
    expect(values.get('a', make('a'))).toBe(a);
    expect(values.get('b', make('b'))).not.toBe(a);
    const owner = {};
    const owned = values.get('a', make('a'), owner);
    expect(owned).not.toBe(a);
    expect(values.get('a', make('a'), owner)).toBe(owned);
    expect(made).toBe(3);
    expect(Object.isFrozen(a) && Object.isFrozen(a.coding) && Object.isFrozen(a.coding[0])).toBe(true);
    expect(() => {
      a.coding[0].code = 'changed';
    }).toThrow(TypeError);
  });

  it('deepFreeze freezes nested objects and arrays and returns its argument', () => {
    const v = { a: [{ b: 1 }], c: { d: 'x' } };
    expect(deepFreeze(v)).toBe(v);
    expect([v, v.a, v.a[0], v.c].every((x) => Object.isFrozen(x))).toBe(true);
  });
});

describe('resources made with shared values', () => {
  const ctx: MapContext = { source: 'https://ehr.example.org/peer', rules: loadRules(), terms: loadPackageTerms() };
  const contact = (id: string) =>
    Contact.parse({
      id,
      start: '2026-03-25T08:00:00-05:00',
      durationMinutes: 47,
      mode: 'video',
      placeOfService: '10',
      specialistId: 's1',
      interventions: ['self-help'],
      supportTypes: ['affiliational'],
      icrcTasks: [],
    });
  const episode = { id: 'ep1', personId: 'p1', organizationId: 'o1', referral: {}, referralReasons: ['socially-isolated' as const] };

  it('two Encounters share their coded values, which are frozen, and write the JSON of values made afresh', () => {
    const [a, b] = [toEncounter(contact('c1'), episode, ctx, false), toEncounter(contact('c2'), episode, ctx, false)];
    expect(b.extension?.[0]).toBe(a.extension?.[0]);
    expect(b.class).toBe(a.class);
    expect(b.contained?.[0]).toBe(a.contained?.[0]);
    expect(b.identifier?.[0].type).toBe(a.identifier?.[0].type);
    expect(b.reasonCode?.[0]).toBe(a.reasonCode?.[0]);
    for (const shared of [a.extension?.[0], a.class, a.type?.[0], a.participant?.[0].type?.[0], a.contained?.[0], a.reasonCode?.[0]]) {
      expect(Object.isFrozen(shared)).toBe(true);
    }
    // The resource itself and its per-record parts stay the caller's to change.
    expect(Object.isFrozen(a) || Object.isFrozen(a.extension) || Object.isFrozen(a.identifier?.[0])).toBe(false);
    expect(JSON.parse(JSON.stringify(a))).toMatchObject({
      contained: [{ resourceType: 'Location', id: 'place', mode: 'kind', type: [{ coding: [{ code: '10' }] }] }],
      class: { code: 'VR', display: 'virtual' },
      extension: [
        { valueCodeableConcept: { coding: [{ code: 'self-help', display: 'Self help' }] } },
        { valueCodeableConcept: { coding: [{ code: 'affiliational' }] } },
        {},
      ],
    });
  });

  it("a Part 2 program's resources share its labels, each in a list of its own", () => {
    const [a, b] = [toEncounter(contact('c1'), episode, ctx, true), toChargeItem(contact('c1'), episode, 3, ctx, true)];
    expect(a.meta?.security).not.toBe(b.meta?.security);
    expect(b.meta?.security?.[0]).toBe(a.meta?.security?.[0]);
    expect(Object.isFrozen(a.meta?.security?.[0]) && !Object.isFrozen(a.meta?.security)).toBe(true);
    expect(a.meta?.security?.map((c) => c.code)).toEqual(['R', '42CFRPart2', 'ETH']);
  });

  it('ChargeItems share their code', () => {
    const [a, b] = [toChargeItem(contact('c1'), episode, 3, ctx, false), toChargeItem(contact('c2'), episode, 3, ctx, false)];
    expect(b.code).toBe(a.code);
    expect(Object.isFrozen(a.code)).toBe(true);
  });
});
