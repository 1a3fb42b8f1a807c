/**
 * A source's code tables as FHIR R4 ConceptMaps (https://hl7.org/fhir/R4/conceptmap.html), served
 * at GET /fhir/ConceptMap and used by $translate: one per table, from the source's code system to
 * the canonical list's code system.
 */
import type { ConceptMap } from '@medplum/fhirtypes';
import { VALUE_TARGETS } from './tables';
import type { CodeTable, LoadedSource } from './types';

const PB = 'http://peerbridge.org/fhir';
const cs = (id: string) => `${PB}/CodeSystem/${id}`;

/**
 * The code system of each canonical list: PeerBridge's CodeSystems (profiles/package), the FHIR
 * or terminology.hl7.org system when the list is exactly a FHIR status/value set, else
 * `http://peerbridge.org/fhir/canonical/<list>` (lists with no CodeSystem of their own, and
 * `boolean`). Kept equal to src/fhir/codes.ts by test/translate/concept-map.test.ts (translate
 * comes before fhir in the pipeline, so it does not import it).
 */
export const LIST_SYSTEMS: Readonly<Record<string, string>> = {
  setting: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  'place-of-service': 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set',
  intervention: cs('peer-intervention'),
  'support-type': cs('social-support-type'),
  'icrc-task': cs('icrc-task'),
  credential: cs('peer-credential'),
  'referral-reason': cs('peer-referral-reason'),
  'referral-status': 'http://hl7.org/fhir/request-status',
  criterion: cs('eligibility-criterion'),
  'criterion-status': cs('criterion-status'),
  'review-type': cs('eligibility-review-type'),
  'episode-status': 'http://hl7.org/fhir/episode-of-care-status',
  'plan-status': 'http://hl7.org/fhir/request-status',
  'goal-status': 'http://hl7.org/fhir/goal-status',
  'goal-achievement': 'http://terminology.hl7.org/CodeSystem/goal-achievement',
  'activity-status': 'http://hl7.org/fhir/care-plan-activity-status',
  sex: 'http://hl7.org/fhir/administrative-gender',
  race: 'urn:oid:2.16.840.1.113883.6.238',
  ethnicity: 'urn:oid:2.16.840.1.113883.6.238',
  'gender-identity': 'http://snomed.info/sct',
  'marital-status': 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
  'address-use': 'http://hl7.org/fhir/address-use',
  'telecom-system': 'http://hl7.org/fhir/contact-point-system',
  'telecom-use': 'http://hl7.org/fhir/contact-point-use',
};

/** The code system a canonical list's codes belong to. */
export function listSystem(list: string): string {
  return LIST_SYSTEMS[list] ?? `${PB}/canonical/${list}`;
}

/** `<source>-<table>` as a FHIR id: [A-Za-z0-9.-], at most 64 characters. */
export function conceptMapId(source: string, table: string): string {
  return `${source}-${table}`.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64);
}

/** A computer-friendly name (FHIR's `[A-Z]([A-Za-z0-9_]){0,254}`): RiverbendCsvContactMode. */
function fhirName(...parts: string[]): string {
  const words = parts
    .join('-')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return /^[A-Z]/.test(name) ? name.slice(0, 255) : `Map${name}`.slice(0, 255);
}

const code = (v: string | boolean): string => String(v);

/** One ConceptMap per code table of the source, in table order (`text` and `uri` tables map to no code system: none). */
export function conceptMaps(source: LoadedSource): ConceptMap[] {
  return [...source.tables.values()].filter((t) => !(t.target in VALUE_TARGETS)).map((t) => conceptMap(source, t));
}

function conceptMap(source: LoadedSource, table: CodeTable): ConceptMap {
  const id = conceptMapId(source.name, table.name);
  const what = table.description ?? `${table.name} codes`;
  return {
    resourceType: 'ConceptMap',
    id,
    url: `${PB}/ConceptMap/${id}`,
    name: fhirName(source.name, table.name),
    title: `${source.title ?? source.name}: ${what}`,
    status: 'active',
    description: `${what} of ${source.title ?? source.name} (${source.system}) mapped to PeerBridge's ${table.target} codes (mappings/${source.name}/tables.yaml, table ${table.name}).${table.ignoreCase ? ' Source codes match without regard to case.' : ''}`,
    group: [
      {
        source: table.system,
        target: listSystem(table.target),
        element: Object.entries(table.codes).map(([from, to]) => ({
          code: from,
          target: [{ code: code(to), equivalence: 'equivalent' }],
        })),
        ...(table.unmapped === 'default' && table.default !== undefined ? { unmapped: { mode: 'fixed' as const, code: code(table.default) } } : {}),
      },
    ],
  };
}
