/**
 * Recovery plan <-> CarePlan (recovery-plan profile; docs/domain.md#plans-and-goals). R4 CarePlan has no
 * episodeOfCare element: the plan points at its episode with the core workflow-episodeOfCare extension.
 * On US Core CarePlan: category assess-plan, and a narrative generated from the plan (src/fhir/narrative.ts).
 */
import type { CarePlan, CarePlanActivity, Extension } from '@medplum/fhirtypes';
import type { EpisodeLink, RecoveryPlanRecord } from '../domain/model';
import { EXTENSIONS, PROFILES, SYSTEMS } from './codes';
import { carePlanNarrative } from './narrative';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf, refTo } from './context';
import { metaFor, put, type ResolveRef } from './common';
import { goalIdOf, goalKey } from './goal';

export function toCarePlan(p: RecoveryPlanRecord, episode: EpisodeLink, ctx: MapContext, part2: boolean): CarePlan {
  const person = refTo(ctx, 'Patient', episode.personId);
  const extension: Extension[] = [{ url: EXTENSIONS.episodeOfCare, valueReference: refTo(ctx, 'EpisodeOfCare', episode.id) }];
  if (p.crisisPlanPresent !== undefined) extension.push({ url: EXTENSIONS.crisisPlanPresent, valueBoolean: p.crisisPlanPresent });
  if (p.nextReviewDate) extension.push({ url: EXTENSIONS.nextReviewDate, valueDate: p.nextReviewDate });
  const out: CarePlan = {
    resourceType: 'CarePlan',
    id: idFor(ctx, 'CarePlan', p.id),
    ...metaFor(PROFILES.plan, part2),
    // US Core CarePlan: a narrative (generated from the plan's content) and the assess-plan category.
    text: carePlanNarrative(p),
    extension,
    identifier: [recordIdentifier(ctx, 'plan', p.id)],
    status: p.status,
    intent: 'plan',
    category: [
      { coding: [{ system: SYSTEMS.carePlanCategory, code: 'assess-plan', display: 'Assessment and Plan of Treatment' }] },
      { coding: [pbCoding(ctx, 'peerbridge-codes', 'peer-recovery-plan')] },
    ],
    subject: person,
  };
  put(out, 'title', p.title);
  if (p.start || p.end) out.period = { ...(p.start ? { start: p.start } : {}), ...(p.end ? { end: p.end } : {}) };
  out.created = p.created;
  out.author = person;
  if (p.goals.length) out.goal = p.goals.map((g) => refTo(ctx, 'Goal', goalKey(p, g.id)));
  if (p.activities.length) {
    out.activity = p.activities.map((a): CarePlanActivity => {
      const detail: NonNullable<CarePlanActivity['detail']> = { status: a.status, description: a.description };
      if (a.goalIds.length) detail.goal = a.goalIds.map((id) => refTo(ctx, 'Goal', goalKey(p, id)));
      put(detail, 'scheduledString', a.schedule);
      if (a.performerId) detail.performer = [refTo(ctx, 'PractitionerRole', a.performerId)];
      return { detail };
    });
  }
  return out;
}

/** The plan without its goals (the caller adds them from the Goal resources `goal` points at). */
export function fromCarePlan(r: CarePlan, resolve: ResolveRef): Omit<RecoveryPlanRecord, 'goals'> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it is needed: without it `id` is string | undefined (the rule misreads the right side of ??)
  const id = recordIdOf(r.identifier, 'plan')?.value ?? (r.id as string);
  const goalId = (ref: { reference?: string } | undefined) => goalIdOf(id, resolve(ref));
  const out: Omit<RecoveryPlanRecord, 'goals'> = {
    id,
    status: r.status as RecoveryPlanRecord['status'],
    created: r.created as string,
    activities: (r.activity ?? []).map((a) => {
      const d = a.detail ?? { status: 'not-started' as const };
      const act: RecoveryPlanRecord['activities'][number] = {
        description: d.description as string,
        status: d.status as RecoveryPlanRecord['activities'][number]['status'],
        goalIds: (d.goal ?? []).map(goalId),
      };
      put(act, 'schedule', d.scheduledString);
      put(act, 'performerId', resolve(d.performer?.[0]));
      return act;
    }),
  };
  put(out, 'title', r.title);
  put(out, 'start', r.period?.start);
  put(out, 'end', r.period?.end);
  put(out, 'crisisPlanPresent', r.extension?.find((e) => e.url === EXTENSIONS.crisisPlanPresent)?.valueBoolean);
  put(out, 'nextReviewDate', r.extension?.find((e) => e.url === EXTENSIONS.nextReviewDate)?.valueDate);
  return out;
}
