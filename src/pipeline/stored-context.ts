/**
 * Context from the store (issue 13 item 1): before a record is translated, the records it refers
 * to that are not in the run are looked up through the lookup port (src/domain/stored-records.ts,
 * PipelineDeps `stored`), and what they say is put where the run's synchronous handlers already
 * look (RunState): a stored episode for a contact, review or plan sent on its own; the Part 2
 * status of a stored organization, person or episode; the units already billed for a person-day,
 * seeded into the daily-cap ledger. Lookups are asynchronous and the handlers are not, so this
 * runs first (`prepare`), once per reference: answers are cached for the run, bounded.
 *
 * A reference found nowhere is not decided here: a child record whose episode is neither in the
 * run nor stored is rejected by resolveEpisode (episode-ref.ts) as `awaiting episode <id>`.
 */
import type { StoredEpisode, StoredRecords } from '../domain/stored-records';
import type { EpisodeRef } from './episode-ref';
import type { RunState } from './run-state';

/** Answers cached per run before the caches are emptied (memory stays flat, as in src/fhir/ids.ts). */
const CACHE_MAX = 10_000;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** Whether a stored episode names its person and organization (else it is asked again with the next record's claims). */
const complete = (e: StoredEpisode): boolean => e.personId !== undefined && e.organizationId !== undefined;

const DAY = /^\d{4}-\d{2}-\d{2}/;

export class StoredContext {
  private readonly episodes = new Map<string, StoredEpisode | null>();
  private readonly looked = new Set<string>();
  /** Whether a looked-up person, organization or practitioner is stored (`kind|id`). */
  private readonly found = new Map<string, boolean>();
  private readonly days = new Set<string>();
  private readonly billedPeople = new Map<string, boolean>();
  /** Lookups made (for the cost report of bench:translate). */
  lookups = 0;

  constructor(
    private readonly port: StoredRecords,
    private readonly source: string,
    private readonly state: RunState,
  ) {}

  /** The stored episode `id`, once `prepare` looked it up; undefined when not stored (or not readable). */
  episode(id: string): StoredEpisode | undefined {
    return this.episodes.get(id) ?? undefined;
  }

  /**
   * Whether the person, organization or practitioner `id` is stored, once `prepare` looked it up;
   * undefined when it was not looked up (a Part 2 program the mapping declares, a person known
   * from an episode of the run) or its answer left the bounded cache.
   */
  known(kind: 'person' | 'organization' | 'practitioner', id: string): boolean | undefined {
    return this.found.get(`${kind}|${id}`);
  }

  /**
   * Looks up what a record of `kind` refers to outside the run. `value`: the record as mapped
   * (not yet checked: anything unusable is left for the canonical checks to reject); `ref`: a
   * child record's episode (`episode.*`).
   */
  async prepare(kind: string, value: Record<string, unknown>, ref?: EpisodeRef): Promise<void> {
    switch (kind) {
      case 'episode': {
        await this.organization(value.organizationId);
        await this.person(value.personId);
        await this.practitioner(value.specialistId);
        if (value.referral && typeof value.referral === 'object') await this.practitioner((value.referral as Record<string, unknown>).requesterId);
        if (Array.isArray(value.contacts)) {
          for (const c of value.contacts as Record<string, unknown>[]) {
            if (!c || typeof c !== 'object') continue;
            await this.practitioner(c.specialistId);
            if (c.status === 'finished' && c.durationMinutes !== undefined) await this.units(value.personId, c.start);
          }
        }
        if (Array.isArray(value.eligibilityReviews))
          for (const r of value.eligibilityReviews as Record<string, unknown>[]) if (r && typeof r === 'object') await this.practitioner(r.reviewerId);
        return;
      }
      case 'organization':
        return;
      case 'practitioner':
        await this.organization(value.organizationId);
        return this.practitioner(value.supervisorId);
      case 'supervisor-assessment':
        return this.practitioner(value.supervisorId);
      case 'person':
        // Its own stored version: a Patient labelled Part 2 (from an episode at a Part 2 program) keeps the label when re-sent.
        await this.person(value.id);
        return this.organization(value.organizationId);
      case 'recovery-capital':
        return this.person(value.personId);
      case 'contact':
      case 'eligibility-review':
      case 'recovery-plan': {
        const id = text(ref?.id);
        const episode = id === undefined ? undefined : (this.state.episodes.get(id) ?? (await this.storedEpisode(id, ref)));
        await this.practitioner(kind === 'contact' ? value.specialistId : kind === 'eligibility-review' ? value.reviewerId : undefined);
        // An episode named by the record (not in the run, not stored) refers to its person and organization.
        if (!episode) {
          await this.person(ref?.personId);
          await this.organization(ref?.organizationId);
        }
        // Only a contact that bills (finished, with a duration) needs the units stored for its day.
        if (kind === 'contact' && value.status === 'finished' && value.durationMinutes !== undefined)
          await this.units(episode?.personId ?? ref?.personId, value.start);
        return;
      }
      default:
        return;
    }
  }

  /**
   * The stored episode `id`. Its person and organization are named by the store, or by the
   * record's claims (`ref`, and the organizations the source declares) when they hash to the
   * stored references. Cached when complete or missing; an incomplete answer is asked again, with
   * the next record's claims.
   */
  private async storedEpisode(id: string, ref: EpisodeRef | undefined): Promise<StoredEpisode | undefined> {
    const cached = this.episodes.get(id);
    if (cached !== undefined && (cached === null || complete(cached))) return cached ?? undefined;
    this.lookups++;
    const personId = text(ref?.personId);
    const organizationIds = [text(ref?.organizationId), ...this.state.part2Orgs].filter((o): o is string => o !== undefined);
    const found = await this.port.episode(this.source, id, { ...(personId !== undefined ? { personId } : {}), organizationIds });
    if (this.episodes.size >= CACHE_MAX) this.episodes.clear();
    this.episodes.set(id, found ?? null);
    // A stored Part 2 episode makes its person's records Part 2 records, as an accepted one in the run does.
    if (found?.part2 && found.personId !== undefined) this.state.part2People.add(found.personId);
    if (found?.organizationId !== undefined) await this.organization(found.organizationId);
    return found;
  }

  /** A stored organization's Part 2 status joins the run's. */
  private async organization(value: unknown): Promise<void> {
    const id = text(value);
    if (id === undefined || this.state.part2Orgs.has(id) || !this.first(`organization|${id}`)) return;
    this.lookups++;
    const found = await this.port.find(this.source, 'organization', id);
    this.remember('organization', id, found !== undefined);
    if (found?.part2) this.state.part2Orgs.add(id);
  }

  /** A stored person labelled Part 2 keeps the run's new records about them Part 2 records. */
  private async person(value: unknown): Promise<void> {
    const id = text(value);
    if (id === undefined || this.state.part2People.has(id) || !this.first(`person|${id}`)) return;
    this.lookups++;
    const found = await this.port.find(this.source, 'person', id);
    this.remember('person', id, found !== undefined);
    if (found?.part2) this.state.part2People.add(id);
  }

  /** Whether a practitioner is stored (a record referring to one of a source that sends practitioners waits for it). */
  private async practitioner(value: unknown): Promise<void> {
    const id = text(value);
    if (id === undefined || !this.first(`practitioner|${id}`)) return;
    this.lookups++;
    this.remember('practitioner', id, (await this.port.find(this.source, 'practitioner', id)) !== undefined);
  }

  private remember(kind: 'person' | 'organization' | 'practitioner', id: string, stored: boolean): void {
    if (this.found.size >= CACHE_MAX) this.found.clear();
    this.found.set(`${kind}|${id}`, stored);
  }

  /** The units stored for a person-day go into the ledger once, before the run's first contact of that day is checked. */
  private async units(person: unknown, start: unknown): Promise<void> {
    const personId = text(person);
    if (personId === undefined || typeof start !== 'string' || !DAY.test(start)) return;
    const day = start.slice(0, 10);
    const key = `${personId}|${day}`;
    if (this.days.has(key)) return;
    if (this.days.size >= CACHE_MAX) this.days.clear();
    this.days.add(key);
    if (!(await this.billed(personId))) return;
    this.lookups++;
    for (const stored of await this.port.unitsBilled(this.source, personId, day)) {
      if (!this.state.ledger.holds(stored.contactId))
        this.state.ledger.commit({ contactId: stored.contactId, personId, day, units: stored.units, released: false });
    }
  }

  /** Whether the store holds units billed to the person at all (asked once per person: most people of a first load have none). */
  private async billed(personId: string): Promise<boolean> {
    let known = this.billedPeople.get(personId);
    if (known === undefined) {
      this.lookups++;
      known = await this.port.anyUnitsBilled(this.source, personId);
      if (this.billedPeople.size >= CACHE_MAX) this.billedPeople.clear();
      this.billedPeople.set(personId, known);
    }
    return known;
  }

  /** True the first time `key` is asked for (until the cache is emptied). */
  private first(key: string): boolean {
    if (this.looked.has(key)) return false;
    if (this.looked.size >= CACHE_MAX) this.looked.clear();
    this.looked.add(key);
    return true;
  }
}
