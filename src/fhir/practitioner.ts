/**
 * Practitioner record <-> Practitioner + PractitionerRole (docs/domain.md#who-delivers-peer-support): a peer
 * specialist's role carries NUCC 175T00000X; a supervisor's role is a plain PractitionerRole.
 */
import type { ContactPoint, Organization, Practitioner, PractitionerQualification, PractitionerRole } from '@medplum/fhirtypes';
import type { PractitionerRecord } from '../domain/model';
import { EXTENSIONS, PROFILES, SYSTEMS } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf, refTo } from './context';
import { codeOf, metaFor, put, type ResolveRef } from './common';
import { fromHumanName, otherIdentifiers, toHumanName } from './patient';
import { cs } from './codes';
import { fromTelecomList, toTelecomList } from './patient-demographics';

const SUPERVISOR_ROLE_TEXT = 'Supervisor of peer workers';

const UNKNOWN = { extension: [{ url: EXTENSIONS.dataAbsentReason, valueCode: 'unknown' }] };
/** A role's telecom when neither the practitioner nor the organization has one (US Core missing data: data-absent-reason). */
const UNKNOWN_TELECOM = { _system: UNKNOWN, _value: UNKNOWN };

export function toPractitioner(p: PractitionerRecord, ctx: MapContext): Practitioner {
  const peer = p.role === 'peer-specialist';
  const out: Practitioner = {
    resourceType: 'Practitioner',
    id: idFor(ctx, 'Practitioner', p.id),
    ...metaFor(peer ? PROFILES.specialist : PROFILES.practitioner, false),
  };
  if (p.trainingCompleted) out.extension = [{ url: EXTENSIONS.trainingCompletion, valueDate: p.trainingCompleted }];
  out.identifier = [recordIdentifier(ctx, 'practitioner', p.id), ...p.identifiers];
  out.active = true;
  out.name = [toHumanName(p.name)];
  put(out, 'gender', p.sex);
  const c = p.credential;
  if (c) {
    const q: PractitionerQualification = { code: c.code ? { coding: [pbCoding(ctx, 'peer-credential', c.code)] } : { text: c.text } };
    if (c.code && c.text) q.code.text = c.text;
    if (c.number) q.identifier = [c.number];
    if (c.start || c.end) q.period = { ...(c.start ? { start: c.start } : {}), ...(c.end ? { end: c.end } : {}) };
    if (c.issuer) q.issuer = { display: c.issuer };
    out.qualification = [q];
  }
  return out;
}

/**
 * The role of a practitioner at their organization. `organizationTelecom`: the organization's
 * telecom (the program's phone), written on the role when the practitioner has none of their own,
 * so that US Core's pd-1 (a role has a telecom or an endpoint) holds.
 */
export function toPractitionerRole(p: PractitionerRecord, ctx: MapContext, organizationTelecom: PractitionerRecord['telecom'] = []): PractitionerRole {
  const peer = p.role === 'peer-specialist';
  const out: PractitionerRole = {
    resourceType: 'PractitionerRole',
    id: idFor(ctx, 'PractitionerRole', p.id),
    ...metaFor(peer ? PROFILES.specialistRole : PROFILES.practitionerRole, false),
  };
  if (p.supervisorId) out.extension = [{ url: EXTENSIONS.supervisor, valueReference: refTo(ctx, 'PractitionerRole', p.supervisorId) }];
  out.identifier = [recordIdentifier(ctx, 'practitioner', p.id)];
  out.active = true;
  if (p.roleStart) out.period = { start: p.roleStart };
  out.practitioner = refTo(ctx, 'Practitioner', p.id);
  out.organization = refTo(ctx, 'Organization', p.organizationId);
  out.code = peer ? [{ coding: [{ system: SYSTEMS.nucc, code: '175T00000X', display: 'Peer Specialist' }] }] : [{ text: SUPERVISOR_ROLE_TEXT }];
  const telecom = p.telecom.length ? p.telecom : organizationTelecom;
  // No phone known: US Core's missing-data rule, a ContactPoint whose system and value are data-absent (pd-1 holds).
  out.telecom = telecom.length ? toTelecomList(telecom) : [UNKNOWN_TELECOM as ContactPoint];
  return out;
}

/**
 * `organization`: the role's organization when at hand; a role telecom equal to the organization's is
 * the one toPractitionerRole copied from it, not the practitioner's own.
 */
export function fromPractitioner(pr: Practitioner, role: PractitionerRole | undefined, resolve: ResolveRef, organization?: Organization): PractitionerRecord {
  const roleTelecom = fromTelecomList(role?.telecom);
  const inherited = organization !== undefined && JSON.stringify(roleTelecom) === JSON.stringify(fromTelecomList(organization.telecom));
  const isPeer = (role?.code ?? []).some((c) => codeOf(c.coding, SYSTEMS.nucc) === '175T00000X');
  const out: PractitionerRecord = {
    id: recordIdOf(pr.identifier, 'practitioner')?.value ?? (pr.id as string),
    role: isPeer ? 'peer-specialist' : 'supervisor',
    name: fromHumanName(pr.name?.[0]),
    identifiers: otherIdentifiers(pr.identifier),
    organizationId: resolve(role?.organization) as string,
    telecom: inherited ? [] : roleTelecom,
  };
  put(out, 'sex', pr.gender);
  const q = pr.qualification?.[0];
  if (q) {
    const credential: NonNullable<PractitionerRecord['credential']> = {};
    put(credential, 'code', codeOf(q.code.coding, cs('peer-credential')) as NonNullable<PractitionerRecord['credential']>['code']);
    put(credential, 'text', q.code.text);
    const num = q.identifier?.[0];
    if (num) credential.number = { system: num.system as string, value: num.value as string };
    put(credential, 'issuer', q.issuer?.display);
    put(credential, 'start', q.period?.start);
    put(credential, 'end', q.period?.end);
    out.credential = credential;
  }
  put(out, 'trainingCompleted', pr.extension?.find((e) => e.url === EXTENSIONS.trainingCompletion)?.valueDate);
  put(out, 'supervisorId', resolve(role?.extension?.find((e) => e.url === EXTENSIONS.supervisor)?.valueReference));
  put(out, 'roleStart', role?.period?.start);
  return out;
}
