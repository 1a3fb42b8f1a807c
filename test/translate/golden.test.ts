/**
 * Golden files for the shipped outside sources (mappings/README.md, "Shipped examples"): each
 * sample export in examples/outside/<source>/ gives exactly `expected/<case>.json` (the
 * transaction Bundle `peerbridge translate` writes) and `expected/<case>.report.json` (records,
 * summary, inputs, outcome and every reject, as `--report` and `--rejects` write them).
 * `UPDATE_GOLDEN=1 npx jest test/translate/golden.test.ts` rewrites them; review the diff.
 *
 * Beside the goldens, facts that must hold whatever the goldens say: every source record is
 * accepted or rejected (nothing silently missing), statuses, billing units, offsets, Part 2 labels.
 * Bad inputs are in golden-bad.test.ts.
 */
import type { Bundle, ChargeItem, Encounter, Observation, Patient, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRules } from '../../src/domain/rules';
import { putEntry } from '../../src/fhir/bundle';
import { loadPackageTerms } from '../../src/fhir/context';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { inputsFromPath, translateSource, type RejectRecord, type SourceRunReport } from '../../src/pipeline/translate-source';
import { closedEntries, ReferenceTargets } from '../../src/outbound/placeholders';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';

const ROOT = join(__dirname, '..', '..');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const NOW = new Date('2026-11-22T12:00:00Z');

/** A golden case: the sample inputs (paths under examples/outside/<source>/, a folder or files) of one run. */
const CASES = [
  { source: 'riverbend-csv', name: 'export', paths: ['.'] },
  { source: 'hl7v2', name: 'feed', paths: ['feed.hl7'] },
  { source: 'hl7v2', name: 'updates', paths: ['updates.hl7'] },
  { source: 'vendor-json', name: 'payload', paths: ['payload.json'] },
] as const;

interface Produced {
  bundle: Bundle;
  report: SourceRunReport;
  rejects: RejectRecord[];
  resources: Resource[];
}

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

async function translate(source: string, paths: readonly string[]): Promise<Produced> {
  const loaded = loadSource(join(ROOT, 'mappings', source));
  const inputs = paths.flatMap((p) => inputsFromPath(join(ROOT, 'examples', 'outside', source, p), loaded));
  // A later record with an earlier one's id updates it: the Bundle holds each resource's last version, as the CLI writes it.
  const latest = new Map<string, Resource>();
  const rejects: RejectRecord[] = [];
  const targets = new ReferenceTargets();
  const report = await translateSource(
    loaded,
    inputs,
    { ...deps, references: targets },
    (list) => list.forEach((r) => latest.set(`${r.resourceType}/${r.id}`, r)),
    {
      onReject: (r) => void rejects.push(r),
    },
  );
  const resources = [...latest.values()];
  // What the CLI writes: --out (no "entry" when nothing was accepted; placeholders for what the run refers to but did not make) and --report with the --rejects lines.
  const { entries } = closedEntries(resources, targets);
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', ...(entries.length ? { entry: entries } : {}) };
  return { bundle, report, rejects, resources };
}

const cache = new Map<string, Promise<Produced>>();
function run(source: string, name: string): Promise<Produced> {
  const c = CASES.find((x) => x.source === source && x.name === name);
  if (!c) throw new Error(`no case ${source}/${name}`);
  const key = `${source}/${name}`;
  if (!cache.has(key)) cache.set(key, translate(c.source, c.paths));
  return cache.get(key) as Promise<Produced>;
}

const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The resource of a type made from the source record with this id (its source-record identifier). */
function made<T extends Resource>(p: Produced, type: T['resourceType'], id: string): T {
  const found = p.resources.filter((r) => r.resourceType === type && sourceIds(r).includes(id));
  if (found.length !== 1) throw new Error(`${found.length} ${type} made from ${id}`);
  return found[0] as T;
}
/** Source record ids of a resource (QuestionnaireResponse.identifier is one Identifier, elsewhere a list). */
function sourceIds(r: Resource): string[] {
  const ids = (r as { identifier?: { value?: string } | { value?: string }[] }).identifier;
  return (Array.isArray(ids) ? ids : ids ? [ids] : []).map((i) => i.value ?? '');
}
const all = <T extends Resource>(p: Produced, type: T['resourceType']): T[] => p.resources.filter((r): r is T => r.resourceType === type);
const isPart2 = (r: Resource) => (r.meta?.security ?? []).some((s) => s.code === '42CFRPart2');
const labels = (r: Resource) => (r.meta?.security ?? []).map((s) => s.code).sort();
const ext = (r: Encounter, name: string) => (r.extension ?? []).filter((e) => e.url.endsWith(`/${name}`));
const units = (c: ChargeItem) => c.quantity?.value;

describe.each(CASES.map((c) => [`${c.source}/${c.name}`, c] as const))('examples/outside/%s', (_, c) => {
  const dir = join(ROOT, 'examples', 'outside', c.source, 'expected');
  const bundleFile = join(dir, `${c.name}.json`);
  const reportFile = join(dir, `${c.name}.report.json`);
  let produced: Produced;
  beforeAll(async () => {
    produced = await run(c.source, c.name);
    if (UPDATE) {
      mkdirSync(dir, { recursive: true });
      const { records, summary, inputs, outcome, fatal } = produced.report;
      writeFileSync(bundleFile, pretty(produced.bundle));
      writeFileSync(reportFile, pretty({ records, summary, inputs, outcome, ...(fatal ? { fatal } : {}), rejects: produced.rejects }));
    }
  });

  it(`gives expected/${c.name}.json`, () => {
    expect(existsSync(bundleFile)).toBe(true);
    expect(produced.bundle).toStrictEqual(JSON.parse(readFileSync(bundleFile, 'utf8')));
  });

  it(`gives expected/${c.name}.report.json`, () => {
    expect(existsSync(reportFile)).toBe(true);
    const { records, summary, inputs, outcome, fatal } = produced.report;
    expect({ records, summary, inputs, outcome, ...(fatal ? { fatal } : {}), rejects: produced.rejects }).toStrictEqual(
      JSON.parse(readFileSync(reportFile, 'utf8')),
    );
  });

  it('accounts for every source record: accepted or rejected, each reject reported once', () => {
    const { records } = produced.report;
    expect(records.read).toBe(records.accepted + records.rejected + records.skipped);
    expect(new Set(produced.rejects.map((r) => `${r.input}#${r.record}`)).size).toBe(records.rejected);
    expect(produced.report.fatal).toBeUndefined();
  });

  it('the expected Bundle is a valid transaction', () => {
    const result = deps.validator.validate(JSON.parse(readFileSync(bundleFile, 'utf8')));
    expect(result.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('riverbend-csv: the nightly export folder', () => {
  let p: Produced;
  beforeAll(async () => {
    p = await run('riverbend-csv', 'export');
  });

  it('reads every file in feed order, every row (eligibility rows grouped per review), and accepts all', () => {
    expect(p.report.inputs.map((i) => [i.name, i.feed, i.read])).toEqual([
      ['organizations.csv', 'organizations', 3],
      ['staff.csv', 'staff', 7],
      ['clients.csv', 'clients', 13],
      ['episodes.csv', 'episodes', 14],
      ['eligibility.csv', 'eligibility', 7], // 28 rows, 7 reviews
      ['contacts.csv', 'contacts', 32],
      ['recovery_capital.csv', 'recovery-capital', 7],
    ]);
    expect(p.report.records).toEqual({ read: 83, accepted: 83, rejected: 0, skipped: 0 });
    expect(p.rejects).toEqual([]);
  });

  it('makes one Encounter per contact row with the status of Appt Status', () => {
    const encounters = all<Encounter>(p, 'Encounter');
    expect(encounters).toHaveLength(32);
    expect(made<Encounter>(p, 'Encounter', 'C-20001').status).toBe('finished');
    expect(made<Encounter>(p, 'Encounter', 'C-20007').status).toBe('planned');
    expect(made<Encounter>(p, 'Encounter', 'C-20010').status).toBe('cancelled');
    const noShow = made<Encounter>(p, 'Encounter', 'C-20003');
    expect(noShow.status).toBe('cancelled');
    expect(ext(noShow, 'no-show')[0]?.valueBoolean).toBe(true);
  });

  it('reads 12-hour local times in America/Chicago with the offset of that date', () => {
    expect(made<Encounter>(p, 'Encounter', 'C-20005').period).toEqual({ start: '2026-10-30T11:15:00-05:00', end: '2026-10-30T12:07:00-05:00' });
    // DST ended on 2026-11-01: the same wall-clock time is -06:00 two days later, and in early March.
    expect(made<Encounter>(p, 'Encounter', 'C-20006').period?.start).toBe('2026-11-03T11:15:00-06:00');
    expect(made<Encounter>(p, 'Encounter', 'C-20031').period?.start).toBe('2026-01-12T10:00:00-06:00');
    expect(made<Encounter>(p, 'Encounter', 'C-20021').period?.start).toBe('2026-09-28T12:30:00-05:00');
    expect(made<Encounter>(p, 'Encounter', 'C-20020').period?.start).toBe('2026-07-20T18:00:00-05:00');
  });

  it('bills H0038 units from the minutes: one ChargeItem per finished contact that earns a unit', () => {
    expect(all<ChargeItem>(p, 'ChargeItem')).toHaveLength(26); // 27 finished contacts, one of 7 minutes
    expect(units(made<ChargeItem>(p, 'ChargeItem', 'C-20001'))).toBe(3); // 45 min
    expect(units(made<ChargeItem>(p, 'ChargeItem', 'C-20002'))).toBe(3); // 38 = 2 x 15 + 8
    expect(units(made<ChargeItem>(p, 'ChargeItem', 'C-20004'))).toBe(6); // 90 min
    expect(units(made<ChargeItem>(p, 'ChargeItem', 'C-20017'))).toBe(2); // 35 = 2 x 15 + 5
    expect(units(made<ChargeItem>(p, 'ChargeItem', 'C-20019'))).toBe(2); // 23 = 15 + 8
    expect(p.resources.some((r) => r.resourceType === 'ChargeItem' && JSON.stringify(r).includes('"C-20009"'))).toBe(false);
    expect(p.report.outcome.issue.some((i) => i.severity === 'warning' && /7 minutes earn no billing unit/.test(i.details?.text ?? ''))).toBe(true);
  });

  it('maps Location to class and place of service, Group Session to the group flag, codes through the tables', () => {
    const home = made<Encounter>(p, 'Encounter', 'C-20006');
    expect(home.class.code).toBe('HH');
    expect(ext(home, 'place-of-service')[0]?.valueCodeableConcept?.coding?.[0]?.code).toBe('12');
    const group = made<Encounter>(p, 'Encounter', 'C-20004');
    expect(group.class.code).toBe('FLD');
    expect(ext(group, 'group-contact')[0]?.valueBoolean).toBe(true);
    expect(ext(group, 'peer-intervention').map((e) => e.valueCodeableConcept?.coding?.[0]?.code)).toEqual([
      'community-education',
      'education-volunteering-employment',
    ]);
    expect(made<Encounter>(p, 'Encounter', 'C-20005').type?.[1]?.coding?.[0]?.code).toBe('448337001'); // TELE: video
  });

  it('labels the Part 2 program (RB-SUD) client and everything of his, and nobody else', () => {
    const peter = made<Patient>(p, 'Patient', '300127');
    expect(labels(peter)).toEqual(['42CFRPart2', 'ETH', 'R']);
    for (const id of ['C-20008', 'C-20009', 'C-20010', 'C-20011', 'C-20012']) expect(isPart2(made(p, 'Encounter', id))).toBe(true);
    expect(isPart2(made(p, 'ChargeItem', 'C-20011'))).toBe(true);
    expect(isPart2(made(p, 'QuestionnaireResponse', 'R-504'))).toBe(true);
    expect(isPart2(made(p, 'QuestionnaireResponse', 'IRC-3003'))).toBe(true);
    expect(isPart2(made(p, 'Patient', '300112'))).toBe(false);
    expect(isPart2(made(p, 'Encounter', 'C-20001'))).toBe(false);
    const part2Patients = all<Patient>(p, 'Patient')
      .filter(isPart2)
      .map((r) => r.identifier?.[0]?.value)
      .sort();
    expect(part2Patients).toEqual(['300127', '300156', '300184', '300217']);
  });

  it('groups one row per criterion into one review and determines it', () => {
    const result = (id: string) => {
      const obs = p.resources.find(
        (r): r is Observation => r.resourceType === 'Observation' && r.code.coding?.[0]?.code === 'eligibility-determination' && sourceIds(r).includes(id),
      );
      return obs?.valueCodeableConcept?.coding?.[0]?.code;
    };
    expect(result('R-501')).toBe('eligible');
    expect(result('R-503')).toBe('indeterminate'); // no service criterion met, two unknown
    expect(result('R-504')).toBe('continue');
    expect(result('R-505')).toBe('discharge');
    expect(result('R-507')).toBe('discharge');
    const r501 = made<QuestionnaireResponse>(p, 'QuestionnaireResponse', 'R-501');
    expect(JSON.stringify(r501.item).match(/"linkId"/g)?.length).toBeGreaterThanOrEqual(9);
  });

  it('scores recovery capital: a blank Q is an unanswered item (in progress, no total), change per client', () => {
    expect(made<QuestionnaireResponse>(p, 'QuestionnaireResponse', 'IRC-3005').status).toBe('in-progress');
    expect(p.resources.some((r) => r.resourceType === 'Observation' && sourceIds(r).includes('IRC-3005'))).toBe(false);
    expect(p.report.summary.recoveryCapitalChanges.filter((c) => c.change !== undefined).map((c) => [c.personId, c.previousTotal, c.total])).toEqual([
      ['300112', 52, 72],
      ['300127', 52, 75],
    ]);
  });

  it('keeps the referral, credential and supervisor columns', () => {
    const referral = p.resources.find((r) => r.resourceType === 'ServiceRequest' && JSON.stringify(r).includes('"E-7001"'));
    expect(JSON.stringify(referral)).toContain('2026-08-10T09:40:00-05:00');
    const para = made(p, 'Practitioner', 'S-1004');
    expect(JSON.stringify(para)).toContain('paraprofessional-peer');
    expect(JSON.stringify(made(p, 'Practitioner', 'S-1001'))).toContain('CPS-IL-20417');
  });
});

describe('hl7v2: feed.hl7', () => {
  let p: Produced;
  beforeAll(async () => {
    p = await run('hl7v2', 'feed');
  });

  it('reads all 20 messages: 6 people, 8 SIU contacts, 6 H0038 charges; the DFT with only H0031 makes no record, and says so', () => {
    expect(p.report.records).toEqual({ read: 20, accepted: 19, rejected: 0, skipped: 1 });
    expect(p.report.outcome.issue.filter((i) => /made no record/.test(i.details?.text ?? ''))).toHaveLength(1);
    expect(all(p, 'Patient')).toHaveLength(6);
    expect(all(p, 'Encounter')).toHaveLength(14);
    expect(all(p, 'ChargeItem')).toHaveLength(6);
  });

  it('gives SIU contacts the status of the trigger event', () => {
    expect(made<Encounter>(p, 'Encounter', 'A88001').status).toBe('planned'); // S12
    expect(made<Encounter>(p, 'Encounter', 'A87950').status).toBe('planned'); // S14, rescheduled
    expect(made<Encounter>(p, 'Encounter', 'A87950').period?.start).toBe('2026-12-01T16:00:00-06:00');
    expect(made<Encounter>(p, 'Encounter', 'A87961').status).toBe('cancelled'); // S15
    const noShow = made<Encounter>(p, 'Encounter', 'A87972'); // S26
    expect(noShow.status).toBe('cancelled');
    expect(ext(noShow, 'no-show')[0]?.valueBoolean).toBe(true);
    expect(made<Encounter>(p, 'Encounter', 'A88002').period).toEqual({ start: '2026-11-24T14:00:00-06:00', end: '2026-11-24T14:30:00-06:00' });
  });

  it('makes one finished contact per H0038 FT1 whose ChargeItem quantity is FT1-10, and skips other charges', () => {
    const text = readFileSync(join(ROOT, 'examples', 'outside', 'hl7v2', 'feed.hl7'), 'latin1');
    const ft1 = text
      .split('\r')
      .filter((s) => s.startsWith('FT1|'))
      .map((s) => s.split('|'));
    const peer = ft1.filter((f) => f[7].startsWith('H0038^'));
    expect(peer).toHaveLength(6);
    expect(ft1.length).toBeGreaterThan(peer.length);
    for (const f of peer) {
      const id = f[23].split('^')[0] || f[2];
      expect([id, made<Encounter>(p, 'Encounter', id).status, units(made<ChargeItem>(p, 'ChargeItem', id))]).toEqual([id, 'finished', Number(f[10])]);
    }
    expect(p.resources.some((r) => JSON.stringify(r).includes('T-550145') || JSON.stringify(r).includes('A87945'))).toBe(false);
  });

  it('reads the modifiers: 93 telephone, 95 video, HQ a group contact', () => {
    expect(made<Encounter>(p, 'Encounter', 'T-550216').type?.[1]?.coding?.[0]?.code).toBe('185317003');
    expect(made<Encounter>(p, 'Encounter', 'A87944').type?.[1]?.coding?.[0]?.code).toBe('448337001');
    const group = made<Encounter>(p, 'Encounter', 'A87930');
    expect(group.type?.[1]?.coding?.[0]?.code).toBe('453701000124103');
    expect(ext(group, 'group-contact')[0]?.valueBoolean).toBe(true);
  });

  it('labels the RB-SUD (Part 2) people and their contacts from PV1-3.4', () => {
    expect(labels(made(p, 'Patient', '300242'))).toEqual(['42CFRPart2', 'ETH', 'R']);
    expect(isPart2(made(p, 'Patient', '300127'))).toBe(true);
    for (const id of ['A88002', 'A87950', 'A87944', 'A87955']) expect(isPart2(made(p, 'Encounter', id))).toBe(true);
    expect(isPart2(made(p, 'ChargeItem', 'A87955'))).toBe(true);
    expect(isPart2(made(p, 'Patient', '300241'))).toBe(false);
    expect(isPart2(made(p, 'Encounter', 'A88001'))).toBe(false);
  });

  it('reads PID names, HL7 dates and table 0001 sex', () => {
    const jordan = made<Patient>(p, 'Patient', '300245');
    expect(jordan.gender).toBe('other');
    expect(jordan.birthDate).toBe('1998-11-11');
    expect(jordan.name?.[0]).toMatchObject({ family: 'PRICE', given: ['JORDAN', 'L'] });
  });

  it('per-type files give the same resources as the combined feed', async () => {
    const split = await translate('hl7v2', ['adt.hl7', 'siu.hl7', 'dft.hl7']);
    const normal = (resources: Resource[]) =>
      resources.map((r) => JSON.stringify(putEntry(r)).replace(/"reference":"[A-Za-z]+\/([0-9a-f-]{36})"/g, '"reference":"urn:uuid:$1"')).sort();
    expect(normal(split.resources)).toStrictEqual(normal(p.resources));
  });
});

describe('hl7v2: updates.hl7 (one person and one appointment over their life, in one file)', () => {
  let p: Produced;
  beforeAll(async () => {
    p = await run('hl7v2', 'updates');
  });

  // HL7 v2 messages are events: A08 updates the A04's person, S14 reschedules the S12's
  // appointment, the DFT finishes it. Each later message updates, none is a duplicate.
  it('reads all five messages; each later message about the same person or appointment updates it', () => {
    expect(p.report.records).toEqual({ read: 5, accepted: 5, rejected: 0, skipped: 0 });
    expect(p.rejects).toEqual([]);
    expect(made<Patient>(p, 'Patient', '300246').name?.[0]?.family).toBe("O'ROURKE");
    expect(made<Encounter>(p, 'Encounter', 'A88010').status).toBe('finished');
    expect(made<ChargeItem>(p, 'ChargeItem', 'A88010').quantity?.value).toBeGreaterThan(0);
  });
});

describe('vendor-json: payload.json', () => {
  let p: Produced;
  beforeAll(async () => {
    p = await run('vendor-json', 'payload');
  });

  it('makes from each client a person, an episode per enrollment with its sessions and reviews, and its IRC assessments', () => {
    expect(p.report.records).toEqual({ read: 6, accepted: 6, rejected: 0, skipped: 0 });
    const counts = Object.fromEntries(Object.entries(p.report.summary.byKind).map(([k, v]) => [k, v?.accepted]));
    expect(counts).toEqual({ person: 6, episode: 7, 'eligibility-review': 6, contact: 16, 'recovery-capital': 4 });
    expect(p.resources.some((r) => JSON.stringify(r).includes('ASM-7702'))).toBe(false); // BARC-10 is not the IRC
  });

  it('keeps the offsets the vendor wrote and maps its codes', () => {
    expect(made<Encounter>(p, 'Encounter', 'SES-90301').period).toEqual({ start: '2026-11-10T10:00:00-07:00', end: '2026-11-10T10:55:00-07:00' });
    expect(made<Encounter>(p, 'Encounter', 'SES-90112').period?.start).toBe('2026-08-10T10:00:00-06:00');
    expect(made<Encounter>(p, 'Encounter', 'SES-90233').status).toBe('cancelled');
    expect(made<Encounter>(p, 'Encounter', 'SES-90355').status).toBe('planned');
    expect(units(made<ChargeItem>(p, 'ChargeItem', 'SES-90298'))).toBe(2); // 23 = 15 + 8
    expect(made<Patient>(p, 'Patient', 'WF-C-10262').gender).toBe('other');
    expect(made<Patient>(p, 'Patient', 'WF-C-10251').name?.[0]?.given).toEqual(['Miguel', 'Ángel']);
  });

  it('labels the clients of the Part 2 program CVW-SUD and their records', () => {
    expect(
      all<Patient>(p, 'Patient')
        .filter(isPart2)
        .map((r) => r.identifier?.[0]?.value)
        .sort(),
    ).toEqual(['WF-C-10251', 'WF-C-10288']);
    for (const id of ['SES-90190', 'SES-90233', 'SES-90298', 'SES-89120']) expect(isPart2(made(p, 'Encounter', id))).toBe(true);
    expect(isPart2(made(p, 'QuestionnaireResponse', 'ASM-7610'))).toBe(true);
    expect(isPart2(made(p, 'Encounter', 'SES-90112'))).toBe(false);
  });

  it('an IRC with a null item is in progress with no total', () => {
    expect(made<QuestionnaireResponse>(p, 'QuestionnaireResponse', 'ASM-7610').status).toBe('in-progress');
    expect(p.report.summary.recoveryCapitalChanges.find((c) => c.administrationId === 'ASM-7788')).toMatchObject({ previousTotal: 52, total: 74, change: 22 });
  });
});
