/**
 * `peerbridge mapping init --from <export.csv|sample.json>`: a starting one-file mapping
 * (mappings/README.md, "Writing a new mapping from scratch") from a CSV header, or from the lists
 * of a JSON sample (a feed per list of objects: `$[*]`, `$.clients[*]`, `$.data.visits[*]`).
 * Every column is listed: a column whose name suggests a target is mapped to it, marked `# guess`;
 * the others are listed as comments. Required targets that no column matched are `# TODO` lines.
 * Code targets get a code table listing the codes seen in the sample, each mapped to `TODO`, so
 * the file stops at load (with the line) until a person has chosen the canonical codes.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { RecordKind } from '../domain/model';
import { readCsv } from '../inbound/csv';
import { CANONICAL_LISTS } from '../translate';
import { guessTargets, kindOfName, kindOf, requiredTargets, targetTakes, type Guess } from './mapping-guess';

export interface InitOptions {
  /** The sample file (a CSV export with its header, or a JSON document). */
  from: string;
  /** The record kind (`contacts`, `contact`, `clients`, ...) when the file name does not say it. */
  kind?: string;
  /** The mapping's name (default: the file's name without extension). */
  name?: string;
}

/** A list of records to map: a CSV file, or one list of a JSON sample. */
interface Table {
  feed: string;
  match: string;
  records?: string;
  kind: RecordKind;
  kindGuessed: boolean;
  columns: string[];
  /** Up to 12 distinct values seen per column, in order of appearance. */
  seen: Map<string, string[]>;
}

const SAMPLE_ROWS = 500;
const MAX_SEEN = 12;

const q = (s: string): string => (/^[A-Za-z_][\w.-]*$/.test(s) && !/^(true|false|yes|no|on|off|null)$/i.test(s) ? s : JSON.stringify(s));

/** Splits one CSV line (the header) on the delimiter, honouring quotes. */
function splitHeader(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  out.push(cell.trim());
  return out;
}

function note(seen: Map<string, string[]>, col: string, value: unknown): void {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return;
  if (value === '') return;
  const list = seen.get(col) ?? [];
  if (list.length < MAX_SEEN && !list.includes(String(value))) list.push(String(value));
  seen.set(col, list);
}

async function csvTables(file: string, text: string, kindArg: RecordKind | undefined): Promise<Table[]> {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  if (first.trim() === '') throw new Error(`${file}: the first line is empty: a CSV export starts with its header`);
  const delimiter = [',', ';', '\t', '|'].map((d) => [d, first.split(d).length] as const).sort((a, b) => b[1] - a[1])[0][0];
  const columns = splitHeader(first, delimiter).filter((c) => c !== '');
  const seen = new Map<string, string[]>();
  let n = 0;
  for await (const r of readCsv([text], { input: basename(file), delimiter })) {
    if (++n > SAMPLE_ROWS) break;
    for (const c of columns) note(seen, c, r.scope?.get(c)[0]?.value);
  }
  const name = basename(file);
  const guessed = kindOfName(name);
  const stem = name.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'records';
  return [
    {
      feed: stem,
      match: `${stem.replace(/[-_]?\d[\d-]*$/, '')}*.${name.split('.').pop() ?? 'csv'}`,
      kind: kindArg ?? guessed ?? 'contact',
      kindGuessed: !kindArg,
      columns,
      seen,
      ...(delimiter !== ',' ? { records: `delimiter:${delimiter}` } : {}),
    },
  ];
}

/** The scalar paths of a JSON object (dotted; lists of values as `x[*]`), up to three levels. */
function paths(value: Record<string, unknown>, prefix = '', depth = 0): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = `${prefix}${k}`;
    if (Array.isArray(v)) {
      if (v.length === 0) continue;
      if (v.every((x) => x === null || typeof x !== 'object')) out.push(`${p}[*]`);
      else out.push(`${p}[]`);
    } else if (v !== null && typeof v === 'object') {
      if (depth < 2) out.push(...paths(v as Record<string, unknown>, `${p}.`, depth + 1));
    } else out.push(p);
  }
  return out;
}

function read(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.replace('[*]', '').split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return Array.isArray(v) ? v[0] : v;
}

function jsonTables(file: string, text: string, kindArg: RecordKind | undefined): Table[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`${file} is not JSON: ${(e as Error).message}`);
  }
  const lists: [string, string, unknown[]][] = [];
  const isRecords = (v: unknown): v is unknown[] =>
    Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
  if (isRecords(doc)) lists.push(['records', '$[*]', doc]);
  else if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    for (const [k, v] of Object.entries(doc)) {
      if (isRecords(v)) lists.push([k, `$.${k}[*]`, v]);
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) if (isRecords(v2)) lists.push([k2, `$.${k}.${k2}[*]`, v2]);
      }
    }
  }
  if (!lists.length)
    throw new Error(`${file}: no list of records found (a top-level array of objects, or arrays of objects in the top-level object or one level down)`);
  const name = basename(file);
  const stem = name.replace(/\.[^.]+$/, '');
  return lists.map(([list, records, items]) => {
    const columns = [...new Set(items.slice(0, SAMPLE_ROWS).flatMap((x) => paths(x as Record<string, unknown>)))];
    const seen = new Map<string, string[]>();
    for (const item of items.slice(0, SAMPLE_ROWS)) for (const c of columns) note(seen, c, read(item, c));
    const guessed = kindOf(list);
    return {
      feed: lists.length === 1 ? stem : list,
      match: `${stem.replace(/[-_]?\d[\d-]*$/, '')}*.json`,
      records,
      // One list: --kind says what it is; several: each list's name, --kind for those it does not tell.
      kind: (lists.length === 1 ? (kindArg ?? guessed) : (guessed ?? kindArg)) ?? 'contact',
      kindGuessed: lists.length === 1 ? !kindArg : !!guessed || !kindArg,
      columns,
      seen,
    };
  });
}

/** The date or date-time step for values like the sample's. */
function dateStep(takes: 'date' | 'datetime', sample: string | undefined, joined: boolean): { step: string; sure: boolean } {
  const s = sample ?? '';
  if (!joined && /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return { step: `{ ${takes}: iso }`, sure: true };
  const day = /^(\d{1,2})\/(\d{1,2})\/(\d{4})/.exec(s);
  const d = day ? `${day[1].length === 1 ? 'M' : 'MM'}/${day[2].length === 1 ? 'd' : 'dd'}/yyyy` : /^\d{4}-\d{2}-\d{2}/.test(s) ? 'yyyy-MM-dd' : 'MM/dd/yyyy';
  if (takes === 'date') return { step: `{ date: "${d}" }`, sure: day !== null };
  const time = /(\d{1,2}):(\d{2})(:\d{2})?\s*([AaPp][Mm])?$/.exec(s);
  const t = time ? `${time[4] ? (time[1].length === 1 ? 'h' : 'hh') : 'HH'}:mm${time[3] ? ':ss' : ''}${time[4] ? ' a' : ''}` : 'HH:mm';
  return { step: `{ datetime: "${d} ${t}" }`, sure: day !== null && time !== null };
}

/** The YAML of a starting one-file mapping for `options.from`. */
export async function initMapping(options: InitOptions): Promise<string> {
  const text = readFileSync(options.from, 'utf8');
  const kindArg = options.kind === undefined ? undefined : kindOf(options.kind);
  if (options.kind !== undefined && !kindArg)
    throw new Error(`--kind ${options.kind}: not a record kind (contacts, clients, episodes, staff, organizations, reviews, or a kind of mappings/README.md)`);
  const isJson = /\.json$/i.test(options.from) || /^\s*[[{]/.test(text.replace(/^\uFEFF/, ''));
  const tables = isJson ? jsonTables(options.from, text, kindArg) : await csvTables(options.from, text, kindArg);
  const name = (options.name ?? basename(options.from).replace(/\.[^.]+$/, '')).replace(/[^A-Za-z0-9._-]+/g, '-');
  const codeTables: string[] = [];
  const feeds: string[] = [];
  for (const [i, t] of tables.entries()) {
    const lines: string[] = [];
    lines.push(`  ${q(t.feed)}:`, `    match: ${JSON.stringify(t.match)}`, `    order: ${(i + 1) * 10}`);
    if (t.records?.startsWith('delimiter:')) lines.push(`    csv: { delimiter: ${JSON.stringify(t.records.slice('delimiter:'.length))} }`);
    else if (t.records) lines.push(`    json: { records: ${JSON.stringify(t.records)} }`);
    if (!isJson) lines.push(`    csv:`, `      columns: [${t.columns.map(q).join(', ')}]`);
    lines.push(
      `    records:`,
      `      - record: ${t.kind}${t.kindGuessed ? `  # guess from the ${isJson ? 'list' : 'file'} name: --kind sets it` : ''}`,
      `        fields:`,
    );
    const guesses = guessTargets(t.kind, t.columns);
    const mapped = new Set(guesses.flatMap((g) => g.from));
    for (const g of guesses) lines.push(...fieldLines(t, g, codeTables));
    for (const target of requiredTargets(t.kind).filter((r) => !guesses.some((g) => g.target === r || g.target.startsWith(`${r}.`)))) {
      const info = targetTakes(t.kind, target);
      lines.push(
        `          # TODO ${target}: required (${info.takes}${info.list ? `, codes of ${info.list}` : ''}); no column matched: map a column, or { const: ... }`,
      );
    }
    for (const c of t.columns.filter((c) => !mapped.has(c))) {
      lines.push(
        c.endsWith('[]')
          ? `          # ${c.slice(0, -2)}: a list of objects: map its items with each (a list target) or as records of their own (records: each)`
          : `          # ${c}: not mapped (no target guessed)${sampleNote(t, c)}`,
      );
    }
    feeds.push(lines.join('\n'));
  }
  const head = [
    `# A starting mapping written by \`peerbridge mapping init --from ${basename(options.from)}\`: check every line marked "# guess",`,
    '# fill in every "TODO" (code tables map each source code to a canonical one), then',
    `#   peerbridge translate --mapping ${name}.yaml ${basename(options.from)}     (mappings/README.md, "Writing a new mapping from scratch")`,
    `name: ${q(name)}`,
    `title: ${JSON.stringify(`${name} export`)}  # TODO: the EHR's name, shown in reports and ConceptMaps`,
    `system: https://ehr.example.org/${name}  # TODO: a URI of the source system: identifiers of every record use it`,
    `format: ${isJson ? 'json' : 'csv'}`,
    'timezone: UTC  # TODO: the IANA zone of local times without an offset (America/New_York, ...)',
    '',
  ];
  return `${[...head, ...(codeTables.length ? ['tables:', ...codeTables, ''] : []), 'feeds:', feeds.join('\n\n'), ''].join('\n')}`;
}

function sampleNote(t: Table, col: string): string {
  const seen = t.seen.get(col);
  return seen?.length
    ? `; e.g. ${seen
        .slice(0, 3)
        .map((v) => JSON.stringify(v))
        .join(', ')}`
    : '';
}

function fieldLines(t: Table, g: Guess, codeTables: string[]): string[] {
  const info = targetTakes(t.kind, g.target);
  const from = g.from.length === 1 ? q(g.from[0]) : `[${g.from.map(q).join(', ')}]`;
  const sample = g.from.map((c) => t.seen.get(c)?.[0] ?? '').join(' ');
  const guess = `  # guess from the column name${g.from.length > 1 ? 's' : ''}`;
  switch (info.takes) {
    case 'date':
    case 'datetime': {
      const { step, sure } = dateStep(info.takes, sample, g.from.length > 1);
      const steps = g.from.length > 1 ? `[{ join: " " }, ${step}]` : step;
      return [`          ${g.target}: { from: ${from}, transform: ${steps} }${guess}${sure ? `; format from "${sample}"` : '; check the date format'}`];
    }
    case 'code': {
      const table = `${t.feed}-${g.target.replace(/[^A-Za-z0-9]+/g, '-')}`.replace(/^-+|-+$/g, '');
      const list = info.list ?? 'TODO';
      const codes = t.seen.get(g.from[0]) ?? [];
      const allowed = CANONICAL_LISTS[list]?.join(', ') ?? '';
      codeTables.push(
        `  ${q(table)}:`,
        `    target: ${list}`,
        `    # TODO: each code of the export -> one of: ${allowed}`,
        `    codes: {${codes.map((c) => ` ${q(c)}: TODO`).join(',')}${codes.length ? ' ' : ''}}`,
      );
      return [`          ${g.target}: { from: ${from}, table: ${q(table)} }${guess}`];
    }
    case 'number':
      return [`          ${g.target}: { from: ${from}, transform: integer }${guess}`];
    default:
      return [`          ${g.target}: ${g.from.length === 1 ? from : `{ from: ${from}, transform: { join: " " } }`}${guess}`];
  }
}
