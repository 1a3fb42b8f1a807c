/** Referral <-> ServiceRequest (peer-support-referral profile; SNOMED 461481000124109). */
import type { ServiceRequest } from '@medplum/fhirtypes';
import type { EpisodeHeaderRecord, ReferralRecord } from '../domain/model';
import { cs, PROFILES, REFERRAL_REASON_SNOMED, SYSTEMS } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, refTo } from './context';
import { metaFor, put, type ResolveRef } from './common';

export function toServiceRequest(referral: ReferralRecord, episode: EpisodeHeaderRecord, ctx: MapContext, part2: boolean): ServiceRequest {
  const out: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: idFor(ctx, 'ServiceRequest', episode.id),
    ...metaFor(PROFILES.referral, part2),
    identifier: [recordIdentifier(ctx, 'episode', episode.id)],
    status: referral.status,
    intent: 'order',
    // US Core ServiceRequest: a category from its value set (SNOMED CT social service procedure).
    category: [{ coding: [{ system: SYSTEMS.snomed, code: '410606002', display: 'Social service procedure' }] }],
    // US Core binds code (extensible) to its procedure codes, which include HCPCS under the https:// spelling: the
    // service the referral asks for, H0038, in that spelling (elsewhere PeerBridge writes THO's http:// one).
    code: {
      coding: [
        { system: SYSTEMS.snomed, code: '461481000124109', display: 'Referral to peer support' },
        { system: SYSTEMS.hcpcsUsCore, code: ctx.rules.billing.code, display: 'Self-help/peer services, per 15 minutes' },
      ],
    },
    subject: refTo(ctx, 'Patient', episode.personId),
    // When the requested peer support takes place: the episode's period.
    occurrencePeriod: { start: episode.start, ...(episode.end ? { end: episode.end } : {}) },
    authoredOn: referral.date,
    performerType: { coding: [{ system: SYSTEMS.nucc, code: '175T00000X', display: 'Peer Specialist' }] },
    performer: [refTo(ctx, 'Organization', episode.organizationId)],
  };
  if (referral.requesterId) out.requester = refTo(ctx, 'PractitionerRole', referral.requesterId);
  if (referral.reasons.length) {
    out.reasonCode = referral.reasons.map((r) => {
      const snomed = REFERRAL_REASON_SNOMED[r];
      return { coding: [pbCoding(ctx, 'peer-referral-reason', r), ...(snomed ? [{ system: SYSTEMS.snomed, ...snomed }] : [])] };
    });
  }
  if (referral.note) out.note = [{ text: referral.note }];
  return out;
}

export function fromServiceRequest(r: ServiceRequest, resolve: ResolveRef): ReferralRecord {
  const out: ReferralRecord = {
    date: r.authoredOn as string,
    status: r.status as ReferralRecord['status'],
    reasons: (r.reasonCode ?? []).flatMap(
      (c) => c.coding?.filter((x) => x.system === cs('peer-referral-reason')).map((x) => x.code as ReferralRecord['reasons'][number]) ?? [],
    ),
  };
  put(out, 'requesterId', resolve(r.requester));
  put(out, 'note', r.note?.[0]?.text);
  return out;
}
