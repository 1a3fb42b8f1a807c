/**
 * FHIR -> canonical: rebuilds the canonical document from the resources the mappers made (a
 * transaction Bundle, or resources read back from a store). Derived resources (ChargeItem, the
 * Observations) are skipped: their records are the contacts and responses they came from.
 * Source record ids come back from the source-record identifiers, so a record survives
 * canonical -> FHIR -> canonical unchanged.
 */
import type {
  Bundle,
  CarePlan,
  Encounter,
  EpisodeOfCare,
  Goal,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  QuestionnaireResponse,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { CanonicalDocumentRecord, EpisodeRecord } from '../domain/model';
import { fromCarePlan } from './care-plan';
import { EXTENSIONS, QUESTIONNAIRES } from './codes';
import { type ResolveRef } from './common';
import { recordIdOf } from './context';
import { fromEncounter } from './encounter';
import { fromEpisodeOfCare } from './episode-of-care';
import { fromGoal } from './goal';
import { fromOrganization } from './organization';
import { fromPatient } from './patient';
import { fromPractitioner } from './practitioner';
import { fromEligibilityResponse, fromRecoveryCapitalResponse, fromSupervisorResponse } from './questionnaire-response';
import { fromServiceRequest } from './service-request';

/** The id a reference points at (`Type/id`, `urn:uuid:id`, or an absolute URL ending in `Type/id`). */
export function referencedId(ref: Reference | undefined): string | undefined {
  const r = ref?.reference;
  if (!r) return undefined;
  if (r.startsWith('urn:uuid:')) return r.slice(9);
  const parts = r.split('/');
  const history = parts.indexOf('_history');
  return history > 0 ? parts[history - 1] : parts[parts.length - 1];
}

/** Rebuilds the canonical document. Throws when the resources carry no source-record identifier. */
export function fromFhir(input: Bundle | Resource[]): CanonicalDocumentRecord {
  const resources = Array.isArray(input) ? input : (input.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const recordIds = new Map<string, string>();
  let source: string | undefined;
  for (const r of resources) {
    const identifiers = 'identifier' in r ? r.identifier : undefined;
    const found = recordIdOf(Array.isArray(identifiers) ? identifiers : identifiers ? [identifiers] : []);
    if (found && r.id) {
      recordIds.set(r.id, found.value);
      source ??= found.source;
    }
  }
  if (!source) {
    throw new Error('No resource carries a PeerBridge source-record identifier: these resources were not made from canonical records');
  }
  const resolve: ResolveRef = (ref) => {
    const id = referencedId(ref);
    return id === undefined ? undefined : recordIds.get(id);
  };
  const of = <T extends Resource>(type: T['resourceType']) => resources.filter((r): r is T => r.resourceType === type);
  const byEpisode = <T extends Resource>(list: T[], refOf: (r: T) => Reference | undefined) => {
    const map = new Map<string, T[]>();
    for (const r of list) {
      const episodeId = resolve(refOf(r));
      if (episodeId !== undefined) {
        const list = map.get(episodeId);
        if (list) list.push(r);
        else map.set(episodeId, [r]);
      }
    }
    return map;
  };
  const episodeExt = (r: { extension?: { url: string; valueReference?: Reference }[] }) =>
    r.extension?.find((e) => e.url === EXTENSIONS.episodeOfCare)?.valueReference;

  const responses = of<QuestionnaireResponse>('QuestionnaireResponse');
  // Versioned (`url|version`) or not.
  const answering = (url: string) => responses.filter((q) => q.questionnaire?.split('|')[0] === url);
  const roles = of<PractitionerRole>('PractitionerRole');
  const goals = new Map(of<Goal>('Goal').map((g) => [g.id as string, g]));
  const referrals = new Map(of<ServiceRequest>('ServiceRequest').map((s) => [recordIdOf(s.identifier, 'episode')?.value, s]));
  const reviews = byEpisode(answering(QUESTIONNAIRES.eligibility), episodeExt);
  const contacts = byEpisode(of<Encounter>('Encounter'), (e) => e.episodeOfCare?.[0]);
  const plans = byEpisode(of<CarePlan>('CarePlan'), episodeExt);

  const episodes = of<EpisodeOfCare>('EpisodeOfCare').map((eoc): EpisodeRecord => {
    const header = fromEpisodeOfCare(eoc, resolve);
    const episode: EpisodeRecord = {
      ...header,
      eligibilityReviews: (reviews.get(header.id) ?? []).map((q) => fromEligibilityResponse(q, resolve)),
      contacts: (contacts.get(header.id) ?? []).map((e) => fromEncounter(e, resolve)),
    };
    const referral = referrals.get(header.id);
    if (referral) episode.referral = fromServiceRequest(referral, resolve);
    const plan = plans.get(header.id)?.[0];
    if (plan) {
      const base = fromCarePlan(plan, resolve);
      const planGoals = (plan.goal ?? []).flatMap((ref) => {
        const g = goals.get(referencedId(ref) as string);
        return g ? [fromGoal(g, base.id)] : [];
      });
      episode.recoveryPlan = { ...base, goals: planGoals };
    }
    return episode;
  });

  return {
    source,
    organizations: of<Organization>('Organization').map(fromOrganization),
    practitioners: of<Practitioner>('Practitioner').map((p) => {
      const role = roles.find((r) => referencedId(r.practitioner) === p.id);
      const organization = of<Organization>('Organization').find((o) => o.id === referencedId(role?.organization));
      return fromPractitioner(p, role, resolve, organization);
    }),
    people: of<Patient>('Patient').map((p) => fromPatient(p, resolve)),
    episodes,
    recoveryCapital: answering(QUESTIONNAIRES.recoveryCapital).map((q) => fromRecoveryCapitalResponse(q, resolve)),
    supervisorAssessments: answering(QUESTIONNAIRES.supervisor).map((q) => fromSupervisorResponse(q, resolve)),
  };
}
