/**
 * Small fake source records for the engine's tests (the real readers live in src/inbound and
 * have their own tests): CSV rows, a JSON record, an HL7-like record of path -> values.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SourceRecord, SourceScope, SourceValue } from '../../src/inbound/source';

/** Writes a mapping folder `<tmp>/<name>/` with these files; returns its path. */
export function writeMapping(files: Record<string, string>, name = 'test-src'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-map-'));
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

export function sourceYaml(format: 'csv' | 'json' | 'hl7v2' = 'csv', name = 'test-src', zone = 'America/Chicago'): string {
  return `name: ${name}\ntitle: Test EHR\nsystem: https://ehr.test.example.org/peer\nformat: ${format}\ntimezone: ${zone}\n`;
}

class CsvScope implements SourceScope {
  constructor(
    private readonly row: Record<string, string>,
    readonly at: string,
  ) {}
  get(p: string): SourceValue[] {
    const v = this.row[p];
    return v === undefined ? [] : [{ value: v, at: `${this.at}, column "${p}"` }];
  }
  list(): SourceScope[] {
    return [];
  }
}

/** CSV rows as source records (line numbers from `firstLine`, after a header on line 1). */
export function csvRecords(header: string[], rows: (string[] | { error: string })[], firstLine = 2): SourceRecord[] {
  return rows.map((cells, i) => {
    const line = firstLine + i;
    const where = `line ${line}`;
    if (!Array.isArray(cells)) {
      return { n: i + 1, input: 'test.csv', where, raw: '"broken', error: cells.error };
    }
    const row: Record<string, string> = {};
    header.forEach((h, j) => (row[h] = cells[j] ?? ''));
    return { n: i + 1, input: 'test.csv', where, raw: cells.join(','), scope: new CsvScope(row, where), meta: { header: header.join(',') } };
  });
}

/** A JSON value as a scope: dotted paths, [n], [*], `$.` from the root; objects come back as JSON text marked `structured`. */
export class JsonScope implements SourceScope {
  constructor(
    private readonly value: unknown,
    readonly at: string,
    private readonly root: JsonScope | undefined = undefined,
  ) {}
  get(p: string): SourceValue[] {
    if (p.startsWith('$.')) {
      return (this.root ?? this).get(p.slice(2));
    }
    return this.walk(p).flatMap(([v, at]) => {
      if (v === undefined) return [];
      if (v !== null && typeof v === 'object') {
        return [{ value: JSON.stringify(v), at, structured: Array.isArray(v) ? 'array' : 'object' }];
      }
      return [{ value: v as string | number | boolean | null, at }];
    });
  }
  list(p: string): SourceScope[] {
    const base = p.endsWith('[*]') ? p.slice(0, -3) : p;
    return this.walk(base).flatMap(([v, at]) => (Array.isArray(v) ? v.map((x, i) => new JsonScope(x, `${at}[${i}]`, this.root ?? this)) : []));
  }
  private walk(p: string): [unknown, string][] {
    let cur: [unknown, string][] = [[this.value, this.at]];
    for (const part of p.split('.')) {
      const m = /^([^[]+)((?:\[(?:\d+|\*)\])*)$/.exec(part);
      if (!m) return [];
      cur = cur.map(
        ([v, at]) => [v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[m[1]] : undefined, `${at}.${m[1]}`] as [unknown, string],
      );
      for (const idx of m[2].match(/\[(\d+|\*)\]/g) ?? []) {
        const k = idx.slice(1, -1);
        cur = cur.flatMap(([v, at]) => {
          if (!Array.isArray(v)) return [];
          return k === '*' ? v.map((x, i) => [x, `${at}[${i}]`] as [unknown, string]) : [[v[Number(k)], `${at}[${k}]`] as [unknown, string]];
        });
      }
    }
    return cur;
  }
}

export function jsonRecord(value: unknown, n = 1): SourceRecord {
  const at = `$[${n - 1}]`;
  return { n, input: 'body.json', where: at, raw: JSON.stringify(value), scope: new JsonScope(value, at) };
}

/** An HL7-ish record: `values` maps paths (`PID-3.1`) to values; `lists` maps a segment name to item scopes' values. */
export class MapScope implements SourceScope {
  constructor(
    private readonly values: Record<string, string | string[]>,
    readonly at: string,
    private readonly lists: Record<string, Record<string, string | string[]>[]> = {},
    private readonly parent?: MapScope,
  ) {}
  get(p: string): SourceValue[] {
    const v = this.values[p];
    if (v === undefined) {
      return this.parent ? this.parent.get(p) : [];
    }
    const seg = /^([A-Z0-9]{3})\[\d+\]$/.exec(this.at);
    const prefix = seg && p.startsWith(`${seg[1]}-`) ? `${this.at}${p.slice(3)}` : p;
    return Array.isArray(v) ? v.map((x, i) => ({ value: x, at: prefix.replace('[*]', `[${i + 1}]`) })) : [{ value: v, at: prefix }];
  }
  list(p: string): SourceScope[] {
    return (this.lists[p] ?? []).map((vals, i) => new MapScope(vals, `${p}[${i + 1}]`, {}, this));
  }
}

export function hl7Record(
  messageType: string,
  values: Record<string, string | string[]>,
  lists: Record<string, Record<string, string | string[]>[]> = {},
  n = 1,
): SourceRecord {
  return { n, input: 'feed.hl7', where: `message ${n}`, raw: 'MSH|...', scope: new MapScope(values, `message ${n}`, lists), meta: { messageType } };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
