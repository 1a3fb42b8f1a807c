/** Plan goal <-> Goal (recovery-goal profile; docs/domain.md#plans-and-goals). Goals are the person's own. */
import type { Goal } from '@medplum/fhirtypes';
import type { EpisodeLink, GoalRecord, RecoveryPlanRecord } from '../domain/model';
import { PROFILES, SYSTEMS } from './codes';
import { idFor, type MapContext, recordIdentifier, recordIdOf, refTo } from './context';
import { codeOf, metaFor, put } from './common';

const escape = (s: string): string => s.replace(/%/g, '%25').replace(/\//g, '%2F');

/** Goal ids are unique within a plan: the record key is `<plan id>/<goal id>`, `%` and `/` escaped so no two keys collide. */
export const goalKey = (plan: RecoveryPlanRecord, goalId: string): string => `${escape(plan.id)}/${escape(goalId)}`;

const ACHIEVEMENT_DISPLAY: Record<string, string> = {
  'in-progress': 'In Progress',
  improving: 'Improving',
  worsening: 'Worsening',
  'no-change': 'No Change',
  achieved: 'Achieved',
  sustaining: 'Sustaining',
  'not-achieved': 'Not Achieved',
  'no-progress': 'No Progress',
  'not-attainable': 'Not Attainable',
};

export function toGoal(g: GoalRecord, plan: RecoveryPlanRecord, episode: EpisodeLink, ctx: MapContext, part2: boolean): Goal {
  const person = refTo(ctx, 'Patient', episode.personId);
  const out: Goal = {
    resourceType: 'Goal',
    id: idFor(ctx, 'Goal', goalKey(plan, g.id)),
    ...metaFor(PROFILES.goal, part2),
    identifier: [recordIdentifier(ctx, 'goal', goalKey(plan, g.id))],
    lifecycleStatus: g.status,
    description: { text: g.description },
    subject: person,
  };
  if (g.achievement)
    out.achievementStatus = { coding: [{ system: SYSTEMS.goalAchievement, code: g.achievement, display: ACHIEVEMENT_DISPLAY[g.achievement] }] };
  put(out, 'startDate', g.start);
  if (g.targetDate) out.target = [{ dueDate: g.targetDate }];
  out.expressedBy = person;
  if (g.note) out.note = [{ text: g.note }];
  return out;
}

/** The goal id within a plan, from the `<plan id>/<goal id>` record key. */
export const goalIdOf = (planId: string, key: string | undefined): string => decodeURIComponent((key ?? '').slice(escape(planId).length + 1));

export function fromGoal(r: Goal, planId: string): GoalRecord {
  const out: GoalRecord = {
    id: goalIdOf(planId, recordIdOf(r.identifier, 'goal')?.value),
    description: r.description.text as string,
    status: r.lifecycleStatus as GoalRecord['status'],
  };
  put(out, 'achievement', codeOf(r.achievementStatus?.coding, SYSTEMS.goalAchievement) as GoalRecord['achievement']);
  put(out, 'start', r.startDate);
  put(out, 'targetDate', r.target?.[0]?.dueDate);
  put(out, 'note', r.note?.[0]?.text);
  return out;
}
