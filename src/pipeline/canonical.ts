/**
 * The canonical pipeline: record (JSON) -> canonical (zod) -> rules -> FHIR -> validated. Each
 * record is accepted or rejected on its own; a rejected record is reported with its JSON path
 * (`$.episodes[3].contacts[1].durationMinutes`), the stage and the reason, and the rest go on.
 * Records of an episode (reviews, contacts, plan) are records of their own: one bad contact
 * rejects that contact, not the episode.
 *
 * A run keeps only small state across records (ids seen, units billed per person and day,
 * recovery capital totals), so it can stream files of any size.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { z } from 'zod';
import {
  Contact,
  EligibilityReview,
  EPISODE_CHILDREN,
  EpisodeHeader,
  Organization,
  Person,
  Practitioner,
  RecordId,
  RecoveryCapitalAdministration,
  RecoveryPlan,
  SupervisorAssessment,
  Uri,
  type CollectionName,
  type EpisodeHeaderRecord,
  type EpisodeLink,
  type RecordKind,
} from '../domain/model';
import { DailyUnitsLedger } from '../domain/daily-units';
import { billingUnits, recoveryCapitalChanges, recoveryCapitalTotal, type RecoveryCapitalChange, type RuleSet } from '../domain/rules';
import { localDate } from '../domain/datetime';
import type { MapContext, PackageTerms } from '../fhir/context';
import * as records from '../fhir/records';
import type { Validator } from '../validation';
import { futureDateIssues, recordIssue, zodIssues, type Stage } from './issues';
import { FeedMode, FileMode, type ReferredKind, type RunMode } from './run-mode';

export type { RecordKind };

const KIND_OF: Record<CollectionName, RecordKind> = {
  organizations: 'organization',
  practitioners: 'practitioner',
  people: 'person',
  episodes: 'episode',
  recoveryCapital: 'recovery-capital',
  supervisorAssessments: 'supervisor-assessment',
};

/** What happened to one record. */
export interface RecordResult {
  kind: RecordKind;
  path: string;
  id?: string;
  accepted: boolean;
  /** Resources made from the record (empty when rejected). */
  resources: Resource[];
  issues: OperationOutcomeIssue[];
}

export interface KindCounts {
  read: number;
  accepted: number;
  rejected: number;
}

export interface RunSummary {
  read: number;
  accepted: number;
  rejected: number;
  resources: number;
  byKind: Partial<Record<RecordKind, KindCounts>>;
  recoveryCapitalChanges: RecoveryCapitalChange[];
}

export interface PipelineDeps {
  validator: Validator;
  rules: RuleSet;
  terms: PackageTerms;
  /** The clock for future-date checks (injected for tests). */
  now?: () => Date;
  /** Organizations known to be 42 CFR Part 2 programs before the run (a mapping's `part2Organizations`). */
  part2Organizations?: readonly string[];
  /**
   * A record with the id of an earlier one in the run is a later version of it, not a duplicate
   * (outside sources: HL7 messages are events, an A08 updates the A04's person, a DFT the SIU's
   * contact). Its resources replace the earlier ones; units billed are counted once.
   */
  laterRecordsUpdate?: boolean;
  /** Contacts the daily-cap ledger holds before it releases the person-days used least recently (DailyUnitsLedger; default 100,000). */
  ledgerMaxContacts?: number;
}

/** The episode a contact, review or plan sent on its own belongs to (a mapping's `episode.*` targets). */
export interface EpisodeRef {
  id?: unknown;
  personId?: unknown;
  organizationId?: unknown;
}

export type ChildKind = 'contact' | 'eligibility-review' | 'recovery-plan';

/**
 * One translation run over the records of one source. What the two kinds of run (a canonical
 * file, an outside feed) do differently with ids is their RunMode (run-mode.ts), chosen here once.
 */
export class CanonicalRun {
  private ctx: MapContext | undefined;
  private readonly mode: RunMode;
  private readonly part2Orgs = new Set<string>();
  /** People whose records come from a Part 2 program (managed by one, or in an episode of one). */
  private readonly part2People = new Set<string>();
  /** Units billed per person and day (the daily cap) and per contact (a later version replaces them); bounded. */
  private readonly ledger: DailyUnitsLedger;
  private readonly scored: { personId: string; administrationId: string; date: string; total: number }[] = [];
  private readonly counts: Partial<Record<RecordKind, KindCounts>> = {};
  private resourceCount = 0;
  private readonly now: () => Date;

  /** Accepted episodes by id (their links), so a contact sent on its own later in the run finds its episode. */
  private readonly episodes = new Map<string, EpisodeLink>();

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.mode = deps.laterRecordsUpdate ? new FeedMode() : new FileMode();
    this.ledger = new DailyUnitsLedger(deps.rules.billing, deps.ledgerMaxContacts);
    for (const id of deps.part2Organizations ?? []) this.part2Orgs.add(id);
  }

  /** Sets the source system; returns issues when it is not a URI (then every record is rejected). */
  setSource(value: unknown): OperationOutcomeIssue[] {
    const parsed = Uri.refine((s) => !s.endsWith('/'), 'Must not end with /').safeParse(value);
    if (!parsed.success) {
      return zodIssues(parsed.error, '$.source', 'canonical');
    }
    this.ctx = { source: parsed.data, rules: this.deps.rules, terms: this.deps.terms };
    return [];
  }

  get hasSource(): boolean {
    return this.ctx !== undefined;
  }

  /** Translates one record of a top-level collection (an episode yields its children's results too). */
  translate(collection: CollectionName, index: number, raw: unknown): RecordResult[] {
    return this.translateAt(collection, `$.${collection}[${index}]`, raw);
  }

  /**
   * Translates one record of a collection; issues are reported under `path`. `pre`: errors found
   * before the canonical stage (an outside source's mapping), by path: each rejects the record
   * it is in, so a bad contact of an episode rejects that contact only.
   */
  translateAt(collection: CollectionName, path: string, raw: unknown, pre: OperationOutcomeIssue[] = []): RecordResult[] {
    if (pre.length && collection !== 'episodes') {
      return [this.count(this.reject(KIND_OF[collection], path, raw, pre))];
    }
    const kind = KIND_OF[collection];
    if (!this.ctx) {
      return [this.count(this.reject(kind, path, raw, [recordIssue('error', 'required', '$.source', 'The file has no valid "source" (the URI of the source system) before its records', 'canonical')]))];
    }
    switch (collection) {
      case 'organizations':
        return [this.simple(kind, path, raw, Organization, (o, _issues, onAccept) => {
          onAccept.push(() => {
            this.declare('organization', o.id);
            if (o.part2Program) this.part2Orgs.add(o.id);
          });
          return records.organizationResources(o, this.ctx as MapContext);
        })];
      case 'practitioners':
        return [this.simple(kind, path, raw, Practitioner, (p, _issues, onAccept) => {
          onAccept.push(() => this.declare('practitioner', p.id));
          this.refer('organization', p.organizationId, `${path}.organizationId`);
          if (p.supervisorId) this.refer('practitioner', p.supervisorId, `${path}.supervisorId`);
          return records.practitionerResources(p, this.ctx as MapContext);
        })];
      case 'people':
        return [this.simple(kind, path, raw, Person, (p, _issues, onAccept) => {
          if (p.organizationId) this.refer('organization', p.organizationId, `${path}.organizationId`);
          const part2 = this.part2People.has(p.id) || (p.organizationId !== undefined && this.part2Orgs.has(p.organizationId));
          onAccept.push(() => {
            this.declare('person', p.id);
            if (part2) this.part2People.add(p.id);
          });
          return records.personResources(p, this.ctx as MapContext, part2);
        })];
      case 'episodes':
        return this.episode(path, raw, pre);
      case 'recoveryCapital':
        return [this.simple(kind, path, raw, RecoveryCapitalAdministration, (a, issues, onAccept) => {
          this.refer('person', a.personId, `${path}.personId`);
          const result = recoveryCapitalTotal(a.answers);
          if (result.total === undefined) {
            const items = result.missing.map((n) => `${n} (irc-${n})`).join(', ');
            issues.push(recordIssue('warning', 'incomplete', `${path}.answers[${result.missing[0] - 1}]`, `No total: item${result.missing.length > 1 ? 's' : ''} ${items} not answered`, 'rules'));
          } else {
            const scored = { personId: a.personId, administrationId: a.id, date: a.date, total: result.total };
            onAccept.push(() => this.scored.push(scored));
          }
          return records.administrationResources(a, this.ctx as MapContext, this.part2People.has(a.personId));
        })];
      case 'supervisorAssessments':
        return [this.simple(kind, path, raw, SupervisorAssessment, (s) => {
          this.refer('practitioner', s.supervisorId, `${path}.supervisorId`);
          return records.assessmentResources(s, this.ctx as MapContext);
        })];
    }
  }

  /** Warnings that need the whole run (references to records not in it: canonical files only, see RunMode) and the summary. */
  finish(): { issues: OperationOutcomeIssue[]; summary: RunSummary } {
    const issues = this.mode.unresolved();
    const totals = Object.values(this.counts).reduce((s, c) => ({ read: s.read + c.read, accepted: s.accepted + c.accepted, rejected: s.rejected + c.rejected }), { read: 0, accepted: 0, rejected: 0 });
    return { issues, summary: { ...totals, resources: this.resourceCount, byKind: this.counts, recoveryCapitalChanges: recoveryCapitalChanges(this.scored) } };
  }

  // --- records -------------------------------------------------------------------------------

  private episode(path: string, raw: unknown, pre: OperationOutcomeIssue[] = []): RecordResult[] {
    const under = (base: string) => (i: OperationOutcomeIssue): boolean => {
      const e = i.expression?.[0] ?? '';
      return e === base || e.startsWith(`${base}.`) || e.startsWith(`${base}[`);
    };
    const inChild = (i: OperationOutcomeIssue): boolean => EPISODE_CHILDREN.some((k) => (k === 'recoveryPlan' ? under(`${path}.${k}`)(i) : (i.expression?.[0] ?? '').startsWith(`${path}.${k}[`)));
    const headerPre = pre.filter((i) => !inChild(i));
    const header: Record<string, unknown> = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : {};
    const children = Object.fromEntries(EPISODE_CHILDREN.map((k) => [k, header[k]]));
    EPISODE_CHILDREN.forEach((k) => delete header[k]);
    let episode: EpisodeHeaderRecord | undefined;
    let part2 = false;
    const headerRaw = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? header : raw;
    const result = headerPre.length ? this.count(this.reject('episode', path, headerRaw, headerPre)) : this.simple('episode', path, headerRaw, EpisodeHeader, (e, _issues, onAccept) => {
      episode = e;
      part2 = this.part2Orgs.has(e.organizationId) || this.part2People.has(e.personId);
      // Only the link is kept (not the whole header), so a run's memory grows little with its episodes.
      onAccept.push(() => this.episodes.set(e.id, { id: e.id, personId: e.personId, organizationId: e.organizationId, ...(e.referral ? { referral: true } : {}) }));
      if (part2) onAccept.push(() => this.part2People.add(e.personId));
      this.refer('person', e.personId, `${path}.personId`);
      this.refer('organization', e.organizationId, `${path}.organizationId`);
      if (e.specialistId) this.refer('practitioner', e.specialistId, `${path}.specialistId`);
      if (e.referral?.requesterId) this.refer('practitioner', e.referral.requesterId, `${path}.referral.requesterId`);
      return records.episodeResources(e, this.ctx as MapContext, part2);
    });
    const out = [result];
    const list = (key: string): unknown[] => {
      const v = children[key];
      if (v === undefined) return [];
      if (!Array.isArray(v)) {
        const kindOf: Record<string, RecordKind> = { eligibilityReviews: 'eligibility-review', contacts: 'contact' };
        const issue = recordIssue('error', 'structure', `${path}.${key}`, `Expected an array of records, got ${v === null ? 'null' : typeof v}: none of them was read`, 'canonical');
        out.push(this.count(this.reject(kindOf[key], `${path}.${key}`, v, [issue])));
        return [];
      }
      return v;
    };
    const childResult = (kind: RecordKind, childPath: string, childRaw: unknown, run: (e: EpisodeHeaderRecord) => RecordResult): RecordResult => {
      if (!result.accepted || !episode) {
        return this.count(this.reject(kind, childPath, childRaw, [recordIssue('error', 'invariant', childPath, `Not translated: its episode ${path} was rejected`, 'canonical')]));
      }
      const own = pre.filter(under(childPath));
      if (own.length) {
        return this.count(this.reject(kind, childPath, childRaw, own));
      }
      return run(episode);
    };
    list('eligibilityReviews').forEach((r, i) => {
      const p = `${path}.eligibilityReviews[${i}]`;
      out.push(childResult('eligibility-review', p, r, (e) => this.review(p, r, e, part2)));
    });
    list('contacts').forEach((c, i) => {
      const p = `${path}.contacts[${i}]`;
      out.push(childResult('contact', p, c, (e) => this.contact(p, c, e, part2)));
    });
    const plan = children.recoveryPlan;
    if (plan !== undefined) {
      const p = `${path}.recoveryPlan`;
      out.push(childResult('recovery-plan', p, plan, (e) => this.plan(p, plan, e, part2)));
    }
    return out;
  }

  /**
   * A contact, review or plan sent on its own (an outside source's row or message). Its episode
   * is the one of that id accepted earlier in this run, or else the one `ref` names with its
   * person and organization (an episode sent before, in another run).
   */
  translateChild(kind: ChildKind, path: string, raw: unknown, ref: EpisodeRef): RecordResult {
    if (!this.ctx) {
      return this.count(this.reject(kind, path, raw, [recordIssue('error', 'required', '$.source', 'No valid source system before the records', 'canonical')]));
    }
    const issues: OperationOutcomeIssue[] = [];
    const field = (name: keyof EpisodeRef): string | undefined => {
      const v = ref[name];
      if (v === undefined) return undefined;
      const parsed = RecordId.safeParse(v);
      if (!parsed.success) {
        issues.push(...zodIssues(parsed.error, `${path}.episode.${name}`, 'canonical'));
        return undefined;
      }
      return parsed.data;
    };
    const id = field('id');
    const personId = field('personId');
    const organizationId = field('organizationId');
    let episode: EpisodeLink | undefined;
    if (id === undefined) {
      if (ref.id === undefined) issues.push(recordIssue('error', 'required', `${path}.episode.id`, `A ${kind} on its own needs the id of its episode (episode.id)`, 'canonical'));
    } else {
      const known = this.episodes.get(id);
      if (known) {
        for (const [name, value] of [['personId', personId], ['organizationId', organizationId]] as const) {
          if (value !== undefined && value !== known[name]) {
            issues.push(recordIssue('error', 'conflict', `${path}.episode.${name}`, `Episode ${id} has ${name} "${known[name]}" in this run, not "${value}"`, 'canonical'));
          }
        }
        episode = known;
      } else {
        for (const [name, value] of [['personId', personId], ['organizationId', organizationId]] as const) {
          if (value === undefined && ref[name] === undefined) {
            issues.push(recordIssue('error', 'required', `${path}.episode.${name}`, `Episode ${id} is not in this run: give episode.${name} too`, 'canonical'));
          }
        }
        if (personId !== undefined && organizationId !== undefined) {
          episode = { id, personId, organizationId };
          this.refer('person', personId, `${path}.episode.personId`);
          this.refer('organization', organizationId, `${path}.episode.organizationId`);
        }
      }
    }
    if (!episode || issues.some((i) => i.severity === 'error')) {
      return this.count(this.reject(kind, path, raw, issues));
    }
    const part2 = this.part2Orgs.has(episode.organizationId) || this.part2People.has(episode.personId);
    switch (kind) {
      case 'contact':
        return this.contact(path, raw, episode, part2);
      case 'eligibility-review':
        return this.review(path, raw, episode, part2);
      case 'recovery-plan':
        return this.plan(path, raw, episode, part2);
    }
  }

  /** Counts a record rejected before the canonical stage (by the mapping of an outside source). */
  rejectRecord(kind: RecordKind, path: string, raw: unknown, issues: OperationOutcomeIssue[]): RecordResult {
    return this.count(this.reject(kind, path, raw, issues));
  }

  private review(p: string, r: unknown, e: EpisodeLink, part2: boolean): RecordResult {
    return this.simple('eligibility-review', p, r, EligibilityReview, (rev, issues) => {
      const allowed = new Set<string>(this.deps.rules.eligibility[rev.type].criteria);
      for (const c of Object.keys(rev.criteria)) {
        if (!allowed.has(c)) issues.push(recordIssue('error', 'business-rule', `${p}.criteria.${c}`, `Criterion ${c} is not part of a ${rev.type} review (it takes ${[...allowed].join(', ')})`, 'rules'));
      }
      if (rev.reviewerId) this.refer('practitioner', rev.reviewerId, `${p}.reviewerId`);
      return records.reviewResources(rev, e, this.ctx as MapContext, part2);
    });
  }

  private contact(p: string, c: unknown, e: EpisodeLink, part2: boolean): RecordResult {
    return this.simple('contact', p, c, Contact, (contact, issues, onAccept) => {
      this.refer('practitioner', contact.specialistId, `${p}.specialistId`);
      let units = 0;
      if (contact.status === 'finished' && contact.durationMinutes !== undefined && !issues.some((x) => x.severity === 'error')) {
        const raw = billingUnits(contact.durationMinutes, this.deps.rules.billing);
        const day = localDate(contact.start);
        // Checked now, recorded only if this contact is accepted; a later version replaces its units.
        const check = this.ledger.check(contact.id, e.personId, day, raw);
        units = check.units;
        onAccept.push(() => this.ledger.commit(check));
        if (raw === 0) issues.push(recordIssue('warning', 'informational', `${p}.durationMinutes`, `${contact.durationMinutes} minutes earn no billing unit: no ChargeItem`, 'rules'));
        else if (units < raw) issues.push(recordIssue('warning', 'business-rule', `${p}.durationMinutes`, `Daily cap of ${this.deps.rules.billing.maxUnitsPerPersonPerDay} units for person ${e.personId} on ${day}: ${units} of ${raw} units billed`, 'rules'));
        if (check.released) {
          issues.push(
            recordIssue('warning', 'business-rule', `${p}.start`, `Daily cap for person ${e.personId} on ${day} checked only against contacts read since this run released that person's day (it holds the ${this.ledger.maxContacts.toLocaleString('en-US')} contacts used last; the input is in neither date nor client order)`, 'rules'),
          );
        }
      }
      // A later version that bills nothing (cancelled, no-show) makes no ChargeItem, so the earlier
      // version's ChargeItem stands: its units stay counted under the cap.
      return records.contactResources(contact, e, units, this.ctx as MapContext, part2);
    });
  }

  private plan(p: string, plan: unknown, e: EpisodeLink, part2: boolean): RecordResult {
    return this.simple('recovery-plan', p, plan, RecoveryPlan, (rp) => records.planResources(rp, e, this.ctx as MapContext, part2));
  }

  /**
   * Parses a record with its schema, checks ids and dates, maps it and validates every resource.
   * `map` may add issues; any error rejects the record.
   */
  private simple<S extends z.ZodType>(
    kind: RecordKind,
    path: string,
    raw: unknown,
    schema: S,
    map: (value: z.output<S>, issues: OperationOutcomeIssue[], onAccept: (() => void)[]) => Resource[],
  ): RecordResult {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      return this.count(this.reject(kind, path, raw, zodIssues(parsed.error, path, 'canonical')));
    }
    const value = parsed.data as z.output<S>;
    const id = (value as { id?: string }).id;
    const issues: OperationOutcomeIssue[] = [...futureDateIssues(kind, value, path, this.now())];
    if (id !== undefined) {
      const duplicate = this.mode.duplicate(kind, id, path);
      if (duplicate) issues.push(duplicate);
    }
    let resources: Resource[] = [];
    // State that spans records (daily units, totals, Part 2 people, ids declared) changes only once the record is accepted.
    const onAccept: (() => void)[] = [];
    if (!issues.some((i) => i.severity === 'error')) {
      resources = map(value, issues, onAccept);
    }
    if (issues.some((i) => i.severity === 'error')) {
      return this.count(this.reject(kind, path, raw, issues, id));
    }
    for (const resource of resources) {
      const result = this.deps.validator.validate(resource);
      for (const v of result.issues) {
        if (v.severity === 'error' || v.severity === 'fatal') {
          issues.push(recordIssue('error', v.code, path, `${resource.resourceType} made from this record is invalid: ${v.expression?.[0] ?? resource.resourceType}: ${v.details?.text ?? v.diagnostics ?? ''}`, 'validate'));
        }
      }
    }
    if (issues.some((i) => i.severity === 'error')) {
      return this.count(this.reject(kind, path, raw, issues, id));
    }
    for (const effect of onAccept) effect();
    this.mode.link(resources);
    this.resourceCount += resources.length;
    return this.count({ kind, path, ...(id !== undefined ? { id } : {}), accepted: true, resources, issues });
  }

  private reject(kind: RecordKind, path: string, raw: unknown, issues: OperationOutcomeIssue[], id?: string): RecordResult {
    const rawId = id ?? (raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined);
    return { kind, path, ...(rawId !== undefined ? { id: rawId } : {}), accepted: false, resources: [], issues };
  }

  private count(r: RecordResult): RecordResult {
    const c = (this.counts[r.kind] ??= { read: 0, accepted: 0, rejected: 0 });
    c.read++;
    if (r.accepted) c.accepted++;
    else c.rejected++;
    return r;
  }

  private declare(kind: ReferredKind, id: string): void {
    this.mode.declare(kind, id);
  }

  private refer(kind: ReferredKind, id: string, where: string): void {
    this.mode.refer(kind, id, where);
  }
}

export type { Stage };
