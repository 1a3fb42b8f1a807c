/**
 * Loading a mapping (mappings/README.md, "One file or a folder"): one YAML file holding the source
 * settings, `tables` and `feeds`, or a folder of source.yaml, tables.yaml and one feed per other
 * *.yaml file; each checked and compiled once. The first mistake throws MappingLoadError with the
 * file, the line and the field.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonSelector } from '../inbound/json-source';
import { type CompiledRecordRule, registerFeed } from './apply';
import { type CompileContext, compileFields } from './compile';
import { compileCondition } from './conditions';
import { FeedFile, type FeedFileData, MappingFile, type SourceFileData, SourceFile, TablesFile, type TableDefData } from './schema';
import { compileTable, indexTable, type TableIndex } from './tables';
import { describe, KIND_SCHEMAS, STANDALONE_CHILDREN } from './targets';
import { type CodeTable, type CsvOptions, type Feed, type InputFormat, type LoadedSource, MappingLoadError } from './types';
import { YamlFile, type YamlPath } from './yaml-file';

/** Where the shipped mappings are (the project's `mappings/`, from src/translate or dist/translate). */
export const DEFAULT_MAPPINGS_DIR = path.resolve(__dirname, '..', '..', 'mappings');

const FEED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Loads and checks one mapping: a one-file mapping (a .yaml file) or a mapping folder; throws MappingLoadError. */
export function loadSource(fileOrDir: string): LoadedSource {
  const abs = path.resolve(fileOrDir);
  let isFile = false;
  try {
    isFile = fs.statSync(abs).isFile();
  } catch {
    // Not there: the folder form reports the missing source.yaml below.
  }
  if (isFile) {
    return loadMappingFile(abs);
  }
  const sourceFile = path.join(abs, 'source.yaml');
  if (!fs.existsSync(sourceFile)) {
    throw new MappingLoadError(display(sourceFile), undefined, '', `missing source.yaml: every mapping folder has one (name, system, format, timezone)`);
  }
  const yf = YamlFile.read(sourceFile, display(sourceFile));
  const src = yf.check(SourceFile, yf.data);
  const folder = path.basename(abs);
  if (src.name !== folder) {
    throw yf.error(['name'], `name '${src.name}' must be the folder's name '${folder}'`);
  }

  const tables = new Map<string, CodeTable>();
  const indexes = new Map<string, TableIndex>();
  const tablesFile = path.join(abs, 'tables.yaml');
  if (fs.existsSync(tablesFile)) {
    const tf = YamlFile.read(tablesFile, display(tablesFile));
    const data = tf.check(TablesFile, tf.data ?? { tables: {} });
    for (const [name, def] of Object.entries(data.tables)) {
      const table = compileTable(name, def, src.system, tf);
      tables.set(name, table);
      indexes.set(name, indexTable(table));
    }
  }

  const feedFiles: { name: string; file: YamlFile }[] = [];
  // Symbolic links are followed (a folder mounted from a Kubernetes ConfigMap is all links): a
  // linked feed must not be skipped silently.
  const files = fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((e) => isA(e, abs, 'file'))
    .map((e) => e.name)
    .sort();
  for (const name of files) {
    if (name.endsWith('.yml')) {
      throw new MappingLoadError(display(path.join(abs, name)), undefined, '', 'mapping files end in .yaml');
    }
    if (!name.endsWith('.yaml') || name === 'source.yaml' || name === 'tables.yaml') {
      continue;
    }
    const feedName = name.slice(0, -'.yaml'.length);
    const file = path.join(abs, name);
    const ff = YamlFile.read(file, display(file));
    if (!FEED_NAME.test(feedName)) {
      throw ff.error([], `feed name '${feedName}' (the file name): use letters, digits, ".", "_" and "-"`);
    }
    feedFiles.push({ name: feedName, file: ff });
  }
  return assemble(src, abs, tables, indexes, feedFiles);
}

/** A one-file mapping: source settings, `tables` and `feeds` in one YAML file; its name need not match anything. */
function loadMappingFile(abs: string): LoadedSource {
  if (!abs.endsWith('.yaml')) {
    throw new MappingLoadError(display(abs), undefined, '', abs.endsWith('.yml') ? 'mapping files end in .yaml' : 'a mapping is a .yaml file or a folder');
  }
  const yf = YamlFile.read(abs, display(abs));
  const data = yf.data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && !('feeds' in data) && 'records' in data) {
    throw yf.error(
      [],
      'this is a feed file of a mapping folder: give the folder (with its source.yaml), or make it a one-file mapping (source keys, tables and feeds: { <name>: <this feed> })',
    );
  }
  const m = yf.check(MappingFile, data);
  const { tables: tableDefs, feeds: feedData, ...src } = m;
  const tables = new Map<string, CodeTable>();
  const indexes = new Map<string, TableIndex>();
  for (const [name, def] of Object.entries<TableDefData>(tableDefs ?? {})) {
    const table = compileTable(name, def, src.system, yf);
    tables.set(name, table);
    indexes.set(name, indexTable(table));
  }
  const feedFiles = Object.keys(feedData).map((name) => ({ name, file: yf.part(['feeds', name]) }));
  return assemble(src, abs, tables, indexes, feedFiles);
}

function assemble(
  src: SourceFileData,
  abs: string,
  tables: Map<string, CodeTable>,
  indexes: Map<string, TableIndex>,
  feedFiles: { name: string; file: YamlFile }[],
): LoadedSource {
  const feeds: Feed[] = [];
  const hl7Types = new Map<string, string>();
  for (const { name: feedName, file: ff } of feedFiles) {
    const feed = loadFeed(feedName, ff, src.format, src.timezone, src.csv, indexes);
    if (src.format === 'hl7v2') {
      feed.match.forEach((t, i) => {
        const other = hl7Types.get(t);
        if (other !== undefined) {
          throw ff.error(['match', i], `${t} is read by feed ${other} too: each message type goes to one feed`);
        }
        hl7Types.set(t, feedName);
      });
    }
    feeds.push(feed);
  }
  feeds.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  return {
    name: src.name,
    ...(src.title !== undefined ? { title: src.title } : {}),
    ...(src.description !== undefined ? { description: src.description } : {}),
    system: src.system,
    format: src.format,
    timezone: src.timezone,
    ...(src.organization !== undefined ? { organization: src.organization } : {}),
    part2Organizations: src.part2Organizations,
    dir: abs,
    feeds,
    tables,
  };
}

/** A directory entry that is a file (or folder), itself or through a symbolic link. */
function isA(entry: fs.Dirent, dir: string, want: 'file' | 'directory'): boolean {
  if (!entry.isSymbolicLink()) return want === 'file' ? entry.isFile() : entry.isDirectory();
  try {
    const st = fs.statSync(path.join(dir, entry.name));
    return want === 'file' ? st.isFile() : st.isDirectory();
  } catch {
    return false; // a dangling link
  }
}

/**
 * Loads every mapping under `root` (default: the project's `mappings/`), by name: each folder with
 * a source.yaml except `canonical`, and each one-file mapping `<file>.yaml` directly in `root`.
 * Two mappings of one name are an error.
 */
export function loadSources(root: string = DEFAULT_MAPPINGS_DIR): Map<string, LoadedSource> {
  const out = new Map<string, LoadedSource>();
  const entries = fs.readdirSync(root, { withFileTypes: true });
  const dirs = entries
    .filter((e) => isA(e, root, 'directory') && e.name !== 'canonical' && fs.existsSync(path.join(root, e.name, 'source.yaml')))
    .map((e) => e.name);
  const files = entries.filter((e) => isA(e, root, 'file') && e.name.endsWith('.yaml')).map((e) => e.name);
  for (const d of [...dirs, ...files].sort()) {
    const s = loadSource(path.join(root, d));
    const other = out.get(s.name);
    if (other) {
      throw new MappingLoadError(display(s.dir), undefined, 'name', `mapping name '${s.name}' is used by ${display(other.dir)} too`);
    }
    out.set(s.name, s);
  }
  return out;
}

function loadFeed(
  name: string,
  file: YamlFile,
  format: InputFormat,
  timezone: string,
  csvDefaults: FeedFileData['csv'],
  tables: Map<string, TableIndex>,
): Feed {
  const data = file.check(FeedFile, file.data ?? {});
  if (data.csv && format !== 'csv') {
    throw file.error(['csv'], `csv options are for csv feeds; this source's format is ${format}`, true);
  }
  if (data.json && format !== 'json') {
    throw file.error(['json'], `json options are for json feeds; this source's format is ${format}`, true);
  }
  if (data.json) {
    try {
      parseJsonSelector(data.json.records);
    } catch (e) {
      throw file.error(['json', 'records'], (e as Error).message);
    }
  }
  if (format === 'hl7v2') {
    data.match.forEach((m, i) => {
      if (!/^[A-Z0-9*?]{1,3}\^[A-Z0-9*?]{1,3}$/.test(m)) {
        throw file.error(['match', i], `'${m}' is not an HL7 message type like ADT^A04 (MSH-9.1^MSH-9.2)`);
      }
    });
  }
  const columns: string[] = [];
  const seen = new Set<string>();
  const grouped = data.group !== undefined;
  const declared = format === 'csv' ? (data.csv?.columns ?? csvDefaults?.columns) : undefined;
  const usePath = (p: string, at: YamlPath, each = false): boolean => {
    checkPath(p, format, file, at, each, grouped);
    if (declared && !(each && p === 'rows') && !declared.includes(p)) {
      const near = declared.find((c) => c.toLowerCase().replace(/[\s_-]/g, '') === p.toLowerCase().replace(/[\s_-]/g, ''));
      throw file.error(at, `unknown column '${p}'${near ? ` (did you mean '${near}'?)` : ''}: the header in csv.columns has ${declared.join(', ')}`);
    }
    if (each && p === 'rows') {
      return false;
    }
    if (!seen.has(p)) {
      seen.add(p);
      columns.push(p);
    }
    return format !== 'csv' && p.includes('[*]');
  };
  data.group?.by.forEach((p, i) => {
    if (usePath(p, ['group', 'by', i])) {
      throw file.error(['group', 'by', i], 'a group key is one value, not a list ([*])');
    }
  });
  const cx: CompileContext = {
    file,
    format,
    timezone,
    tables,
    usePath,
    table(t: string) {
      const idx = tables.get(t);
      if (!idx) {
        throw new Error(`unknown table '${t}' (${tables.size === 0 ? 'there is no tables.yaml' : `tables: ${[...tables.keys()].join(', ')}`})`);
      }
      return idx;
    },
  };
  const rules: CompiledRecordRule[] = data.records.map((r, i) => {
    const at: YamlPath = ['records', i];
    if (r.each !== undefined) {
      usePath(r.each, [...at, 'each'], true);
    }
    const when = r.when === undefined ? undefined : compileCondition(r.when, file, [...at, 'when'], format, usePath);
    const standalone = STANDALONE_CHILDREN.has(r.record);
    const group = compileFields(r.fields, cx, [...at, 'fields'], describe(KIND_SCHEMAS[r.record]), r.record, standalone);
    const hasEpisode = group.fields.some((f) => f.episode);
    if (standalone && !group.fields.some((f) => f.episode && f.target === 'episode.id')) {
      throw file.error(
        [...at, 'fields'],
        `a ${r.record} on its own needs episode.id (the id of its episode), and episode.personId and episode.organizationId unless the episode comes earlier in the run`,
      );
    }
    return { kind: r.record, ...(r.each !== undefined ? { each: r.each } : {}), ...(when ? { when } : {}), group, hasEpisode };
  });
  const match = data.match;
  const patterns = match.map(globToRegExp(format));
  const csv: CsvOptions | undefined =
    format === 'csv'
      ? {
          delimiter: data.csv?.delimiter ?? csvDefaults?.delimiter ?? ',',
          encoding: data.csv?.encoding ?? csvDefaults?.encoding ?? 'auto',
          optionalColumns: data.csv?.optionalColumns ?? csvDefaults?.optionalColumns ?? [],
        }
      : undefined;
  const feed: Feed = {
    name,
    file: file.file,
    ...(data.description !== undefined ? { description: data.description } : {}),
    format,
    match,
    order: data.order,
    ...(csv ? { csv } : {}),
    ...(data.json ? { json: data.json } : {}),
    ...(data.group ? { group: { by: data.group.by, sorted: data.group.sorted } } : {}),
    columns,
    kinds: [...new Set(rules.map((r) => r.kind))],
    matches(x: string): boolean {
      const subject = format === 'hl7v2' ? x.split('^').slice(0, 2).join('^') : path.basename(x.replace(/\\/g, '/'));
      return patterns.some((re) => re.test(subject));
    },
  };
  registerFeed(feed, { rules });
  return feed;
}

/** `*` any characters, `?` one; file names match without regard to case, message types exactly. */
function globToRegExp(format: InputFormat): (glob: string) => RegExp {
  return (glob) => {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${body}$`, format === 'hl7v2' ? '' : 'i');
  };
}

const HL7_FIELD = /^[A-Z][A-Z0-9]{2}(?:\[(?:\d+|\*)\])?-\d+(?:\[(?:\d+|\*)\])?(?:\.\d+){0,2}$/;
/** An `each` list: every segment of a name (`FT1`, `FT1[*]`), or every repetition of a field (`PID-11[*]`). */
const HL7_SEGMENT = /^[A-Z][A-Z0-9]{2}(?:\[\*\]|-[1-9]\d*\[\*\])?$/;
const JSON_PATH = /^(?:\$(?:\.[^.[\]\s]+|\[(?:\d+|\*)\])*|[^.[\]$\s][^.[\]\s]*(?:\[(?:\d+|\*)\])*(?:\.[^.[\]\s]+(?:\[(?:\d+|\*)\])*)*)$/;

function checkPath(p: string, format: InputFormat, file: YamlFile, at: YamlPath, each: boolean, grouped: boolean): void {
  if (each && p === 'rows') {
    if (!grouped) {
      throw file.error(at, "each: rows reads the rows of a group; this feed has no 'group'");
    }
    return;
  }
  switch (format) {
    case 'csv':
      if (each) {
        throw file.error(at, "in a CSV feed, each reads 'rows' (the rows of a group)");
      }
      return;
    case 'hl7v2':
      if (each ? !HL7_SEGMENT.test(p) : !HL7_FIELD.test(p)) {
        throw file.error(
          at,
          each
            ? `'${p}' is not an HL7 segment name or repeated field (each: FT1, each: PID-11[*])`
            : `'${p}' is not an HL7 path like PID-3.1, PID-5.1.1, PID-3[*].1 or FT1[2]-7.1`,
        );
      }
      return;
    case 'json':
      if (!JSON_PATH.test(p)) {
        throw file.error(at, `'${p}' is not a JSON path like client.name.family, phones[0].number, sessions[*].minutes or $.id`);
      }
      return;
  }
}
