/** Episode header <-> EpisodeOfCare (peer-support-episode profile; docs/domain.md#an-episode-of-peer-support). */
import type { EpisodeOfCare } from '@medplum/fhirtypes';
import type { EpisodeHeaderRecord } from '../domain/model';
import { PROFILES } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf, refTo } from './context';
import { metaFor, put, type ResolveRef } from './common';

export function toEpisodeOfCare(e: EpisodeHeaderRecord, ctx: MapContext, part2: boolean): EpisodeOfCare {
  const out: EpisodeOfCare = {
    resourceType: 'EpisodeOfCare',
    id: idFor(ctx, 'EpisodeOfCare', e.id),
    ...metaFor(PROFILES.episode, part2),
    identifier: [recordIdentifier(ctx, 'episode', e.id)],
    status: e.status,
    type: [{ coding: [pbCoding(ctx, 'peerbridge-codes', 'peer-support')] }],
    patient: refTo(ctx, 'Patient', e.personId),
    managingOrganization: refTo(ctx, 'Organization', e.organizationId),
    period: { start: e.start, ...(e.end ? { end: e.end } : {}) },
  };
  if (e.referral) out.referralRequest = [refTo(ctx, 'ServiceRequest', e.id)];
  if (e.specialistId) out.careManager = refTo(ctx, 'Practitioner', e.specialistId);
  return out;
}

export function fromEpisodeOfCare(r: EpisodeOfCare, resolve: ResolveRef): Omit<EpisodeHeaderRecord, 'referral'> {
  const out: Omit<EpisodeHeaderRecord, 'referral'> = {
    id: recordIdOf(r.identifier, 'episode')?.value ?? (r.id as string),
    personId: resolve(r.patient) as string,
    organizationId: resolve(r.managingOrganization) as string,
    status: r.status as EpisodeHeaderRecord['status'],
    start: r.period?.start as string,
  };
  put(out, 'end', r.period?.end);
  put(out, 'specialistId', resolve(r.careManager));
  return out;
}
