/**
 * The measured paths of the translation benchmark, shared by `bench/translate.ts` and its RSS
 * child (`bench/translate-child.ts`):
 * - end to end: `translateSource` over files read as fs streams (`inputsFromPath`), every accepted
 *   resource written as a PUT entry of one transaction Bundle to a file (the ingest benchmark's
 *   BundleWriter, back-pressure honoured);
 * - parse only: the source's reader alone (`readCsv`, `readHl7`), every value the feed maps read
 *   once through `scope.get`;
 * - parse + map: the reader and the mapping engine (`mapRecords`, `mapRecord`): source records ->
 *   canonical JSON, no canonical checks, FHIR or validation.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { readCsv } from '../src/inbound/csv';
import { readHl7 } from '../src/inbound/hl7v2-stream';
import type { SourceScope } from '../src/inbound/source';
import type { PipelineDeps, RecordResult } from '../src/pipeline/canonical';
import { inputsFromPath, translateSource, type RejectRecord, type SourceRunReport } from '../src/pipeline/translate-source';
import { feedFor, loadSource, mapRecord, mapRecords, type Feed, type LoadedSource } from '../src/translate';
import { PROJECT_ROOT } from '../src/validation';
import { BundleWriter, HIGH_WATER_MARK } from './ingest-pipeline';

export { loadDeps } from './ingest-pipeline';

export const CSV_SOURCE = 'riverbend-csv';
export const HL7_SOURCE = 'hl7v2';
export const CONTACTS_FILE = 'contacts.csv';

export const loadBenchSource = (name: string): LoadedSource => loadSource(join(PROJECT_ROOT, 'mappings', name));

export interface SourceRun {
  ms: number;
  report: SourceRunReport;
  entries: number;
  /** Rejected source records, as onReject got them (the first 20). */
  rejects: RejectRecord[];
  /** ms from the start to the last record of an input before `phaseInput` (0 when it comes first). */
  phaseStartMs: number;
}

/**
 * One end-to-end run over `path` (a file, or a folder read in the feeds' order). `phaseInput`: the
 * input whose own time is wanted (contacts.csv after the files it needs): `phaseStartMs` is when
 * the last record before its first one was done. `onSourceRecord(n)`: after each source record,
 * with the number read so far.
 */
export async function runSource(
  source: LoadedSource,
  path: string,
  out: string,
  deps: PipelineDeps,
  options: { phaseInput?: string; onRecord?: (resources: Resource[], result: RecordResult) => void; onSourceRecord?: (n: number) => void } = {},
): Promise<SourceRun> {
  const t0 = performance.now();
  const writer = new BundleWriter(out);
  const rejects: RejectRecord[] = [];
  let lastOtherMs = 0;
  const report = await translateSource(
    source,
    inputsFromPath(path, source),
    deps,
    (resources, result) => {
      options.onRecord?.(resources, result);
      return writer.add(resources);
    },
    {
      onReject: (r) => {
        if (rejects.length < 20) rejects.push(r);
      },
      onProgress: (p) => {
        if (options.phaseInput !== undefined && p.input !== options.phaseInput) lastOtherMs = performance.now() - t0;
        options.onSourceRecord?.(p.records);
      },
    },
  );
  await writer.close();
  return { ms: performance.now() - t0, report, entries: writer.entries, rejects, phaseStartMs: lastOtherMs };
}

/** Throws unless every source record of the run was read and accepted (none rejected, none skipped). */
export function checkAllAccepted(what: string, run: SourceRun, expectedRecords: number): void {
  const r = run.report.records;
  if (run.report.fatal || r.rejected !== 0 || r.skipped !== 0 || r.read !== expectedRecords || run.report.summary.rejected !== 0) {
    const first = run.rejects
      .slice(0, 3)
      .map((x) => `  ${x.input} ${x.where}: ${x.errors.map((e) => `${e.field ?? ''} ${e.reason}`).join('; ')}`)
      .join('\n');
    throw new Error(
      `${what}: expected all ${expectedRecords} source records accepted, got read ${r.read}, accepted ${r.accepted}, rejected ${r.rejected}, skipped ${r.skipped}${run.report.fatal ? `, fatal: ${run.report.fatal}` : ''}\n${first}`,
    );
  }
}

const stream = (file: string) => createReadStream(file, { highWaterMark: HIGH_WATER_MARK });

/** Reads every value of `paths` once; returns a checksum of their lengths. */
function readAll(scope: SourceScope, paths: readonly string[]): number {
  let n = 0;
  for (const p of paths) for (const v of scope.get(p)) n += typeof v.value === 'string' ? v.value.length : 1;
  return n;
}

export interface ParseResult {
  records: number;
  /** Sum of the lengths of the values read (keeps the work observable). */
  checksum: number;
}

/** readCsv over a file of `feed`, reading each of the feed's columns of every row once. */
export async function parseCsvOnly(file: string, feed: Feed): Promise<ParseResult> {
  const csv = feed.csv ?? { delimiter: ',', encoding: 'auto' as const, optionalColumns: [] };
  let records = 0;
  let checksum = 0;
  for await (const r of readCsv(stream(file), {
    input: CONTACTS_FILE,
    delimiter: csv.delimiter,
    encoding: csv.encoding,
    columns: feed.columns,
    optionalColumns: csv.optionalColumns,
  })) {
    if (!r.scope) throw new Error(`${r.where}: ${r.error}`);
    records++;
    checksum += readAll(r.scope, feed.columns);
  }
  return { records, checksum };
}

export interface MapResult extends ParseResult {
  /** Canonical records made. */
  mapped: number;
  /** Mapping issues of severity error. */
  errors: number;
}

/** Counts what the mapping engine made of each source record (and keeps the work observable). */
class MapTally {
  private readonly r: MapResult = { records: 0, mapped: 0, errors: 0, checksum: 0 };

  add(m: ReturnType<typeof mapRecord>): void {
    this.r.records++;
    this.r.errors += m.issues.filter((i) => i.severity === 'error').length;
    for (const x of m.results) {
      this.r.mapped++;
      this.r.errors += x.issues.filter((i) => i.severity === 'error').length;
      this.r.checksum += Object.keys(x.value).length;
    }
  }

  result(): MapResult {
    return { ...this.r };
  }
}

/** readCsv + mapRecords (the feed's rules -> canonical JSON), nothing after. */
export async function mapCsvOnly(file: string, source: LoadedSource, feed: Feed): Promise<MapResult> {
  const csv = feed.csv ?? { delimiter: ',', encoding: 'auto' as const, optionalColumns: [] };
  const rows = readCsv(stream(file), {
    input: CONTACTS_FILE,
    delimiter: csv.delimiter,
    encoding: csv.encoding,
    columns: feed.columns,
    optionalColumns: csv.optionalColumns,
  });
  const tally = new MapTally();
  for await (const m of mapRecords(source, feed, rows)) tally.add(m);
  return tally.result();
}

/** Per feed: the paths it reads at the message level, and per `each` segment the paths read in each. */
interface Hl7Paths {
  message: string[];
  each: { segment: string; paths: string[] }[];
}

function hl7Paths(feed: Feed): Hl7Paths {
  const isList = (p: string): boolean => /^[A-Z][A-Z0-9]{2}(\[\*\])?$/.test(p);
  const segment = (p: string): string => p.slice(0, 3);
  const lists = feed.columns.filter(isList).map(segment);
  return {
    message: feed.columns.filter((p) => !isList(p) && !lists.includes(segment(p))),
    each: lists.map((s) => ({ segment: s, paths: feed.columns.filter((p) => !isList(p) && segment(p) === s) })),
  };
}

/** readHl7 over a file; for every message, the paths of its feed read once (list paths in each of their segments). */
export async function parseHl7Only(file: string, source: LoadedSource): Promise<ParseResult> {
  const paths = new Map<Feed, Hl7Paths>();
  let records = 0;
  let checksum = 0;
  for await (const r of readHl7(stream(file), { input: 'feed.hl7' })) {
    if (!r.scope) throw new Error(`${r.where}: ${r.error}`);
    records++;
    const feed = feedFor(source, r.meta?.messageType ?? '');
    if (!feed) throw new Error(`${r.where}: no feed reads ${r.meta?.messageType}`);
    let p = paths.get(feed);
    if (!p) paths.set(feed, (p = hl7Paths(feed)));
    checksum += readAll(r.scope, p.message);
    for (const e of p.each) for (const s of r.scope.list(e.segment)) checksum += readAll(s, e.paths);
  }
  return { records, checksum };
}

/** readHl7 + mapRecord with the message's feed (-> canonical JSON), nothing after. */
export async function mapHl7Only(file: string, source: LoadedSource): Promise<MapResult> {
  const tally = new MapTally();
  for await (const r of readHl7(stream(file), { input: 'feed.hl7' })) {
    const feed = feedFor(source, r.meta?.messageType ?? '');
    if (!feed) throw new Error(`${r.where}: no feed reads ${r.meta?.messageType}`);
    tally.add(mapRecord(source, feed, r));
  }
  return tally.result();
}
