/**
 * 42 CFR Part 2 consent grants (issue 6 item 4; DS4P IG http://hl7.org/fhir/uv/security-label-ds4p,
 * FHIR R4 Consent https://hl7.org/fhir/R4/consent.html): which Organizations a patient's `Consent`
 * permits Part 2 records to be disclosed to, and when. src/store keeps these rows in
 * `fhir_consent_grant`, rewritten on every write and delete of a Consent, so the release check is
 * an indexed `EXISTS`.
 *
 * A Consent counts (gives one grant per recipient Organization) only when ALL of these hold:
 * - `status` is `active`;
 * - `patient` is a literal reference `Patient/<id>`;
 * - the root `provision.type` is `permit`;
 * - the root `provision.actor` has entries with `reference` `Organization/<id>` whose `role` has a
 *   coding of v3-ParticipationType `IRCP` (information recipient) or `PRCP` (primary information
 *   recipient): each is a recipient. Actors with other roles (the custodian, an author) are not;
 * - `provision.securityLabel`, when present, includes v3-ActCode `42CFRPart2` (a consent limited to
 *   other labels does not cover Part 2 records); absent, the consent covers all of the patient's records;
 * - `provision.period` (when present) covers the moment of the read: stored as [start, end), open
 *   ends unbounded, and compared with the database's `now()` at every read.
 * `provision.purpose`, `scope`, `category` and `policy` are not checked. A nested provision of type
 * `deny` that names no actor, or names a recipient, and has no securityLabel or includes
 * `42CFRPart2` removes that recipient (whatever the nested period says: a deny is honoured in full).
 * A patient withdraws consent by making the Consent anything but active, ending its period, or
 * deleting it; a separate deny Consent does not cancel another Consent's permit.
 */
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { SYSTEMS } from '../fhir/codes';
import { dateRange } from '../fhir/date-range';
import { targetOf } from './owner-rules';

/** One recipient Organization a patient's Consent releases Part 2 records to, over [start, end). */
export interface ConsentGrant {
  patientId: string;
  organizationId: string;
  /** ISO instant, or undefined for no lower bound. */
  start?: string;
  /** ISO instant (exclusive), or undefined for no upper bound. */
  end?: string;
}

const RECIPIENT_ROLES = new Set(['IRCP', 'PRCP']);

const isRecipient = (a: NonNullable<ConsentProvision['actor']>[number]): boolean =>
  (a.role?.coding ?? []).some((c) => c.system === SYSTEMS.participationType && RECIPIENT_ROLES.has(c.code ?? ''));

const coversPart2 = (p: ConsentProvision): boolean =>
  !p.securityLabel?.length || p.securityLabel.some((s) => s.system === SYSTEMS.actCode && s.code === '42CFRPart2');

/** The grants a Consent gives (none when it does not count; see the header). */
export function consentGrants(consent: Consent): ConsentGrant[] {
  const patient = targetOf(consent.patient);
  const root = consent.provision;
  if (consent.status !== 'active' || patient?.type !== 'Patient' || !root || root.type !== 'permit' || !coversPart2(root)) {
    return [];
  }
  const denied = new Set<string>();
  let denyAll = false;
  const walk = (p: ConsentProvision): void => {
    for (const child of p.provision ?? []) {
      if (child.type === 'deny' && coversPart2(child)) {
        const named = (child.actor ?? []).map((a) => targetOf(a.reference)).filter((t) => t?.type === 'Organization');
        if (!child.actor?.length) denyAll = true;
        for (const t of named) denied.add(t!.id);
      }
      walk(child);
    }
  };
  walk(root);
  if (denyAll) return [];
  const start = root.period?.start ? dateRange(root.period.start)?.low : undefined;
  const end = root.period?.end ? dateRange(root.period.end)?.high : undefined;
  if ((root.period?.start && !start) || (root.period?.end && !end)) {
    return [];
  }
  const orgs = new Set<string>();
  for (const actor of root.actor ?? []) {
    const t = targetOf(actor.reference);
    if (t?.type === 'Organization' && isRecipient(actor) && !denied.has(t.id)) orgs.add(t.id);
  }
  return [...orgs].map((organizationId) => ({ patientId: patient.id, organizationId, ...(start ? { start } : {}), ...(end ? { end } : {}) }));
}
