/**
 * The run's units ledger (src/domain/daily-units.ts): the daily cap per person and day, later
 * versions of a contact replacing its units, and the bound that releases the oldest days.
 */
import { DailyUnitsLedger } from '../../src/domain/daily-units';
import { loadRules } from '../../src/domain/rules';

const billing = loadRules().billing; // 16 units per person per day

/** Checks and commits one contact; returns the units granted. */
function bill(ledger: DailyUnitsLedger, contact: string, person: string, day: string, raw: number): number {
  const check = ledger.check(contact, person, day, raw);
  ledger.commit(check);
  return check.units;
}

describe('DailyUnitsLedger', () => {
  it('caps each person and day at 16 units, in the order contacts come', () => {
    const ledger = new DailyUnitsLedger(billing);
    expect(bill(ledger, 'c1', 'p1', '2026-09-15', 10)).toBe(10);
    expect(bill(ledger, 'c2', 'p1', '2026-09-15', 10)).toBe(6);
    expect(bill(ledger, 'c3', 'p1', '2026-09-15', 4)).toBe(0);
    expect(bill(ledger, 'c4', 'p2', '2026-09-15', 10)).toBe(10);
    expect(bill(ledger, 'c5', 'p1', '2026-09-16', 10)).toBe(10);
  });

  it('a check changes nothing until it is committed (a rejected contact bills nothing)', () => {
    const ledger = new DailyUnitsLedger(billing);
    expect(ledger.check('c1', 'p1', '2026-09-15', 12).units).toBe(12);
    expect(ledger.check('c2', 'p1', '2026-09-15', 12).units).toBe(12);
    expect(ledger.size).toBe(0);
  });

  it('a later version of a contact replaces its units, on the same day or another', () => {
    const ledger = new DailyUnitsLedger(billing);
    expect(bill(ledger, 'c1', 'p1', '2026-09-15', 12)).toBe(12);
    // The same contact again (an HL7 DFT after its SIU) is not counted twice.
    expect(bill(ledger, 'c1', 'p1', '2026-09-15', 14)).toBe(14);
    expect(bill(ledger, 'c2', 'p1', '2026-09-15', 4)).toBe(2);
    // Rescheduled to another day: the first day gets its units back.
    expect(bill(ledger, 'c1', 'p1', '2026-09-20', 14)).toBe(14);
    expect(bill(ledger, 'c3', 'p1', '2026-09-15', 16)).toBe(14);
    expect(bill(ledger, 'c4', 'p1', '2026-09-20', 16)).toBe(2);
    expect(ledger.size).toBe(4);
  });

  const day = (i: number): string => new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);

  it('holds at most maxContacts, releasing the days left behind by input in date order; a contact on a released day says so', () => {
    const ledger = new DailyUnitsLedger(billing, 100);
    let n = 0;
    for (let d = 0; d < 60; d++) {
      for (let k = 0; k < 10; k++) bill(ledger, `c${n++}`, `p${k}`, day(d), 1);
      expect(ledger.size).toBeLessThanOrEqual(100);
    }
    // The latest days are held: a contact there is capped against what was billed.
    expect(ledger.check('late-1', 'p0', day(59), 16)).toMatchObject({ units: 15, released: false });
    // The first days were released: billed, checked only against what came since, and flagged.
    const old = ledger.check('late-2', 'p0', day(0), 16);
    expect(old).toMatchObject({ units: 16, released: true });
    ledger.commit(old);
    expect(ledger.check('late-3', 'p0', day(0), 16)).toMatchObject({ units: 0, released: true });
  });

  it('releases the clients left behind by input in client order, keeping the current one whole', () => {
    const ledger = new DailyUnitsLedger(billing, 100);
    let n = 0;
    for (let p = 0; p < 20; p++) {
      for (let d = 0; d < 30; d++) bill(ledger, `c${n++}`, `p${p}`, day(d), 4);
      // The client being read is never released: its cap is checked against its whole day.
      expect(ledger.check(`extra-${p}`, `p${p}`, day(0), 16)).toMatchObject({ units: 12, released: false });
    }
    expect(ledger.check('late', 'p0', day(0), 16)).toMatchObject({ released: true });
  });

  it('an update of a released contact is billed again and flagged, not lost', () => {
    const ledger = new DailyUnitsLedger(billing, 2);
    bill(ledger, 'c1', 'p1', day(0), 10);
    bill(ledger, 'c2', 'p2', day(0), 10);
    bill(ledger, 'c3', 'p3', day(0), 10);
    expect(ledger.size).toBeLessThanOrEqual(2);
    expect(ledger.check('c1', 'p1', day(0), 12)).toEqual({ contactId: 'c1', personId: 'p1', day: day(0), units: 12, released: true });
  });
});
