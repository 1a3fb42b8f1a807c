/** Billing units of a finished contact -> ChargeItem (peer-support-charge profile; docs/domain.md#billing-units-hcpcs-h0038). */
import type { ChargeItem, CodeableConcept } from '@medplum/fhirtypes';
import type { ContactRecord, EpisodeLink } from '../domain/model';
import { PROFILES, SYSTEMS } from './codes';
import { idFor, type MapContext, recordIdentifier, refTo } from './context';
import { metaFor } from './common';
import { SharedValues } from './shared';

/** The charge's code, by HCPCS code: one frozen value shared by every ChargeItem (src/fhir/shared.ts). */
const CODES = new SharedValues<CodeableConcept>();

/** The charge for `units` (already capped) of a finished contact. Derived: it has no way back to canonical. */
export function toChargeItem(c: ContactRecord, episode: EpisodeLink, units: number, ctx: MapContext, part2: boolean): ChargeItem {
  const performer = refTo(ctx, 'PractitionerRole', c.specialistId);
  return {
    resourceType: 'ChargeItem',
    id: idFor(ctx, 'ChargeItem', c.id),
    ...metaFor(PROFILES.charge, part2),
    identifier: [recordIdentifier(ctx, 'contact', c.id)],
    status: 'billable',
    // Frozen and shared, as the Encounter's coded values are (src/fhir/shared.ts).
    code: CODES.get(ctx.rules.billing.code, () => ({
      coding: [{ system: SYSTEMS.hcpcs, code: ctx.rules.billing.code, display: 'Self-help/peer services, per 15 minutes' }],
    })),
    subject: refTo(ctx, 'Patient', episode.personId),
    context: refTo(ctx, 'Encounter', c.id),
    occurrencePeriod: { start: c.start, ...(c.end ? { end: c.end } : {}) },
    performer: [{ actor: performer }],
    performingOrganization: refTo(ctx, 'Organization', episode.organizationId),
    quantity: { value: units },
  };
}
