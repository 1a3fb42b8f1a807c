/**
 * One handler per canonical record kind, as a table (like the route table of
 * src/fhir-api/routes.ts): the record's schema and a mapper from the parsed record to its FHIR
 * resources. The run (src/pipeline/canonical.ts) parses, checks ids and dates, calls the mapper
 * with a typed scope, validates what it made, and accepts or rejects the record.
 *
 * A mapper may add issues (any error rejects the record) and refer to other records; state that
 * spans records (Part 2 people, units billed, totals, ids declared) changes only in the effects it
 * pushes on `onAccept`, run once the record is accepted.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { z } from 'zod';
import {
  Contact,
  EligibilityReview,
  EpisodeHeader,
  Organization,
  Person,
  Practitioner,
  RecoveryCapitalAdministration,
  RecoveryPlan,
  SupervisorAssessment,
  type CollectionName,
  type EpisodeLink,
  type RecordKind,
} from '../domain/model';
import { billingUnits, recoveryCapitalTotal, type RuleSet } from '../domain/rules';
import { localDate } from '../domain/datetime';
import type { MapContext } from '../fhir/context';
import * as records from '../fhir/records';
import { recordIssue } from './issues';
import type { ReferredKind, RunMode } from './run-mode';
import type { RunState } from './run-state';

/** What a mapper sees of the run while it maps one parsed record. */
export interface RecordScope {
  /** The record's JSON path (`$.episodes[3].contacts[1]`): issues go under it. */
  readonly path: string;
  readonly ctx: MapContext;
  readonly rules: RuleSet;
  readonly state: RunState;
  readonly mode: RunMode;
  /** The record refers to a `kind` with `id` at `where` (RunMode.refer): an error it gives (the record must wait for it) goes into `issues`. */
  readonly refer: (kind: ReferredKind, id: string, where: string) => void;
  /** The record's issues so far; an error added here rejects the record. */
  readonly issues: OperationOutcomeIssue[];
  /** Effects run only once the record is accepted. */
  readonly onAccept: (() => void)[];
}

/** The episode a contact, review or plan belongs to, and whether its records are Part 2 records. */
export interface EpisodeOf {
  readonly episode: EpisodeLink;
  readonly part2: boolean;
}

/** A record kind: its schema, and its mapper to FHIR. `A`: what else the mapper takes (a child's episode). */
export interface RecordHandler<S extends z.ZodType, A = undefined> {
  readonly kind: RecordKind;
  readonly schema: S;
  map(value: z.output<S>, scope: RecordScope, arg: A): Resource[];
}

export type ChildKind = 'contact' | 'eligibility-review' | 'recovery-plan';

/** The parts of an episode other than its children (its children are records of their own, see episode-split.ts). */
export const EPISODE_HEADER: RecordHandler<typeof EpisodeHeader> = {
  kind: 'episode',
  schema: EpisodeHeader,
  map(e, { path, ctx, state, refer, onAccept }) {
    const part2 = state.isPart2(e);
    // Only the link is kept (not the whole header), so a run's memory grows little with its episodes.
    onAccept.push(() =>
      state.episodes.set(e.id, {
        id: e.id,
        personId: e.personId,
        organizationId: e.organizationId,
        ...(e.referral ? { referral: true } : {}),
        ...(e.referral?.reasons.length ? { referralReasons: e.referral.reasons } : {}),
      }),
    );
    if (part2) onAccept.push(() => state.part2People.add(e.personId));
    refer('person', e.personId, `${path}.personId`);
    refer('organization', e.organizationId, `${path}.organizationId`);
    if (e.specialistId) refer('practitioner', e.specialistId, `${path}.specialistId`);
    if (e.referral?.requesterId) refer('practitioner', e.referral.requesterId, `${path}.referral.requesterId`);
    return records.episodeResources(e, ctx, part2);
  },
};

/** The handler of each top-level collection of a canonical file. */
export const RECORD_HANDLERS: { readonly [C in CollectionName]: RecordHandler<z.ZodType> } = {
  organizations: handler({
    kind: 'organization',
    schema: Organization,
    map(o, { ctx, state, mode, onAccept }) {
      onAccept.push(() => {
        mode.declare('organization', o.id);
        if (o.part2Program) state.part2Orgs.add(o.id);
        if (o.telecom.length) state.organizationTelecom.set(o.id, o.telecom);
      });
      return records.organizationResources(o, ctx);
    },
  }),
  practitioners: handler({
    kind: 'practitioner',
    schema: Practitioner,
    map(p, { path, ctx, state, mode, refer, issues, onAccept }) {
      onAccept.push(() => mode.declare('practitioner', p.id));
      refer('organization', p.organizationId, `${path}.organizationId`);
      if (p.supervisorId) refer('practitioner', p.supervisorId, `${path}.supervisorId`);
      const organizationTelecom = state.organizationTelecom.get(p.organizationId) ?? [];
      if (!p.telecom.length && !organizationTelecom.length) {
        issues.push(
          recordIssue(
            'warning',
            'incomplete',
            `${path}.telecom`,
            `No telecom for the practitioner's role (US Core pd-1): written as unknown (data-absent-reason); give the practitioner a telecom, or organization ${p.organizationId} one earlier in the run`,
            'rules',
          ),
        );
      }
      return records.practitionerResources(p, ctx, organizationTelecom);
    },
  }),
  people: handler({
    kind: 'person',
    schema: Person,
    map(p, { path, ctx, state, mode, refer, onAccept }) {
      if (p.organizationId) refer('organization', p.organizationId, `${path}.organizationId`);
      const part2 = state.part2People.has(p.id) || (p.organizationId !== undefined && state.part2Orgs.has(p.organizationId));
      onAccept.push(() => {
        mode.declare('person', p.id);
        if (part2) state.part2People.add(p.id);
      });
      return records.personResources(p, ctx, part2);
    },
  }),
  episodes: EPISODE_HEADER,
  recoveryCapital: handler({
    kind: 'recovery-capital',
    schema: RecoveryCapitalAdministration,
    map(a, { path, ctx, state, refer, issues, onAccept }) {
      refer('person', a.personId, `${path}.personId`);
      const result = recoveryCapitalTotal(a.answers);
      if (result.total === undefined) {
        const items = result.missing.map((n) => `${n} (irc-${n})`).join(', ');
        issues.push(
          recordIssue(
            'warning',
            'incomplete',
            `${path}.answers[${result.missing[0] - 1}]`,
            `No total: item${result.missing.length > 1 ? 's' : ''} ${items} not answered`,
            'rules',
          ),
        );
      } else {
        const scored = { personId: a.personId, administrationId: a.id, date: a.date, total: result.total };
        onAccept.push(() => state.scored.push(scored));
      }
      return records.administrationResources(a, ctx, state.part2People.has(a.personId));
    },
  }),
  supervisorAssessments: handler({
    kind: 'supervisor-assessment',
    schema: SupervisorAssessment,
    map(s, { path, ctx, refer }) {
      refer('practitioner', s.supervisorId, `${path}.supervisorId`);
      return records.assessmentResources(s, ctx);
    },
  }),
};

/** The handler of each record of an episode (sent in it, or on its own by an outside source). */
export const CHILD_HANDLERS: { readonly [K in ChildKind]: RecordHandler<z.ZodType, EpisodeOf> } = {
  'eligibility-review': handler({
    kind: 'eligibility-review',
    schema: EligibilityReview,
    map(rev, { path, ctx, rules, refer, issues }, { episode, part2 }: EpisodeOf) {
      const allowed = new Set<string>(rules.eligibility[rev.type].criteria);
      for (const c of Object.keys(rev.criteria)) {
        if (!allowed.has(c))
          issues.push(
            recordIssue(
              'error',
              'business-rule',
              `${path}.criteria.${c}`,
              `Criterion ${c} is not part of a ${rev.type} review (it takes ${[...allowed].join(', ')})`,
              'rules',
            ),
          );
      }
      if (rev.reviewerId) refer('practitioner', rev.reviewerId, `${path}.reviewerId`);
      return records.reviewResources(rev, episode, ctx, part2);
    },
  }),
  contact: handler({
    kind: 'contact',
    schema: Contact,
    map(contact, { path, ctx, rules, state, refer, issues, onAccept }, { episode: e, part2 }: EpisodeOf) {
      refer('practitioner', contact.specialistId, `${path}.specialistId`);
      let units = 0;
      if (contact.status === 'finished' && contact.durationMinutes !== undefined && !issues.some((x) => x.severity === 'error')) {
        const raw = billingUnits(contact.durationMinutes, rules.billing);
        const day = localDate(contact.start);
        // Checked now, recorded only if this contact is accepted; a later version replaces its units.
        const check = state.ledger.check(contact.id, e.personId, day, raw);
        units = check.units;
        onAccept.push(() => state.ledger.commit(check));
        if (raw === 0)
          issues.push(
            recordIssue(
              'warning',
              'informational',
              `${path}.durationMinutes`,
              `${contact.durationMinutes} minutes earn no billing unit: no ChargeItem`,
              'rules',
            ),
          );
        else if (units < raw)
          issues.push(
            recordIssue(
              'warning',
              'business-rule',
              `${path}.durationMinutes`,
              `Daily cap of ${rules.billing.maxUnitsPerPersonPerDay} units for person ${e.personId} on ${day}: ${units} of ${raw} units billed`,
              'rules',
            ),
          );
        if (check.released) {
          issues.push(
            recordIssue(
              'warning',
              'business-rule',
              `${path}.start`,
              `Daily cap for person ${e.personId} on ${day} checked only against contacts read since this run released that person's day (it holds the ${state.ledger.maxContacts.toLocaleString('en-US')} contacts used last; the input is in neither date nor client order)`,
              'rules',
            ),
          );
        }
      }
      // A later version that bills nothing (cancelled, no-show) makes no ChargeItem, so the earlier
      // version's ChargeItem stands: its units stay counted under the cap.
      return records.contactResources(contact, e, units, ctx, part2);
    },
  }),
  'recovery-plan': handler({
    kind: 'recovery-plan',
    schema: RecoveryPlan,
    map: (rp, { ctx }, { episode, part2 }: EpisodeOf) => records.planResources(rp, episode, ctx, part2),
  }),
};

/** Types a table entry by its schema (the table holds handlers of different schemas). */
function handler<S extends z.ZodType, A = undefined>(h: RecordHandler<S, A>): RecordHandler<S, A> {
  return h;
}
