/**
 * Which resources each canonical record becomes. Pure: every input the rules need that spans
 * records (billing units after the daily cap, Part 2 status of the program) is passed in.
 */
import type { Resource } from '@medplum/fhirtypes';
import type {
  ContactRecord,
  EligibilityReviewRecord,
  EpisodeHeaderRecord,
  EpisodeLink,
  OrganizationRecord,
  PersonRecord,
  PractitionerRecord,
  RecoveryCapitalRecord,
  RecoveryPlanRecord,
  SupervisorAssessmentRecord,
} from '../domain/model';
import { determine, recoveryCapitalTotal } from '../domain/rules';
import { toCarePlan } from './care-plan';
import { toChargeItem } from './charge-item';
import { type MapContext } from './context';
import { toEncounter } from './encounter';
import { toEpisodeOfCare } from './episode-of-care';
import { toGoal } from './goal';
import { derivedObservationId, toEligibilityDetermination, toRecoveryCapitalTotal } from './observation';
import { toOrganization } from './organization';
import { toPatient } from './patient';
import { toPractitioner, toPractitionerRole } from './practitioner';
import { toEligibilityResponse, toRecoveryCapitalResponse, toSupervisorResponse } from './questionnaire-response';
import { toServiceRequest } from './service-request';

export const organizationResources = (o: OrganizationRecord, ctx: MapContext): Resource[] => [toOrganization(o, ctx)];

/** `organizationTelecom`: the telecom of the practitioner's organization, for a role whose practitioner has none (US Core pd-1). */
export const practitionerResources = (p: PractitionerRecord, ctx: MapContext, organizationTelecom: PractitionerRecord['telecom'] = []): Resource[] => [
  toPractitioner(p, ctx),
  toPractitionerRole(p, ctx, organizationTelecom),
];

export const personResources = (p: PersonRecord, ctx: MapContext, part2: boolean): Resource[] => [toPatient(p, ctx, part2)];

export function episodeResources(e: EpisodeHeaderRecord, ctx: MapContext, part2: boolean): Resource[] {
  const out: Resource[] = [toEpisodeOfCare(e, ctx, part2)];
  if (e.referral) out.push(toServiceRequest(e.referral, e, ctx, part2));
  return out;
}

/** The response and its determination (under the context's rule set). */
export function reviewResources(r: EligibilityReviewRecord, e: EpisodeLink, ctx: MapContext, part2: boolean): Resource[] {
  const qr = toEligibilityResponse(r, e, ctx, part2);
  const det = determine(r.type, r.criteria, ctx.rules.eligibility);
  const derived = {
    id: derivedObservationId(qr.id as string, 'eligibility-determination'),
    response: qr,
    responseRef: { reference: `QuestionnaireResponse/${qr.id}` },
    part2,
  };
  return [qr, toEligibilityDetermination(det, derived, ctx)];
}

/** The Encounter, and a ChargeItem when the contact is finished and earns at least one unit. */
export function contactResources(c: ContactRecord, e: EpisodeLink, units: number, ctx: MapContext, part2: boolean): Resource[] {
  const out: Resource[] = [toEncounter(c, e, ctx, part2)];
  if (c.status === 'finished' && units > 0) out.push(toChargeItem(c, e, units, ctx, part2));
  return out;
}

export function planResources(p: RecoveryPlanRecord, e: EpisodeLink, ctx: MapContext, part2: boolean): Resource[] {
  return [toCarePlan(p, e, ctx, part2), ...p.goals.map((g) => toGoal(g, p, e, ctx, part2))];
}

/** The response, and the total when every item is answered. */
export function administrationResources(a: RecoveryCapitalRecord, ctx: MapContext, part2: boolean): Resource[] {
  const qr = toRecoveryCapitalResponse(a, ctx, part2);
  const { total } = recoveryCapitalTotal(a.answers);
  if (total === undefined) return [qr];
  const derived = {
    id: derivedObservationId(qr.id as string, 'recovery-capital-total'),
    response: qr,
    responseRef: { reference: `QuestionnaireResponse/${qr.id}` },
    part2,
  };
  return [qr, toRecoveryCapitalTotal(total, derived, ctx)];
}

export const assessmentResources = (s: SupervisorAssessmentRecord, ctx: MapContext): Resource[] => [toSupervisorResponse(s, ctx)];
