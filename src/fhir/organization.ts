/** Organization (CCBHC / program) <-> Organization (https://hl7.org/fhir/R4/organization.html). */
import type { CodeableConcept, Organization } from '@medplum/fhirtypes';
import type { OrganizationRecord } from '../domain/model';
import { cs, SYSTEMS } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf } from './context';
import { otherIdentifiers } from './patient';

export function toOrganization(org: OrganizationRecord, ctx: MapContext): Organization {
  const type: CodeableConcept[] = [{ coding: [{ system: SYSTEMS.organizationType, code: 'prov', display: 'Healthcare Provider' }] }];
  if (org.part2Program) {
    type.push({ coding: [pbCoding(ctx, 'peerbridge-codes', 'part2-program')] });
  }
  return {
    resourceType: 'Organization',
    id: idFor(ctx, 'Organization', org.id),
    identifier: [recordIdentifier(ctx, 'organization', org.id), ...org.identifiers],
    active: true,
    type,
    name: org.name,
  };
}

export function fromOrganization(o: Organization): OrganizationRecord {
  return {
    id: recordIdOf(o.identifier, 'organization')?.value ?? (o.id as string),
    name: o.name as string,
    identifiers: otherIdentifiers(o.identifier),
    part2Program: (o.type ?? []).some((t) => t.coding?.some((c) => c.system === cs('peerbridge-codes') && c.code === 'part2-program')),
  };
}
