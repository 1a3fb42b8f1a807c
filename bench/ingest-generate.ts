/**
 * Seeded generator of canonical peer-support files for the ingest benchmark (`bench/ingest.ts`).
 * Reproducible (one seed, one file: no Math.random, no clock) and valid: every record passes the
 * canonical pipeline (the benchmark checks 0 rejected).
 *
 * Shape for `contacts` = N (default 10,000): N/20 episodes, one person each; organizations
 * (one per 100 episodes, at least 2, the first a 42 CFR Part 2 program), one supervisor per
 * organization and one peer specialist per 10 episodes; each episode has a referral, 1-2
 * eligibility reviews (admission, then continued-stay or discharge), 15-25 contacts (exactly N in
 * all; mostly finished, some planned / no-show / cancelled; modes, settings, places of service,
 * interventions, durations 10-120 min varied) and a recovery plan with 2-4 goals; ~2 recovery
 * capital administrations per person; one supervisor self-assessment per supervisor.
 *
 * The file is written record by record (one record per line, `"source"` first, collections in
 * processing order), so generating 100k contacts needs little memory.
 *
 * CLI: tsx bench/ingest-generate.ts <contacts> <file> [seed]
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { EligibilityReviewRecord } from '../src/domain/model';
import { ICRC_TASKS, INTERVENTIONS, REFERRAL_REASONS, SUPPORT_TYPES } from '../src/domain/codes';
import { Rng } from './workload';
import { npiCheckDigit } from '../src/domain/npi';

/** A valid NPI (check digit per src/domain/npi.ts) from the first 9 digits of n. */
const npi = (n: number): string => {
  const first9 = String(n).slice(0, 9);
  return first9 + npiCheckDigit(first9);
};

export const BENCH_SOURCE = 'http://bench.peerbridge.example.org/peer-ehr';

export interface GenerateOptions {
  seed: number;
  contacts: number;
  /** Contacts per episode on average (default 20). */
  perEpisode?: number;
}

export interface GeneratedStats {
  file: string;
  bytes: number;
  records: number;
  organizations: number;
  practitioners: number;
  people: number;
  episodes: number;
  eligibilityReviews: number;
  contacts: number;
  contactsByStatus: Record<string, number>;
  recoveryPlans: number;
  goals: number;
  recoveryCapital: number;
  supervisorAssessments: number;
}

const FAMILY = [
  'Whitfield',
  'Nguyen',
  'Okafor',
  'Hernandez',
  'Kowalski',
  'Begay',
  'Lindqvist',
  'Haddad',
  'Morales',
  'Johnson',
  'Tanaka',
  'Osei',
  'Ramirez',
  'Fischer',
  'Baptiste',
  'Murphy',
];
const GIVEN = ['Dana', 'Marcus', 'Ana', 'Jordan', 'Keisha', 'Luis', 'Mei', 'Tomas', 'Aaliyah', 'Sam', 'Priya', 'Elijah', 'Rosa', 'Noah', 'Imani', 'Kai'];
const GOALS = [
  'Go to the Tuesday peer support group twice a month',
  'Volunteer at the library one morning a week',
  'Finish my WRAP plan and share it with a family member',
  'Find stable housing before winter',
  'Apply for two jobs a week',
  'Reconnect with my daughter',
  'Attend every appointment at the clinic this month',
  'Walk thirty minutes three times a week',
];
const AREAS = [
  'Friends who support my recovery',
  'A written plan for my recovery',
  'A local recovery support group',
  'Mental health plan',
  'Feeling part of my community',
  'Volunteering',
  'Physical health',
  'A sponsor or mentor',
];
const ACTIVITIES = [
  'Call the peer group leader',
  'Write a page of my WRAP plan',
  'Walk to the library twice',
  'Go to the Tuesday group',
  'Ask about volunteering shifts',
];
const HELPERS = ['My peer specialist', 'My sister', 'Tuesday group members', 'My sponsor', 'A neighbour'];
const NOTES = [
  'Met at the clinic; talked about the week ahead.',
  'Phone check-in after a hard weekend.',
  'Worked on the recovery plan together.',
  'Went to the food bank together.',
];
const OFFSETS = ['-05:00', '-06:00', '-04:00', '-07:00'];

/** Whole days since 1970-01-01 -> `YYYY-MM-DD`. */
const dateOf = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);
const dayOf = (date: string): number => Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
const pad = (n: number): string => String(n).padStart(2, '0');
const dateTime = (day: number, minuteOfDay: number, offset: string): string =>
  `${dateOf(day)}T${pad(Math.floor(minuteOfDay / 60))}:${pad(minuteOfDay % 60)}:00${offset}`;

/** Episode starts lie in [2023-01-02, 2025-12-31]: every date the generator makes is in the past. */
const FIRST_DAY = dayOf('2023-01-02');
const LAST_START_DAY = dayOf('2025-12-31');

/** Contacts per episode: 15-25 (for the default 20), summing to exactly `total`. */
function contactCounts(rng: Rng, episodes: number, total: number): number[] {
  const base = total / episodes;
  const spread = Math.max(0, Math.min(5, Math.floor(base) - 1));
  const counts = Array.from({ length: episodes }, () => Math.max(1, Math.round(base) + rng.int(-spread, spread)));
  let diff = total - counts.reduce((a, b) => a + b, 0);
  const lo = Math.max(1, Math.floor(base) - spread);
  const hi = Math.ceil(base) + spread;
  for (let i = 0; diff !== 0; i = (i + 1) % episodes) {
    if (diff > 0 && counts[i] < hi) {
      counts[i]++;
      diff--;
    } else if (diff < 0 && counts[i] > lo) {
      counts[i]--;
      diff++;
    }
  }
  return counts;
}

/** Writes a canonical file with `contacts` contacts to `file`. */
export function generateCanonicalFile(file: string, options: GenerateOptions): GeneratedStats {
  const rng = new Rng(options.seed);
  const perEpisode = options.perEpisode ?? 20;
  const episodes = Math.max(1, Math.round(options.contacts / perEpisode));
  const orgCount = Math.max(2, Math.ceil(episodes / 100));
  const specialistCount = Math.max(2, Math.ceil(episodes / 10));
  const counts = contactCounts(rng, episodes, options.contacts);

  const fd = openSync(file, 'w');
  let bytes = 0;
  let pending = '';
  const out = (s: string): void => {
    pending += s;
    if (pending.length >= 1 << 16) {
      bytes += writeSync(fd, pending);
      pending = '';
    }
  };
  const stats: GeneratedStats = {
    file,
    bytes: 0,
    records: 0,
    organizations: 0,
    practitioners: 0,
    people: 0,
    episodes: 0,
    eligibilityReviews: 0,
    contacts: 0,
    contactsByStatus: {},
    recoveryPlans: 0,
    goals: 0,
    recoveryCapital: 0,
    supervisorAssessments: 0,
  };
  let firstInCollection = true;
  const collection = (name: string, first = false): void => {
    out(`${first ? '' : '\n],\n'}${JSON.stringify(name)}: [\n`);
    firstInCollection = true;
  };
  const record = (value: unknown): void => {
    out(`${firstInCollection ? '' : ',\n'}${JSON.stringify(value)}`);
    firstInCollection = false;
  };

  out(`{"source": ${JSON.stringify(BENCH_SOURCE)},\n`);

  // Organizations -------------------------------------------------------------------------------
  const orgId = (i: number): string => `ORG-${i + 1}`;
  const orgOffset = (i: number): string => OFFSETS[i % OFFSETS.length];
  collection('organizations', true);
  for (let i = 0; i < orgCount; i++) {
    record({
      id: orgId(i),
      name: `${FAMILY[i % FAMILY.length]} County CCBHC ${i + 1}`,
      identifiers: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: npi(1000000000 + i * 7919) }],
      part2Program: i === 0,
      telecom: [{ system: 'phone', value: `555-01${String(i % 100).padStart(2, '0')}`, use: 'work' }],
    });
    stats.organizations++;
  }

  // Practitioners: supervisors first (one per organization), then peer specialists --------------
  const supervisorId = (org: number): string => `SUP-${org + 1}`;
  const specialistId = (i: number): string => `PS-${i + 1}`;
  const specialistOrg = (i: number): number => i % orgCount;
  collection('practitioners');
  for (let o = 0; o < orgCount; o++) {
    record({
      id: supervisorId(o),
      role: 'supervisor',
      name: { family: rng.pick(FAMILY), given: [rng.pick(GIVEN)], suffix: ['LCSW'] },
      sex: rng.pick(['female', 'male'] as const),
      identifiers: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: npi(1500000000 + o * 104729) }],
      organizationId: orgId(o),
      credential: { text: 'Licensed Independent Social Worker (LISW)', issuer: 'State Counselor and Social Worker Board' },
    });
    stats.practitioners++;
  }
  for (let i = 0; i < specialistCount; i++) {
    const start = FIRST_DAY - 400 - rng.int(0, 1500);
    record({
      id: specialistId(i),
      role: 'peer-specialist',
      name: { family: rng.pick(FAMILY), given: [rng.pick(GIVEN)], suffix: ['CPS'] },
      sex: rng.pick(['female', 'male', 'other'] as const),
      identifiers: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: npi(1200000000 + i * 3571) }],
      organizationId: orgId(specialistOrg(i)),
      credential: {
        code: rng.pick(['certified-peer-specialist', 'certified-peer-counselor', 'family-peer-specialist', 'paraprofessional-peer'] as const),
        number: { system: 'http://mha.example.gov/fhir/sid/peer-certification', value: `CPS-${10000 + i}` },
        issuer: 'State Department of Mental Health and Addiction Services',
        start: dateOf(start + 30),
        end: dateOf(start + 30 + 365 * 6),
      },
      trainingCompleted: dateOf(start),
      supervisorId: supervisorId(specialistOrg(i)),
      roleStart: dateOf(start + 40),
    });
    stats.practitioners++;
  }

  // People: one per episode ---------------------------------------------------------------------
  const personId = (e: number): string => `P-${100000 + e}`;
  const episodeOrg = (e: number): number => e % orgCount;
  collection('people');
  for (let e = 0; e < episodes; e++) {
    record({
      id: personId(e),
      identifiers: [{ system: `http://bench.peerbridge.example.org/org-${episodeOrg(e) + 1}/mrn`, value: personId(e) }],
      name: { family: rng.pick(FAMILY), given: rng.chance(0.3) ? [rng.pick(GIVEN), rng.pick(GIVEN)] : [rng.pick(GIVEN)] },
      birthDate: dateOf(dayOf('1950-01-01') + rng.int(0, 365 * 52)),
      sex: rng.pick(['female', 'male', 'female', 'male', 'other', 'unknown'] as const),
      organizationId: orgId(episodeOrg(e)),
    });
    stats.people++;
  }

  // Episodes ------------------------------------------------------------------------------------
  /** Per episode, what the recovery capital section needs later: start day, first contact id. */
  const episodeStart = new Int32Array(episodes);
  const episodeFirstContact = new Int32Array(episodes);
  let contactSeq = 0;
  let goalSeq = 0;
  collection('episodes');
  for (let e = 0; e < episodes; e++) {
    const org = episodeOrg(e);
    const offset = orgOffset(org);
    // Specialists of the episode's organization: i with i % orgCount === org.
    const perOrg = Math.ceil((specialistCount - org) / orgCount);
    const specialist = specialistId(org + orgCount * rng.int(0, Math.max(0, perOrg - 1)));
    const start = FIRST_DAY + rng.int(0, LAST_START_DAY - FIRST_DAY);
    episodeStart[e] = start;
    episodeFirstContact[e] = contactSeq;

    // Contacts: one every 3-10 days from the day after the start (at most one a day per person).
    const contacts: Record<string, unknown>[] = [];
    let day = start + 1;
    for (let c = 0; c < counts[e]; c++) {
      const id = `C-${++contactSeq}`;
      const r = rng.next();
      const status = r < 0.9 ? 'finished' : r < 0.95 ? 'planned' : r < 0.98 ? 'no-show' : 'cancelled';
      stats.contactsByStatus[status] = (stats.contactsByStatus[status] ?? 0) + 1;
      const m = rng.next();
      const mode = m < 0.55 ? 'in-person' : m < 0.85 ? 'telephone' : 'video';
      const startMinute = 8 * 60 + 15 * rng.int(0, 32);
      const startAt = dateTime(day, startMinute, offset);
      const contact: Record<string, unknown> = { id, status, start: startAt, mode };
      if (status === 'finished' || status === 'planned') {
        const minutes = rng.int(10, 120);
        if (rng.chance(0.15)) {
          contact.end = dateTime(day, startMinute + minutes, offset);
        } else {
          contact.durationMinutes = minutes;
        }
      }
      if (mode === 'in-person') {
        if (rng.chance(0.7)) contact.setting = rng.pick(['AMB', 'AMB', 'HH', 'FLD'] as const);
        contact.placeOfService = rng.pick(['11', '12', '53', '99'] as const);
        if (rng.chance(0.1)) contact.group = true;
      } else {
        if (rng.chance(0.5)) contact.setting = 'VR';
        contact.placeOfService = rng.pick(['02', '10'] as const);
      }
      contact.specialistId = specialist;
      if (status === 'finished') {
        contact.interventions = rng.sample(INTERVENTIONS, rng.int(1, 3));
        contact.supportTypes = rng.sample(SUPPORT_TYPES, rng.int(1, 2));
        contact.icrcTasks = rng.sample(ICRC_TASKS, rng.int(0, 3));
        if (rng.chance(0.3)) contact.note = rng.pick(NOTES);
      }
      contacts.push(contact);
      stats.contacts++;
      day += rng.int(3, 10);
    }
    const lastContactDay = day;
    const finishedEpisode = rng.chance(0.4);

    // Reviews: admission on the first day, then continued stay (active) or discharge (finished).
    const reviews: EligibilityReviewRecord[] = [];
    const status3 = (pMet: number): 'met' | 'not-met' | 'unknown' => (rng.chance(0.04) ? 'unknown' : rng.chance(pMet) ? 'met' : 'not-met');
    reviews.push({
      id: `REV-${e + 1}-1`,
      type: 'admission',
      date: dateTime(start, 9 * 60 + 15 * rng.int(0, 24), offset),
      reviewerId: specialist,
      criteria: {
        'service-A': status3(0.4),
        'service-B': status3(0.5),
        'service-C': status3(0.5),
        'service-D': status3(0.3),
        'service-E': status3(0.3),
        'service-F': status3(0.4),
        'service-G': status3(0.2),
        'exclusion-A': status3(0.05),
        'exclusion-B': status3(0.05),
      },
    });
    if (finishedEpisode) {
      reviews.push({
        id: `REV-${e + 1}-2`,
        type: 'discharge',
        date: dateTime(lastContactDay, 10 * 60, offset),
        reviewerId: supervisorId(org),
        criteria: { 'discharge-A': status3(0.6), 'discharge-B': status3(0.4) },
      });
    } else if (rng.chance(0.6)) {
      reviews.push({
        id: `REV-${e + 1}-2`,
        type: 'continued-stay',
        date: dateTime(start + 90, 10 * 60, offset),
        reviewerId: specialist,
        criteria: { 'continued-stay-A': status3(0.6), 'continued-stay-B': status3(0.7), 'continued-stay-C': status3(0.5) },
      });
    }
    stats.eligibilityReviews += reviews.length;

    // Recovery plan with 2-4 goals ---------------------------------------------------------------
    const goalIds: string[] = [];
    const goals = Array.from({ length: rng.int(2, 4) }, (_, g) => {
      const id = `G-${++goalSeq}`;
      goalIds.push(id);
      const done = finishedEpisode && rng.chance(0.5);
      const goal: Record<string, unknown> = {
        id,
        description: GOALS[(e + g) % GOALS.length],
        status: done ? 'completed' : 'active',
        achievement: done ? 'achieved' : rng.pick(['in-progress', 'improving', 'no-change'] as const),
        start: dateOf(start + 7),
        targetDate: dateOf(start + 7 + rng.int(30, 180)),
      };
      if (rng.chance(0.2)) goal.note = 'Pre-crisis support: a written plan for hard days.';
      return goal;
    });
    stats.goals += goals.length;
    const plan: Record<string, unknown> = {
      id: `PLAN-${e + 1}`,
      status: finishedEpisode ? 'completed' : 'active',
      title: 'Person-centered recovery plan',
      created: dateOf(start + 7),
      start: dateOf(start + 7),
      end: dateOf(start + 7 + 180),
      crisisPlanPresent: rng.chance(0.6),
      nextReviewDate: dateOf(start + 7 + 90),
      goals,
      activities: [
        {
          description: 'Weekly peer support contacts',
          status: 'in-progress',
          schedule: 'Weekly, in person or by telephone',
          goalIds: rng.sample(goalIds, rng.int(1, goalIds.length)),
          performerId: specialist,
        },
        ...(rng.chance(0.5) ? [{ description: 'Peer support group', status: 'scheduled' as const, schedule: 'Tuesdays', goalIds: [goalIds[0]] }] : []),
      ],
    };
    stats.recoveryPlans++;

    const reasons = rng.sample(REFERRAL_REASONS, rng.int(1, 3));
    const episode: Record<string, unknown> = {
      id: `EP-${e + 1}`,
      personId: personId(e),
      organizationId: orgId(org),
      status: finishedEpisode ? 'finished' : 'active',
      start: dateOf(start),
      ...(finishedEpisode ? { end: dateOf(lastContactDay + 1) } : {}),
      specialistId: specialist,
      referral: {
        date: dateTime(start - rng.int(1, 14), 8 * 60 + 15 * rng.int(0, 32), offset),
        status: 'completed',
        reasons,
        requesterId: supervisorId(org),
        ...(rng.chance(0.3) ? { note: 'Asked to talk with someone who has been through recovery.' } : {}),
      },
      eligibilityReviews: reviews,
      contacts,
      recoveryPlan: plan,
    };
    record(episode);
    stats.episodes++;
  }

  // Recovery capital: 1-3 administrations per person (2 on average) ------------------------------
  collection('recoveryCapital');
  let adminSeq = 0;
  for (let e = 0; e < episodes; e++) {
    const n = rng.int(1, 3);
    const org = episodeOrg(e);
    for (let k = 0; k < n; k++) {
      const admin: Record<string, unknown> = {
        id: `IRC-${++adminSeq}`,
        personId: personId(e),
        date: dateTime(episodeStart[e] + 7 + k * 42, 10 * 60 + 30, orgOffset(org)),
      };
      if (k === 0) admin.contactId = `C-${episodeFirstContact[e] + 1}`;
      admin.answers = Array.from({ length: 23 }, () => rng.int(1, 5));
      admin.areasToIncrease = rng.sample(AREAS, rng.int(0, 5));
      admin.nextWeekActivities = rng.sample(ACTIVITIES, rng.int(0, 3));
      admin.helpers = rng.sample(HELPERS, rng.int(0, 3));
      record(admin);
      stats.recoveryCapital++;
    }
  }

  // Supervisor self-assessments: one per supervisor -------------------------------------------
  collection('supervisorAssessments');
  for (let o = 0; o < orgCount; o++) {
    record({
      id: `SA-${o + 1}`,
      supervisorId: supervisorId(o),
      date: dateTime(dayOf('2026-01-05') + o, 16 * 60, orgOffset(o)),
      ratings: Array.from({ length: 11 }, () => rng.int(1, 5)),
    });
    stats.supervisorAssessments++;
  }
  out('\n]\n}\n');
  bytes += writeSync(fd, pending);
  closeSync(fd);

  stats.bytes = bytes;
  stats.records =
    stats.organizations +
    stats.practitioners +
    stats.people +
    stats.episodes +
    stats.eligibilityReviews +
    stats.contacts +
    stats.recoveryPlans +
    stats.recoveryCapital +
    stats.supervisorAssessments;
  return stats;
}

if (require.main === module) {
  const [contacts, file, seed] = process.argv.slice(2);
  if (!contacts || !file) {
    console.error('usage: tsx bench/ingest-generate.ts <contacts> <file> [seed]');
    process.exit(2);
  }
  const stats = generateCanonicalFile(file, { contacts: Number(contacts), seed: seed ? Number(seed) : 20261122 });
  console.log(JSON.stringify(stats, null, 2));
}
