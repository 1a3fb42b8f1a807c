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
import { feedFor, mapRecords } from '../translate';
import type { LoadedSource, MappedKind, MappedRecord, MappedSource, MappingIssue } from '../translate/types';
import { CanonicalRun, type PipelineDeps, type RecordKind, type RecordResult, type RunSummary } from './canonical';
import { recordIssue } from './issues';
import { rejectSubject } from './reject-owners';
import type { RejectError, RejectRecord } from '../store/rejects';
import { sentKinds } from './awaiting';
import { onlyFeed, readCsvFeed, routeMessage, type SourceInput } from './source-inputs';

export type { RejectError, RejectRecord };
export { inputsFromPath, type SourceInput } from './source-inputs';

/** Counts of source records (rows, messages, JSON records). */
export interface SourceCounts {
  read: number;
  /** Every canonical record made from it was accepted. */
  accepted: number;
  /** At least one was rejected, or it could not be read. */
  rejected: number;
  /** Read, but it made no record (no rule of its feed applies: every `when` was false). */
  skipped: number;
}

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

/**
 * The issues of a run: the first `max` are kept, the others only counted by severity, so a file
 * of millions of bad lines does not hold millions of issues. `list()` ends with a line saying
 * how many were left out.
 */
class IssueList {
  private readonly kept: OperationOutcomeIssue[] = [];
  private readonly omitted = new Map<string, number>();
  private total = 0;

  constructor(private readonly max: number) {}

  push(...issues: OperationOutcomeIssue[]): void {
    for (const issue of issues) {
      this.total++;
      // A fatal issue (an input abandoned) is always listed: it is the one that says why a run stopped.
      if (this.kept.length < this.max || issue.severity === 'fatal') this.kept.push(issue);
      else this.omitted.set(issue.severity, (this.omitted.get(issue.severity) ?? 0) + 1);
    }
  }

  get size(): number {
    return this.total;
  }

  list(): OperationOutcomeIssue[] {
    if (this.omitted.size === 0) return this.kept;
    const counts = [...this.omitted].map(([severity, n]) => `${n} ${severity}${n === 1 || severity === 'information' ? '' : 's'}`).join(', ');
    const text = `${this.total - this.kept.length} more issues not listed (${counts}); each rejected record's errors go with it to the rejects report (peerbridge translate --rejects) or the reject store (ingest without dryRun)`;
    return [...this.kept, { severity: 'information', code: 'informational', details: { text } }];
  }
}

const isError = (i: { severity: string }): boolean => i.severity === 'error' || i.severity === 'fatal';

/** `durationMinutes` from `$.durationMinutes`; '' for `$`. */
function fieldOf(expression: string | undefined): string {
  if (!expression || expression === '$') return '';
  return expression.startsWith('$.') ? expression.slice(2) : expression.replace(/^\$/, '');
}

/** The source location of a canonical field: its own trace, or its nearest traced parent's. */
function sourceOf(field: string, trace: Record<string, string>): string | undefined {
  let f = field;
  while (f) {
    const at = trace[f];
    if (at !== undefined) return at;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    if (cut <= 0) break;
    f = f.slice(0, cut);
  }
  return undefined;
}

const stageOf = (issue: OperationOutcomeIssue): string => /stage: (\w+)/.exec(issue.diagnostics ?? '')?.[1] ?? 'canonical';

/** Counts bytes as they are read. */
async function* counted(chunks: SourceInput['chunks'], onBytes: (n: number) => void): AsyncGenerator<Buffer | Uint8Array | string> {
  for await (const chunk of chunks as AsyncIterable<Buffer | Uint8Array | string>) {
    onBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    yield chunk;
  }
}

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
  const inputReports: SourceRunReport['inputs'] = [];
  let fatal: string | undefined;
  let bytes = 0;

  // `mapped`: the canonical record, when the mapping made one (what it is about: who owns the reject).
  const reject = async (m: MappedSource, errors: RejectError[], kind?: RecordKind, id?: string, mapped?: MappedRecord): Promise<void> => {
    const r = m.record;
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
      ...(r.meta?.header !== undefined ? { header: r.meta.header } : {}),
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
    details: { text: `${r.input} ${at && at.startsWith(r.where) ? at : `${r.where}${at ? `, ${at}` : ''}`}: ${text}` },
    diagnostics: `stage: ${stage}; record ${r.n}`,
    expression: [field ? `$.${field}` : '$'],
  });

  const mappingIssue = (r: SourceRecord, i: MappingIssue): OperationOutcomeIssue =>
    located(r, i.severity, i.severity === 'error' ? 'processing' : 'informational', i.field, i.source, i.message, 'mapping');

  const handleRecord = async (m: MappedSource, mapped: MappedRecord): Promise<boolean> => {
    const r = m.record;
    issues.push(...mapped.issues.filter((i) => !isError(i)).map((i) => mappingIssue(r, i)));
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
    let ok = true;
    for (const result of results) {
      const errors: RejectError[] = [];
      for (const issue of result.issues) {
        const field = fieldOf(issue.expression?.[0]);
        const at = /; source: (.*)$/.exec(issue.diagnostics ?? '')?.[1] ?? sourceOf(field, mapped.trace);
        const stage = stageOf(issue);
        issues.push(located(r, issue.severity, issue.code, field, at, issue.details?.text ?? '', stage));
        if (isError(issue)) errors.push({ ...(field ? { field } : {}), ...(at ? { source: at } : {}), reason: issue.details?.text ?? '', stage });
      }
      if (result.accepted) {
        await sink(result.resources, result);
      } else {
        ok = false;
        await reject(m, errors, result.kind, result.id ?? (typeof mapped.value.id === 'string' ? mapped.value.id : undefined), mapped);
      }
    }
    return ok;
  };

  const handle = async (m: MappedSource): Promise<void> => {
    counts.read++;
    const recordErrors = m.issues.filter(isError);
    issues.push(...m.issues.map((i) => mappingIssue(m.record, i)));
    let ok = recordErrors.length === 0;
    if (!ok) {
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
    } else {
      for (const mapped of m.results) {
        if (!(await handleRecord(m, mapped))) ok = false;
      }
    }
    if (!ok) counts.rejected++;
    else if (m.results.length) counts.accepted++;
    else {
      // Read, but no record rule applied (every `when` false: a DFT without H0038 charges): said, not silent.
      counts.skipped++;
      issues.push(
        located(m.record, 'information', 'informational', '', undefined, `made no record: no rule of feed ${m.feed || '(none)'} applies to it`, 'mapping'),
      );
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
    const before = counts.read;
    const chunks = counted(input.chunks, (n) => (bytes += n));
    const report: SourceRunReport['inputs'][number] = { name: input.name, read: 0 };
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
        const feed = input.feed !== undefined ? source.feeds.find((f) => f.name === input.feed) : (feedFor(source, basename(input.name)) ?? onlyFeed(source));
        if (!feed) {
          const known = source.feeds.map((f) => `${f.name} (${f.match.join(', ')})`).join('; ');
          if (input.feed !== undefined) throw new InputError(`No feed "${input.feed}" in source ${source.name}: feeds are ${known}`, '$');
          // A file of a folder that no feed reads (a README, a stray export): said, not fatal.
          report.skipped = `no feed of source ${source.name} reads it (feeds: ${known})`;
          issues.push(recordIssue('warning', 'not-supported', '$', `${input.name} was not read: ${report.skipped}`, 'parse'));
          (input.chunks as { destroy?: () => void }).destroy?.();
          continue;
        }
        report.feed = feed.name;
        const onWarning = (w: string): void => issues.push(recordIssue('warning', 'informational', '$', `${input.name}: ${w}`, 'parse'));
        const records =
          source.format === 'csv'
            ? readCsvFeed(chunks, input.name, feed, onWarning)
            : readJson(chunks, { input: input.name, records: feed.json?.records ?? '$', onWarning });
        for await (const m of mapRecords(source, feed, records)) await queue(m);
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
  return { summary: finished.summary, records: counts, outcome, ...(fatal ? { fatal } : {}), inputs: inputReports };
}
