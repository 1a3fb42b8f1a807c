/**
 * Context from the store (issue 13 item 1): before records are translated, the records they refer
 * to that are not in the run are looked up through the lookup port (src/domain/stored-records.ts,
 * PipelineDeps `stored`), and what they say is put where the run's synchronous handlers already
 * look (RunState): a stored episode for a contact, review or plan sent on its own; the Part 2
 * status of a stored organization, person or episode; whether a person, organization or
 * practitioner is stored at all (a record of a source that sends them waits for a missing one:
 * run-mode.ts AwaitingFeedMode); the units already billed for a person-day, seeded into the
 * daily-cap ledger. Lookups are asynchronous and the handlers are not, so this runs first.
 *
 * Lookups are batched: `prefetch` takes a batch of records (translate-source.ts reads up to
 * LOOKUP_BATCH source records ahead) and asks the port once per kind for every reference of the
 * batch not in the run and not asked before: a few questions per batch instead of several per
 * record. Answers are cached for the run, bounded. `prepare` (one record) is a batch of one.
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

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Whether a stored episode names its person and organization (else it is asked again with the next record's claims). */
const complete = (e: StoredEpisode): boolean => e.personId !== undefined && e.organizationId !== undefined;

const DAY = /^\d{4}-\d{2}-\d{2}/;

type Referred = 'person' | 'organization' | 'practitioner';

/** A record about to be translated: its kind, its value as mapped (not yet checked) and, for a child on its own, its episode. */
export interface PendingRecord {
  kind: string;
  value: Record<string, unknown>;
  ref?: EpisodeRef;
}

/** What a batch of records refers to. */
class Wanted {
  readonly ids = { person: new Set<string>(), organization: new Set<string>(), practitioner: new Set<string>() };
  /** People whose open episode is asked for (a child naming no episode, only its person). */
  readonly openFor = new Set<string>();
  /** Episodes not in the run, with the claims of the first record naming each. */
  readonly episodes = new Map<string, EpisodeRef | undefined>();
  /** Billing contacts: their person (or, for a child, undefined until its episode is known), episode id and start. */
  readonly units: { personId?: string; episodeId?: string; start: unknown }[] = [];

  add(kind: Referred, v: unknown): void {
    const id = text(v);
    if (id !== undefined) this.ids[kind].add(id);
  }
}

const bills = (c: Record<string, unknown>): boolean => c.status === 'finished' && c.durationMinutes !== undefined;

export class StoredContext {
  private readonly episodes = new Map<string, StoredEpisode | null>();
  /** The open episode of a person (by person source id), once asked. */
  private readonly open = new Map<string, StoredEpisode | null>();
  /** Whether a person, organization or practitioner is stored (`kind|id`), once asked. */
  private readonly found = new Map<string, boolean>();
  private readonly days = new Set<string>();
  private readonly billedPeople = new Map<string, boolean>();
  /** Questions asked of the port (for the cost report of bench:translate). */
  lookups = 0;

  constructor(
    private readonly port: StoredRecords,
    private readonly source: string,
    private readonly state: RunState,
  ) {}

  /** The stored episode `id`, once looked up; undefined when not stored (or not readable). */
  episode(id: string): StoredEpisode | undefined {
    return this.episodes.get(id) ?? undefined;
  }

  /** The open peer support episode of person `personId` in the store, once looked up (StoredRecords.openEpisodes). */
  openEpisode(personId: string): StoredEpisode | undefined {
    return this.open.get(personId) ?? undefined;
  }

  /**
   * Whether the person, organization or practitioner `id` is stored, once looked up; undefined
   * when it was not (a Part 2 program the mapping declares, a person already known as Part 2 in
   * the run) or its answer left the bounded cache: then no record waits for it.
   */
  known(kind: Referred, id: string): boolean | undefined {
    return this.found.get(`${kind}|${id}`);
  }

  /** Looks up what one record refers to outside the run (a batch of one). */
  async prepare(kind: string, value: Record<string, unknown>, ref?: EpisodeRef): Promise<void> {
    await this.prefetch([{ kind, value, ref }]);
  }

  /**
   * Looks up what a batch of records refers to outside the run: one question per kind (people,
   * organizations, practitioners, episodes; then the organizations of the stored episodes and who
   * has units billed), and the stored units of each billed person-day of the batch.
   */
  async prefetch(records: readonly PendingRecord[]): Promise<void> {
    const want = new Wanted();
    for (const r of records) this.collect(r, want);
    // Episodes first: a stored episode names the person whose units a contact counts, and an organization.
    await Promise.all([this.askEpisodes(want.episodes), this.askOpen(want.openFor), this.askFound(want)]);
    const then = new Wanted();
    for (const [id, ref] of want.episodes) {
      const stored = this.episodes.get(id);
      // A stored episode's organization (its Part 2 status); an episode stored nowhere that the record names with its
      // person and organization refers to them (resolveEpisode takes it from the record).
      if (stored) then.add('organization', stored.organizationId);
      else {
        then.add('person', ref?.personId);
        then.add('organization', ref?.organizationId);
      }
    }
    for (const p of want.openFor) then.add('organization', this.open.get(p)?.organizationId);
    await this.askFound(then);
    await this.askUnits(want.units);
  }

  /** The references of one record (mirrors what its handler refers to: record-handlers.ts). */
  private collect({ kind, value, ref }: PendingRecord, want: Wanted): void {
    switch (kind) {
      case 'episode': {
        want.add('organization', value.organizationId);
        want.add('person', value.personId);
        want.add('practitioner', value.specialistId);
        want.add('practitioner', obj(value.referral)?.requesterId);
        for (const c of Array.isArray(value.contacts) ? value.contacts : []) {
          const contact = obj(c);
          if (!contact) continue;
          want.add('practitioner', contact.specialistId);
          if (bills(contact)) want.units.push({ personId: text(value.personId), start: contact.start });
        }
        for (const r of Array.isArray(value.eligibilityReviews) ? value.eligibilityReviews : []) want.add('practitioner', obj(r)?.reviewerId);
        return;
      }
      case 'person':
        // Its own stored version: a Patient labelled Part 2 (from an episode at a Part 2 program) keeps the label when re-sent.
        want.add('person', value.id);
        want.add('organization', value.organizationId);
        return;
      case 'practitioner':
        want.add('organization', value.organizationId);
        want.add('practitioner', value.supervisorId);
        return;
      case 'supervisor-assessment':
        want.add('practitioner', value.supervisorId);
        return;
      case 'recovery-capital':
        want.add('person', value.personId);
        return;
      case 'contact':
      case 'eligibility-review':
      case 'recovery-plan': {
        const id = text(ref?.id);
        want.add('practitioner', kind === 'contact' ? value.specialistId : kind === 'eligibility-review' ? value.reviewerId : undefined);
        // No episode named, only its person (an HL7 v2 SIU without PV1-19): the person's open episode in the store.
        if (ref?.id === undefined && text(ref?.personId) !== undefined) want.openFor.add(text(ref?.personId) as string);
        if (id !== undefined && !this.state.episodes.has(id) && !want.episodes.has(id)) want.episodes.set(id, ref);
        // Only a contact that bills (finished, with a duration) needs the units stored for its day.
        if (kind === 'contact' && bills(value))
          want.units.push({ ...(id !== undefined ? { episodeId: id } : {}), personId: text(ref?.personId), start: value.start });
        return;
      }
      default:
        return;
    }
  }

  /** People, organizations and practitioners not asked before: one question per kind. */
  private async askFound(want: Wanted): Promise<void> {
    await Promise.all(
      (['person', 'organization', 'practitioner'] as const).map(async (kind) => {
        // A Part 2 program or person the run knows already needs no question (its status cannot be more Part 2).
        const known = kind === 'organization' ? this.state.part2Orgs : kind === 'person' ? this.state.part2People : undefined;
        const ask = [...want.ids[kind]].filter((id) => !known?.has(id) && !this.found.has(`${kind}|${id}`));
        if (ask.length === 0) return;
        this.lookups++;
        const stored = await this.port.findMany(this.source, kind, ask);
        if (this.found.size + ask.length > CACHE_MAX) this.found.clear();
        for (const id of ask) {
          const r = stored.get(id);
          this.found.set(`${kind}|${id}`, r !== undefined);
          if (r?.part2 && kind === 'organization') this.state.part2Orgs.add(id);
          else if (r?.part2 && kind === 'person') this.state.part2People.add(id);
        }
      }),
    );
  }

  /**
   * Stored episodes not known yet. Their person and organization are named by the store, or by
   * the records' claims (their `episode.*`, and the organizations the run knows as Part 2) when
   * they hash to the stored references. Cached when complete or missing; an incomplete answer is
   * asked again with the next record's claims.
   */
  private async askEpisodes(wanted: ReadonlyMap<string, EpisodeRef | undefined>): Promise<void> {
    const asks = [...wanted]
      .filter(([id]) => {
        const cached = this.episodes.get(id);
        return !(cached !== undefined && (cached === null || complete(cached)));
      })
      .map(([id, ref]) => {
        const personId = text(ref?.personId);
        const organizationIds = [text(ref?.organizationId), ...this.state.part2Orgs].filter((o): o is string => o !== undefined);
        return { id, claims: { ...(personId !== undefined ? { personId } : {}), organizationIds } };
      });
    if (asks.length === 0) return;
    this.lookups++;
    const found = await this.port.episodes(this.source, asks);
    if (this.episodes.size + asks.length > CACHE_MAX) this.episodes.clear();
    for (const { id } of asks) {
      const e = found.get(id);
      this.episodes.set(id, e ?? null);
      // A stored Part 2 episode makes its person's records Part 2 records, as an accepted one in the run does.
      if (e?.part2 && e.personId !== undefined) this.state.part2People.add(e.personId);
    }
  }

  /** The open episodes of people not asked before: one question for the batch. */
  private async askOpen(people: ReadonlySet<string>): Promise<void> {
    const ask = [...people].filter((p) => !this.open.has(p));
    if (ask.length === 0) return;
    this.lookups++;
    const found = await this.port.openEpisodes(this.source, ask);
    if (this.open.size + ask.length > CACHE_MAX) this.open.clear();
    for (const p of ask) {
      const e = found.get(p);
      this.open.set(p, e ?? null);
      if (e?.part2) this.state.part2People.add(p);
    }
  }

  /** The units stored for the batch's person-days go into the ledger once, before the run's first contact of that day is checked. */
  private async askUnits(units: Wanted['units']): Promise<void> {
    const days = new Map<string, { personId: string; day: string }>();
    for (const u of units) {
      const personId =
        (u.episodeId !== undefined ? (this.state.episodes.get(u.episodeId) ?? this.episodes.get(u.episodeId))?.personId : undefined) ?? u.personId;
      if (personId === undefined || typeof u.start !== 'string' || !DAY.test(u.start)) continue;
      const day = u.start.slice(0, 10);
      const key = `${personId}|${day}`;
      if (!this.days.has(key)) days.set(key, { personId, day });
    }
    if (days.size === 0) return;
    // Whether each person has units billed at all: one question for the batch (most people of a first load have none).
    const people = [...new Set([...days.values()].map((d) => d.personId))].filter((p) => !this.billedPeople.has(p));
    if (this.billedPeople.size + people.length > CACHE_MAX) this.billedPeople.clear();
    // A person the store did not hold when the run asked has no units stored (a first load's new clients): no question.
    const ask = people.filter((p) => {
      if (this.found.get(`person|${p}`) !== false) return true;
      this.billedPeople.set(p, false);
      return false;
    });
    if (ask.length) {
      this.lookups++;
      const billed = await this.port.billedAmong(this.source, ask);
      for (const p of ask) this.billedPeople.set(p, billed.has(p));
    }
    if (this.days.size + days.size > CACHE_MAX) this.days.clear();
    for (const [key, { personId, day }] of days) {
      this.days.add(key);
      if (this.billedPeople.get(personId) === false) continue;
      this.lookups++;
      for (const stored of await this.port.unitsBilled(this.source, personId, day)) {
        if (!this.state.ledger.holds(stored.contactId))
          this.state.ledger.commit({ contactId: stored.contactId, personId, day, units: stored.units, released: false });
      }
    }
  }
}
