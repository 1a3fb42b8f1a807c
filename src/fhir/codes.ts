/**
 * Code systems and canonical URLs the mappers write (docs/domain.md).
 */
export const PB = 'http://peerbridge.org/fhir';
export const cs = (id: string): string => `${PB}/CodeSystem/${id}`;
export const sd = (id: string): string => `${PB}/StructureDefinition/${id}`;
export const questionnaireUrl = (id: string): string => `${PB}/Questionnaire/${id}`;

export const SYSTEMS = {
  /** HCPCS as THO 7.0.1 (and R4's identifier registry) spell it: what PeerBridge writes where no US Core profile binds HCPCS. */
  hcpcs: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
  /** The same system as US Core 6.1.0's value sets spell it (us-core-procedure-code): written where a US Core profile binds HCPCS. */
  hcpcsUsCore: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
  snomed: 'http://snomed.info/sct',
  nucc: 'http://nucc.org/provider-taxonomy',
  pos: 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  confidentiality: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  usCoreCategory: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category',
  carePlanCategory: 'http://hl7.org/fhir/us/core/CodeSystem/careplan-category',
  dataAbsentReason: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
  observationInterpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  goalAchievement: 'http://terminology.hl7.org/CodeSystem/goal-achievement',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  ucum: 'http://unitsofmeasure.org',
} as const;

export const QUESTIONNAIRES = {
  recoveryCapital: questionnaireUrl('idaho-recovery-capital-scale'),
  eligibility: questionnaireUrl('peer-support-eligibility-review'),
  supervisor: questionnaireUrl('supervisor-peer-workers-self-assessment'),
} as const;

/** Both spellings of the HCPCS system name the same code system: either is accepted on input. */
export const HCPCS_SYSTEMS: readonly string[] = [SYSTEMS.hcpcs, SYSTEMS.hcpcsUsCore];

export const PROFILES = {
  patient: sd('peerbridge-patient'),
  organization: sd('peerbridge-organization'),
  practitioner: sd('peerbridge-practitioner'),
  practitionerRole: sd('peerbridge-practitioner-role'),
  encounter: sd('peer-support-encounter'),
  episode: sd('peer-support-episode'),
  referral: sd('peer-support-referral'),
  plan: sd('recovery-plan'),
  goal: sd('recovery-goal'),
  specialist: sd('peer-specialist'),
  specialistRole: sd('peer-specialist-role'),
  charge: sd('peer-support-charge'),
  recoveryCapitalResponse: sd('recovery-capital-response'),
  eligibilityResponse: sd('eligibility-review-response'),
  supervisorResponse: sd('supervisor-self-assessment-response'),
  recoveryCapitalTotal: sd('recovery-capital-total'),
  determination: sd('eligibility-determination'),
} as const;

export const EXTENSIONS = {
  intervention: sd('peer-intervention'),
  supportType: sd('social-support-type'),
  icrcTask: sd('icrc-task'),
  placeOfService: sd('place-of-service'),
  groupContact: sd('group-contact'),
  noShow: sd('no-show'),
  contactNote: sd('contact-note'),
  crisisPlanPresent: sd('crisis-plan-present'),
  nextReviewDate: sd('next-review-date'),
  trainingCompletion: sd('training-completion'),
  supervisor: sd('supervisor'),
  /** Core R4 extension for an element whose value is missing, and why. */
  dataAbsentReason: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason',
  /** Core R4 extension linking workflow resources to their EpisodeOfCare. */
  episodeOfCare: 'http://hl7.org/fhir/StructureDefinition/workflow-episodeOfCare',
} as const;

/**
 * Referral reasons (peer-referral-reason) -> SNOMED CT, written as a second coding of
 * ServiceRequest.reasonCode for HIEs that read SNOMED CT only (US Core binds reasonCode, extensible, to
 * its condition codes: SNOMED CT findings and situations). Only reasons with an equivalent concept;
 * the others (interest, engagement, a family member...) are about the service, not a finding, and keep
 * the PeerBridge code alone.
 */
export const REFERRAL_REASON_SNOMED: Readonly<Partial<Record<string, { code: string; display: string }>>> = {
  'socially-isolated': { code: '422650009', display: 'Social isolation' },
};

/** Contact mode -> SNOMED CT (PeerContactMode ValueSet). */
export const MODE_CODES = {
  'in-person': { code: '453701000124103', display: 'In-person encounter' },
  telephone: { code: '185317003', display: 'Telephone encounter' },
  video: { code: '448337001', display: 'Telemedicine consultation with patient' },
} as const;

/** 42 CFR Part 2 labels (docs/domain.md#42-cfr-part-2). */
export const PART2_LABELS = [
  { system: SYSTEMS.confidentiality, code: 'R', display: 'restricted' },
  { system: SYSTEMS.actCode, code: '42CFRPart2', display: '42 CFR Part2' },
  { system: SYSTEMS.actCode, code: 'ETH', display: 'substance abuse information sensitivity' },
];
