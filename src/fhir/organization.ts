/** Organization (CCBHC / program) <-> Organization (peerbridge-organization profile, on US Core Organization). */
import type { CodeableConcept, Organization } from '@medplum/fhirtypes';
import type { OrganizationRecord } from '../domain/model';
import { cs, PROFILES, SYSTEMS } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf } from './context';
import { metaFor } from './common';
import { otherIdentifiers } from './patient';
import { fromTelecomList, toTelecomList } from './patient-demographics';

export function toOrganization(org: OrganizationRecord, ctx: MapContext): Organization {
  const type: CodeableConcept[] = [{ coding: [{ system: SYSTEMS.organizationType, code: 'prov', display: 'Healthcare Provider' }] }];
  if (org.part2Program) {
    type.push({ coding: [pbCoding(ctx, 'peerbridge-codes', 'part2-program')] });
  }
  const out: Organization = {
    resourceType: 'Organization',
    id: idFor(ctx, 'Organization', org.id),
    ...metaFor(PROFILES.organization, false),
    identifier: [recordIdentifier(ctx, 'organization', org.id), ...org.identifiers],
    active: true,
    type,
    name: org.name,
  };
  if (org.telecom.length) out.telecom = toTelecomList(org.telecom);
  return out;
}

export function fromOrganization(o: Organization): OrganizationRecord {
  return {
    id: recordIdOf(o.identifier, 'organization')?.value ?? (o.id as string),
    name: o.name as string,
    identifiers: otherIdentifiers(o.identifier),
    part2Program: (o.type ?? []).some((t) => t.coding?.some((c) => c.system === cs('peerbridge-codes') && c.code === 'part2-program')),
    telecom: fromTelecomList(o.telecom),
  };
}
