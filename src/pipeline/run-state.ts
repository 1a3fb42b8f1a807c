/**
 * The small state a canonical run keeps across records (so it can stream files of any size):
 * Part 2 programs and people, units billed per person and day, recovery capital totals, and the
 * links of accepted episodes. Handlers change it only from their `onAccept` effects.
 */
import type { EpisodeLink, OrganizationRecord } from '../domain/model';
import { DailyUnitsLedger } from '../domain/daily-units';
import type { RuleSet } from '../domain/rules';

/** A recovery capital administration with a total, for the changes reported at the end of the run. */
export interface Scored {
  personId: string;
  administrationId: string;
  date: string;
  total: number;
}

export class RunState {
  readonly part2Orgs = new Set<string>();
  /** The telecom of the organizations accepted in the run (their practitioners' roles carry it: US Core pd-1). */
  readonly organizationTelecom = new Map<string, OrganizationRecord['telecom']>();
  /** People whose records come from a Part 2 program (managed by one, or in an episode of one). */
  readonly part2People = new Set<string>();
  /** Units billed per person and day (the daily cap) and per contact (a later version replaces them); bounded. */
  readonly ledger: DailyUnitsLedger;
  readonly scored: Scored[] = [];
  /** Accepted episodes by id (their links), so a contact sent on its own later in the run finds its episode. */
  readonly episodes = new Map<string, EpisodeLink>();

  constructor(rules: RuleSet, part2Organizations: readonly string[] = [], ledgerMaxContacts?: number) {
    this.ledger = new DailyUnitsLedger(rules.billing, ledgerMaxContacts);
    for (const id of part2Organizations) this.part2Orgs.add(id);
  }

  /** Whether records of an episode are Part 2 records: its organization is a Part 2 program, or its person is in one. */
  isPart2(episode: Pick<EpisodeLink, 'personId' | 'organizationId'>): boolean {
    return this.part2Orgs.has(episode.organizationId) || this.part2People.has(episode.personId);
  }
}
