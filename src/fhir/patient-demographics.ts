/**
 * A person's demographics <-> Patient elements: identifiers with their type and assigner,
 * addresses, telecom, preferred language, marital status
 * (https://hl7.org/fhir/R4/patient.html), and race and ethnicity as the US Core extensions
 * (https://hl7.org/fhir/us/core/StructureDefinition-us-core-race.html, us-core-ethnicity: an
 * `ombCategory` Coding per OMB code of urn:oid:2.16.840.1.113883.6.238, and the required `text`), and gender
 * identity as US Core 6.1's genderIdentity extension
 * (https://hl7.org/fhir/us/core/STU6.1/StructureDefinition-us-core-genderIdentity.html: a valueCodeableConcept, SNOMED CT
 * or v3-NullFlavor).
 */
import type { Address, CodeableConcept, ContactPoint, Extension, Identifier, Patient } from '@medplum/fhirtypes';
import { ETHNICITIES, GENDER_IDENTITIES, GENDER_IDENTITY_DISPLAY, MARITAL_STATUSES, RACES, RACE_ETHNICITY_DISPLAY } from '../domain/codes';
import type { PersonRecord } from '../domain/model';
import { put } from './common';

/** Canonical telecom (person, organization, practitioner role) -> ContactPoint list, in order of preference. */
export const toTelecomList = (list: readonly PersonTelecom[]): ContactPoint[] => list.map((t, i) => toTelecom(t, i + 1));

/** ContactPoint list -> canonical telecom (system defaults to phone). */
export function fromTelecomList(list: readonly ContactPoint[] | undefined): PersonTelecom[] {
  return (list ?? [])
    .filter((t) => typeof t.value === 'string')
    .map((t) => {
      const out: PersonTelecom = { system: t.system ?? 'phone', value: t.value as string };
      put(out, 'use', t.use);
      return out;
    });
}

export const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
export const US_CORE_ETHNICITY = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity';
export const US_CORE_GENDER_IDENTITY = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-genderIdentity';
const SNOMED = 'http://snomed.info/sct';
const OMB = 'urn:oid:2.16.840.1.113883.6.238';
const NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const MARITAL = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
const LANGUAGE = 'urn:ietf:bcp:47';

type PersonIdentifier = PersonRecord['identifiers'][number];
type PersonAddress = PersonRecord['addresses'][number];
type PersonTelecom = PersonRecord['telecom'][number];

// NullFlavor codings carry no display: the versions of v3-NullFlavor disagree on ASKU's ('asked but unknown' in R4,
// 'Asked but no answer' in THO 5), and a display from the wrong one is an error; the words stay in the extension's `text`.
const ombCoding = (code: string) =>
  code === 'UNK' || code === 'ASKU' ? { system: NULL_FLAVOR, code } : { system: OMB, code, display: RACE_ETHNICITY_DISPLAY[code] };

function ombExtension(url: string, codes: readonly string[]): Extension {
  return {
    url,
    extension: [
      ...codes.map((code) => ({ url: 'ombCategory', valueCoding: ombCoding(code) })),
      { url: 'text', valueString: codes.map((c) => RACE_ETHNICITY_DISPLAY[c]).join(', ') },
    ],
  };
}

/** The genderIdentity extension: SNOMED CT codes with their display; null flavors without one (see ombCoding), the words in `text`. */
function genderIdentityExtension(code: string): Extension {
  const coding = /^[0-9]+$/.test(code) ? { system: SNOMED, code, display: GENDER_IDENTITY_DISPLAY[code] } : { system: NULL_FLAVOR, code };
  return { url: US_CORE_GENDER_IDENTITY, valueCodeableConcept: { coding: [coding], text: GENDER_IDENTITY_DISPLAY[code] } };
}

export function toIdentifier(i: PersonIdentifier): Identifier {
  const out: Identifier = {};
  if (i.type) out.type = { coding: [{ system: V2_0203, code: i.type }] };
  out.system = i.system;
  out.value = i.value;
  if (i.assigner) out.assigner = { display: i.assigner };
  return out;
}

function toAddress(a: PersonAddress): Address {
  const out: Address = {};
  put(out, 'use', a.use);
  if (a.lines.length) out.line = a.lines;
  put(out, 'city', a.city);
  put(out, 'district', a.district);
  put(out, 'state', a.state);
  put(out, 'postalCode', a.postalCode);
  put(out, 'country', a.country);
  return out;
}

/** A ContactPoint of a canonical telecom, ranked by its place in the list (1 = preferred). */
export function toTelecom(t: PersonTelecom, rank: number): ContactPoint {
  const out: ContactPoint = { system: t.system, value: t.value };
  put(out, 'use', t.use);
  out.rank = rank;
  return out;
}

/** Sets the demographic elements of `patient` from `person` (nothing for fields it lacks). */
export function putDemographics(patient: Patient, person: PersonRecord): void {
  const extensions: Extension[] = [];
  if (person.race.length) extensions.push(ombExtension(US_CORE_RACE, person.race));
  if (person.ethnicity) extensions.push(ombExtension(US_CORE_ETHNICITY, [person.ethnicity]));
  if (person.genderIdentity) extensions.push(genderIdentityExtension(person.genderIdentity));
  if (extensions.length) patient.extension = [...extensions, ...(patient.extension ?? [])];
  if (person.telecom.length) patient.telecom = person.telecom.map((t, i) => toTelecom(t, i + 1));
  if (person.addresses.length) patient.address = person.addresses.map(toAddress);
  if (person.maritalStatus) {
    patient.maritalStatus = { coding: [{ system: person.maritalStatus === 'UNK' ? NULL_FLAVOR : MARITAL, code: person.maritalStatus }] };
  }
  if (person.language) patient.communication = [{ language: { coding: [{ system: LANGUAGE, code: person.language }] }, preferred: true }];
}

const codeOf = (c: CodeableConcept | undefined, systems: string[]): string | undefined =>
  c?.coding?.find((x) => x.system && systems.includes(x.system) && x.code)?.code;

function ombCodes(patient: Patient, url: string, allowed: readonly string[]): string[] {
  const ext = patient.extension?.find((e) => e.url === url);
  return (ext?.extension ?? [])
    .filter((e) => e.url === 'ombCategory' && e.valueCoding?.code && allowed.includes(e.valueCoding.code))
    .map((e) => e.valueCoding?.code as string);
}

/** The demographic fields of a person from a Patient (the reverse of putDemographics). */
export function demographicsOf(
  p: Patient,
): Pick<PersonRecord, 'addresses' | 'telecom' | 'race'> & Partial<Pick<PersonRecord, 'ethnicity' | 'genderIdentity' | 'language' | 'maritalStatus'>> {
  const out: ReturnType<typeof demographicsOf> = {
    addresses: (p.address ?? []).map((a) => {
      const address: PersonAddress = { lines: a.line ?? [] };
      put(address, 'use', a.use);
      put(address, 'city', a.city);
      put(address, 'district', a.district);
      put(address, 'state', a.state);
      put(address, 'postalCode', a.postalCode);
      put(address, 'country', a.country);
      return address;
    }),
    telecom: [...(p.telecom ?? [])]
      .filter((t) => t.value)
      .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity))
      .map((t) => {
        const telecom: PersonTelecom = { system: t.system ?? 'phone', value: t.value as string };
        put(telecom, 'use', t.use);
        return telecom;
      }),
    race: ombCodes(p, US_CORE_RACE, RACES) as PersonRecord['race'],
  };
  put(out, 'ethnicity', ombCodes(p, US_CORE_ETHNICITY, ETHNICITIES)[0] as PersonRecord['ethnicity']);
  const identity = codeOf(p.extension?.find((e) => e.url === US_CORE_GENDER_IDENTITY)?.valueCodeableConcept, [SNOMED, NULL_FLAVOR]);
  if (identity && (GENDER_IDENTITIES as readonly string[]).includes(identity)) out.genderIdentity = identity as PersonRecord['genderIdentity'];
  const marital = codeOf(p.maritalStatus, [MARITAL, NULL_FLAVOR]);
  if (marital && (MARITAL_STATUSES as readonly string[]).includes(marital)) out.maritalStatus = marital as PersonRecord['maritalStatus'];
  const language = p.communication?.find((c) => c.preferred) ?? p.communication?.[0];
  put(out, 'language', codeOf(language?.language, [LANGUAGE]));
  return out;
}

/** A person's identifier from a Patient identifier (type and assigner kept). */
export function fromIdentifier(i: Identifier): PersonIdentifier {
  const out: PersonIdentifier = { system: i.system as string, value: i.value as string };
  put(out, 'type', codeOf(i.type, [V2_0203]));
  put(out, 'assigner', i.assigner?.display);
  return out;
}
