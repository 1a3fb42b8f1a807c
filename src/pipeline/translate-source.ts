/**
 * An outside source through the whole pipeline: read (src/inbound: CSV, HL7 v2, JSON) -> map
 * (src/translate: the source's mapping files) -> canonical (zod, rules) -> FHIR -> validated.
 * Records stream one at a time, so inputs of any size run in flat memory. Every source record
 * is either accepted or reported, with its record number, location, fields, source paths and raw
 * input (`onReject`): nothing is silently dropped.
 */
import { basename } from 'node:path';
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { CollectionName } from '../domain/model';
import { readHl7 } from '../inbound/hl7v2-stream';
import { readJson } from '../inbound/json-source';
import { InputError, type SourceRecord } from '../inbound/source';
import { groupRecord, mapRecord, mapRecords } from '../translate';
import type { Feed, LoadedSource, MappedKind, MappedRecord, MappedSource, MappingIssue } from '../translate/types';
import { CanonicalRun, type PipelineDeps, type RecordKind, type RecordResult, type RunSummary } from './canonical';
import { recordIssue } from './issues';
import { rejectSubject } from './reject-owners';
import { IssueList } from './issue-list';
import { blamedRows, fieldOf, LINE, ownPlaces, sourceOf } from './source-places';
import type { RejectError, RejectRecord } from '../store/rejects';
import { sentKinds } from './awaiting';
import { counted, collect, feedsOf, readCsvFeed, routeMessage, type SourceInput } from './source-inputs';

export type { RejectError, RejectRecord };
export { inputsFromPath, type SourceInput } from './source-inputs';

/**
 * Counts of source records (rows, messages, JSON records). A feed that groups rows (`group`)
 * counts its rows here, each accepted or rejected on its own, and its groups in `groups`.
 */
export interface SourceCounts {
  read: number;
  /** Every canonical record made from it was accepted. */
  accepted: number;
  /** At least one was rejected, or it could not be read. */
  rejected: number;
  /** Read, but it made no record (no rule of its feed applies: every `when` was false). */
  skipped: number;
  /** The groups of rows of grouped feeds (present when the source has one). */
  groups?: GroupCounts;
}

/** Groups of rows: accepted when every row of the group was, rejected when at least one row was. */
export interface GroupCounts {
  read: number;
  accepted: number;
  rejected: number;
}

/** A canonical record that was not accepted, with its errors located in the source. */
interface Failed {
  result: RecordResult;
  errors: RejectError[];
  mapped: MappedRecord;
}

/** How many times a grouped record is made again without the rows that failed. */
const MAX_GROUP_RETRIES = 3;

export interface SourceRunReport {
  /** Canonical records, per kind. */
  summary: RunSummary;
  /** Source records. */
  records: SourceCounts;
  /** Every issue: rejected records' errors and warnings, with the source location in `diagnostics`. */
  outcome: OperationOutcome;
  /** A problem that stopped an input (a missing column); the other inputs were read. */
  fatal?: string;
  inputs: { name: string; feed?: string; read: number; skipped?: string }[];
}

export interface SourceHooks {
  onReject?(reject: RejectRecord): void | Promise<void>;
  /** Issues listed in the report's OperationOutcome (default 1,000); the rest are counted, so memory stays flat. */
  maxListedIssues?: number;
  onProgress?(progress: { bytes: number; records: number; input: string }): void;
}

const COLLECTION_OF: Partial<Record<MappedKind, CollectionName>> = {
  organization: 'organizations',
  practitioner: 'practitioners',
  person: 'people',
  episode: 'episodes',
  'recovery-capital': 'recoveryCapital',
  'supervisor-assessment': 'supervisorAssessments',
};

/**
 * Source records read ahead with a store: what they refer to is asked for all of them at once
 * (one question per kind: stored-context.ts `prefetch`), then each is translated in order.
 */
export const LOOKUP_BATCH = 256;

/** Issues listed in a report by default; every rejected record still goes to `onReject` (the rejects report). */
export const MAX_LISTED_ISSUES = 1000;

const isError = (i: { severity: string }): boolean => i.severity === 'error' || i.severity === 'fatal';

const stageOf = (issue: OperationOutcomeIssue): string => /stage: (\w+)/.exec(issue.diagnostics ?? '')?.[1] ?? 'canonical';

/** Translates the inputs of one source; `sink` receives each accepted record's resources. */
export async function translateSource(
  source: LoadedSource,
  inputs: SourceInput[],
  deps: PipelineDeps,
  sink: (resources: Resource[], result: RecordResult) => void | Promise<void>,
  hooks: SourceHooks = {},
): Promise<SourceRunReport> {
  // Records of an outside source are events: a later one with an earlier one's id updates it.
  const run = new CanonicalRun({
    ...deps,
    part2Organizations: [...(deps.part2Organizations ?? []), ...source.part2Organizations],
    laterRecordsUpdate: true,
    awaitedKinds: sentKinds(source.feeds),
  });
  const issues = new IssueList(hooks.maxListedIssues ?? MAX_LISTED_ISSUES);
  issues.push(...run.setSource(source.system));
  const counts: SourceCounts = { read: 0, accepted: 0, rejected: 0, skipped: 0 };
  // Feeds that group rows into records: their rows are counted, and their groups on their own.
  const groups: GroupCounts | undefined = source.feeds.some((f) => f.group) ? { read: 0, accepted: 0, rejected: 0 } : undefined;
  const inputReports: SourceRunReport['inputs'] = [];
  let fatal: string | undefined;
  let bytes = 0;

  // `mapped`: the canonical record, when the mapping made one (what it is about: who owns the reject).
  // `at`: the row(s) of a group that failed, when it is not the whole source record.
  const reject = async (m: MappedSource, errors: RejectError[], kind?: RecordKind, id?: string, mapped?: MappedRecord, at?: SourceRecord): Promise<void> => {
    const r = at ?? m.record;
    await hooks.onReject?.({
      source: source.name,
      ...(m.feed ? { feed: m.feed } : {}),
      record: r.n,
      input: r.input,
      where: r.where,
      ...(kind ? { kind } : {}),
      ...(id !== undefined ? { id } : {}),
      errors,
      raw: r.raw,
      ...(m.record.meta?.header !== undefined ? { header: m.record.meta.header } : {}),
      ...(mapped ? { about: rejectSubject(source.system, mapped) } : {}),
    });
  };

  /** An OperationOutcome issue for the report, located in the source. */
  const located = (
    r: SourceRecord,
    severity: OperationOutcomeIssue['severity'],
    code: OperationOutcomeIssue['code'],
    field: string,
    at: string | undefined,
    text: string,
    stage: string,
  ): OperationOutcomeIssue => ({
    severity,
    code,
    details: { text: `${r.input} ${at && (at.startsWith(r.where) || (r.rows && LINE.test(at))) ? at : `${r.where}${at ? `, ${at}` : ''}`}: ${text}` },
    diagnostics: `stage: ${stage}; record ${r.n}`,
    expression: [field ? `$.${field}` : '$'],
  });

  const mappingIssue = (r: SourceRecord, i: MappingIssue): OperationOutcomeIssue =>
    located(r, i.severity, i.severity === 'error' ? 'processing' : 'informational', i.field, i.source, i.message, 'mapping');

  /** Issues of one source record, each said once: one empty ClientNo read by four targets is one line, not four. */
  const sayer = (): ((...list: OperationOutcomeIssue[]) => void) => {
    const said = new Set<string>();
    return (...list) => {
      for (const issue of list) {
        const key = `${issue.severity}\u0000${issue.details?.text ?? ''}`;
        if (said.has(key)) continue;
        said.add(key);
        issues.push(issue);
      }
    };
  };

  /** Translates one mapped record; sinks what is accepted and returns what is not, with its errors. */
  const translateMapped = async (
    m: MappedSource,
    mapped: MappedRecord,
    say: (...list: OperationOutcomeIssue[]) => void,
  ): Promise<{ accepted: number; failed: Failed[] }> => {
    const r = m.record;
    say(...mapped.issues.filter((i) => !isError(i)).map((i) => mappingIssue(r, i)));
    // Mapping errors go into the canonical run by path, so an episode's bad contact rejects that contact only.
    const pre = mapped.issues.filter(isError).map((i) => ({
      ...recordIssue('error', 'processing', i.field ? `$.${i.field}` : '$', i.message, 'mapping'),
      ...(i.source ? { diagnostics: `stage: mapping; source: ${i.source}` } : {}),
    }));
    const collection = COLLECTION_OF[mapped.kind];
    // With a store, what the record refers to outside the run was looked up for its batch (`flush`: stored-context.ts `prefetch`).
    let results: RecordResult[];
    if (collection) {
      results = run.translateAt(collection, '$', mapped.value, pre);
    } else if (pre.length) {
      results = [run.rejectRecord(mapped.kind, '$', mapped.value, pre)];
    } else {
      results = [run.translateChild(mapped.kind as 'contact' | 'eligibility-review' | 'recovery-plan', '$', mapped.value, mapped.episode ?? {})];
    }
    let accepted = 0;
    const failed: Failed[] = [];
    for (const result of results) {
      const errors: RejectError[] = [];
      for (const issue of result.issues) {
        const field = fieldOf(issue.expression?.[0]);
        const at = /; source: (.*)$/.exec(issue.diagnostics ?? '')?.[1] ?? ownPlaces(field, mapped) ?? sourceOf(field, mapped.trace);
        const stage = stageOf(issue);
        say(located(r, issue.severity, issue.code, field, at, issue.details?.text ?? '', stage));
        if (isError(issue)) errors.push({ ...(field ? { field } : {}), ...(at ? { source: at } : {}), reason: issue.details?.text ?? '', stage });
      }
      if (result.accepted) {
        accepted++;
        await sink(result.resources, result);
      } else {
        failed.push({ result, errors, mapped });
      }
    }
    return { accepted, failed };
  };

  const idOf = (f: Failed): string | undefined => f.result.id ?? (typeof f.mapped.value.id === 'string' ? f.mapped.value.id : undefined);

  /**
   * One mapped record of a group of rows (a feed's `group`): a reject is the row that failed, with
   * its own place and raw text. When nothing of the record was accepted and its errors name some
   * of its rows only, the record is made again from the other rows, which are accepted (or
   * rejected) on their own. Resolves to the rows rejected, or undefined when the errors name no
   * row (the whole group is rejected, as one record).
   */
  const settleGrouped = async (
    m: MappedSource,
    mapped: MappedRecord,
    say: (...list: OperationOutcomeIssue[]) => void,
    depth = 0,
  ): Promise<Set<SourceRecord> | undefined> => {
    const rows = m.record.rows as SourceRecord[];
    const { accepted, failed } = await translateMapped(m, mapped, say);
    const out = new Set<SourceRecord>();
    if (failed.length === 0) return out;
    // The record itself failed (its children then fail with it): its own errors say which rows.
    const head = accepted === 0 ? blamedRows(rows, failed[0].errors) : undefined;
    if (head && head.size > 0 && head.size < rows.length && depth < MAX_GROUP_RETRIES) {
      for (const [row, errors] of head) {
        out.add(row);
        await reject(m, errors, failed[0].result.kind, idOf(failed[0]), failed[0].mapped, row);
      }
      const feed = source.feeds.find((f) => f.name === m.feed) as Feed;
      const again = mapRecord(source, feed, groupRecord(rows.filter((row) => !head.has(row))));
      const same = again.issues.length === 0 ? again.results.find((x) => x.kind === mapped.kind && x.value.id === mapped.value.id) : undefined;
      if (same) {
        // The failed try is not counted: the record is read once, as made from the rows that are left.
        for (const f of failed) run.uncount(f.result);
        const more = await settleGrouped(again, same, say, depth + 1);
        if (!more) return undefined;
        for (const row of more) out.add(row);
        return out;
      }
    }
    const blames = failed.map((f) => blamedRows(rows, f.errors));
    const named = new Set<SourceRecord>();
    for (const b of blames) for (const row of b?.keys() ?? []) named.add(row);
    // An error about the group as a whole, or a record of which nothing was made while some of its
    // rows are named by no error (they would be neither accepted nor rejected): the group is
    // rejected as one record, with every error.
    if (blames.some((b) => !b || b.size === 0) || (accepted === 0 && named.size < rows.length)) {
      for (const f of failed) await reject(m, f.errors, f.result.kind, idOf(f), f.mapped);
      return undefined;
    }
    for (const [i, f] of failed.entries()) {
      for (const [row, errors] of blames[i] ?? []) {
        out.add(row);
        await reject(m, errors, f.result.kind, idOf(f), f.mapped, row);
      }
    }
    return out;
  };

  const handle = async (m: MappedSource): Promise<void> => {
    const say = sayer();
    const rows = m.record.rows;
    const n = rows?.length ?? 1;
    counts.read += n;
    if (groups && rows) groups.read++;
    const recordErrors = m.issues.filter(isError);
    say(...m.issues.map((i) => mappingIssue(m.record, i)));
    let rejectedRows = 0;
    let none = false;
    if (recordErrors.length) {
      rejectedRows = n;
      await reject(
        m,
        recordErrors.map((i) => ({
          ...(i.field ? { field: i.field } : {}),
          ...(i.source ? { source: i.source } : {}),
          reason: i.message,
          stage: m.record.error ? 'parse' : 'mapping',
          ...(i.code ? { code: i.code } : {}),
        })),
      );
    } else if (rows) {
      const rejected = new Set<SourceRecord>();
      for (const mapped of m.results) {
        const out = await settleGrouped(m, mapped, say);
        if (!out) {
          rows.forEach((row) => rejected.add(row));
        } else {
          out.forEach((row) => rejected.add(row));
        }
      }
      rejectedRows = rejected.size;
      none = m.results.length === 0;
    } else {
      for (const mapped of m.results) {
        const { failed } = await translateMapped(m, mapped, say);
        for (const f of failed) await reject(m, f.errors, f.result.kind, idOf(f), f.mapped);
        if (failed.length) rejectedRows = 1;
      }
      none = m.results.length === 0;
    }
    if (none) {
      // Read, but no record rule applied (every `when` false: a DFT without H0038 charges): said, not silent.
      counts.skipped += n;
      say(located(m.record, 'information', 'informational', '', undefined, `made no record: no rule of feed ${m.feed || '(none)'} applies to it`, 'mapping'));
    } else {
      counts.rejected += rejectedRows;
      counts.accepted += n - rejectedRows;
    }
    if (groups && rows && !none) {
      if (rejectedRows) groups.rejected++;
      else groups.accepted++;
    }
    hooks.onProgress?.({ bytes, records: counts.read, input: m.record.input });
  };

  // With a store, records wait in `pending` until a batch is full (or the input ends), then their lookups are made together.
  const pending: MappedSource[] = [];
  const flush = async (): Promise<void> => {
    const batch = pending.splice(0);
    if (batch.length === 0) return;
    await run.prefetch(
      batch.flatMap((m) =>
        m.issues.some(isError) ? [] : m.results.filter((r) => !r.issues.some(isError)).map((r) => ({ kind: r.kind, value: r.value, ref: r.episode })),
      ),
    );
    for (const m of batch) await handle(m);
  };
  const queue = async (m: MappedSource): Promise<void> => {
    if (!run.looksUp) return handle(m);
    pending.push(m);
    if (pending.length >= LOOKUP_BATCH) await flush();
  };

  for (const input of inputs) {
    let before = counts.read;
    const chunks = counted(input.chunks, (n) => (bytes += n));
    let report: SourceRunReport['inputs'][number] = { name: input.name, read: 0 };
    inputReports.push(report);
    try {
      if (source.format === 'hl7v2') {
        const only = input.feed !== undefined ? source.feeds.find((f) => f.name === input.feed) : undefined;
        if (input.feed !== undefined && !only)
          throw new InputError(`No feed "${input.feed}" in source ${source.name} (feeds: ${source.feeds.map((f) => f.name).join(', ')})`, '$');
        for await (const record of readHl7(chunks, { input: input.name })) {
          await queue(routeMessage(source, record, only));
        }
      } else {
        const named = input.feed !== undefined ? source.feeds.find((f) => f.name === input.feed) : undefined;
        const feeds = named ? [named] : input.feed !== undefined ? [] : feedsOf(source, basename(input.name));
        if (!feeds.length) {
          const known = source.feeds.map((f) => `${f.name} (${f.match.join(', ')})`).join('; ');
          if (input.feed !== undefined) throw new InputError(`No feed "${input.feed}" in source ${source.name}: feeds are ${known}`, '$');
          // A file of a folder that no feed reads (a README, a stray export): said, not fatal.
          report.skipped = `no feed of source ${source.name} reads it (feeds: ${known})`;
          issues.push(recordIssue('warning', 'not-supported', '$', `${input.name} was not read: ${report.skipped}`, 'parse'));
          (input.chunks as { destroy?: () => void }).destroy?.();
          continue;
        }
        const onWarning = (w: string): void => issues.push(recordIssue('warning', 'informational', '$', `${input.name}: ${w}`, 'parse'));
        // A JSON page read by several feeds (a list each: $.data.clients[*], $.data.visits[*]) is
        // read once into memory, then each feed reads its own list from it, in the feeds' order.
        const page = feeds.length > 1 ? [await collect(chunks)] : undefined;
        for (const [i, feed] of feeds.entries()) {
          if (i > 0) {
            await flush(); // the previous feed's records counted under its own report
            report.read = counts.read - before;
            before = counts.read;
            report = { name: input.name, read: 0 };
            inputReports.push(report);
          }
          report.feed = feed.name;
          const records =
            source.format === 'csv'
              ? readCsvFeed(chunks, input.name, feed, onWarning)
              : readJson(page ?? chunks, { input: input.name, records: feed.json?.records ?? '$', ...(i === 0 ? { onWarning } : {}) });
          for await (const m of mapRecords(source, feed, records)) await queue(m);
        }
      }
      await flush();
    } catch (err) {
      // The records read before the input stopped are translated all the same.
      await flush();
      if (!(err instanceof InputError)) throw err;
      report.skipped = err.message;
      fatal ??= err.message;
      issues.push(recordIssue('fatal', 'structure', '$', `${input.name} (${err.where}): ${err.message}`, 'parse'));
    }
    report.read = counts.read - before;
  }

  const finished = run.finish();
  for (const issue of finished.issues) issues.push(issue);
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.size
      ? issues.list()
      : [
          {
            severity: 'information',
            code: 'informational',
            details: { text: `All ${counts.read} records accepted (${finished.summary.resources} resources)` },
          },
        ],
  };
  if (groups) counts.groups = groups;
  return { summary: finished.summary, records: counts, outcome, ...(fatal ? { fatal } : {}), inputs: inputReports };
}
