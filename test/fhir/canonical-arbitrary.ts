/**
 * A fast-check arbitrary for canonical documents (src/domain/model.ts) with realistic, valid
 * values: past dates, dateTimes with seconds and offsets, durations of 1-1440 minutes, ids unique
 * per kind (and sometimes shared across kinds), and references only to records that exist.
 * Records are generated with "pick" numbers that `build` resolves against the pools of ids, so
 * shrinking keeps every reference valid.
 */
import fc from 'fast-check';
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
  type Criterion,
} from '../../src/domain/codes';
import { loadRules } from '../../src/domain/rules';
import { npiCheckDigit } from '../../src/domain/npi';

/** The fixed clock of the tests: every generated past date is before it. */
export const NOW = new Date('2026-11-22T12:00:00Z');

const PAST_MIN = Date.parse('2019-01-01T00:00:00Z');
const PAST_MAX = Date.parse('2026-11-20T00:00:00Z');
const DAY = 86_400_000;

// --- Values ----------------------------------------------------------------------------------

// Markup-looking text that is not HTML ('<not a tag>', '1 < 2') must pass through; real HTML tags
// in a string are an error since issue 12 (as the reference validator reports them).
const WORDS = [
  'peer',
  'support',
  'group',
  'recovery',
  'walk',
  'library',
  'call',
  'sister',
  'WRAP',
  'plan',
  'weekly',
  'Tuesday',
  'clinic',
  'volunteer',
  'café',
  'José',
  'Zoë',
  'O’Neil',
  'Nguyễn',
  '"quoted"',
  '<not a tag>',
  '1 < 2',
  'a/b',
  '50%',
  '#3',
  'x&y',
];
const NAMES = ['Dana', 'Marcus', 'Ana', 'Lee', 'Ortiz', 'Whitfield', 'María José', 'Zoë', 'O’Brien', 'Nguyễn', 'Anne-Marie', 'Kowalczyk', 'Ngata'];

const words = (max: number) => fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: max }).map((w) => w.join(' '));
/** A ShortText. */
const text = words(6);
/** A Text (notes): may run over lines. */
const note = fc.array(words(8), { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'));

const uri = fc.constantFrom(
  'http://hl7.org/fhir/sid/us-npi',
  'http://riverbend-ccbhc.example.org/fhir/sid/mrn',
  'urn:oid:2.16.840.1.113883.4.1',
  'https://mha.ohio.gov/fhir/sid/peer-certification',
  'urn:ietf:rfc:3986',
);
const identifierValue = fc.stringMatching(/^[A-Z]{0,3}[0-9]{1,8}$/).filter((s) => s.length > 0);
/** An identifier; an NPI gets a valid check digit (the canonical model rejects others: src/domain/npi.ts). */
const identifier = fc.record({ system: uri, value: identifierValue }).map((i) => {
  if (i.system !== 'http://hl7.org/fhir/sid/us-npi') return i;
  const first9 = `1${i.value.replace(/\D/g, '')}`.padEnd(9, '0').slice(0, 9);
  return { system: i.system, value: first9 + npiCheckDigit(first9) };
});
const identifiers = fc.array(identifier, { maxLength: 2 });

const name = fc
  .record(
    {
      family: fc.constantFrom(...NAMES),
      given: fc.array(fc.constantFrom(...NAMES), { maxLength: 2 }),
      suffix: fc.array(fc.constantFrom('CPS', 'LCSW', 'Jr.', 'PhD'), { maxLength: 1 }),
    },
    { requiredKeys: ['given'] },
  )
  .filter((n) => n.family !== undefined || n.given.length > 0);
/** A practitioner's name: US Core Practitioner requires the family name. */
const practitionerName = name.filter((n) => n.family !== undefined);

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A past calendar date. */
const pastMs = fc.integer({ min: PAST_MIN, max: PAST_MAX });
const pastDate = pastMs.map(isoDate);
const birthDate = fc.integer({ min: Date.parse('1930-01-01T00:00:00Z'), max: Date.parse('2010-12-31T00:00:00Z') }).map(isoDate);
/** Two past dates in order. */
const datePair = fc.tuple(pastMs, pastMs).map(([a, b]) => [isoDate(Math.min(a, b)), isoDate(Math.max(a, b))] as const);
/** A date in the next year (target dates, next review dates may be future). */
const nearDate = fc.integer({ min: PAST_MIN, max: PAST_MAX + 365 * DAY }).map(isoDate);

const OFFSETS = ['Z', '-05:00', '-04:00', '+02:00', '-08:00', '+05:30', '+00:00', '+14:00', '-12:00'] as const;
const offset = fc.constantFrom(...OFFSETS);
const fraction = fc.constantFrom('', '', '', '', '', '.5', '.250', '.123456');

/** `ms` (whole seconds) written in `off`, with `frac` after the seconds. */
export function formatDateTime(ms: number, off: string, frac = ''): string {
  const minutes = off === 'Z' ? 0 : (off[0] === '-' ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
  return `${new Date(ms + minutes * 60_000).toISOString().slice(0, 19)}${frac}${off}`;
}

const pastSecond = pastMs.map((ms) => Math.floor(ms / 1000) * 1000);
/** A past dateTime with seconds and an offset. */
const pastDateTime = fc.tuple(pastSecond, offset, fraction).map(([ms, off, frac]) => formatDateTime(ms, off, frac));

// --- Records (with picks) --------------------------------------------------------------------

/** An id stem: ids are `<stem><index>`, unique per kind; stems repeat, so kinds share ids. */
const stem = fc.constantFrom('', 'X-', 'RB-', 'rec ', 'a/b:', 'Ü.', 'C_');
const pick = fc.nat({ max: 1000 });
/** Some keys always, the others sometimes. */
function some<T extends Record<string, unknown>, K extends keyof T & string>(model: { [P in keyof T]: fc.Arbitrary<T[P]> }, required: K[]) {
  return fc.record(model, { requiredKeys: required });
}

const contactPoint = some({ system: fc.constantFrom(...TELECOM_SYSTEMS), value: text, use: fc.constantFrom(...TELECOM_USES) }, ['system', 'value']);
/** An organization with its telecom (its practitioners' roles carry it: US Core pd-1). */
const orgContactPoint = some({ system: fc.constantFrom(...TELECOM_SYSTEMS), value: text, use: fc.constantFrom(...TELECOM_USES.filter((u) => u !== 'home')) }, [
  'system',
  'value',
]);
const organization = some({ name: text, identifiers, part2Program: fc.boolean(), telecom: fc.array(orgContactPoint, { minLength: 1, maxLength: 2 }) }, [
  'name',
  'telecom',
]);

const credentialCore = { text, number: identifier, issuer: text, period: datePair };
const peerSpecialist = some(
  {
    credential: some({ code: fc.constantFrom(...CREDENTIALS), ...credentialCore, endOpen: fc.boolean() }, ['code']),
    name: practitionerName,
    sex: fc.constantFrom(...SEXES),
    identifiers,
    trainingCompleted: pastDate,
    supervisor: pick,
    roleStart: pastDate,
    telecom: fc.array(contactPoint, { maxLength: 2 }),
  },
  ['credential', 'name'],
);
const supervisor = some(
  {
    credential: fc.oneof(some({ code: fc.constantFrom(...CREDENTIALS), ...credentialCore }, ['code']), some({ ...credentialCore }, ['text'])),
    name: practitionerName,
    sex: fc.constantFrom(...SEXES),
    identifiers,
    roleStart: pastDate,
  },
  ['name'],
);
const personIdentifier = some({ system: uri, value: identifierValue, type: fc.constantFrom('MR', 'SS', 'DL', 'PI'), assigner: text }, ['system', 'value']);
const address = some(
  {
    use: fc.constantFrom(...ADDRESS_USES),
    lines: fc.array(text, { minLength: 1, maxLength: 2 }),
    city: text,
    district: text,
    state: text,
    postalCode: fc.stringMatching(/^[0-9]{5}$/),
    country: text,
  },
  ['lines'],
);
const telecom = some({ system: fc.constantFrom(...TELECOM_SYSTEMS), value: text, use: fc.constantFrom(...TELECOM_USES) }, ['system', 'value']);
const person = some(
  {
    identifiers: fc.array(personIdentifier, { maxLength: 3 }),
    name,
    birthDate,
    sex: fc.constantFrom(...SEXES),
    organization: pick,
    addresses: fc.array(address, { maxLength: 2 }),
    telecom: fc.array(telecom, { maxLength: 3 }),
    race: fc.oneof(fc.shuffledSubarray(RACES.filter((r) => r !== 'UNK' && r !== 'ASKU')), fc.constantFrom(['UNK'], ['ASKU'])),
    ethnicity: fc.constantFrom(...ETHNICITIES),
    genderIdentity: fc.constantFrom(...GENDER_IDENTITIES),
    language: fc.constantFrom('en', 'es', 'en-US', 'vi', 'zh-Hant'),
    maritalStatus: fc.constantFrom(...MARITAL_STATUSES),
  },
  ['name'],
);

const referral = some(
  {
    date: pastDateTime,
    status: fc.constantFrom(...REFERRAL_STATUSES),
    reasons: fc.shuffledSubarray([...REFERRAL_REASONS]),
    requester: pick,
    note,
  },
  ['date'],
);

const rules = loadRules();
const review = fc.constantFrom(...REVIEW_TYPES).chain((type) =>
  some(
    {
      type: fc.constant(type),
      date: pastDateTime,
      reviewer: pick,
      criteria: fc
        .shuffledSubarray([...rules.eligibility[type].criteria], { minLength: 1 })
        .chain((list) => fc.tuple(...list.map((c) => fc.constantFrom(...CRITERION_STATUSES).map((s) => [c, s] as const))))
        .map((entries) => Object.fromEntries(entries) as Partial<Record<Criterion, (typeof CRITERION_STATUSES)[number]>>),
    },
    ['type', 'date', 'criteria'],
  ),
);

const contact = fc
  .record({
    status: fc.option(fc.constantFrom(...CONTACT_STATUSES), { nil: undefined }),
    startMs: pastSecond,
    startOffset: offset,
    frac: fraction,
    /** How the length is given: duration, end, both, or (not finished) neither. */
    timing: fc.constantFrom('duration', 'end', 'both', 'neither'),
    durationMinutes: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 1440 })),
    endOffset: offset,
    rest: some(
      {
        mode: fc.constantFrom(...CONTACT_MODES),
        setting: fc.constantFrom(...SETTINGS),
        placeOfService: fc.constantFrom(...PLACES_OF_SERVICE),
        group: fc.boolean(),
        interventions: fc.shuffledSubarray([...INTERVENTIONS]),
        supportTypes: fc.shuffledSubarray([...SUPPORT_TYPES]),
        icrcTasks: fc.shuffledSubarray([...ICRC_TASKS], { maxLength: 4 }),
        note,
      },
      ['mode'],
    ),
    specialist: pick,
  })
  .map((c) => ({ ...c, timing: c.timing === 'neither' && (c.status ?? 'finished') === 'finished' ? 'duration' : c.timing }));

const goal = some(
  {
    description: text,
    status: fc.constantFrom(...GOAL_STATUSES),
    achievement: fc.constantFrom(...GOAL_ACHIEVEMENTS),
    start: pastDate,
    targetDate: nearDate,
    note,
  },
  ['description'],
).map((g) => (g.start && g.targetDate && g.targetDate < g.start ? { ...g, targetDate: g.start } : g));

const activity = some(
  {
    description: text,
    status: fc.constantFrom(...ACTIVITY_STATUSES),
    schedule: text,
    goals: fc.array(pick, { maxLength: 3 }),
    performer: pick,
  },
  ['description'],
);

const plan = some(
  {
    status: fc.constantFrom(...PLAN_STATUSES),
    title: text,
    created: pastDate,
    period: fc.tuple(fc.option(pastDate, { nil: undefined }), fc.option(nearDate, { nil: undefined })),
    crisisPlanPresent: fc.boolean(),
    nextReviewDate: nearDate,
    goals: fc.array(fc.tuple(stem, goal), { maxLength: 3 }),
    activities: fc.array(activity, { maxLength: 2 }),
  },
  ['created'],
);

const episode = some(
  {
    person: pick,
    organization: pick,
    status: fc.constantFrom(...EPISODE_STATUSES),
    dates: datePair,
    endOpen: fc.boolean(),
    specialist: pick,
    referral,
    reviews: fc.array(fc.tuple(stem, review), { maxLength: 3 }),
    contacts: fc.array(fc.tuple(stem, contact), { maxLength: 4 }),
    plan: fc.tuple(stem, plan),
  },
  ['person', 'organization', 'status', 'dates', 'endOpen', 'reviews', 'contacts'],
);

/** `n` ratings: mostly all answered, sometimes a few not answered, rarely none. */
const ratings = (n: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: n, maxLength: n }) },
    { weight: 3, arbitrary: fc.array(fc.option(fc.integer({ min: 1, max: 5 }), { nil: null, freq: 4 }), { minLength: n, maxLength: n }) },
    { weight: 1, arbitrary: fc.constant(Array.from({ length: n }, (): number | null => null)) },
  );
const administration = some(
  {
    person: pick,
    date: pastDateTime,
    contact: pick,
    answers: ratings(23),
    areasToIncrease: fc.array(text, { maxLength: 5 }),
    nextWeekActivities: fc.array(text, { maxLength: 3 }),
    helpers: fc.array(text, { maxLength: 3 }),
  },
  ['person', 'date', 'answers'],
);
const assessment = fc.record({ supervisor: pick, date: pastDateTime, ratings: ratings(11) });

// --- The document ----------------------------------------------------------------------------

export const SOURCES = ['http://riverbend-ccbhc.example.org/peer-ehr', 'urn:oid:2.16.840.1.113883.3.7777', 'https://ehr.example.com/tenants/42'] as const;

const raw = fc.record({
  source: fc.constantFrom(...SOURCES),
  organizations: fc.array(fc.tuple(stem, organization), { minLength: 1, maxLength: 3 }),
  peers: fc.array(fc.tuple(stem, peerSpecialist), { minLength: 1, maxLength: 3 }),
  supervisors: fc.array(fc.tuple(stem, supervisor), { minLength: 1, maxLength: 2 }),
  people: fc.array(fc.tuple(stem, person), { minLength: 1, maxLength: 3 }),
  episodes: fc.array(fc.tuple(stem, episode), { maxLength: 3 }),
  recoveryCapital: fc.array(fc.tuple(stem, administration), { maxLength: 3 }),
  supervisorAssessments: fc.array(fc.tuple(stem, assessment), { maxLength: 2 }),
  /** Interleave supervisors among peer specialists (a supervisor may come after those it supervises). */
  supervisorsFirst: fc.boolean(),
});

type Raw = typeof raw extends fc.Arbitrary<infer T> ? T : never;
type Json = Record<string, unknown>;

const of = <T>(pool: readonly T[], n: number): T => pool[n % pool.length];
/** Copies the defined properties only (optional properties stay absent). */
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function credential(c: {
  code?: string;
  text?: string;
  number?: { system: string; value: string };
  issuer?: string;
  period?: readonly [string, string];
  endOpen?: boolean;
}): Json {
  return defined({ code: c.code, text: c.text, number: c.number, issuer: c.issuer, start: c.period?.[0], end: c.endOpen ? undefined : c.period?.[1] });
}

/** Resolves picks to ids and writes the canonical document (plain JSON, as a file would hold). */
function build(r: Raw): Json {
  const ids = (list: [string, unknown][], prefix: string) => list.map(([s], i) => `${s}${prefix}${i + 1}`);
  const orgIds = ids(r.organizations, 'O');
  const peerIds = ids(r.peers, 'P');
  const supervisorIds = ids(r.supervisors, 'S');
  const practitionerIds = [...peerIds, ...supervisorIds];
  const personIds = ids(r.people, 'N');
  let contactNo = 0;
  let reviewNo = 0;
  const contactIds: string[] = [];

  const organizations = r.organizations.map(([, o], i) => defined({ id: orgIds[i], ...o, telecom: o.telecom?.map((t) => defined(t)) }));
  const peers = r.peers.map(([, p], i) =>
    defined({
      id: peerIds[i],
      role: 'peer-specialist',
      name: p.name,
      sex: p.sex,
      identifiers: p.identifiers,
      organizationId: of(orgIds, i),
      credential: credential(p.credential),
      trainingCompleted: p.trainingCompleted,
      supervisorId: p.supervisor === undefined ? undefined : of(supervisorIds, p.supervisor),
      roleStart: p.roleStart,
      telecom: p.telecom?.map((t) => defined(t)),
    }),
  );
  const supervisors = r.supervisors.map(([, s], i) =>
    defined({
      id: supervisorIds[i],
      role: 'supervisor',
      name: s.name,
      sex: s.sex,
      identifiers: s.identifiers,
      organizationId: of(orgIds, i + 1),
      credential: s.credential && credential(s.credential),
      roleStart: s.roleStart,
    }),
  );
  const people = r.people.map(([, p], i) =>
    defined({
      id: personIds[i],
      identifiers: p.identifiers?.map((x) => defined(x)),
      name: p.name,
      birthDate: p.birthDate,
      sex: p.sex,
      organizationId: p.organization === undefined ? undefined : of(orgIds, p.organization),
      addresses: p.addresses?.map((a) => defined(a)),
      telecom: p.telecom?.map((t) => defined(t)),
      race: p.race,
      ethnicity: p.ethnicity,
      genderIdentity: p.genderIdentity,
      language: p.language,
      maritalStatus: p.maritalStatus,
    }),
  );
  const episodes = r.episodes.map(([s, e], i) => {
    const finished = e.status === 'finished';
    const episodeId = `${s}E${i + 1}`;
    const contacts = e.contacts.map(([cs, c]) => {
      const id = `${cs}C${++contactNo}`;
      contactIds.push(id);
      const start = formatDateTime(c.startMs, c.startOffset, c.frac);
      const end = formatDateTime(c.startMs + c.durationMinutes * 60_000, c.endOffset, c.frac);
      return defined({
        id,
        status: c.status,
        start,
        end: c.timing === 'end' || c.timing === 'both' ? end : undefined,
        durationMinutes: c.timing === 'duration' || c.timing === 'both' ? c.durationMinutes : undefined,
        ...c.rest,
        specialistId: of(peerIds, c.specialist),
      });
    });
    let recoveryPlan: Json | undefined;
    if (e.plan) {
      const [ps, p] = e.plan;
      const goalIds = (p.goals ?? []).map(([gs], j) => `${gs}G${j + 1}`);
      const [start, end] = p.period ?? [undefined, undefined];
      recoveryPlan = defined({
        id: `${ps}PLAN${i + 1}`,
        status: p.status,
        title: p.title,
        created: p.created,
        start,
        end: start && end && end < start ? start : end,
        crisisPlanPresent: p.crisisPlanPresent,
        nextReviewDate: p.nextReviewDate,
        goals: (p.goals ?? []).map(([, g], j) => defined({ id: goalIds[j], ...g })),
        activities: (p.activities ?? []).map((a) =>
          defined({
            description: a.description,
            status: a.status,
            schedule: a.schedule,
            goalIds: goalIds.length ? [...new Set((a.goals ?? []).map((n) => of(goalIds, n)))] : undefined,
            performerId: a.performer === undefined ? undefined : of(practitionerIds, a.performer),
          }),
        ),
      });
    }
    return defined({
      id: episodeId,
      personId: of(personIds, e.person),
      organizationId: of(orgIds, e.organization),
      status: e.status,
      start: e.dates[0],
      end: finished || !e.endOpen ? e.dates[1] : undefined,
      specialistId: e.specialist === undefined ? undefined : of(peerIds, e.specialist),
      referral:
        e.referral &&
        defined({
          ...e.referral,
          requester: undefined,
          requesterId: e.referral.requester === undefined ? undefined : of(practitionerIds, e.referral.requester),
        }),
      eligibilityReviews: e.reviews.map(([rs, rv]) =>
        defined({
          id: `${rs}R${++reviewNo}`,
          type: rv.type,
          date: rv.date,
          reviewerId: rv.reviewer === undefined ? undefined : of(practitionerIds, rv.reviewer),
          criteria: rv.criteria,
        }),
      ),
      contacts,
      recoveryPlan,
    });
  });
  const recoveryCapital = r.recoveryCapital.map(([s, a], i) =>
    defined({
      id: `${s}IRC${i + 1}`,
      personId: of(personIds, a.person),
      date: a.date,
      contactId: a.contact === undefined || contactIds.length === 0 ? undefined : of(contactIds, a.contact),
      answers: a.answers,
      areasToIncrease: a.areasToIncrease,
      nextWeekActivities: a.nextWeekActivities,
      helpers: a.helpers,
    }),
  );
  const supervisorAssessments = r.supervisorAssessments.map(([s, a], i) => ({
    id: `${s}SA${i + 1}`,
    supervisorId: of(supervisorIds, a.supervisor),
    date: a.date,
    ratings: a.ratings,
  }));
  return {
    source: r.source,
    organizations,
    practitioners: r.supervisorsFirst ? [...supervisors, ...peers] : [...peers, ...supervisors],
    people,
    episodes,
    recoveryCapital,
    supervisorAssessments,
  };
}

/** Canonical documents as JSON, the way a source system would write them. */
export const canonicalDocument: fc.Arbitrary<Json> = raw.map(build);
