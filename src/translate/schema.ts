/**
 * zod schemas of the mapping files (mappings/README.md): `source.yaml`, `tables.yaml` and the
 * top level of a feed file. Field rules, steps and conditions are checked by the compiler
 * (compile.ts) instead, so that each mistake gets its own message rather than a union's.
 * Every object is strict: an unknown key is an error, never ignored.
 */
import { z } from 'zod';
import { RECORD_KINDS } from '../domain/model';

/** The record kinds a feed may make: the canonical ones. */
export const KINDS = RECORD_KINDS;

/** Names of sources, feeds and tables: they appear in URLs, FHIR ids and reports. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const Name = z.string().regex(NAME, 'use letters, digits, ".", "_" and "-" only, starting with a letter or digit');

export function isAbsoluteUri(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(s);
}

/** An absolute URI without a trailing '/': it is a prefix of identifier systems (`<system>/contact`). */
export const SystemUri = z
  .string()
  .refine(isAbsoluteUri, 'must be an absolute URI, e.g. https://ehr.example.org/peer or urn:oid:1.2.3')
  .refine((s) => !s.endsWith('/'), 'must not end with "/"');

const zoneCache = new Map<string, boolean>();
/** Is `zone` an IANA time zone this Node knows? */
export function isTimeZone(zone: string): boolean {
  let ok = zoneCache.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      ok = zone.length > 0;
    } catch {
      ok = false;
    }
    zoneCache.set(zone, ok);
  }
  return ok;
}
export const TimeZone = z.string().refine(isTimeZone, 'not an IANA time zone (e.g. America/Chicago, UTC)');

const oneOrMore = (item: z.ZodType<string>) => z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item).min(1, 'give at least one'));

export const CsvSection = z.strictObject({
  delimiter: z.string().length(1, 'one character, e.g. "," or "\\t"').optional(),
  encoding: z.enum(['utf8', 'latin1', 'auto']).optional(),
  optionalColumns: z.array(z.string().min(1)).optional(),
  /** The export's header, when known: every column the feed names must be one of these (checked at load). */
  columns: z.array(z.string().min(1)).min(1).optional(),
});

export const SourceFile = z.strictObject({
  name: Name,
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  system: SystemUri,
  format: z.enum(['csv', 'hl7v2', 'json']),
  timezone: TimeZone,
  organization: z.string().min(1).optional(),
  part2Organizations: z.array(z.string().min(1)).default([]),
  csv: CsvSection.optional(),
});
export type SourceFileData = z.infer<typeof SourceFile>;

const CodeValue = z.union([z.string(), z.boolean(), z.number()], { error: 'a code: text, or true/false for a boolean table' });

export const TableDef = z.strictObject({
  description: z.string().optional(),
  system: SystemUri.optional(),
  target: z.string().min(1),
  unmapped: z.enum(['reject', 'warn', 'default']).default('reject'),
  default: CodeValue.optional(),
  ignoreCase: z.boolean().default(false),
  codes: z.record(z.string(), CodeValue),
});
export type TableDefData = z.infer<typeof TableDef>;

export const TablesFile = z.strictObject({
  description: z.string().optional(),
  tables: z.record(Name, TableDef),
});

export const RecordRule = z.strictObject({
  record: z.enum(KINDS),
  description: z.string().optional(),
  each: z.string().min(1).optional(),
  when: z.unknown().optional(),
  fields: z.record(z.string(), z.unknown()),
});
export type RecordRuleData = z.infer<typeof RecordRule>;

export const FeedFile = z.strictObject({
  description: z.string().optional(),
  match: oneOrMore(z.string().min(1)),
  order: z.number().int().default(50),
  csv: CsvSection.optional(),
  json: z.strictObject({ records: z.string().min(1) }).optional(),
  group: z
    .strictObject({
      by: oneOrMore(z.string().min(1)),
      sorted: z.boolean().default(true),
    })
    .optional(),
  records: z.array(RecordRule).min(1, 'a feed makes at least one record'),
});
export type FeedFileData = z.infer<typeof FeedFile>;

/**
 * A mapping in one file: source.yaml's keys, `tables` as in tables.yaml, and `feeds`, one feed
 * file's content per feed name. Each feed is checked with FeedFile by the loader (so that its
 * errors name `feeds.<name>.records[0]...`).
 */
export const MappingFile = SourceFile.extend({
  tables: z.record(Name, TableDef).optional(),
  feeds: z.record(Name, z.unknown()).refine((f) => Object.keys(f).length > 0, 'a mapping has at least one feed'),
});
