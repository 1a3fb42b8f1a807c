/**
 * The units billed in one run, per person and day (for the daily cap, rules.billing
 * `maxUnitsPerPersonPerDay`, docs/domain.md#billing-units-hcpcs-h0038) and per contact (so that a later version of a
 * contact, an HL7 reschedule or charge, replaces its units instead of adding to them).
 *
 * Bounded, so a run's memory stays flat however long its input: the ledger holds at most
 * `maxContacts` contacts (100,000 by default, about 20 MB). Past that it releases the person-days
 * used least recently: an export sorted by date leaves past days behind, one sorted by client
 * leaves past clients behind, so the ones released are those no later record is about. A contact
 * of a released person-day is still billed, but its cap can only be checked against contacts
 * seen since; `check` flags it (`released`) so the caller warns: nothing is dropped or changed
 * silently. Released person-days are remembered in a fixed-size Bloom filter (1 MiB): memory
 * stays flat, and a rare false match only adds a needless warning, never removes one.
 */
import { cappedUnits, type RuleSet } from './rules';

/** Contacts held before person-days are released: ~20 MB at the most (about 200 bytes a contact). */
export const DEFAULT_MAX_CONTACTS = 100_000;

/**
 * Units billed to one person on one day, and the contacts that billed them: one id inline (most
 * days have one contact), a list beyond. No Map per day: a Map and its table cost ~300 bytes.
 */
interface PersonDay {
  units: number;
  ids: string | string[];
}

const idsOf = (d: PersonDay): readonly string[] => (typeof d.ids === 'string' ? [d.ids] : d.ids);

/** What `check` decided for a contact; `commit` records it once the contact is accepted. */
export interface UnitsCheck {
  contactId: string;
  personId: string;
  day: string;
  /** Units granted under the cap. */
  units: number;
  /** The person-day was released earlier in the run (probably): the cap saw part of the day only. */
  released: boolean;
}

const BLOOM_BITS = 2 ** 23;
const BLOOM_HASHES = 3;

/** A fixed-size Bloom filter of strings (FNV-1a with double hashing): no false negatives. */
class BloomFilter {
  private readonly bits = new Uint32Array(BLOOM_BITS / 32);

  add(key: string): void {
    for (const bit of this.positions(key)) this.bits[bit >>> 5] |= 1 << (bit & 31);
  }

  has(key: string): boolean {
    return this.positions(key).every((bit) => (this.bits[bit >>> 5] & (1 << (bit & 31))) !== 0);
  }

  private positions(key: string): number[] {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    h2 |= 1;
    const out: number[] = [];
    for (let k = 0; k < BLOOM_HASHES; k++) out.push(((h1 + Math.imul(k, h2)) >>> 0) % BLOOM_BITS);
    return out;
  }
}

export class DailyUnitsLedger {
  /** Person-days (`person|day`), least recently used first (a touched entry is moved to the end). */
  private readonly personDays = new Map<string, PersonDay>();
  /** The person-day of each contact held, and its units. */
  private readonly contactKey = new Map<string, string>();
  private readonly contactUnits = new Map<string, number>();
  private released: BloomFilter | undefined;

  constructor(
    private readonly rules: RuleSet['billing'],
    readonly maxContacts = DEFAULT_MAX_CONTACTS,
  ) {}

  /** Whether the ledger holds units of the contact `contactId` (seen in the run, or seeded from the store). */
  holds(contactId: string): boolean {
    return this.contactKey.has(contactId);
  }

  /** Contacts held now. */
  get size(): number {
    return this.contactKey.size;
  }

  /**
   * The units a finished contact of `rawUnits` may bill on `day` (local date of its start) for
   * `personId`, under the cap, not counting its own earlier version. Changes nothing.
   */
  check(contactId: string, personId: string, day: string, rawUnits: number): UnitsCheck {
    const key = `${personId}|${day}`;
    const entry = this.personDays.get(key);
    const own = this.contactKey.get(contactId) === key ? (this.contactUnits.get(contactId) ?? 0) : 0;
    const used = (entry?.units ?? 0) - own;
    const units = cappedUnits(rawUnits, key, new Map([[key, used]]), this.rules);
    return { contactId, personId, day, units, released: this.released?.has(key) ?? false };
  }

  /** Records an accepted contact's units (replacing its earlier version's), then releases person-days if over the bound. */
  commit(check: UnitsCheck): void {
    this.forget(check.contactId);
    const key = `${check.personId}|${check.day}`;
    let entry = this.personDays.get(key);
    if (entry) {
      // Re-inserted: the most recently used is last.
      this.personDays.delete(key);
      entry.ids = [...idsOf(entry), check.contactId];
    } else {
      entry = { units: 0, ids: check.contactId };
    }
    this.personDays.set(key, entry);
    entry.units += check.units;
    this.contactKey.set(check.contactId, key);
    this.contactUnits.set(check.contactId, check.units);
    if (this.contactKey.size > this.maxContacts) {
      this.release();
    }
  }

  /** Takes a contact's units out (before its later version's are recorded). */
  private forget(contactId: string): void {
    const key = this.contactKey.get(contactId);
    if (key === undefined) {
      return;
    }
    const entry = this.personDays.get(key) as PersonDay;
    entry.units -= this.contactUnits.get(contactId) ?? 0;
    const rest = idsOf(entry).filter((id) => id !== contactId);
    if (rest.length === 0) this.personDays.delete(key);
    else entry.ids = rest.length === 1 ? rest[0] : rest;
    this.contactKey.delete(contactId);
    this.contactUnits.delete(contactId);
  }

  /** Releases the least recently used person-days until a quarter of the bound is free. */
  private release(): void {
    const target = Math.floor(this.maxContacts * 0.75);
    this.released ??= new BloomFilter();
    for (const [key, entry] of this.personDays) {
      if (this.contactKey.size <= target) {
        break;
      }
      for (const id of idsOf(entry)) {
        this.contactKey.delete(id);
        this.contactUnits.delete(id);
      }
      this.personDays.delete(key);
      this.released.add(key);
    }
  }
}
