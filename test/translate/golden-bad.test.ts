/**
 * The bad-input samples of the shipped sources (examples/outside/<source>/bad/, each described in
 * its README.md): each gives exactly its expected rejects (record, location, field, source path,
 * reason, stage), and the good records of the same file are still accepted (mappings/README.md,
 * "Columns and bad input"). A riverbend-csv sample is read after the good organizations, staff,
 * clients and episodes files, as in a nightly run, so its contacts find their episodes.
 */
import type { Encounter, Identifier, Patient, Resource } from '@medplum/fhirtypes';
import { join } from 'node:path';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { inputsFromPath, translateSource, type RejectError, type RejectRecord, type SourceRunReport } from '../../src/pipeline/translate-source';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';

const OUTSIDE = join(__dirname, '..', '..', 'examples', 'outside');
const MAPPINGS = join(__dirname, '..', '..', 'mappings');
const NOW = new Date('2026-11-22T12:00:00Z');
const CSV_BASE = ['organizations.csv', 'staff.csv', 'clients.csv', 'episodes.csv'];

interface Run {
  report: SourceRunReport;
  rejects: RejectRecord[];
  resources: Resource[];
  /** Source record ids (the source-record identifier) of the resources of a type made in the run. */
  ids(type: Resource['resourceType']): string[];
}

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

async function translateBad(source: string, file: string): Promise<Run> {
  const loaded = loadSource(join(MAPPINGS, source));
  const paths = [...(source === 'riverbend-csv' ? CSV_BASE.map((f) => join(OUTSIDE, source, f)) : []), join(OUTSIDE, source, 'bad', file)];
  const resources: Resource[] = [];
  const rejects: RejectRecord[] = [];
  const report = await translateSource(
    loaded,
    paths.flatMap((p) => inputsFromPath(p, loaded)),
    deps,
    (list) => void resources.push(...list),
    { onReject: (r) => void rejects.push(r) },
  );
  const ids = (type: Resource['resourceType']) =>
    resources
      .filter((r) => r.resourceType === type)
      .flatMap((r) => {
        const id = (r as { identifier?: Identifier | Identifier[] }).identifier;
        return (Array.isArray(id) ? id : id ? [id] : []).filter((i) => i.type?.coding?.[0]?.code === 'source-record').map((i) => i.value ?? '');
      })
      .sort();
  return { report, rejects, resources, ids };
}

/** A reject as the test states it: where it is and why, without the raw input. */
interface Expected {
  record: number;
  where: string;
  kind?: string;
  id?: string;
  errors: RejectError[];
}
const stated = (r: RejectRecord): Expected => ({
  record: r.record,
  where: r.where,
  ...(r.kind ? { kind: r.kind } : {}),
  ...(r.id !== undefined ? { id: r.id } : {}),
  errors: r.errors,
});

interface BadCase {
  source: string;
  file: string;
  /** The rejects of the bad file, in order. */
  rejects: Expected[];
  /** Records read from the bad file (the last input). */
  read: number;
  /** More facts: the good records of the file are accepted, the bad input read right. */
  check(run: Run): void;
}

const parse = (source: string, reason: string): RejectError => ({ source, reason, stage: 'parse' });
const warned = (run: Run, pattern: RegExp) => run.report.outcome.issue.some((i) => i.severity === 'warning' && pattern.test(i.details?.text ?? ''));
const NEW_CONTACTS = (run: Run) => run.ids('Encounter');

const CASES: BadCase[] = [
  {
    source: 'riverbend-csv',
    file: 'contacts-missing-column.csv',
    rejects: [],
    read: 0,
    check(run) {
      const msg = 'Missing column(s) "Staff ID" in the header of contacts-missing-column.csv (line 1); the file was not read';
      expect(run.report.fatal).toBe(msg);
      expect(run.report.inputs.at(-1)).toEqual({ name: 'contacts-missing-column.csv', feed: 'contacts', read: 0, skipped: msg });
      expect(run.report.outcome.issue.some((i) => i.severity === 'fatal' && i.details?.text?.includes('"Staff ID"'))).toBe(true);
      expect(NEW_CONTACTS(run)).toEqual([]);
      // The files before it were read whole.
      expect(run.ids('Patient')).toHaveLength(13);
    },
  },
  {
    source: 'riverbend-csv',
    file: 'contacts-broken-quoting.csv',
    rejects: [
      {
        record: 2,
        where: 'line 3',
        errors: [
          parse('line 3', 'Text after the closing quote: "o" at line 3, column 85 (the quote opened at column 75); a field is either all quoted or not at all'),
        ],
      },
    ],
    read: 3,
    check(run) {
      expect(NEW_CONTACTS(run)).toEqual(['C-21011', 'C-21013']);
      expect(run.rejects[0].raw).toBe('C-21012,E-7002,300127,11/17/2026,4:00 PM,30,PH,KEPT,TELE,N,S-1002,SH,EMO,,"He said "one day at a time" helps"');
    },
  },
  {
    source: 'riverbend-csv',
    file: 'clients-bom.csv',
    rejects: [],
    read: 2,
    check(run) {
      const ines = run.resources.find((r): r is Patient => r.resourceType === 'Patient' && JSON.stringify(r).includes('"300251"'));
      expect(ines?.name?.[0]).toMatchObject({ family: 'Castillo', given: ['Inés'] });
      expect(run.ids('Patient')).toEqual(expect.arrayContaining(['300251', '300252']));
    },
  },
  {
    source: 'riverbend-csv',
    file: 'clients-latin1.csv',
    rejects: [],
    read: 2,
    check(run) {
      const names = run.resources.filter((r): r is Patient => r.resourceType === 'Patient').map((p) => p.name?.[0]);
      expect(names).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ family: 'Beaulieu', given: ['Renée'] }),
          expect.objectContaining({ family: 'Núñez', given: ['José', 'L'] }),
        ]),
      );
      expect(warned(run, /clients-latin1\.csv: not valid UTF-8 .*read as Latin-1/)).toBe(true);
    },
  },
  {
    source: 'riverbend-csv',
    file: 'contacts-blank-lines.csv',
    rejects: [],
    read: 2,
    check(run) {
      expect(NEW_CONTACTS(run)).toEqual(['C-21021', 'C-21022']);
    },
  },
  {
    source: 'riverbend-csv',
    file: 'contacts-extra-cells.csv',
    rejects: [
      { record: 2, where: 'line 3', errors: [parse('line 3', 'Row has 16 cells, the header has 15; the extra cells hold " then again at home."')] },
      { record: 3, where: 'line 4', errors: [parse('line 4', 'Row has 14 cells, the header has 15: missing "Progress Note"')] },
    ],
    read: 4,
    check(run) {
      expect(NEW_CONTACTS(run)).toEqual(['C-21031', 'C-21034']);
    },
  },
  {
    source: 'riverbend-csv',
    file: 'contacts-unknown-codes.csv',
    rejects: [
      {
        record: 2,
        where: 'line 3',
        kind: 'contact',
        id: 'C-21042',
        errors: [
          {
            field: 'mode',
            source: 'line 3, column "Contact Type"',
            reason: "Code 'VID' is not in table contact-mode (Riverbend Contact Type); known codes: F2F, PH, TELE",
            stage: 'mapping',
          },
        ],
      },
    ],
    read: 3,
    check(run) {
      expect(NEW_CONTACTS(run)).toEqual(['C-21041', 'C-21043']);
      const group = run.resources.find((r): r is Encounter => r.resourceType === 'Encounter' && r.identifier?.[0]?.value === 'C-21043');
      const interventions = (group?.extension ?? []).filter((e) => e.url.endsWith('/peer-intervention')).map((e) => e.valueCodeableConcept?.coding?.[0]?.code);
      expect(interventions).toEqual(['self-help']);
      expect(warned(run, /contacts-unknown-codes\.csv line 4.*Code 'PEERGRP' is not in table intervention/)).toBe(true);
    },
  },
  {
    source: 'hl7v2',
    file: 'lf-separators.hl7',
    rejects: [],
    read: 3,
    check(run) {
      expect(run.ids('Patient')).toEqual(['300241']);
      expect(NEW_CONTACTS(run)).toEqual(['A87930', 'A88001', 'T-550216']);
      expect(run.ids('ChargeItem')).toEqual(['A87930', 'T-550216']);
    },
  },
  {
    source: 'hl7v2',
    file: 'escapes.hl7',
    rejects: [],
    read: 2,
    check(run) {
      const encounter = run.resources.find((r): r is Encounter => r.resourceType === 'Encounter');
      const note = encounter?.extension?.find((e) => e.url.endsWith('/contact-note'))?.valueString;
      expect(note).toBe('Client prefers text & phone reminders\nBring bus pass|lunch voucher');
      const patient = run.resources.find((r): r is Patient => r.resourceType === 'Patient');
      expect(patient?.name?.[0]).toMatchObject({ family: "D'ANGELO-BROWN", given: ['MARIA', 'ROSE'] });
    },
  },
  {
    source: 'hl7v2',
    file: 'siu-missing-pid.hl7',
    rejects: [
      {
        record: 1,
        where: 'message 1 (MSH-10 RB202611130002)',
        kind: 'contact',
        id: 'A88006',
        errors: [{ field: 'episode.personId', source: 'PID-3.1', reason: 'Required, but PID-3.1 has no value', stage: 'mapping' }],
      },
    ],
    read: 2,
    check(run) {
      expect(NEW_CONTACTS(run)).toEqual(['A88007']);
    },
  },
  {
    source: 'hl7v2',
    file: 'truncated.hl7',
    rejects: [
      {
        record: 2,
        where: 'message 2 (MSH-10 RB202611130005)',
        errors: [
          parse(
            'message 2 (MSH-10 RB202611130005)',
            'Segment 5 (FT1) is cut off: the input ends in the middle of it (FT1 has 4 fields; HL7 v2.5.1 requires FT1-7)',
          ),
        ],
      },
    ],
    read: 2,
    check(run) {
      expect(run.ids('Patient')).toEqual(['300241']);
      expect(NEW_CONTACTS(run)).toEqual([]);
    },
  },
  {
    source: 'hl7v2',
    file: 'unknown-type.hl7',
    rejects: [
      {
        record: 1,
        where: 'message 1 (MSH-10 RB202611130006)',
        errors: [
          {
            source: 'MSH-9',
            reason: 'No feed of source hl7v2 reads ORU^R01 (it reads ADT^A04, ADT^A08, DFT^P03, SIU^S12, SIU^S14, SIU^S15, SIU^S26)',
            stage: 'mapping',
            code: '200',
          },
        ],
      },
      {
        record: 3,
        where: 'message 3 (MSH-10 RB202611130007)',
        errors: [
          {
            source: 'MSH-9',
            reason: 'No feed of source hl7v2 reads ADT^A03 (it reads ADT^A04, ADT^A08, DFT^P03, SIU^S12, SIU^S14, SIU^S15, SIU^S26)',
            stage: 'mapping',
            code: '201',
          },
        ],
      },
    ],
    read: 3,
    check(run) {
      expect(run.ids('Patient')).toEqual(['300243']);
    },
  },
  {
    source: 'vendor-json',
    file: 'payload-client-not-object.json',
    rejects: [
      { record: 2, where: '$.clients[1]', errors: [parse('$.clients[1]', 'Expected an object, found a string')] },
      { record: 3, where: '$.clients[2]', errors: [parse('$.clients[2]', 'Expected an object, found null')] },
      { record: 5, where: '$.clients[4]', errors: [parse('$.clients[4]', 'Expected an object, found an array')] },
    ],
    read: 5,
    check(run) {
      expect(run.ids('Patient')).toEqual(['WF-C-10262', 'WF-C-10295']);
      expect(NEW_CONTACTS(run)).toEqual(['SES-90251', 'SES-90312', 'SES-90320', 'SES-90344']);
    },
  },
  {
    source: 'vendor-json',
    file: 'payload-unexpected-nesting.json',
    rejects: [
      {
        record: 2,
        where: '$.clients[1]',
        kind: 'contact',
        id: 'SES-90298',
        errors: [
          {
            field: 'contacts[2].durationMinutes',
            source: '$.clients[1].enrollments[0].sessions[2].durationMinutes',
            reason: 'expected a value, found an object',
            stage: 'mapping',
          },
        ],
      },
      {
        record: 3,
        where: '$.clients[2]',
        kind: 'person',
        id: 'WF-C-10262',
        errors: [{ field: 'birthDate', source: '$.clients[2].demographics.birthDate', reason: 'expected a value, found an object', stage: 'mapping' }],
      },
    ],
    read: 3,
    check(run) {
      // The rest of those two clients is accepted: Miguel, his episode with its other sessions, and his assessment; Harper's episode.
      expect(run.ids('Patient')).toEqual(['WF-C-10234', 'WF-C-10251']);
      expect(run.ids('EpisodeOfCare')).toEqual(['ENR-5521', 'ENR-5540', 'ENR-5563']);
      expect(run.ids('QuestionnaireResponse')).toEqual(expect.arrayContaining(['ASM-7740', 'REV-3341']));
    },
  },
];

describe.each(CASES.map((c) => [`${c.source}/bad/${c.file}`, c] as const))('examples/outside/%s', (_, c) => {
  let run: Run;
  beforeAll(async () => {
    run = await translateBad(c.source, c.file);
  });

  it('gives exactly the expected rejects', () => {
    expect(run.rejects.map(stated)).toEqual(c.rejects);
    expect(run.rejects.every((r) => r.input === c.file && r.source === c.source && r.raw.length > 0)).toBe(true);
  });

  it('reads its records and accounts for each: accepted or rejected', () => {
    expect(run.report.inputs.at(-1)?.read).toBe(c.read);
    expect(run.report.records.read).toBe(run.report.records.accepted + run.report.records.rejected + run.report.records.skipped);
    expect(run.report.records.rejected).toBe(c.rejects.length);
  });

  it('still accepts the good records of the file', () => {
    c.check(run);
  });
});

// A bad session is a bad contact: it rejects that contact only (mappings/canonical/README.md,
// "episodes[]"), and the episode's other sessions and review are accepted and counted.
it('vendor-json: a session with an object for its minutes rejects that contact only, and every contact is counted', async () => {
  const run = await translateBad('vendor-json', 'payload-unexpected-nesting.json');
  expect(run.ids('EpisodeOfCare')).toContain('ENR-5540');
  expect(run.ids('Encounter')).toEqual(expect.arrayContaining(['SES-90190', 'SES-90233']));
  expect(run.report.summary.byKind.contact?.read).toBe(10);
});

describe('the report lists a bounded number of issues', () => {
  it('lists the first ones and every fatal one, counts the rest, and still hands every reject to onReject', async () => {
    const loaded = loadSource(join(MAPPINGS, 'riverbend-csv'));
    const files = [...CSV_BASE, 'bad/contacts-unknown-codes.csv', 'bad/contacts-extra-cells.csv', 'bad/contacts-missing-column.csv'];
    const inputs = files.flatMap((f) => inputsFromPath(join(OUTSIDE, 'riverbend-csv', f), loaded));
    const rejects: RejectRecord[] = [];
    const full = await translateSource(loaded, inputs, deps, () => undefined);
    const again = files.flatMap((f) => inputsFromPath(join(OUTSIDE, 'riverbend-csv', f), loaded));
    const report = await translateSource(loaded, again, deps, () => undefined, { onReject: (r) => void rejects.push(r), maxListedIssues: 3 });
    const all = full.outcome.issue;
    expect(all.length).toBeGreaterThan(4);
    expect(all.some((i) => i.severity === 'fatal')).toBe(true);
    const listed = report.outcome.issue;
    const last = listed[listed.length - 1];
    expect(last.severity).toBe('information');
    expect(last.details?.text).toMatch(new RegExp(`^${all.length - (listed.length - 1)} more issues not listed`));
    // The first three as in the full list, then the fatal ones wherever they came.
    expect(listed.slice(0, 3)).toEqual(all.slice(0, 3));
    expect(listed.slice(3, -1)).toEqual(all.slice(3).filter((i) => i.severity === 'fatal'));
    expect(rejects).toHaveLength(report.records.rejected);
    expect(report.records).toEqual(full.records);
  });
});
