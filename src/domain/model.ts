/**
 * The canonical peer support model (docs/domain.md#the-canonical-model): the one shape every outside format is translated
 * into, and the one a developer can post directly (`POST /ingest/canonical`). Types come from the
 * schemas (`z.infer`); `mappings/canonical/schema.json` is generated from them
 * (`npm run build:schema`).
 *
 * Objects are strict: an unknown property is an error, never silently dropped. Each record carries
 * `id`, its identifier in the source system; FHIR ids are derived from (source, kind, id).
 *
 * Why it is one file of over 400 lines: it is the single source of the canonical model, read by
 * people as one document; the JSON Schema (mappings/canonical/schema.json) and the field tables of
 * mappings/README.md are generated from it, and the records refer to each other's ids and codes.
 * Code lists live in src/domain/codes.ts.
 */
import { z } from 'zod';
import {
  ACTIVITY_STATUSES,
  ADDRESS_USES,
  ETHNICITIES,
  GENDER_IDENTITIES,
  MARITAL_STATUSES,
  RACES,
  TELECOM_SYSTEMS,
  TELECOM_USES,
  CONTACT_MODES,
  CONTACT_STATUSES,
  CREDENTIALS,
  CRITERIA,
  CRITERION_STATUSES,
  EPISODE_STATUSES,
  GOAL_ACHIEVEMENTS,
  GOAL_STATUSES,
  ICRC_TASKS,
  INTERVENTIONS,
  PLACES_OF_SERVICE,
  PLAN_STATUSES,
  REFERRAL_REASONS,
  REFERRAL_STATUSES,
  REVIEW_TYPES,
  SETTINGS,
  SEXES,
  SUPPORT_TYPES,
} from './codes';
import { addMinutes, DateString, DateTimeString, minutesBetween } from './datetime';
import { NPI_SYSTEM, npiProblem } from './npi';

/** A record's identifier in its source system: printable, no surrounding spaces. */
export const RecordId = z
  .string()
  .min(1, 'Must not be empty')
  .max(200)
  .regex(/^\S(.*\S)?$/, 'Must not start or end with white space')
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'Must not contain control characters');

const Text = z.string().trim().min(1, 'Must not be empty').max(10_000);
const ShortText = z.string().trim().min(1, 'Must not be empty').max(500);

/** An absolute URI (http(s), urn:...), as FHIR `Identifier.system` requires. */
export const Uri = z
  .string()
  .min(1)
  .refine((s) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(s), 'Must be an absolute URI (e.g. http://example.org/ids or urn:oid:1.2.3)');

/** An identifier; an NPI (system http://hl7.org/fhir/sid/us-npi) must have a valid check digit (src/domain/npi.ts). */
export const Identifier = z.strictObject({ system: Uri, value: ShortText }).superRefine((id, ctx) => {
  const problem = id.system === NPI_SYSTEM ? npiProblem(id.value) : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['value'], input: id.value });
});

export const HumanName = z
  .strictObject({
    family: ShortText.optional(),
    given: z.array(ShortText).default([]),
    suffix: z.array(ShortText).default([]),
  })
  .refine((n) => n.family !== undefined || n.given.length > 0, 'A name needs a family or a given name');

function unique<T extends z.ZodType>(item: T, what: string) {
  return z
    .array(item)
    .default([])
    .refine((values) => new Set(values.map((v) => JSON.stringify(v))).size === values.length, `Each ${what} may appear only once`);
}

/**
 * A person's identifier from an outside system: a medical record number, a state id (HL7 v2 CX:
 * `system` from the assigning authority CX.4, `type` the identifier type CX.5, HL7 table 0203).
 */
export const PersonIdentifier = z.strictObject({
  system: Uri,
  value: ShortText,
  /** HL7 table 0203 code (http://terminology.hl7.org/CodeSystem/v2-0203): MR, SS, DL, PI, ... */
  type: z
    .string()
    .regex(/^[A-Za-z0-9]{1,10}$/, 'Must be an HL7 table 0203 identifier type code such as MR, SS, DL')
    .optional(),
  /** The assigning authority, as text (Identifier.assigner.display). */
  assigner: ShortText.optional(),
});

/** A postal address (FHIR Address); at least one part. */
export const Address = z
  .strictObject({
    use: z.enum(ADDRESS_USES).optional(),
    lines: z.array(ShortText).default([]),
    city: ShortText.optional(),
    district: ShortText.optional(),
    state: ShortText.optional(),
    postalCode: ShortText.optional(),
    country: ShortText.optional(),
  })
  .refine(
    (a) =>
      a.lines.length > 0 || a.city !== undefined || a.state !== undefined || a.postalCode !== undefined || a.country !== undefined || a.district !== undefined,
    'An address needs at least one part (lines, city, state, postalCode, country)',
  );

/** A phone number, email address... (FHIR ContactPoint). */
export const Telecom = z.strictObject({
  system: z.enum(TELECOM_SYSTEMS).default('phone'),
  value: ShortText,
  use: z.enum(TELECOM_USES).optional(),
});

/** A person who receives peer support. */
export const Person = z.strictObject({
  id: RecordId,
  identifiers: z.array(PersonIdentifier).default([]),
  name: HumanName,
  birthDate: DateString.optional(),
  sex: z.enum(SEXES).optional(),
  /**
   * Gender identity, apart from the administrative sex (`sex`): a SNOMED CT "identifies as" code or a null flavor
   * (OTH, UNK, ASKU); Patient's US Core genderIdentity extension.
   */
  genderIdentity: z.enum(GENDER_IDENTITIES).optional(),
  /** Where the person lives or can be reached (peer outreach). */
  addresses: z.array(Address).default([]),
  /** Phone numbers and email addresses, in order of preference. */
  telecom: z.array(Telecom).default([]),
  /** OMB race categories (US Core race extension). */
  race: unique(z.enum(RACES), 'race').refine(
    (values) => !(values.includes('UNK') || values.includes('ASKU')) || values.length === 1,
    'race UNK (unknown) or ASKU (asked but no answer) stands alone, without other race codes (US Core: at most 5 OMB categories, or one null flavor)',
  ),
  /** OMB ethnicity category (US Core ethnicity extension). */
  ethnicity: z.enum(ETHNICITIES).optional(),
  /** Preferred language, a BCP 47 tag (`en`, `es`, `en-US`): Patient.communication.language. */
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'Must be a BCP 47 language tag such as en, es or en-US')
    .optional(),
  /** Patient.maritalStatus (v3-MaritalStatus code). */
  maritalStatus: z.enum(MARITAL_STATUSES).optional(),
  /** The organization (CCBHC) that manages the person's record. */
  organizationId: RecordId.optional(),
});

/** A CCBHC or program. `part2Program`: a 42 CFR Part 2 substance use disorder program. */
export const Organization = z.strictObject({
  id: RecordId,
  name: ShortText,
  identifiers: z.array(Identifier).default([]),
  part2Program: z.boolean().default(false),
  /** The program's phone (and other contacts): Organization.telecom, and the telecom of its practitioners' roles (US Core pd-1). */
  telecom: z
    .array(Telecom.refine((t) => t.use !== 'home', { message: "An organization's telecom cannot be of use 'home' (FHIR org-3)", path: ['use'] }))
    .default([]),
});

/** A credential, training or licence of a practitioner. */
export const Credential = z
  .strictObject({
    /** peer-credential code (required for peer specialists). */
    code: z.enum(CREDENTIALS).optional(),
    /** Free-text name of a credential without a code (e.g. a supervisor's licence). */
    text: ShortText.optional(),
    number: Identifier.optional(),
    issuer: ShortText.optional(),
    start: DateString.optional(),
    end: DateString.optional(),
  })
  .refine((c) => c.code !== undefined || c.text !== undefined, 'A credential needs a code or a text')
  .refine((c) => !c.start || !c.end || c.start <= c.end, { message: 'Credential ends before it starts', path: ['end'] });

/** A peer support specialist, or a supervisor of peer workers. */
export const Practitioner = z
  .strictObject({
    id: RecordId,
    role: z.enum(['peer-specialist', 'supervisor']),
    name: HumanName,
    sex: z.enum(SEXES).optional(),
    identifiers: z.array(Identifier).default([]),
    organizationId: RecordId,
    credential: Credential.optional(),
    /** Date the required peer support training was completed. */
    trainingCompleted: DateString.optional(),
    /** The supervising practitioner (a `supervisor`). */
    supervisorId: RecordId.optional(),
    /** Start of the role at the organization. */
    roleStart: DateString.optional(),
    /** How to reach the practitioner in this role (PractitionerRole.telecom); when empty, the organization's telecom. */
    telecom: z.array(Telecom).default([]),
  })
  .refine((p) => p.role !== 'peer-specialist' || p.credential?.code !== undefined, {
    message: 'A peer specialist needs a credential with a peer-credential code',
    path: ['credential'],
  })
  .refine((p) => p.name.family !== undefined, {
    message: 'A practitioner needs a family name (US Core Practitioner requires name.family)',
    path: ['name', 'family'],
  });

/** The referral that starts an episode. */
export const Referral = z.strictObject({
  date: DateTimeString,
  status: z.enum(REFERRAL_STATUSES).default('completed'),
  reasons: unique(z.enum(REFERRAL_REASONS), 'reason'),
  /** The referring practitioner (a practitioner record of this source). */
  requesterId: RecordId.optional(),
  note: Text.optional(),
});

/** An admission, continued-stay or discharge review: each criterion met, not met or unknown. */
export const EligibilityReview = z.strictObject({
  id: RecordId,
  type: z.enum(REVIEW_TYPES),
  date: DateTimeString,
  reviewerId: RecordId.optional(),
  criteria: z.preprocess(
    (v, ctx) => {
      // zod's record skips a "__proto__" key that JSON.parse made an own property: say so rather than drop it.
      if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, '__proto__')) {
        ctx.addIssue({ code: 'custom', message: 'Unrecognized key: "__proto__"', input: v });
      }
      return v;
    },
    z.partialRecord(z.enum(CRITERIA), z.enum(CRITERION_STATUSES)).refine((c) => Object.keys(c).length > 0, 'A review needs at least one criterion'),
  ),
});

/** One peer support contact (a service event). */
export const Contact = z
  .strictObject({
    id: RecordId,
    status: z.enum(CONTACT_STATUSES).default('finished'),
    start: DateTimeString,
    /** End of the contact; derived from `durationMinutes` when absent. */
    end: DateTimeString.optional(),
    /** Length in minutes (1-1440); derived from `end` when absent. */
    durationMinutes: z
      .number()
      .int('Must be a whole number of minutes')
      .min(1, 'A contact lasts at least 1 minute')
      .max(1440, 'A contact lasts at most 1440 minutes (one day)')
      .optional(),
    mode: z.enum(CONTACT_MODES),
    /** Encounter class; defaults to VR for telephone and video, AMB in person. */
    setting: z.enum(SETTINGS).optional(),
    placeOfService: z.enum(PLACES_OF_SERVICE).optional(),
    group: z.boolean().default(false),
    specialistId: RecordId,
    interventions: unique(z.enum(INTERVENTIONS), 'intervention'),
    supportTypes: unique(z.enum(SUPPORT_TYPES), 'support type'),
    icrcTasks: unique(z.enum(ICRC_TASKS), 'IC&RC task'),
    note: Text.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.end !== undefined) {
      const minutes = minutesBetween(c.start, c.end);
      if (minutes <= 0) {
        ctx.addIssue({ code: 'custom', path: ['end'], message: `The contact ends (${c.end}) before or when it starts (${c.start})` });
      } else if (c.durationMinutes !== undefined && minutes !== c.durationMinutes) {
        ctx.addIssue({
          code: 'custom',
          path: ['durationMinutes'],
          message: `durationMinutes (${c.durationMinutes}) disagrees with start and end (${Math.round(minutes * 100) / 100} minutes apart)`,
        });
      } else if (c.durationMinutes === undefined && (!Number.isInteger(minutes) || minutes > 1440)) {
        ctx.addIssue({ code: 'custom', path: ['end'], message: `start and end must be whole minutes apart, at most 1440 (they are ${minutes})` });
      }
    }
    if (c.status === 'finished' && c.end === undefined && c.durationMinutes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['durationMinutes'], message: 'A finished contact needs durationMinutes or end' });
    }
  })
  .transform((c) => {
    const out = { ...c, setting: c.setting ?? (c.mode === 'in-person' ? 'AMB' : 'VR') };
    if (out.end === undefined && out.durationMinutes !== undefined) {
      out.end = addMinutes(out.start, out.durationMinutes);
    } else if (out.end !== undefined && out.durationMinutes === undefined) {
      out.durationMinutes = Math.round(minutesBetween(out.start, out.end));
    }
    return out;
  });

export const Goal = z
  .strictObject({
    id: RecordId,
    description: ShortText,
    status: z.enum(GOAL_STATUSES).default('active'),
    achievement: z.enum(GOAL_ACHIEVEMENTS).optional(),
    start: DateString.optional(),
    targetDate: DateString.optional(),
    note: Text.optional(),
  })
  .refine((g) => !g.start || !g.targetDate || g.start <= g.targetDate, { message: 'The target date is before the start', path: ['targetDate'] });

export const PlannedActivity = z.strictObject({
  description: ShortText,
  status: z.enum(ACTIVITY_STATUSES).default('not-started'),
  schedule: ShortText.optional(),
  goalIds: z.array(RecordId).default([]),
  performerId: RecordId.optional(),
});

/** The person-centered recovery plan of an episode. */
export const RecoveryPlan = z
  .strictObject({
    id: RecordId,
    status: z.enum(PLAN_STATUSES).default('active'),
    title: ShortText.optional(),
    created: DateString,
    start: DateString.optional(),
    end: DateString.optional(),
    /** A WRAP or personal crisis plan is in place (pre-crisis support). */
    crisisPlanPresent: z.boolean().optional(),
    nextReviewDate: DateString.optional(),
    goals: z.array(Goal).default([]),
    activities: z.array(PlannedActivity).default([]),
  })
  .superRefine((p, ctx) => {
    if (p.start && p.end && p.end < p.start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'The plan ends before it starts' });
    }
    const goalIds = new Set<string>();
    p.goals.forEach((g, i) => {
      if (goalIds.has(g.id)) {
        ctx.addIssue({ code: 'custom', path: ['goals', i, 'id'], message: `Duplicate goal id ${g.id}` });
      }
      goalIds.add(g.id);
    });
    p.activities.forEach((a, i) =>
      a.goalIds.forEach((id, j) => {
        if (!goalIds.has(id)) {
          ctx.addIssue({ code: 'custom', path: ['activities', i, 'goalIds', j], message: `No goal ${id} in this plan` });
        }
      }),
    );
  });

const episodeHeaderShape = {
  id: RecordId,
  personId: RecordId,
  organizationId: RecordId,
  status: z.enum(EPISODE_STATUSES),
  start: DateString,
  end: DateString.optional(),
  /** The assigned peer specialist. */
  specialistId: RecordId.optional(),
  referral: Referral.optional(),
};

function checkEpisodeDates(e: { status: string; start: string; end?: string }, ctx: z.RefinementCtx): void {
  if (e.end && e.end < e.start) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: `The episode ends (${e.end}) before it starts (${e.start})` });
  }
  if (e.status === 'finished' && !e.end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'A finished episode needs an end date' });
  }
}

/** The child collections of an episode; each item is a record of its own. */
export const EPISODE_CHILDREN = ['eligibilityReviews', 'contacts', 'recoveryPlan'] as const;

/** The parts of an episode other than its children (parsed apart so one bad contact rejects only itself). */
export const EpisodeHeader = z.strictObject(episodeHeaderShape).superRefine(checkEpisodeDates);

/** An episode of peer support with its reviews, contacts and plan. */
export const Episode = z
  .strictObject({
    ...episodeHeaderShape,
    eligibilityReviews: z.array(EligibilityReview).default([]),
    contacts: z.array(Contact).default([]),
    recoveryPlan: RecoveryPlan.optional(),
  })
  .superRefine(checkEpisodeDates);

const rating = z
  .number()
  .int('Must be a whole number')
  .min(1, { error: (i) => `Ratings run from 1 to 5, got ${String(i.input)}` })
  .max(5, { error: (i) => `Ratings run from 1 to 5, got ${String(i.input)}` });

/** One administration of the Idaho Recovery Capital Scale (seed 002). */
export const RecoveryCapitalAdministration = z.strictObject({
  id: RecordId,
  personId: RecordId,
  date: DateTimeString,
  /** The contact during which it was filled in. */
  contactId: RecordId.optional(),
  /** The 23 ratings in the scale's order (5 completely agree .. 1 completely disagree); null = not answered. */
  answers: z.array(rating.nullable()).length(23, 'The scale has exactly 23 statements: give 23 answers, null for one not answered'),
  areasToIncrease: z.array(ShortText).max(5, 'At most five areas').default([]),
  nextWeekActivities: z.array(ShortText).max(3, 'At most three activities').default([]),
  helpers: z.array(ShortText).max(3, 'At most three people').default([]),
});

/** One Supervisor of Peer Workers Self-Assessment (seed 002). */
export const SupervisorAssessment = z.strictObject({
  id: RecordId,
  supervisorId: RecordId,
  date: DateTimeString,
  /** The 11 ratings (1 professional learning need .. 5 mastery); null = not answered. */
  ratings: z.array(rating.nullable()).length(11, 'The self-assessment has exactly 11 statements: give 11 ratings, null for one not answered'),
});

/** The kinds of canonical record: each is accepted or rejected on its own (an episode's contacts, reviews and plan too). */
export const RECORD_KINDS = [
  'organization',
  'practitioner',
  'person',
  'episode',
  'eligibility-review',
  'contact',
  'recovery-plan',
  'recovery-capital',
  'supervisor-assessment',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** The record collections of a canonical file, in the order they are processed. */
export const COLLECTIONS = ['organizations', 'practitioners', 'people', 'episodes', 'recoveryCapital', 'supervisorAssessments'] as const;
export type CollectionName = (typeof COLLECTIONS)[number];

/** A canonical file: records from one source system. */
export const CanonicalDocument = z.strictObject({
  /** The source system (URI); with each record's id it makes the FHIR ids and identifiers. */
  source: Uri,
  organizations: z.array(Organization).default([]),
  practitioners: z.array(Practitioner).default([]),
  people: z.array(Person).default([]),
  episodes: z.array(Episode).default([]),
  recoveryCapital: z.array(RecoveryCapitalAdministration).default([]),
  supervisorAssessments: z.array(SupervisorAssessment).default([]),
});

export type PersonRecord = z.infer<typeof Person>;
export type OrganizationRecord = z.infer<typeof Organization>;
export type PractitionerRecord = z.infer<typeof Practitioner>;
export type ReferralRecord = z.infer<typeof Referral>;
export type EligibilityReviewRecord = z.infer<typeof EligibilityReview>;
export type ContactRecord = z.infer<typeof Contact>;
export type GoalRecord = z.infer<typeof Goal>;
export type RecoveryPlanRecord = z.infer<typeof RecoveryPlan>;
export type EpisodeHeaderRecord = z.infer<typeof EpisodeHeader>;
export type EpisodeRecord = z.infer<typeof Episode>;
/** What an episode's contacts, reviews and plan need of it: a header, or a reference sent with a child on its own. */
/**
 * What a contact, review or plan needs of its episode (`referral`: only whether there is one;
 * `referralReasons`: its reasons when known, written as the contacts' Encounter.reasonCode).
 */
export type EpisodeLink = Pick<EpisodeHeaderRecord, 'id' | 'personId' | 'organizationId'> & {
  referral?: unknown;
  referralReasons?: readonly ReferralRecord['reasons'][number][];
};
export type RecoveryCapitalRecord = z.infer<typeof RecoveryCapitalAdministration>;
export type SupervisorAssessmentRecord = z.infer<typeof SupervisorAssessment>;
export type CanonicalDocumentRecord = z.infer<typeof CanonicalDocument>;
