/**
 * Seeded generator of peer-support resources that conform to the PeerBridge profiles in
 * profiles/package, for the validation benchmark. Codes are read from the package's CodeSystems,
 * ValueSets and the Idaho Recovery Capital Scale Questionnaire, so the workload follows the
 * profiles when they change. Reproducible: one seed, one sequence (no Math.random).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type {
  CarePlan,
  ChargeItem,
  CodeSystem,
  Coding,
  Encounter,
  EpisodeOfCare,
  Extension,
  Goal,
  Narrative,
  Observation,
  Patient,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
  ValueSet,
} from '@medplum/fhirtypes';

export const BASE = 'http://peerbridge.org/fhir';
const SD = `${BASE}/StructureDefinition/`;
const HCPCS = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const IRC_QUESTIONNAIRE = `${BASE}/Questionnaire/idaho-recovery-capital-scale`;

export const PROFILES = {
  encounter: `${SD}peer-support-encounter`,
  episode: `${SD}peer-support-episode`,
  response: `${SD}recovery-capital-response`,
  total: `${SD}recovery-capital-total`,
  charge: `${SD}peer-support-charge`,
  goal: `${SD}recovery-goal`,
  plan: `${SD}recovery-plan`,
} as const;

/** sfc32: small, fast, good-quality 32-bit PRNG (PractRand-clean), seeded deterministically. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) {
      this.next();
    }
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** k distinct elements, in a random order. */
  sample<T>(xs: readonly T[], k: number): T[] {
    const copy = [...xs];
    const out: T[] = [];
    for (let i = 0; i < k && copy.length > 0; i++) {
      out.push(copy.splice(Math.floor(this.next() * copy.length), 1)[0]);
    }
    return out;
  }

  /** A lowercase hex id of n characters. */
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      s += Math.floor(this.next() * 16).toString(16);
    }
    return s;
  }
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

interface Codes {
  peerbridge: Coding[];
  intervention: Coding[];
  supportType: Coding[];
  icrcTask: Coding[];
  encounterClass: Coding[];
  contactMode: Coding[];
  placeOfService: Coding[];
  questionnaire: Questionnaire;
}

function codeSystemCodings(dir: string, id: string): Coding[] {
  const cs = readJson<CodeSystem>(join(dir, `CodeSystem-${id}.json`));
  return (cs.concept ?? []).map((c) => ({ system: cs.url, code: c.code, display: c.display }));
}

function valueSetCodings(dir: string, id: string): Coding[] {
  const vs = readJson<ValueSet>(join(dir, `ValueSet-${id}.json`));
  const out: Coding[] = [];
  for (const inc of vs.compose?.include ?? []) {
    for (const c of inc.concept ?? []) {
      out.push({ system: inc.system, code: c.code, display: c.display });
    }
  }
  if (out.length === 0) {
    throw new Error(`ValueSet ${id} enumerates no codes`);
  }
  return out;
}

function loadCodes(packageDir: string): Codes {
  return {
    peerbridge: codeSystemCodings(packageDir, 'peerbridge-codes'),
    intervention: codeSystemCodings(packageDir, 'peer-intervention'),
    supportType: codeSystemCodings(packageDir, 'social-support-type'),
    icrcTask: codeSystemCodings(packageDir, 'icrc-task'),
    encounterClass: valueSetCodings(packageDir, 'peer-encounter-class'),
    contactMode: valueSetCodings(packageDir, 'peer-contact-mode'),
    placeOfService: valueSetCodings(packageDir, 'place-of-service'),
    questionnaire: readJson<Questionnaire>(join(packageDir, 'Questionnaire-idaho-recovery-capital-scale.json')),
  };
}

function pbCode(codes: Codes, code: string): Coding {
  const c = codes.peerbridge.find((x) => x.code === code);
  if (!c) {
    throw new Error(`peerbridge-codes has no code '${code}'`);
  }
  return { system: c.system, code: c.code, display: c.display };
}

const DAY = 86_400_000;
const pad = (n: number): string => String(n).padStart(2, '0');

/** FHIR dateTime with a fixed offset (-07:00 .. -04:00, US time zones). */
function dateTime(ms: number, offsetH: number): string {
  const d = new Date(ms + offsetH * 3_600_000);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00${offsetH < 0 ? '-' : '+'}${pad(Math.abs(offsetH))}:00`
  );
}

function date(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A short generated XHTML narrative (dom-6), as a real server would add. */
function narrative(r: Resource): Narrative {
  const x = r as unknown as Record<string, unknown>;
  const parts: string[] = [`<b>${escapeXml(r.resourceType)}</b> ${escapeXml(r.id ?? '')}`];
  for (const key of ['status', 'lifecycleStatus', 'birthDate', 'authored', 'effectiveDateTime', 'occurrenceDateTime']) {
    if (typeof x[key] === 'string') {
      parts.push(`${key}: ${escapeXml(x[key])}`);
    }
  }
  const desc = (x.description as { text?: string } | undefined)?.text;
  if (desc) {
    parts.push(`<i>${escapeXml(desc)}</i>`);
  }
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${parts.join('<br/>')}</p></div>` };
}

function ext(url: string, value: Omit<Extension, 'url'>): Extension {
  return { url, ...value };
}

const GIVEN = ['Alex', 'Jordan', 'Sam', 'Taylor', 'Morgan', 'Casey', 'Riley', 'Jamie', 'Avery', 'Quinn', 'Rosa', 'Wei', 'Amara', 'Diego'];
const FAMILY = ['Rivera', 'Nguyen', 'Smith', 'Okafor', 'Kowalski', 'Haddad', 'Johnson', 'Lee', 'Garcia', 'Begay', 'Patel', 'Brown'];
const CITIES: [string, string, string][] = [
  ['Boise', 'ID', '83702'],
  ['Nampa', 'ID', '83651'],
  ['Spokane', 'WA', '99201'],
  ['Sacramento', 'CA', '95814'],
  ['Pocatello', 'ID', '83201'],
];
const GOALS = [
  'Find stable housing before winter',
  'Go to two recovery meetings every week',
  'Reconnect with my sister',
  'Get my GED',
  'Find a part-time job',
  'Write a WRAP plan with my peer specialist',
  'Cook healthy meals at home three times a week',
  'Get a sponsor',
];
const AREAS = ['housing', 'family support', 'employment', 'physical health', 'community involvement', 'recovery rituals'];
const ACTIVITY = ['Attend a peer-led support group', 'Visit the library job center', 'Call my sponsor', 'Walk 20 minutes daily'];

export interface WorkloadItem {
  /** What kind of item this is (resource type, with 'example:' for files from examples/valid). */
  kind: string;
  /** The resource or Bundle to validate. */
  resource: Resource;
  /** Resources it counts as: 1, or entries + 1 for a Bundle. */
  weight: number;
  /** The profile StructureDefinition canonical in meta.profile (first), if any. */
  profile?: string;
  /** Where it came from (generated, or a path under examples/valid). */
  source: string;
}

/**
 * Generates the resources of `persons` people in peer support: Patient, EpisodeOfCare, recovery
 * plan with goals, contacts (Encounter + ChargeItem), and Idaho Recovery Capital Scale
 * administrations (QuestionnaireResponse + total Observation).
 */
export function generateWorkload(seed: number, persons: number, packageDir: string): WorkloadItem[] {
  const rng = new Rng(seed);
  const codes = loadCodes(packageDir);
  const ircItems = (codes.questionnaire.item ?? []).filter((i) => i.linkId.startsWith('irc-'));
  if (ircItems.length !== 23) {
    throw new Error(`Expected 23 irc-* items in the Idaho Recovery Capital Scale, found ${ircItems.length}`);
  }
  const totalItem = (codes.questionnaire.item ?? []).find((i) => i.linkId === 'total');
  const areasItem = (codes.questionnaire.item ?? []).find((i) => i.linkId === 'areas-to-increase');
  const out: WorkloadItem[] = [];
  const add = (resource: Resource, profile?: string): void => {
    if (profile) {
      resource.meta = { profile: [profile] };
    }
    (resource as Resource & { text?: Narrative }).text = narrative(resource);
    out.push({ kind: resource.resourceType, resource, weight: 1, profile, source: 'generated' });
  };
  const orgs = ['org-boise-peer-center', 'org-treasure-valley-bh', 'org-spokane-recovery'];
  const peers = Array.from({ length: 12 }, (_, i) => `peer-${pad(i + 1)}`);
  const start0 = Date.UTC(2024, 0, 1);

  for (let p = 0; p < persons; p++) {
    const pid = `pat-${rng.hex(8)}`;
    const [city, state, zip] = rng.pick(CITIES);
    const patient: Patient = {
      resourceType: 'Patient',
      id: pid,
      identifier: [{ system: `${BASE}/sid/member-id`, value: `M${rng.int(1_000_000, 9_999_999)}` }],
      active: true,
      name: [{ use: 'official', family: rng.pick(FAMILY), given: [rng.pick(GIVEN)] }],
      gender: rng.pick(['female', 'male', 'other', 'unknown'] as const),
      birthDate: date(Date.UTC(rng.int(1950, 2004), rng.int(0, 11), rng.int(1, 28))),
      address: [{ use: 'home', city, state, postalCode: zip, country: 'US' }],
    };
    if (rng.chance(0.6)) {
      patient.telecom = [{ system: 'phone', value: `208-555-${rng.int(1000, 9999)}`, use: 'mobile' }];
    }
    add(patient);
    const patientRef = { reference: `Patient/${pid}` };
    const peer = rng.pick(peers);

    // Episode of care.
    const epStart = start0 + rng.int(0, 500) * DAY;
    const finished = rng.chance(0.3);
    const epEnd = epStart + rng.int(30, 240) * DAY;
    const eid = `eoc-${rng.hex(8)}`;
    const episode: EpisodeOfCare = {
      resourceType: 'EpisodeOfCare',
      id: eid,
      status: finished ? 'finished' : rng.pick(['active', 'active', 'onhold', 'waitlist'] as const),
      type: [{ coding: [pbCode(codes, 'peer-support')] }],
      patient: patientRef,
      managingOrganization: { reference: `Organization/${rng.pick(orgs)}` },
      period: finished ? { start: date(epStart), end: date(epEnd) } : { start: date(epStart) },
      careManager: { reference: `Practitioner/${peer}` },
    };
    add(episode, PROFILES.episode);

    // Recovery plan and goals.
    const goalIds: string[] = [];
    for (let g = 0, n = rng.int(1, 3); g < n; g++) {
      const gid = `goal-${rng.hex(8)}`;
      goalIds.push(gid);
      const goal: Goal = {
        resourceType: 'Goal',
        id: gid,
        lifecycleStatus: rng.pick(['proposed', 'accepted', 'active', 'active', 'completed', 'on-hold'] as const),
        description: { text: rng.pick(GOALS) },
        subject: patientRef,
        startDate: date(epStart + rng.int(0, 14) * DAY),
        expressedBy: patientRef,
      };
      if (rng.chance(0.7)) {
        goal.target = [{ dueDate: date(epStart + rng.int(30, 180) * DAY) }];
      }
      add(goal, PROFILES.goal);
    }
    const planExt: Extension[] = [ext(`${SD}crisis-plan-present`, { valueBoolean: rng.chance(0.5) })];
    if (rng.chance(0.8)) {
      planExt.push(ext(`${SD}next-review-date`, { valueDate: date(epStart + rng.int(60, 120) * DAY) }));
    }
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      id: `plan-${rng.hex(8)}`,
      extension: planExt,
      status: finished ? 'completed' : rng.pick(['active', 'active', 'draft'] as const),
      intent: 'plan',
      // US Core CarePlan: the assess-plan category beside PeerBridge's own.
      category: [
        { coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', code: 'assess-plan', display: 'Assessment and Plan of Treatment' }] },
        { coding: [pbCode(codes, 'peer-recovery-plan')] },
      ],
      title: 'Recovery plan',
      subject: patientRef,
      period: { start: date(epStart) },
      author: { reference: `Practitioner/${peer}` },
      goal: goalIds.map((g) => ({ reference: `Goal/${g}` })),
      activity: rng.sample(ACTIVITY, rng.int(1, 3)).map((description) => ({
        detail: { status: rng.pick(['not-started', 'scheduled', 'in-progress', 'completed'] as const), description },
      })),
    };
    add(plan, PROFILES.plan);

    // Contacts: Encounter + ChargeItem for each.
    for (let c = 0, n = rng.int(3, 8); c < n; c++) {
      const encId = `enc-${rng.hex(10)}`;
      const offset = rng.pick([-7, -6, -5, -4]);
      const startMs = epStart + rng.int(0, 200) * DAY + rng.int(8 * 4, 18 * 4) * 15 * 60_000;
      const minutes = rng.pick([15, 20, 30, 45, 50, 60, 75, 90, 120]);
      const mode = rng.pick(codes.contactMode);
      const remote = mode.code !== codes.contactMode[0].code;
      const encFinished = rng.chance(0.85);
      const extension: Extension[] = [];
      for (const cc of rng.sample(codes.intervention, rng.int(1, 3))) {
        extension.push(ext(`${SD}peer-intervention`, { valueCodeableConcept: { coding: [cc] } }));
      }
      for (const cc of rng.sample(codes.supportType, rng.int(0, 2))) {
        extension.push(ext(`${SD}social-support-type`, { valueCodeableConcept: { coding: [cc] } }));
      }
      for (const cc of rng.sample(codes.icrcTask, rng.int(0, 2))) {
        extension.push(ext(`${SD}icrc-task`, { valueCodeableConcept: { coding: [cc] } }));
      }
      if (rng.chance(0.7)) {
        extension.push(ext(`${SD}place-of-service`, { valueCodeableConcept: { coding: [rng.pick(codes.placeOfService)] } }));
      }
      if (rng.chance(0.3)) {
        extension.push(ext(`${SD}group-contact`, { valueBoolean: rng.chance(0.3) }));
      }
      const enc: Encounter = {
        resourceType: 'Encounter',
        id: encId,
        extension,
        status: encFinished ? 'finished' : rng.pick(['planned', 'in-progress'] as const),
        class: remote
          ? (codes.encounterClass.find((x) => x.code === 'VR') ?? codes.encounterClass[0])
          : rng.pick(codes.encounterClass.filter((x) => x.code !== 'VR')),
        type: [
          { coding: [{ system: HCPCS, code: 'H0038', display: 'Self-help/peer services, per 15 minutes' }] },
          ...(rng.chance(0.8) ? [{ coding: [mode] }] : []),
        ],
        subject: patientRef,
        episodeOfCare: [{ reference: `EpisodeOfCare/${eid}` }],
        participant: [{ individual: { reference: rng.chance(0.8) ? `Practitioner/${peer}` : `PractitionerRole/role-${peer}` } }],
        period: encFinished ? { start: dateTime(startMs, offset), end: dateTime(startMs + minutes * 60_000, offset) } : { start: dateTime(startMs, offset) },
        serviceProvider: episode.managingOrganization,
      };
      if (encFinished) {
        enc.length = { value: minutes, unit: 'min', system: UCUM, code: 'min' };
      }
      add(enc, PROFILES.encounter);
      if (encFinished) {
        const units = Math.max(1, Math.min(96, Math.round(minutes / 15)));
        const charge: ChargeItem = {
          resourceType: 'ChargeItem',
          id: `chg-${rng.hex(10)}`,
          status: rng.pick(['billable', 'billable', 'billed', 'planned'] as const),
          code: { coding: [{ system: HCPCS, code: 'H0038', display: 'Self-help/peer services, per 15 minutes' }] },
          subject: patientRef,
          context: { reference: `Encounter/${encId}` },
          occurrenceDateTime: enc.period?.start,
          quantity: { value: units },
          performingOrganization: episode.managingOrganization,
        };
        add(charge, PROFILES.charge);
      }
    }

    // Idaho Recovery Capital Scale administrations: QuestionnaireResponse + total Observation.
    for (let a = 0, n = rng.int(1, 2); a < n; a++) {
      const qrId = `qr-${rng.hex(10)}`;
      const authoredMs = epStart + (a * 90 + rng.int(0, 20)) * DAY + rng.int(9, 17) * 3_600_000;
      const offset = rng.pick([-7, -6]);
      let total = 0;
      const items: QuestionnaireResponseItem[] = ircItems.map((q) => {
        const opt = rng.pick(q.answerOption ?? []);
        const coding = opt.valueCoding as Coding;
        total += Number(coding.code);
        return { linkId: q.linkId, text: q.text, answer: [{ valueCoding: { ...coding } }] };
      });
      if (totalItem && rng.chance(0.5)) {
        items.push({ linkId: totalItem.linkId, text: totalItem.text, answer: [{ valueInteger: total }] });
      }
      if (areasItem && rng.chance(0.5)) {
        items.push({
          linkId: areasItem.linkId,
          text: areasItem.text,
          answer: rng.sample(AREAS, rng.int(1, 5)).map((valueString) => ({ valueString })),
        });
      }
      const qr: QuestionnaireResponse = {
        resourceType: 'QuestionnaireResponse',
        id: qrId,
        questionnaire: IRC_QUESTIONNAIRE,
        status: 'completed',
        subject: patientRef,
        authored: dateTime(authoredMs, offset),
        author: patientRef,
        item: items,
      };
      add(qr, PROFILES.response);
      const obs: Observation = {
        resourceType: 'Observation',
        id: `obs-${rng.hex(10)}`,
        status: 'final',
        // us-core-observation-screening-assessment: survey, and a US Core screening category (sdoh, as the pipeline's).
        category: [
          { coding: [{ system: OBS_CATEGORY, code: 'survey', display: 'Survey' }] },
          { coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category', code: 'sdoh', display: 'SDOH' }] },
        ],
        code: { coding: [pbCode(codes, 'recovery-capital-total')] },
        subject: patientRef,
        effectiveDateTime: qr.authored,
        valueInteger: total,
        derivedFrom: [{ reference: `QuestionnaireResponse/${qrId}` }],
      };
      add(obs, PROFILES.total);
    }
  }
  return out;
}

/** Every *.json under a folder (recursively, sorted), as workload items. Bundles weigh entries + 1. */
export function loadExamples(dir: string, root: string): { items: WorkloadItem[]; skipped: string[] } {
  const items: WorkloadItem[] = [];
  const skipped: string[] = [];
  if (!existsSync(dir)) {
    return { items, skipped };
  }
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const f = join(d, name);
      if (statSync(f).isDirectory()) {
        walk(f);
      } else if (name.endsWith('.json')) {
        let r: Resource;
        try {
          r = readJson<Resource>(f);
        } catch (e) {
          skipped.push(`${relative(root, f)}: ${(e as Error).message}`);
          continue;
        }
        if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') {
          skipped.push(`${relative(root, f)}: not a FHIR resource`);
          continue;
        }
        const entries = r.resourceType === 'Bundle' && Array.isArray(r.entry) ? r.entry.length : 0;
        items.push({
          kind: `example:${r.resourceType}`,
          resource: r,
          weight: entries + 1,
          profile: r.meta?.profile?.[0],
          source: relative(root, f),
        });
      }
    }
  };
  walk(dir);
  return { items, skipped };
}
