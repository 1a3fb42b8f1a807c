/**
 * The units billed in one run, per person and day (for the daily cap, rules.billing
 * `maxUnitsPerPersonPerDay`, DOMAIN.md section 4) and per contact (so that a later version of a
 * contact, an HL7 reschedule or charge, replaces its units instead of adding to them).
 *
 * Bounded, so a run's memory stays flat however long its input: the ledger holds at most
 * `maxContacts` contacts. Past that it releases whole days, oldest first (exports and feeds come
 * roughly in date order, so the days released are the ones no later record is about). A contact
 * on a released day is still billed, but its cap is checked only against contacts seen since the
 * release, and `check` says so, so the caller can warn: nothing is dropped or changed silently.
 */
import { cappedUnits, type RuleSet } from './rules';

/** Contacts held before days are released: ~40 MB at the most (about 200 bytes a contact). */
export const DEFAULT_MAX_CONTACTS = 200_000;

interface Day {
  /** Units billed per person on this day. */
  perPerson: Map<string, number>;
  /** Per contact billed on this day: its person and units. */
  contacts: Map<string, { personId: string; units: number }>;
}

/** What `check` decided for a contact; `commit` records it once the contact is accepted. */
export interface UnitsCheck {
  contactId: string;
  personId: string;
  day: string;
  /** Units granted under the cap. */
  units: number;
  /** The day was released earlier in the run: the cap was checked against part of the day only. */
  released: boolean;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (the order in which days are released). */
const dayNumber = (day: string): number => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / 86_400_000;

export class DailyUnitsLedger {
  private readonly days = new Map<string, Day>();
  /** Day of each contact held (contacts of released days are forgotten with their day). */
  private readonly contactDay = new Map<string, string>();
  /** Days released so far, for the `released` flag (one short string per released day). */
  private readonly releasedDays = new Set<string>();

  constructor(
    private readonly rules: RuleSet['billing'],
    readonly maxContacts = DEFAULT_MAX_CONTACTS,
  ) {}

  /** Contacts held now. */
  get size(): number {
    return this.contactDay.size;
  }

  /**
   * The units a finished contact of `rawUnits` may bill on `day` (local date of its start) for
   * `personId`, under the cap, not counting its own earlier version. Changes nothing.
   */
  check(contactId: string, personId: string, day: string, rawUnits: number): UnitsCheck {
    const before = this.days.get(day)?.perPerson.get(personId) ?? 0;
    const previous = this.contactDay.get(contactId) === day ? this.days.get(day)?.contacts.get(contactId) : undefined;
    const used = before - (previous?.personId === personId ? previous.units : 0);
    const units = cappedUnits(rawUnits, personId, new Map([[personId, used]]), this.rules);
    return { contactId, personId, day, units, released: this.releasedDays.has(day) };
  }

  /** Records an accepted contact's units (replacing its earlier version's), then releases days if over the bound. */
  commit(check: UnitsCheck): void {
    this.forget(check.contactId);
    let day = this.days.get(check.day);
    if (!day) {
      day = { perPerson: new Map(), contacts: new Map() };
      this.days.set(check.day, day);
    }
    day.perPerson.set(check.personId, (day.perPerson.get(check.personId) ?? 0) + check.units);
    day.contacts.set(check.contactId, { personId: check.personId, units: check.units });
    this.contactDay.set(check.contactId, check.day);
    if (this.contactDay.size > this.maxContacts) {
      this.release();
    }
  }

  /** An accepted contact that bills nothing now (cancelled, no-show, too short): its earlier units no longer count. */
  forget(contactId: string): void {
    const dayKey = this.contactDay.get(contactId);
    if (dayKey === undefined) {
      return;
    }
    this.contactDay.delete(contactId);
    const day = this.days.get(dayKey) as Day;
    const previous = day.contacts.get(contactId);
    day.contacts.delete(contactId);
    if (previous) {
      const left = (day.perPerson.get(previous.personId) ?? 0) - previous.units;
      if (left > 0) day.perPerson.set(previous.personId, left);
      else day.perPerson.delete(previous.personId);
    }
  }

  /** Releases the oldest days until a quarter of the bound is free. */
  private release(): void {
    const target = Math.floor(this.maxContacts * 0.75);
    const oldestFirst = [...this.days.keys()].sort((a, b) => dayNumber(a) - dayNumber(b));
    for (const key of oldestFirst) {
      if (this.contactDay.size <= target) {
        break;
      }
      const day = this.days.get(key) as Day;
      for (const id of day.contacts.keys()) {
        this.contactDay.delete(id);
      }
      this.days.delete(key);
      this.releasedDays.add(key);
    }
  }
}
