/**
 * The inputs of src/pipeline/translate-source.ts: the files at a path (a file, or a folder in the
 * feeds' order), the CSV reader of a feed, and the routing of an HL7 v2 message to the feed that
 * reads its type, refusing headers we cannot take (HL7 table 0357 codes 200-203).
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readCsv } from '../inbound/csv';
import type { SourceRecord } from '../inbound/source';
import { feedFor, mapRecord } from '../translate';
import type { Feed, LoadedSource, MappedSource, MappingIssue } from '../translate/types';

/** One input: a file, a request body, an MLLP message. */
export interface SourceInput {
  /** The file name (matched against the feeds' `match`), or `request body`, `stdin`. */
  name: string;
  chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;
  /** Size in bytes when known (progress). */
  size?: number;
  /** The feed to read it with (else found by name; HL7 messages by their type). */
  feed?: string;
}

export function onlyFeed(source: LoadedSource): Feed | undefined {
  return source.feeds.length === 1 ? source.feeds[0] : undefined;
}

export function readCsvFeed(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
  input: string,
  feed: Feed,
  onWarning: (message: string) => void,
): AsyncIterable<SourceRecord> {
  const csv = feed.csv ?? { delimiter: ',', encoding: 'auto' as const, optionalColumns: [] };
  return readCsv(chunks, { input, delimiter: csv.delimiter, encoding: csv.encoding, columns: feed.columns, optionalColumns: csv.optionalColumns, onWarning });
}

/** The feed of an HL7 message: the one listing its type (or the one named). */
export function routeMessage(source: LoadedSource, record: SourceRecord, only: Feed | undefined): MappedSource {
  if (record.error) {
    return { record, feed: '', results: [], issues: [{ severity: 'error', field: '', source: record.where, message: record.error }] };
  }
  const refused = unsupportedHeader(record);
  if (refused) return { record, feed: '', results: [], issues: [refused] };
  const type = record.meta?.messageType ?? '';
  const feed = only ?? feedFor(source, type);
  if (!feed || !feed.matches(type)) {
    const known = source.feeds.flatMap((f) => f.match);
    // HL7 table 0357: 201 when a feed takes the message type with other trigger events, else 200.
    const typeKnown = type !== '' && known.some((m) => m.split('^')[0] === type.split('^')[0]);
    return {
      record,
      feed: '',
      results: [],
      issues: [
        {
          severity: 'error',
          field: '',
          source: 'MSH-9',
          message: `No feed of source ${source.name} reads ${type || 'messages without a type'} (it reads ${known.join(', ')})`,
          code: typeKnown ? '201' : '200',
        },
      ],
    };
  }
  return mapRecord(source, feed, record);
}

/** HL7 table 0103 processing ids: debugging, production, training. */
const PROCESSING_IDS = new Set(['D', 'P', 'T']);
/** HL7 v2 version ids (table 0104: 2.1 to 2.9, with point releases, and 2.0D). */
const VERSION_ID = /^2\.(?:\d(?:\.\d)?|0D)$/;

/**
 * A message whose MSH-11 (processing id) or MSH-12 (version id) we cannot take (HL7 table 0357
 * codes 202, 203); either may be absent. https://www.hl7.eu/HL7v2x/v251/std251/ch02.html#Heading229
 */
function unsupportedHeader(record: SourceRecord): MappingIssue | undefined {
  const processing = record.scope?.get('MSH-11.1')[0]?.value;
  if (processing !== undefined && !PROCESSING_IDS.has(String(processing))) {
    return {
      severity: 'error',
      field: '',
      source: 'MSH-11',
      message: `MSH-11 (processing id) is ${JSON.stringify(processing)}: not one of HL7 table 0103 (D debugging, P production, T training)`,
      code: '202',
    };
  }
  const version = record.scope?.get('MSH-12.1')[0]?.value;
  if (version !== undefined && !VERSION_ID.test(String(version))) {
    return {
      severity: 'error',
      field: '',
      source: 'MSH-12',
      message: `MSH-12 (version id) is ${JSON.stringify(version)}: not an HL7 v2 version (2.1 to 2.9, e.g. 2.5.1)`,
      code: '203',
    };
  }
  return undefined;
}

/**
 * The inputs at a path: a file, or every file of a folder that a feed reads, in the feeds'
 * `order` (then by name); `-` is standard input. Files of a folder no feed reads are listed with
 * `feed` unset, so the run reports them as skipped.
 */
export function inputsFromPath(path: string, source: LoadedSource, feed?: string): SourceInput[] {
  if (path === '-') return [{ name: 'stdin', chunks: process.stdin, ...(feed ? { feed } : {}) }];
  const file = (p: string): SourceInput => ({
    name: basename(p),
    chunks: createReadStream(p, { highWaterMark: 1 << 16 }),
    size: statSync(p).size,
    ...(feed ? { feed } : {}),
  });
  if (!statSync(path).isDirectory()) return [file(path)];
  const names = readdirSync(path)
    .filter((n) => !n.startsWith('.') && statSync(join(path, n)).isFile())
    .sort();
  if (source.format === 'hl7v2') return names.filter((n) => /\.(hl7|er7|txt)$/i.test(n)).map((n) => file(join(path, n)));
  const order = (n: string): number => (feed ? 0 : (feedFor(source, n)?.order ?? Number.MAX_SAFE_INTEGER));
  return names.sort((a, b) => order(a) - order(b) || a.localeCompare(b)).map((n) => file(join(path, n)));
}

/** Counts bytes as they are read. */
export async function* counted(chunks: SourceInput['chunks'], onBytes: (n: number) => void): AsyncGenerator<Buffer | Uint8Array | string> {
  for await (const chunk of chunks as AsyncIterable<Buffer | Uint8Array | string>) {
    onBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    yield chunk;
  }
}

/** Every chunk of an input, as one buffer. */
export async function collect(chunks: AsyncIterable<Buffer | Uint8Array | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(parts);
}

/**
 * The feeds that read an input, in their order: a CSV file is read by one feed (the first whose
 * `match` takes its name); a JSON page by every feed whose `match` takes it (each reads its own
 * list of the page, `json.records`). A source of one feed reads any file.
 */
export function feedsOf(source: LoadedSource, name: string): Feed[] {
  if (source.format === 'json') {
    const all = source.feeds.filter((f) => f.name === name || f.matches(name)).sort((a, b) => a.order - b.order);
    if (all.length) return all;
  }
  const one = feedFor(source, name) ?? onlyFeed(source);
  return one ? [one] : [];
}
