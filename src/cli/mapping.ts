/**
 * `peerbridge mapping init|test`: writing a new mapping from scratch (mappings/README.md, "Writing
 * a new mapping from scratch"). `init` writes a starting one-file mapping from an export's header
 * (src/cli/mapping-init.ts); `test` runs a mapping's own samples against their expected Bundles
 * (src/cli/mapping-test.ts). Exit 0 done / every sample passes, 1 a sample fails, 2 usage, mapping or I/O error.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { mappingsRoot, resolveMapping } from '../pipeline/sources';
import { loadSource } from '../translate';
import { MappingLoadError } from '../translate/types';
import { initMapping } from './mapping-init';
import { formatResults, runSamples } from './mapping-test';

export const MAPPING_HELP = `Usage: peerbridge mapping init --from <export.csv|sample.json> [--out <file.yaml>] [--kind <kind>] [--name <name>] [--force]
       peerbridge mapping test <mapping> [--mappings-dir <dir>] [--update] [--format text|json]

init   writes a starting one-file mapping from an export: every column of a CSV header (or every
       list of records of a JSON sample: a feed each) is listed; a column whose name suggests a
       target is mapped to it and marked "# guess"; required targets no column matched are
       "# TODO" lines; code columns get a table of the codes seen, each "TODO" (the file does not
       load until you have chosen the canonical codes: the error names the line).
         --from <file>    the export (CSV with its header, or JSON)
         --out <file>     where to write it (default <name>.yaml in the current folder; an
                          existing file is not overwritten without --force)
         --kind <kind>    what a row is: contacts, clients, episodes, staff, organizations,
                          reviews (or a record kind: contact, person, ...); default: guessed from
                          the file (or JSON list) name
         --name <name>    the mapping's name (default: the --out file's name without .yaml, else
                          the export's)

test   runs the mapping's samples: for a one-file mapping <name>.yaml, the folder <name>.samples/
       beside it; for a mapping folder, its samples/ folder. Every input there (a file, or a folder
       of files) is a case, translated as 'peerbridge translate' does; the transaction Bundle must
       equal <input>.expected.json (entries compared by resource, in any order). Prints PASS/FAIL
       per case with what differs (missing, extra, changed resources) and each rejected record.
         <mapping>        a name (a folder <name>/ or <name>.yaml in the mappings folder) or a path
         --mappings-dir   the mappings folder names are looked up in (default MAPPINGS_DIR, else mappings/)
         --update         write each <input>.expected.json from what the mapping gives now
         --format json    the results as JSON

Exit: 0 written / every sample passes, 1 a sample fails (or there is none), 2 usage, mapping or I/O error.
`;

class UsageError extends Error {}

function options(args: string[], known: Record<string, boolean>): { opts: Record<string, string | true>; rest: string[] } {
  const opts: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.split('=')[0];
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const takesValue = known[name];
    if (takesValue === undefined) throw new UsageError(`Unknown option '${a}' (peerbridge mapping --help lists them)`);
    if (!takesValue) opts[name] = true;
    else {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      opts[name] = v;
    }
  }
  return { opts, rest };
}

export async function mappingCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    // Asked for: the help on stdout; no subcommand at all: on stderr, as a usage error.
    (sub ? out : err).write(MAPPING_HELP);
    return sub ? 0 : 2;
  }
  try {
    if (sub === 'init') return await init(rest, out, err);
    if (sub === 'test') return await test(rest, out, err);
    throw new UsageError(`Unknown mapping command '${sub}': init or test`);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`peerbridge mapping: ${e.message}\n(peerbridge mapping --help: every option)\n`);
      return 2;
    }
    if (e instanceof MappingLoadError || (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') {
      err.write(`peerbridge mapping ${sub}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

async function init(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { opts, rest } = options(args, { '--from': true, '--out': true, '--kind': true, '--name': true, '--force': false });
  const from = (opts['--from'] as string | undefined) ?? (rest.length === 1 ? rest[0] : undefined);
  if (!from || rest.length > (opts['--from'] ? 0 : 1)) throw new UsageError('mapping init needs --from <export.csv|sample.json>');
  if (!existsSync(from)) throw Object.assign(new Error(`cannot read ${from}: no such file`), { code: 'ENOENT' });
  let text: string;
  try {
    text = await initMapping({
      from,
      ...(typeof opts['--kind'] === 'string' ? { kind: opts['--kind'] } : {}),
      // The mapping's name: --name, else the --out file's (my-ehr.yaml: my-ehr), else the export's.
      ...(typeof opts['--name'] === 'string'
        ? { name: opts['--name'] }
        : typeof opts['--out'] === 'string' && opts['--out'].endsWith('.yaml')
          ? { name: basename(opts['--out'], '.yaml') }
          : {}),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    err.write(`peerbridge mapping init: ${(e as Error).message}\n`);
    return 2;
  }
  const name = /^name: "?([^"\n]+)"?$/m.exec(text)?.[1] ?? 'mapping';
  const target = (opts['--out'] as string | undefined) ?? `${name}.yaml`;
  if (target === '-') {
    out.write(text);
    return 0;
  }
  if (existsSync(target) && !opts['--force']) {
    err.write(`peerbridge mapping init: ${target} exists: give another --out, or --force to replace it\n`);
    return 2;
  }
  writeFileSync(target, text);
  const todos = (text.match(/TODO/g) ?? []).length;
  const guesses = (text.match(/# guess from/g) ?? []).length;
  err.write(
    `Wrote ${target}: ${guesses} guesses to check, ${todos} TODOs to fill in; then peerbridge mapping test ${target} (mappings/README.md, "Writing a new mapping from scratch")\n`,
  );
  return 0;
}

async function test(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { opts, rest } = options(args, { '--mappings-dir': true, '--update': false, '--format': true });
  if (rest.length !== 1) throw new UsageError('mapping test needs one mapping (a name or a path)');
  const format = opts['--format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not '${String(format)}'`);
  const source = loadSource(resolveMapping(rest[0], mappingsRoot(opts['--mappings-dir'] as string | undefined)));
  const results = await runSamples(source, { update: opts['--update'] === true });
  if (format === 'json') out.write(`${JSON.stringify({ mapping: source.name, results })}\n`);
  else out.write(formatResults(source, results));
  void err;
  return results.length > 0 && results.every((r) => r.pass) ? 0 : 1;
}
