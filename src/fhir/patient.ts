/** Person <-> Patient (https://hl7.org/fhir/R4/patient.html). */
import type { Element, HumanName as FhirName, Identifier, Patient } from '@medplum/fhirtypes';
import type { PersonRecord } from '../domain/model';
import { EXTENSIONS, PROFILES } from './codes';
import { idFor, type MapContext, recordIdentifier, recordIdOf, refTo } from './context';
import { metaFor, put, type ResolveRef } from './common';
import { demographicsOf, fromIdentifier, putDemographics, toIdentifier } from './patient-demographics';

export function toHumanName(n: { family?: string; given: string[]; suffix: string[] }): FhirName {
  const name: FhirName = { use: 'official' };
  put(name, 'family', n.family);
  if (n.given.length) name.given = n.given;
  if (n.suffix.length) name.suffix = n.suffix;
  return name;
}

export function fromHumanName(n: FhirName | undefined): { family?: string; given: string[]; suffix: string[] } {
  const out: { family?: string; given: string[]; suffix: string[] } = { given: n?.given ?? [], suffix: n?.suffix ?? [] };
  put(out, 'family', n?.family);
  return out;
}

/** Identifiers other than the source-record one. */
export function otherIdentifiers(list: Identifier[] | undefined): { system: string; value: string }[] {
  return (list ?? []).filter((i) => !recordIdOf([i])).map((i) => ({ system: i.system as string, value: i.value as string }));
}

export function toPatient(person: PersonRecord, ctx: MapContext, part2: boolean): Patient {
  const patient: Patient = {
    resourceType: 'Patient',
    id: idFor(ctx, 'Patient', person.id),
    ...metaFor(PROFILES.patient, part2),
    identifier: [recordIdentifier(ctx, 'person', person.id), ...person.identifiers.map(toIdentifier)],
    active: true,
    name: [toHumanName(person.name)],
  };
  if (person.sex) patient.gender = person.sex;
  // US Core Patient requires gender: a source without the person's sex says so (data-absent-reason unknown).
  else (patient as Patient & { _gender?: Element })._gender = { extension: [{ url: EXTENSIONS.dataAbsentReason, valueCode: 'unknown' }] };
  put(patient, 'birthDate', person.birthDate);
  putDemographics(patient, person);
  if (person.organizationId) patient.managingOrganization = refTo(ctx, 'Organization', person.organizationId);
  return patient;
}

export function fromPatient(p: Patient, resolve: ResolveRef): PersonRecord {
  const person: PersonRecord = {
    id: recordIdOf(p.identifier, 'person')?.value ?? (p.id as string),
    identifiers: (p.identifier ?? []).filter((i) => !recordIdOf([i])).map(fromIdentifier),
    name: fromHumanName(p.name?.[0]),
    ...demographicsOf(p),
  };
  put(person, 'birthDate', p.birthDate);
  put(person, 'sex', p.gender);
  put(person, 'organizationId', resolve(p.managingOrganization));
  return person;
}
