/**
 * Seeded generators of outside exports for the translation benchmark (`bench/translate.ts`).
 * Reproducible (one seed, one output: no Math.random, no clock) and accepted by the shipped
 * mappings: the benchmark runs a verification pass and fails on any rejected record.
 *
 * - generateRiverbendCsv: a nightly export of the riverbend-csv source (mappings/riverbend-csv)
 *   modelled on examples/outside/riverbend-csv: organizations.csv (the 3 programs), staff.csv
 *   (one supervisor per program, one peer specialist per ~40 episodes), clients.csv and
 *   episodes.csv (one client per episode) and contacts.csv with exactly N rows. The contacts feed
 *   gives only the episode id and client id, so its rows are accepted only when episodes.csv is in
 *   the same run: the companion files are what the contacts need, and are small (~8% of the rows).
 * - generateHl7File: a batch file of M HL7 v2.5.1 messages of the hl7v2 source (mappings/hl7v2)
 *   modelled on examples/outside/hl7v2/feed.hl7, `\r` segment separators: per patient an ADT^A04,
 *   sometimes an ADT^A08, and appointments as they happen: SIU^S12 (booked), some SIU^S14
 *   (rescheduled), then DFT^P03 (1-3 FT1: the H0038 charge for the appointment, sometimes a second
 *   H0038 with no appointment, sometimes a psychotherapy charge that the feed skips), SIU^S15
 *   (cancelled) or SIU^S26 (no-show); appointments near the end stay booked.
 *
 * Dates lie in 2026, none after 2026-11-22; finished and no-show contacts end by 2026-11-21 (the
 * pipeline rejects them in the future). Files are written in 64 KiB pieces as they are made, so
 * memory does not grow with N or M.
 *
 * CLI: tsx bench/translate-generate.ts csv <contacts> <dir> [seed]
 *      tsx bench/translate-generate.ts hl7 <messages> <file> [seed]
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from './workload';
import { npiCheckDigit } from '../src/domain/npi';

/** A valid NPI (check digit per src/domain/npi.ts) from 9 digits. */
const npi = (first9: number): string => String(first9) + npiCheckDigit(String(first9));

/** Buffered writes to one file descriptor. */
class Out {
  private readonly fd: number;
  private pending = '';
  bytes = 0;
  lines = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
  }

  line(text: string, end = '\n'): void {
    this.pending += text + end;
    this.lines++;
    if (this.pending.length >= 1 << 16) this.flush();
  }

  private flush(): void {
    this.bytes += writeSync(this.fd, this.pending);
    this.pending = '';
  }

  close(): number {
    this.flush();
    closeSync(this.fd);
    return this.bytes;
  }
}

// Dates: whole days since 1970-01-01 (UTC arithmetic; the values are Riverbend's local dates).
const DAY_MS = 86_400_000;
const dayOf = (iso: string): number => Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY_MS);
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const parts = (day: number): [number, number, number] => {
  const d = new Date(day * DAY_MS);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
};
/** `MM/dd/yyyy` */
const usDate = (day: number): string => {
  const [y, m, d] = parts(day);
  return `${pad(m)}/${pad(d)}/${y}`;
};
/** `h:mm AM` from minutes since midnight. */
const usTime = (minute: number): string => {
  const h = Math.floor(minute / 60);
  return `${h % 12 === 0 ? 12 : h % 12}:${pad(minute % 60)} ${h < 12 ? 'AM' : 'PM'}`;
};
/** HL7 DTM `YYYYMMDDHHMMSS` from a day and minutes since midnight. */
const hl7Time = (day: number, minute: number): string => {
  const [y, m, d] = parts(day);
  return `${y}${pad(m)}${pad(d)}${pad(Math.floor(minute / 60))}${pad(minute % 60)}00`;
};
/** America/Chicago's offset on a 2026 day (daytime hours): CDT from 2026-03-08 to 2026-10-31. */
const DST_START = dayOf('2026-03-08');
const DST_END = dayOf('2026-11-01');
const chicagoOffset = (day: number): string => (day >= DST_START && day < DST_END ? '-0500' : '-0600');

export const FIRST_DAY = dayOf('2026-01-05');
/** The last day of a contact that has happened (finished, no-show). */
export const LAST_PAST_DAY = dayOf('2026-11-21');
/** The last day of any date generated. */
export const LAST_DAY = dayOf('2026-11-22');

const FAMILY = [
  'Alvarez',
  'Kowalczyk',
  'Thibodeaux',
  'Nakamura-Brooks',
  'Delacroix',
  'Oyelaran',
  'Fitzgerald',
  'Quintero',
  'Abernathy',
  'Szabo',
  'Washington-Reyes',
  'Holloway',
  'Pemberton',
  'Begay',
  'McAllister',
  'Okonkwo',
  'Hartley',
  'Price',
  'Haddad',
  'Lindqvist',
  "O'Brien",
  'Nguyen',
];
const GIVEN = [
  'Marisol',
  'Peter',
  'Lorraine',
  'Kenji',
  'Renee',
  'Tobi',
  'Colleen',
  'Luis',
  'Grace',
  'Daniel',
  'Alicia',
  'Dwayne',
  'Iris',
  'Walter',
  'Fiona',
  'Chidi',
  'June',
  'Jordan',
  'Samir',
  'Erika',
  'Jasmine',
  'Thomas',
];
const MIDDLE = ['', '', '', 'J', 'A', 'M', 'E', 'R', 'S', 'T'];
const STREETS = [
  'Mill Creek Rd',
  'Orchard St',
  'Kenwood Ave',
  'Lakeview Ter',
  'Sycamore Ln',
  'College Ave',
  'Quarry Ct',
  'Elm St',
  'Depot St',
  'Chapel Hill Rd',
  'Foundry Sq',
  'River Rd',
];

interface Program {
  id: string;
  name: string;
  npi: string;
  part2: boolean;
  supervisor: { id: string; last: string; first: string; suffix: string; sex: string; npi: string; license: string };
}
const PROGRAMS: Program[] = [
  {
    id: 'RB-CCBHC',
    name: 'Riverbend Community Behavioral Health',
    npi: '1548203961',
    part2: false,
    supervisor: {
      id: 'S-2001',
      last: 'Mbeki-Harris',
      first: 'Denise',
      suffix: 'LCSW',
      sex: 'F',
      npi: '1730518267',
      license: 'Licensed Clinical Social Worker (LCSW)',
    },
  },
  {
    id: 'RB-SUD',
    name: 'Riverbend Recovery Services (SUD Outpatient)',
    npi: '1952384711',
    part2: true,
    supervisor: {
      id: 'S-2002',
      last: 'Castellanos',
      first: 'Paul',
      suffix: 'LCPC',
      sex: 'M',
      npi: '1285739102',
      license: 'Licensed Clinical Professional Counselor (LCPC)',
    },
  },
  {
    id: 'RB-FAM',
    name: 'Riverbend Family Peer Network',
    npi: '1376540294',
    part2: false,
    supervisor: {
      id: 'S-2003',
      last: 'Villanueva',
      first: 'Rosa',
      suffix: 'LCSW',
      sex: 'F',
      npi: '1619027356',
      license: 'Licensed Clinical Social Worker (LCSW)',
    },
  },
];
const ILLINOIS_BOARD = 'Illinois Certification Board';
const IDFPR = 'Illinois Department of Financial and Professional Regulation';

const specialistId = (i: number): string => `S-${1001 + i}`;
const specialistProgram = (i: number): Program => PROGRAMS[i % PROGRAMS.length];

// ---------------------------------------------------------------------------------------------
// Riverbend CSV export

export interface CsvGenerateOptions {
  seed: number;
  /** Rows of contacts.csv. */
  contacts: number;
  /** Contacts per episode on average (default 25). */
  perEpisode?: number;
}

export interface CsvFileStats {
  file: string;
  rows: number;
  bytes: number;
}

export interface GeneratedCsv {
  dir: string;
  /** organizations, staff, clients, episodes, contacts. */
  files: Record<'organizations' | 'staff' | 'clients' | 'episodes' | 'contacts', CsvFileStats>;
  /** Data rows of every file. */
  rows: number;
  bytes: number;
  contactsByStatus: Record<string, number>;
  /** Rows whose Progress Note is quoted (commas or quotes in it). */
  quotedNotes: number;
}

/** Local codes of the contacts feed (mappings/riverbend-csv/tables.yaml). */
const INTERVENTION_CODES = ['SH', 'CE', 'ADV', 'WRAP', 'EVE', 'SYM'];
const SUPPORT_CODES = ['EMO', 'INFO', 'INST', 'AFF'];
const ICRC = [
  ...Array.from({ length: 11 }, (_, i) => `I${i + 1}`),
  ...Array.from({ length: 15 }, (_, i) => `II${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `III${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `IV${i + 1}`),
];
const REASON_CODES = ['INT', 'DIFF', 'FAM', 'HOSP', 'NEW', 'ISO', 'PERS'];
const KEPT_NOTES = [
  'Talked through the week ahead.',
  'Worked on the WRAP plan together.',
  'Brief check-in call.',
  'Went to the food pantry together, then the pharmacy.',
  'Practiced grounding skills for a stressful appointment.',
  'Looked at evening recovery meetings near the job site.',
  'Helped fill in the housing voucher renewal, page by page.',
  'Recovery walk at Riverside Park, group of six.',
  'Said the new medication "makes mornings easier".',
  'Reconnected by video after the missed visit; sleep is better.',
];
const NS_NOTES = ['No answer on the reminder call or at the door.', 'Left a voicemail, no call back.', ''];
const CANC_NOTES = ['Client cancelled: picked up an extra shift.', 'Cancelled, sick child at home.', 'Rescheduled by the client, car trouble', ''];

/** A CSV cell: quoted when it holds the delimiter, a quote or a line break. */
const cell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * Writes the five files of a Riverbend nightly export into `dir`; contacts.csv has exactly
 * `options.contacts` data rows.
 */
export function generateRiverbendCsv(dir: string, options: CsvGenerateOptions): GeneratedCsv {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(options.seed);
  const perEpisode = options.perEpisode ?? 25;
  const episodes = Math.max(1, Math.round(options.contacts / perEpisode));
  const specialists = Math.max(PROGRAMS.length, Math.ceil(episodes / 40));

  // Contacts per episode: 5..(2 x average - 5), exactly `contacts` in all.
  const counts = new Int32Array(episodes);
  const lo = Math.max(1, Math.min(5, perEpisode));
  const hi = Math.max(lo, 2 * perEpisode - lo);
  let total = 0;
  for (let e = 0; e < episodes; e++) total += counts[e] = rng.int(lo, hi);
  for (let e = 0, diff = options.contacts - total; diff !== 0; e = (e + 1) % episodes) {
    // At most one contact a day per client: an episode fits in the days of 2026 up to LAST_DAY.
    if (diff > 0 && counts[e] < 300) {
      counts[e]++;
      diff--;
    } else if (diff < 0 && counts[e] > 1) {
      counts[e]--;
      diff++;
    }
  }

  const orgs = new Out(join(dir, 'organizations.csv'));
  const staff = new Out(join(dir, 'staff.csv'));
  const clients = new Out(join(dir, 'clients.csv'));
  const eps = new Out(join(dir, 'episodes.csv'));
  const contacts = new Out(join(dir, 'contacts.csv'));
  const contactsByStatus: Record<string, number> = {};
  let quotedNotes = 0;

  orgs.line('ORG_ID,ORG_NAME,NPI,PART2_PROGRAM,PHONE');
  PROGRAMS.forEach((p, i) => orgs.line([p.id, p.name, p.npi, p.part2 ? 'Y' : 'N', `(217) 555-01${String(i * 20).padStart(2, '0')}`].map(cell).join(',')));

  staff.line(
    'STAFF_ID,LAST_NAME,FIRST_NAME,MIDDLE_NAME,CRED_SUFFIX,SEX,NPI,JOB_ROLE,ORG_ID,CRED_CODE,CERT_NUMBER,CERT_ISSUER,CERT_EFF_DATE,CERT_EXP_DATE,LICENSE,TRAINING_COMPLETED,SUPERVISOR_ID,HIRE_DATE',
  );
  for (const p of PROGRAMS) {
    const s = p.supervisor;
    staff.line(
      [s.id, s.last, s.first, '', s.suffix, s.sex, s.npi, 'SUPV', p.id, '', '', IDFPR, '', '', s.license, '', '', usDate(dayOf('2019-02-14') + rng.int(0, 900))]
        .map(cell)
        .join(','),
    );
  }
  for (let i = 0; i < specialists; i++) {
    const p = specialistProgram(i);
    const cred = rng.pick(['CPS', 'CPS', 'CPC', 'FPS', 'PARA']);
    const trained = dayOf('2019-01-07') + rng.int(0, 2400);
    const cert = cred === 'PARA' ? ['', '', '', ''] : [`${cred}-IL-${20000 + i}`, ILLINOIS_BOARD, usDate(trained + 40), usDate(trained + 40 + 365 * 6)];
    staff.line(
      [
        specialistId(i),
        rng.pick(FAMILY),
        rng.pick(GIVEN),
        rng.pick(MIDDLE),
        cred === 'PARA' ? '' : cred,
        rng.pick(['F', 'M', 'F', 'M', 'X']),
        npi(109381746 + i * 7919),
        'PSS',
        p.id,
        cred,
        ...cert,
        '',
        usDate(trained),
        p.supervisor.id,
        usDate(trained + 14),
      ]
        .map(cell)
        .join(','),
    );
  }

  clients.line('CLIENT_ID,MRN,LAST_NAME,FIRST_NAME,MIDDLE_NAME,SUFFIX,DOB,SEX,PRIMARY_PROGRAM');
  eps.line(
    'EPISODE_ID,CLIENT_ID,PROGRAM_ID,EPISODE_STATUS,ADMIT_DATE,DISCHARGE_DATE,ASSIGNED_PSS,REFERRAL_RECEIVED,REFERRAL_STATUS,REFERRED_BY,REFERRAL_REASONS,REFERRAL_NOTE',
  );
  contacts.line(
    'CONTACT_ID,EPISODE_ID,CLIENT_ID,Svc Date,Start Time,Duration (min),Contact Type,Appt Status,Location,Group Session,Staff ID,Interventions,Support Types,ICRC Tasks,Progress Note',
  );

  let contactSeq = 20000;
  for (let e = 0; e < episodes; e++) {
    const clientId = String(300000 + e);
    const episodeId = `E-${7000 + e}`;
    // The episode's specialist and program; some contacts are covered by a colleague of the program.
    const spec = rng.int(0, specialists - 1);
    const program = specialistProgram(spec);
    const n = counts[e];
    // A specialist of the same program (i % programs), covering a contact.
    const colleague = (): number =>
      (spec % PROGRAMS.length) + PROGRAMS.length * rng.int(0, Math.ceil((specialists - (spec % PROGRAMS.length)) / PROGRAMS.length) - 1);

    // Contact days: one every 1..maxGap days, fitting between FIRST_DAY and LAST_DAY.
    const maxGap = Math.max(1, Math.min(10, Math.floor((LAST_DAY - FIRST_DAY - 3) / Math.max(1, n - 1))));
    const gaps = Array.from({ length: n }, (_, k) => (k === 0 ? 0 : rng.int(1, maxGap)));
    const span = gaps.reduce((a, b) => a + b, 0);
    const firstContact = FIRST_DAY + 3 + rng.int(0, Math.max(0, LAST_DAY - FIRST_DAY - 3 - span));
    const admit = firstContact - rng.int(0, 3);
    const lastContact = firstContact + span;
    // Closed episodes were discharged after their last contact, by 2026-11-21.
    const closed = lastContact + 7 <= LAST_PAST_DAY && rng.chance(0.55);
    const status = closed ? 'CLOSED' : rng.chance(0.04) ? 'HOLD' : 'OPEN';

    const last = rng.pick(FAMILY);
    const first = rng.pick(GIVEN);
    clients.line(
      [
        clientId,
        `RB0${clientId}`,
        last,
        first,
        rng.pick(MIDDLE),
        rng.chance(0.03) ? 'Jr' : '',
        usDate(dayOf('1950-01-01') + rng.int(0, 365 * 55)),
        rng.pick(['F', 'M', 'F', 'M', 'X', 'U']),
        program.id,
      ]
        .map(cell)
        .join(','),
    );

    const walkIn = rng.chance(0.1);
    const referral = walkIn
      ? ['', '', '', '', '']
      : [
          `${usDate(admit - rng.int(2, 14))} ${usTime(8 * 60 + 5 * rng.int(0, 108))}`,
          'ACCEPTED',
          program.supervisor.id,
          rng.sample(REASON_CODES, rng.int(1, 3)).join(';'),
          rng.pick([
            '',
            '',
            'Referred by the crisis team after a mobile crisis visit.',
            `${first} asked for a peer "who gets it", after a hospital stay.`,
            'Stepped down from residential treatment.',
          ]),
        ];
    eps.line(
      [episodeId, clientId, program.id, status, usDate(admit), closed ? usDate(lastContact + rng.int(1, 7)) : '', specialistId(spec), ...referral]
        .map(cell)
        .join(','),
    );

    let day = firstContact;
    for (let k = 0; k < n; k++) {
      day += gaps[k];
      const r = rng.next();
      // Contacts of the last day are still booked (the export runs on the evening of 2026-11-22).
      const appt = day > LAST_PAST_DAY ? 'SCHED' : r < 0.86 ? 'KEPT' : r < 0.93 ? 'NS' : r < 0.98 ? 'CANC' : day >= LAST_PAST_DAY - 3 ? 'SCHED' : 'KEPT';
      contactsByStatus[appt] = (contactsByStatus[appt] ?? 0) + 1;
      const m = rng.next();
      const type = m < 0.58 ? 'F2F' : m < 0.86 ? 'PH' : 'TELE';
      const location = type === 'F2F' ? rng.pick(['CLINIC', 'CLINIC', 'OFFICE', 'HOME', 'COMM']) : type === 'PH' ? rng.pick(['TELE', 'TELE', 'TELEF']) : 'TELE';
      const group = type === 'F2F' && (location === 'COMM' || location === 'CLINIC') && rng.chance(0.12) ? 'Y' : 'N';
      const kept = appt === 'KEPT';
      const minutes = kept ? (rng.chance(0.1) ? rng.int(5, 20) : rng.chance(0.85) ? rng.int(25, 65) : rng.int(66, 120)) : 0;
      const staffId = rng.chance(0.06) ? specialistId(colleague()) : specialistId(spec);
      const interventions = kept ? rng.sample(INTERVENTION_CODES, rng.int(1, 3)).join(';') : '';
      const supports = kept ? rng.sample(SUPPORT_CODES, rng.int(1, 2)).join(';') : '';
      const icrc = kept ? rng.sample(ICRC, rng.int(0, 2)).join(';') : '';
      const note = kept ? (rng.chance(0.75) ? rng.pick(KEPT_NOTES) : '') : appt === 'NS' ? rng.pick(NS_NOTES) : appt === 'CANC' ? rng.pick(CANC_NOTES) : '';
      if (/[",]/.test(note)) quotedNotes++;
      contacts.line(
        [
          `C-${++contactSeq}`,
          episodeId,
          clientId,
          usDate(day),
          usTime(8 * 60 + 15 * rng.int(0, 40)),
          kept ? String(minutes) : '',
          type,
          appt,
          location,
          group,
          staffId,
          interventions,
          supports,
          icrc,
          note,
        ]
          .map(cell)
          .join(','),
      );
    }
  }

  const files = {
    organizations: { file: orgs.file, rows: PROGRAMS.length, bytes: orgs.close() },
    staff: { file: staff.file, rows: PROGRAMS.length + specialists, bytes: staff.close() },
    clients: { file: clients.file, rows: episodes, bytes: clients.close() },
    episodes: { file: eps.file, rows: episodes, bytes: eps.close() },
    contacts: { file: contacts.file, rows: options.contacts, bytes: contacts.close() },
  };
  const all = Object.values(files);
  return { dir, files, rows: all.reduce((s, f) => s + f.rows, 0), bytes: all.reduce((s, f) => s + f.bytes, 0), contactsByStatus, quotedNotes };
}

// ---------------------------------------------------------------------------------------------
// HL7 v2 feed

export interface Hl7GenerateOptions {
  seed: number;
  messages: number;
}

export interface GeneratedHl7 {
  file: string;
  bytes: number;
  messages: number;
  /** Messages by MSH-9 (`SIU^S12`). */
  byType: Record<string, number>;
  /** FT1 segments: H0038 for an appointment, H0038 without one, other codes (skipped by the feed). */
  ft1: { h0038: number; h0038NoAppointment: number; other: number };
  patients: number;
}

const SIU_NOTES = [
  'Prefers a call after her shift ends.',
  'Bring the housing voucher papers.',
  'Meet at the front desk \\T\\ call if late.',
  'First visit after the crisis referral.',
  'Wants to talk about going back to school\\.br\\Ask about the Tuesday group.',
];

/** Writes `options.messages` HL7 v2.5.1 messages to `file`. */
export function generateHl7File(file: string, options: Hl7GenerateOptions): GeneratedHl7 {
  const rng = new Rng(options.seed);
  const out = new Out(file);
  const byType: Record<string, number> = {};
  const ft1 = { h0038: 0, h0038NoAppointment: 0, other: 0 };
  const specialists = 60;
  let written = 0;
  let controlSeq = 0;
  let apptSeq = 88000;
  let txSeq = 550000;
  let patients = 0;

  const message = (type: string, structure: string, day: number, minute: number, segments: string[]): boolean => {
    if (written >= options.messages) return false;
    const trigger = type.split('^')[1];
    const sent = `${hl7Time(day, minute)}${chicagoOffset(day)}`;
    const control = `RB${hl7Time(day, 0).slice(0, 8)}${pad(++controlSeq % 10000, 4)}`;
    const msh = `MSH|^~\\&|RBEHR|RBCBH|PEERBRIDGE|RBHIE|${sent}||${type}^${structure}|${control}|P|2.5.1|||AL|NE|USA|UNICODE UTF-8`;
    const evn = type.startsWith('SIU') ? [] : [`EVN|${trigger}|${sent}`];
    out.line([msh, ...evn, ...segments].join('\r'), '\r');
    byType[type] = (byType[type] ?? 0) + 1;
    written++;
    return true;
  };

  for (let p = 0; written < options.messages; p++) {
    patients++;
    const clientId = String(400000 + p);
    const episodeId = `E-${9000 + p}`;
    const spec = rng.int(0, specialists - 1);
    const program = specialistProgram(spec);
    const staff = `${specialistId(spec)}^${rng.pick(FAMILY).toUpperCase()}^${rng.pick(GIVEN).toUpperCase()}^^^^^^RBEHR`;
    const family = rng.pick(FAMILY).toUpperCase().replace("'", '');
    const given = rng.pick(GIVEN).toUpperCase();
    const middle = rng.pick(MIDDLE);
    const dob = hl7Time(dayOf('1950-01-01') + rng.int(0, 365 * 55), 0).slice(0, 8);
    const sex = rng.pick(['F', 'M', 'F', 'M', 'O', 'U']);
    const street = `${rng.int(1, 2400)} ${rng.pick(STREETS)}^^Riverbend^IL^6270${rng.int(1, 7)}`;
    const phone = `^PRN^${rng.pick(['PH', 'CP', 'CP'])}^^1^217^555${pad(rng.int(0, 9999), 4)}`;
    const pid = (addr = street): string =>
      `PID|1||${clientId}^^^RB^MR||${family}^${given}^${middle}^^^^L||${dob}|${sex}|||${addr}^USA^H||${phone}|||||${clientId}01`;
    const pv1 = `PV1|1|O|PEER^^^${program.id}||||${staff}||||||||||||${episodeId}^^^RBEHR^VN`;

    // Registration, then appointments every 3-14 days until 2026-11-22.
    const appointments = rng.int(4, 14);
    let day = FIRST_DAY + rng.int(0, LAST_DAY - FIRST_DAY - 20);
    if (!message('ADT^A04', 'ADT_A01', day, 8 * 60 + rng.int(0, 540), [pid(), pv1])) break;
    const updateAt = rng.chance(0.3) ? rng.int(1, appointments) : -1;
    for (let a = 0; a < appointments && day < LAST_DAY; a++) {
      if (
        a === updateAt &&
        !message('ADT^A08', 'ADT_A01', day, 8 * 60 + rng.int(0, 540), [pid(`${rng.int(1, 2400)} ${rng.pick(STREETS)}^^Riverbend^IL^6270${rng.int(1, 7)}`), pv1])
      )
        break;
      day = Math.min(LAST_DAY, day + rng.int(3, 14));
      const id = `A${++apptSeq}`;
      const minutes = rng.pick([30, 45, 45, 60, 60, 90]);
      let start = 8 * 60 + 15 * rng.int(0, 36);
      const service = rng.pick(['PSF2F', 'PSF2F', 'PSPH', 'PSTH']);
      const serviceText = { PSF2F: 'Peer support visit, in person', PSPH: 'Peer support call, telephone', PSTH: 'Peer support visit, video' }[service];
      const withOffset = rng.chance(0.3);
      const at = (d: number, m: number): string => `${hl7Time(d, m)}${withOffset ? chicagoOffset(d) : ''}`;
      const siu = (d: number, s: number, reason: string, state: string, note?: string): string[] => [
        `SCH|${id}^RBEHR|${id}^RBEHR||||${reason}|PEER^Peer support^L|PEER^Peer support^L|${minutes}|min^minutes^ANS+|^^${minutes}^${at(d, s)}^${at(d, s + minutes)}|||||${staff}||||${staff}|||||${state}`,
        ...(note ? [`NTE|1|L|${note}`] : []),
        pid(),
        pv1,
        'RGS|1|A',
        `AIS|1|A|${service}^${serviceText}^L|${at(d, s)}|0|min|${minutes}|min||${state}`,
        `AIP|1|A|${staff}|PSS^Peer Support Specialist^L||${at(d, s)}|0|min|${minutes}|min||${state}`,
      ];
      const booked = Math.max(FIRST_DAY, day - rng.int(1, 10));
      if (!message('SIU^S12', 'SIU_S12', booked, 8 * 60 + rng.int(0, 540), siu(day, start, '', 'Booked', rng.chance(0.2) ? rng.pick(SIU_NOTES) : undefined)))
        break;
      if (rng.chance(0.18)) {
        start = 8 * 60 + 15 * rng.int(0, 36);
        if (!message('SIU^S14', 'SIU_S12', Math.max(booked, day - 1), 8 * 60 + rng.int(0, 540), siu(day, start, 'RESCHED^Rescheduled by patient^L', 'Booked')))
          break;
      }
      if (day > LAST_PAST_DAY) continue; // still booked
      const r = rng.next();
      if (r < 0.1) {
        if (!message('SIU^S15', 'SIU_S12', day, Math.max(8 * 60, start - 60), siu(day, start, 'PTCAN^Patient canceled^L', 'Cancelled'))) break;
      } else if (r < 0.2) {
        if (!message('SIU^S26', 'SIU_S12', day, Math.min(23 * 60, start + minutes + 30), siu(day, start, '', 'Noshow'))) break;
      } else {
        // Charges: the H0038 for this appointment; sometimes a second peer charge without an
        // appointment (a same-day call) or a psychotherapy charge (skipped by the feed).
        const used = Math.max(8, minutes + rng.int(-15, 10));
        const modifiers =
          service === 'PSTH'
            ? rng.pick(['95^Synchronous telemedicine service^CPT4', 'GT^Via interactive audio and video^HCPCS'])
            : service === 'PSPH'
              ? '93^Synchronous telephone service^CPT4'
              : rng.chance(0.1)
                ? 'HQ^Group setting^HCPCS'
                : '';
        const charge = (k: number, code: string, s: number, len: number, appt: string, mods: string, performer = staff): string => {
          const tx = `T-${++txSeq}`;
          const f = [
            'FT1',
            String(k),
            tx,
            '',
            `${hl7Time(day, s)}^${hl7Time(day, s + len)}`,
            hl7Time(day, 0).slice(0, 8),
            'CG',
            code,
            '',
            '',
            String(Math.max(1, Math.round(len / 15))),
            '',
            '',
            '',
            '',
            '',
            `PEER^^^RB`,
            '',
            '',
            '',
            performer,
            '',
            '',
            appt,
            '',
            code,
            mods,
          ];
          return f.join('|');
        };
        const h0038 = 'H0038^Self-help/peer services, per 15 minutes^HCPCS';
        const ft1s = [charge(1, h0038, start, used, `${id}^RBEHR`, modifiers)];
        ft1.h0038++;
        const extra = rng.next();
        if (extra < 0.12) {
          ft1s.push(charge(2, h0038, Math.min(20 * 60, start + used + 60), rng.int(10, 30), '', '93^Synchronous telephone service^CPT4'));
          ft1.h0038NoAppointment++;
        } else if (extra < 0.22) {
          ft1s.push(charge(2, '90832^Psychotherapy, 30 minutes^CPT4', Math.min(20 * 60, start + used + 15), 30, '', '', `S-2002^CASTELLANOS^PAUL^^^^^^RBEHR`));
          ft1.other++;
          if (rng.chance(0.3)) {
            ft1s.push(charge(3, h0038, Math.min(21 * 60, start + used + 60), rng.int(10, 30), '', '93^Synchronous telephone service^CPT4'));
            ft1.h0038NoAppointment++;
          }
        }
        if (!message('DFT^P03', 'DFT_P03', day, Math.min(23 * 60, start + used + 90), [pid(), pv1, ...ft1s])) break;
      }
    }
  }
  const bytes = out.close();
  return { file, bytes, messages: written, byType, ft1, patients };
}

if (require.main === module) {
  const [kind, count, target, seed] = process.argv.slice(2);
  if ((kind !== 'csv' && kind !== 'hl7') || !count || !target) {
    console.error('usage: tsx bench/translate-generate.ts csv <contacts> <dir> [seed]\n       tsx bench/translate-generate.ts hl7 <messages> <file> [seed]');
    process.exit(2);
  }
  const s = seed ? Number(seed) : 20261122;
  const stats =
    kind === 'csv' ? generateRiverbendCsv(target, { seed: s, contacts: Number(count) }) : generateHl7File(target, { seed: s, messages: Number(count) });
  console.log(JSON.stringify(stats, null, 2));
}

/** `batch`-message HL7 v2 bodies from the translation benchmark's generator, in feed order. */
export function hl7Batches(seed: number, batch: number, messages: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'peerbridge-hl7-batches-'));
  try {
    const file = join(dir, 'feed.hl7');
    generateHl7File(file, { seed, messages });
    // Each message ends with `\r`; the next starts with MSH.
    const all = readFileSync(file, 'utf8').split(/\r(?=MSH\|)/);
    const out: string[] = [];
    for (let i = 0; i < all.length; i += batch)
      out.push(
        `${all
          .slice(i, i + batch)
          .join('\r')
          .replace(/\r?$/, '\r')}`,
      );
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
