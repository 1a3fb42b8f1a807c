/**
 * Applying a loaded feed to source records: one source record (or group of rows) -> the
 * canonical records its `records` rules make (mappings/README.md, "Record kinds", "Grouping").
 */
import type { SourceRecord, SourceScope, SourceValue } from '../inbound/source';
import type { Condition } from './conditions';
import { runGroup } from './fields';
import type { FieldGroup } from './rule-types';
import type { Feed, LoadedSource, MappedKind, MappedRecord, MappedSource } from './types';
import { type Env, readOne, StepFailure } from './values';

/** One compiled entry of a feed's `records`. */
export interface CompiledRecordRule {
  kind: MappedKind;
  each?: string;
  when?: Condition;
  group: FieldGroup;
  /** The rule sets `episode.*` targets (a standalone contact, review or plan). */
  hasEpisode: boolean;
}

/** What load.ts compiled for a feed. */
export interface CompiledFeed {
  rules: CompiledRecordRule[];
}

const compiled = new WeakMap<Feed, CompiledFeed>();

export function registerFeed(feed: Feed, c: CompiledFeed): void {
  compiled.set(feed, c);
}

function compiledOf(source: LoadedSource, feed: Feed): CompiledFeed {
  // A copy of a feed ({ ...feed }) finds its rules through the source's own feed of that name.
  const c = compiled.get(feed) ?? compiled.get(source.feeds.find((f) => f.name === feed.name) as Feed);
  if (!c) {
    throw new Error(`Feed ${feed.name} was not made by loadSource`);
  }
  return c;
}

function rejected(record: SourceRecord, feed: Feed, message: string, source = record.where): MappedSource {
  return { record, feed: feed.name, results: [], issues: [{ severity: 'error', field: '', source, message }] };
}

/**
 * Applies a feed to one source record, without grouping (an HL7 message, a JSON record, a CSV
 * row or a group made by mapRecords). An unreadable record gives an error issue and no results.
 */
export function mapRecord(source: LoadedSource, feed: Feed, record: SourceRecord): MappedSource {
  const { rules } = compiledOf(source, feed);
  const scope = record.scope;
  if (record.error !== undefined || scope === undefined) {
    return rejected(record, feed, record.error ?? 'The record could not be read');
  }
  const type = record.meta?.messageType;
  if (feed.format === 'hl7v2' && type !== undefined && !feed.matches(type)) {
    return rejected(record, feed, `Message type ${type} is not read by feed ${feed.name} (it reads ${feed.match.join(', ')})`);
  }
  const format = source.format;
  const results: MappedRecord[] = [];
  try {
    for (const rule of rules) {
      const scopes = rule.each === undefined ? [scope] : scope.list(rule.each);
      for (const s of scopes) {
        if (rule.when && !rule.when(s)) {
          continue;
        }
        const env: Env = { format, issues: [], trace: {}, fed: {}, field: '', at: undefined, record: { n: record.n, where: record.where } };
        const value: Record<string, unknown> = {};
        const episode: Record<string, unknown> | undefined = rule.hasEpisode ? {} : undefined;
        runGroup(rule.group, s, env, '', value, episode);
        const r: MappedRecord = { kind: rule.kind, value, trace: env.trace, issues: env.issues };
        if (env.fed && Object.keys(env.fed).length > 0) {
          r.fed = env.fed;
        }
        if (episode) {
          r.episode = episode;
        }
        results.push(r);
      }
    }
  } catch (e) {
    if (e instanceof StepFailure) {
      // A `when` of a record read a JSON object where it expected a value.
      return rejected(record, feed, `when: ${e.message}`, e.at ?? record.where);
    }
    throw e;
  }
  return { record, feed: feed.name, results, issues: [] };
}

/**
 * Applies a feed to a stream of source records, in order, grouping rows when the feed has
 * `group`. Unreadable records and records without a group key come out on their own, as
 * rejected, and do not end the group they are in the middle of.
 */
export async function* mapRecords(
  source: LoadedSource,
  feed: Feed,
  records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>,
): AsyncIterable<MappedSource> {
  const group = feed.group;
  if (!group) {
    for await (const record of records) {
      yield mapRecord(source, feed, record);
    }
    return;
  }
  const keyOf = (record: SourceRecord): string | MappedSource => {
    const scope = record.scope as SourceScope;
    const values: string[] = [];
    const empty: string[] = [];
    for (const path of group.by) {
      try {
        const g = readOne(scope, path, source.format);
        if (g === undefined) {
          empty.push(path);
        } else {
          values.push(String(g.v));
        }
      } catch (e) {
        if (e instanceof StepFailure) {
          return rejected(record, feed, `group key ${path}: ${e.message}`, e.at ?? record.where);
        }
        throw e;
      }
    }
    if (empty.length > 0) {
      return rejected(record, feed, `group key ${empty.join(', ')} is empty`);
    }
    return values.join('\u001f');
  };
  if (group.sorted) {
    let key: string | undefined;
    let rows: SourceRecord[] = [];
    const seen = new Map<string, string>();
    const emit = (): MappedSource => {
      const record = groupRecord(rows);
      const earlier = seen.get(key as string);
      if (earlier !== undefined) {
        // Not a warning: made from these rows alone, the record would have the earlier group's id
        // and replace it, losing the earlier rows (criteria, sessions) with only a warning said.
        return rejected(
          record,
          feed,
          `Group key ${(key as string).split('\u001f').join(', ')} was also at ${earlier}: rows of a group must be next to each other (or set group.sorted: false); these rows are rejected so that they do not replace the record made there`,
        );
      }
      seen.set(key as string, record.where);
      return mapRecord(source, feed, record);
    };
    for await (const record of records) {
      if (record.error !== undefined || record.scope === undefined) {
        yield mapRecord(source, feed, record);
        continue;
      }
      const k = keyOf(record);
      if (typeof k !== 'string') {
        yield k;
        continue;
      }
      if (k !== key && rows.length > 0) {
        yield emit();
        rows = [];
      }
      key = k;
      rows.push(record);
    }
    if (rows.length > 0) {
      yield emit();
    }
    return;
  }
  const groups = new Map<string, SourceRecord[]>();
  for await (const record of records) {
    if (record.error !== undefined || record.scope === undefined) {
      yield mapRecord(source, feed, record);
      continue;
    }
    const k = keyOf(record);
    if (typeof k !== 'string') {
      yield k;
      continue;
    }
    const rows = groups.get(k);
    if (rows) {
      rows.push(record);
    } else {
      groups.set(k, [record]);
    }
  }
  for (const rows of groups.values()) {
    yield mapRecord(source, feed, groupRecord(rows));
  }
}

/** The source record of a group of rows: the first row's number and meta, every row's lines and raw text, and the rows themselves. */
export function groupRecord(rows: SourceRecord[]): SourceRecord {
  const first = rows[0];
  if (rows.length === 1) {
    return { ...first, scope: new GroupScope(rows, first.where), rows };
  }
  const where = groupWhere(rows.map((r) => r.where));
  return {
    n: first.n,
    input: first.input,
    where,
    raw: rows.map((r) => r.raw).join('\n'),
    scope: new GroupScope(rows, where),
    ...(first.meta ? { meta: first.meta } : {}),
    rows,
  };
}

class GroupScope implements SourceScope {
  private readonly first: SourceScope;
  constructor(
    private readonly rows: SourceRecord[],
    readonly at: string,
  ) {
    this.first = rows[0].scope as SourceScope;
  }
  get(path: string): SourceValue[] {
    return this.first.get(path);
  }
  list(path: string): SourceScope[] {
    return path === 'rows' ? this.rows.map((r) => r.scope as SourceScope) : this.first.list(path);
  }
}

const LINES = /^lines? (\d+)(?:-(\d+))?$/;

/** `lines 14-16` when the rows are next to each other, `lines 14-15, 20, 31` when not; other places joined with ', '. */
export function groupWhere(wheres: string[]): string {
  const ranges: [number, number][] = [];
  for (const w of wheres) {
    const m = LINES.exec(w);
    if (!m) {
      return wheres.join(', ');
    }
    ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  const runs: [number, number][] = [];
  for (const [a, b] of ranges) {
    const last = runs[runs.length - 1];
    if (last && a === last[1] + 1) {
      last[1] = b;
    } else {
      runs.push([a, b]);
    }
  }
  if (runs.length === 1 && runs[0][0] === runs[0][1]) {
    return `line ${runs[0][0]}`;
  }
  return `lines ${runs.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(', ')}`;
}
