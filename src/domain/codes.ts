/**
 * The code lists of the canonical model. Each mirrors a CodeSystem of the PeerBridge FHIR package
 * (profiles/package, canonical http://peerbridge.org/fhir); test/domain/codes.test.ts keeps them
 * equal, so the canonical schema, the JSON Schema and the profiles never disagree.
 */

/** peer-intervention: seed 003, I. Definition of Services. */
export const INTERVENTIONS = [
  'self-help',
  'community-education',
  'individual-advocacy',
  'pre-crisis-support',
  'education-volunteering-employment',
  'managing-distressing-symptoms',
] as const;

/** social-support-type: seed 001. */
export const SUPPORT_TYPES = ['emotional', 'informational', 'instrumental', 'affiliational'] as const;

/** icrc-task: IC&RC peer recovery domains I-IV (seed 002). */
export const ICRC_TASKS = [
  ...Array.from({ length: 11 }, (_, i) => `I${i + 1}`),
  ...Array.from({ length: 15 }, (_, i) => `II${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `III${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `IV${i + 1}`),
] as [string, ...string[]];

/** peer-credential */
export const CREDENTIALS = ['certified-peer-specialist', 'certified-peer-counselor', 'family-peer-specialist', 'paraprofessional-peer'] as const;

/** peer-referral-reason: who may benefit (seed 004 section 4). */
export const REFERRAL_REASONS = [
  'expresses-interest',
  'difficulty-engaging',
  'family-member',
  'frequently-hospitalized',
  'new-to-system',
  'socially-isolated',
  'needs-personal-contact',
] as const;

/** eligibility-criterion: seed 003 sections IV-VII. */
export const CRITERIA = [
  'service-A',
  'service-B',
  'service-C',
  'service-D',
  'service-E',
  'service-F',
  'service-G',
  'exclusion-A',
  'exclusion-B',
  'continued-stay-A',
  'continued-stay-B',
  'continued-stay-C',
  'discharge-A',
  'discharge-B',
] as const;
export type Criterion = (typeof CRITERIA)[number];

/** criterion-status */
export const CRITERION_STATUSES = ['met', 'not-met', 'unknown'] as const;
export type CriterionStatus = (typeof CRITERION_STATUSES)[number];

/** eligibility-review-type */
export const REVIEW_TYPES = ['admission', 'continued-stay', 'discharge'] as const;
export type ReviewType = (typeof REVIEW_TYPES)[number];

/** eligibility-result */
export const ELIGIBILITY_RESULTS = ['eligible', 'not-eligible', 'continue', 'discharge', 'indeterminate'] as const;
export type EligibilityResult = (typeof ELIGIBILITY_RESULTS)[number];

/** How a contact was made; each maps to one SNOMED CT code of the PeerContactMode ValueSet. */
export const CONTACT_MODES = ['in-person', 'telephone', 'video'] as const;

/** Encounter.class, v3-ActCode (PeerEncounterClass ValueSet). */
export const SETTINGS = ['AMB', 'HH', 'FLD', 'VR'] as const;

/** CMS place of service codes of the PlaceOfService ValueSet. */
export const PLACES_OF_SERVICE = ['02', '10', '11', '12', '53', '99'] as const;

/** The contact's outcome: finished contacts are billed; the others are not. */
export const CONTACT_STATUSES = ['finished', 'planned', 'cancelled', 'no-show'] as const;

/** EpisodeOfCare.status */
export const EPISODE_STATUSES = ['planned', 'waitlist', 'active', 'onhold', 'finished', 'cancelled'] as const;

/** ServiceRequest.status */
export const REFERRAL_STATUSES = ['draft', 'active', 'on-hold', 'revoked', 'completed'] as const;

/** CarePlan.status */
export const PLAN_STATUSES = ['draft', 'active', 'on-hold', 'revoked', 'completed'] as const;

/** Goal.lifecycleStatus */
export const GOAL_STATUSES = ['proposed', 'planned', 'accepted', 'active', 'on-hold', 'completed', 'cancelled'] as const;

/** Goal.achievementStatus (goal-achievement) */
export const GOAL_ACHIEVEMENTS = [
  'in-progress',
  'improving',
  'worsening',
  'no-change',
  'achieved',
  'sustaining',
  'not-achieved',
  'no-progress',
  'not-attainable',
] as const;

/** CarePlan.activity.detail.status */
export const ACTIVITY_STATUSES = ['not-started', 'scheduled', 'in-progress', 'on-hold', 'completed', 'cancelled', 'stopped'] as const;

/** Patient.gender */
export const SEXES = ['female', 'male', 'other', 'unknown'] as const;

/** US Core race OMB categories (urn:oid:2.16.840.1.113883.6.238) and the null flavors US Core allows (UNK, ASKU). */
export const RACES = ['1002-5', '2028-9', '2054-5', '2076-8', '2106-3', 'UNK', 'ASKU'] as const;
/** US Core ethnicity OMB categories (urn:oid:2.16.840.1.113883.6.238), UNK and ASKU. */
export const ETHNICITIES = ['2135-2', '2186-5', 'UNK', 'ASKU'] as const;
/** Displays of the race and ethnicity codes (the extensions' required `text` when none is given). */
export const RACE_ETHNICITY_DISPLAY: Readonly<Record<string, string>> = {
  '1002-5': 'American Indian or Alaska Native',
  '2028-9': 'Asian',
  '2054-5': 'Black or African American',
  '2076-8': 'Native Hawaiian or Other Pacific Islander',
  '2106-3': 'White',
  '2135-2': 'Hispanic or Latino',
  '2186-5': 'Not Hispanic or Latino',
  UNK: 'Unknown',
  ASKU: 'Asked but no answer',
};
/**
 * Gender identity (US Core 6.1 genderIdentity extension, bound extensibly to VSAC 2.16.840.1.113762.1.4.1021.32):
 * SNOMED CT "identifies as" findings, and the null flavors OTH (other), UNK (unknown) and ASKU (asked but no answer).
 */
export const GENDER_IDENTITIES = ['446141000124107', '446151000124109', '33791000087105', 'OTH', 'UNK', 'ASKU'] as const;
/** Displays of the gender identity codes (SNOMED CT preferred terms; the null flavors as text). */
export const GENDER_IDENTITY_DISPLAY: Readonly<Record<string, string>> = {
  '446141000124107': 'Identifies as female gender',
  '446151000124109': 'Identifies as male gender',
  '33791000087105': 'Identifies as nonbinary gender',
  OTH: 'Other',
  UNK: 'Unknown',
  ASKU: 'Asked but no answer',
};
/** Patient.maritalStatus (http://terminology.hl7.org/CodeSystem/v3-MaritalStatus; UNK from v3-NullFlavor). */
export const MARITAL_STATUSES = ['A', 'D', 'I', 'L', 'M', 'P', 'T', 'U', 'S', 'W', 'UNK'] as const;
/** Address.use */
export const ADDRESS_USES = ['home', 'work', 'temp', 'old', 'billing'] as const;
/** ContactPoint.system */
export const TELECOM_SYSTEMS = ['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other'] as const;
/** ContactPoint.use */
export const TELECOM_USES = ['home', 'work', 'temp', 'old', 'mobile'] as const;
