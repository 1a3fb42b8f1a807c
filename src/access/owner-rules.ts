/**
 * Who owns a resource (its tenant: the CCBHC Organization it came from), decided from the
 * resource alone; src/store/owners.ts follows the references these rules name, inside the write's
 * transaction. Issue 6 item 3; the rules, in order:
 *
 * 1. Organization: itself (or its tenant tag). Shared definitions (SHARED_TYPES: Questionnaire,
 *    ValueSet, ...): nobody (visible to every client) unless a tenant tag makes one private.
 * 2. A resource about a patient belongs to the patient's organization, whatever else it says
 *    (issue 11 items 1 and 6): the owner of the first resource it references, in this order of
 *    elements (FOLLOWED): `patient`, `subject`, `beneficiary`, `episodeOfCare`, the
 *    workflow-episodeOfCare extension, `encounter`, `context`, `basedOn`, `derivedFrom`, `focus`,
 *    `partOf`: so QuestionnaireResponse, Observation, CarePlan, Goal, ServiceRequest, Encounter,
 *    EpisodeOfCare, Consent... take the owner of their Patient, EpisodeOfCare, Encounter or
 *    PractitionerRole (a supervisor's self-assessment). Neither a tenant tag nor an organization
 *    element of the writer's choosing moves another tenant's patient's record into its tenant; a
 *    Consent's owner is its patient's owner, so only that organization's clients write one.
 * 3. Otherwise (nothing referenced is known) the PeerBridge tenant tag (`meta.tag` system
 *    TENANT_TAG_SYSTEM, code = Organization id) names the owner (any type; it is how a client
 *    names the owner of a resource that has no organization of its own).
 * 4. Otherwise the organization element of the type (ORG_ELEMENTS): Patient / EpisodeOfCare /
 *    CareTeam / Location `.managingOrganization`, Encounter `.serviceProvider`, ChargeItem
 *    `.performingOrganization`, PractitionerRole `.organization`, HealthcareService `.providedBy`,
 *    Group `.managingEntity`, Consent `.organization`. The tag or element (the resource's
 *    `declared` organization) also marks a record of a 42 CFR Part 2 program when it names one,
 *    even where the patient's owner decides the tenant (src/store/owners.ts).
 * 5. Practitioner: the owner of a PractitionerRole naming it (`practitioner`), the first by id.
 * 6. Group naming no organization (no tag, no `managingEntity`): its members' (`member.entity`)
 *    organization, when every member with a known owner has the same one (issue 16 item 7: a
 *    client of every organization PUTs a cohort of its patients). Members of several
 *    organizations decide nothing: the Group must name its owner.
 *
 * A resource none of these decide has no owner: written by a client of exactly one organization
 * it is that organization's; by a client of several it is refused (422) and must name its owner
 * with the tenant tag; written by the server itself (no client) it stays shared.
 */
import type { Coding, Reference, Resource } from '@medplum/fhirtypes';
import { cs, EXTENSIONS, PART2_LABELS, SYSTEMS } from '../fhir/codes';

/** `meta.tag` system whose code names the owning Organization's id. */
export const TENANT_TAG_SYSTEM = cs('tenant');

/** Conformance and terminology resources: shared by every tenant unless tagged. */
export const SHARED_TYPES: ReadonlySet<string> = new Set([
  'Questionnaire',
  'ConceptMap',
  'CodeSystem',
  'ValueSet',
  'NamingSystem',
  'StructureDefinition',
  'StructureMap',
  'SearchParameter',
  'OperationDefinition',
  'CapabilityStatement',
  'CompartmentDefinition',
  'ImplementationGuide',
  'GraphDefinition',
  'MessageDefinition',
  'ActivityDefinition',
  'PlanDefinition',
  'Library',
  'Measure',
  'TerminologyCapabilities',
]);

/**
 * Types whose rows without an owner are NOT shared: only a client of every organization sees
 * them. AuditEvents: one about several organizations' records, or about none by a client of
 * several, belongs to no one tenant (src/store/audit-owners.ts).
 */
export const OWNED_ONLY_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);

/** Rule 3: the element of a type that names its Organization. */
const ORG_ELEMENTS: Record<string, string> = {
  Patient: 'managingOrganization',
  EpisodeOfCare: 'managingOrganization',
  CareTeam: 'managingOrganization',
  Location: 'managingOrganization',
  Encounter: 'serviceProvider',
  ChargeItem: 'performingOrganization',
  PractitionerRole: 'organization',
  HealthcareService: 'providedBy',
  Group: 'managingEntity',
};

/** Rule 4: elements whose targets' owner a resource takes, in this order. */
const FOLLOWED = [
  'patient',
  'subject',
  'beneficiary',
  'episodeOfCare',
  EXTENSIONS.episodeOfCare,
  'encounter',
  'context',
  'basedOn',
  'derivedFrom',
  'focus',
  'partOf',
];

/** A reference to a stored resource, as `Type/id`. */
export interface Target {
  type: string;
  id: string;
}

/** What decides a resource's owner, before any lookup. */
export type OwnerRule =
  | { kind: 'org'; id: string }
  | { kind: 'shared' }
  /**
   * The first referenced resource with a known owner; else `declared` (tag or organization
   * element), if any. `unanimous`: the owner all referenced resources with a known owner share,
   * none when they differ (rule 6).
   */
  | { kind: 'refs'; targets: Target[]; declared?: string; unanimous?: boolean }
  | { kind: 'practitioner'; id: string }
  | { kind: 'none' };

const REF_RE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/;

/** `Type/id` of a literal reference (relative or absolute), or undefined. */
export function targetOf(ref: Reference | string | undefined): Target | undefined {
  const text = typeof ref === 'string' ? ref : ref?.reference;
  if (typeof text !== 'string' || text.startsWith('#') || text.startsWith('urn:')) return undefined;
  const m = REF_RE.exec(text);
  return m ? { type: m[1], id: m[2] } : undefined;
}

/** The id named by the tenant tag, if any. */
export function tenantTag(resource: Resource): string | undefined {
  const tag = resource.meta?.tag?.find((t) => t.system === TENANT_TAG_SYSTEM && typeof t.code === 'string' && t.code !== '');
  return tag?.code;
}

function refsIn(value: unknown): Reference[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value && typeof value === 'object' && typeof (value as Reference).reference === 'string') return [value];
  return [];
}

/** The targets of the elements whose owner a resource takes (FOLLOWED, in order), as `Type/id`. */
export function followedTargets(resource: Resource): Target[] {
  const obj = resource as unknown as Record<string, unknown>;
  const targets: Target[] = [];
  for (const name of FOLLOWED) {
    const value = name.includes('/')
      ? (resource as { extension?: { url?: string; valueReference?: Reference }[] }).extension?.filter((e) => e.url === name).map((e) => e.valueReference)
      : obj[name];
    for (const ref of refsIn(value)) {
      const t = targetOf(ref);
      if (t) targets.push(t);
    }
  }
  return targets;
}

/** The organization a resource names for itself: its tenant tag, else its organization element. */
export function declaredOrganization(resource: Resource): string | undefined {
  const tagged = tenantTag(resource);
  if (tagged) return tagged;
  const element = ORG_ELEMENTS[resource.resourceType] ?? (resource.resourceType === 'Consent' ? 'organization' : undefined);
  if (!element) return undefined;
  const obj = resource as unknown as Record<string, unknown>;
  for (const ref of refsIn(obj[element])) {
    const t = targetOf(ref);
    if (t?.type === 'Organization') return t.id;
  }
  return undefined;
}

/** The rule that decides a resource's owner (see the header). */
export function ownerRule(resource: Resource): OwnerRule {
  const type = resource.resourceType;
  const declared = declaredOrganization(resource);
  if (type === 'Organization') return declared ? { kind: 'org', id: declared } : resource.id ? { kind: 'org', id: resource.id } : { kind: 'none' };
  if (SHARED_TYPES.has(type)) return declared ? { kind: 'org', id: declared } : { kind: 'shared' };
  const targets = followedTargets(resource);
  if (targets.length > 0) return { kind: 'refs', targets, ...(declared ? { declared } : {}) };
  if (declared) return { kind: 'org', id: declared };
  if (type === 'Practitioner' && resource.id) return { kind: 'practitioner', id: resource.id };
  if (type === 'Group') {
    const members = ((resource as { member?: { entity?: Reference }[] }).member ?? [])
      .map((m) => targetOf(m.entity))
      .filter((t): t is Target => t !== undefined);
    if (members.length > 0) return { kind: 'refs', targets: members, unanimous: true };
  }
  return { kind: 'none' };
}

const PART2_PROGRAM = { system: cs('peerbridge-codes'), code: 'part2-program' };

/** Is this Organization a 42 CFR Part 2 program (marked as src/fhir/organization.ts marks it)? */
export function isPart2Program(org: Resource): boolean {
  return (
    org.resourceType === 'Organization' &&
    (org.type ?? []).some((t) => t.coding?.some((c) => c.system === PART2_PROGRAM.system && c.code === PART2_PROGRAM.code))
  );
}

/** `content @>` pattern matching a Part 2 program Organization in SQL. */
export const PART2_PROGRAM_JSON = JSON.stringify({ type: [{ coding: [PART2_PROGRAM] }] });

/** Does the resource carry the 42CFRPart2 label (v3-ActCode)? */
export function hasPart2Label(resource: Resource): boolean {
  return (resource.meta?.security ?? []).some((s) => s.system === SYSTEMS.actCode && s.code === '42CFRPart2');
}

/** The resource with R, 42CFRPart2 and ETH added to `meta.security` where missing. */
export function withPart2Labels<T extends Resource>(resource: T): T {
  const security: Coding[] = [...(resource.meta?.security ?? [])];
  for (const label of PART2_LABELS) {
    if (!security.some((s) => s.system === label.system && s.code === label.code)) security.push({ ...label });
  }
  return { ...resource, meta: { ...resource.meta, security } };
}
