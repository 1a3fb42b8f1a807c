/**
 * `peerbridge translate --mapping <name|path> <input> ...`: a canonical file, or an outside export
 * read through a mapping (mappings/README.md), -> FHIR transaction Bundles, streamed record by
 * record so inputs of any size run in flat memory. The output is one Bundle (stdout or --out), or
 * with --out-dir a series of Bundles under a size limit in an order that keeps references
 * resolvable (src/outbound/split.ts), which --post sends to a FHIR server (src/outbound/post.ts).
 * A progress bar shows on a terminal; the summary (stderr, or --report as JSON) says what was
 * accepted and what was not. Rejected records of an outside source are written as NDJSON next to
 * the input (or to --rejects). `translate --help` lists every option (HELP in ./translate-args).
 */
import { createReadStream, createWriteStream, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { rm, writeFile } from 'node:fs/promises';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../domain/rules';
import { putEntry } from '../fhir/bundle';
import { loadPackageTerms } from '../fhir/context';
import { scanTopLevel } from '../inbound/json-records';
import { translateCanonical, type TranslateReport } from '../pipeline/translate-canonical';
import { Validator } from '../validation';
import { MappingLoadError, type LoadedSource } from '../translate/types';
import { loadSource } from '../translate';
import { inputsFromPath, translateSource, type RejectRecord, type SourceRunReport } from '../pipeline/translate-source';
import { resolveMapping } from '../pipeline/sources';
import { pointAtPlaceholders, ReferenceTargets } from '../outbound/placeholders';
import { progressBar } from './progress';
import { deliveryJson, formatDelivery, inputStem, writeSeries, type Delivery } from './translate-bundles';
import { HELP, parseArgs, UsageError, type Args } from './translate-args';

/** V8's heap may grow to this much over the live heap after a full GC (`--heap-growing-percent`). */
export const TRANSLATE_HEAP_GROWING_PERCENT = 30;

/**
 * Keeps a long translation's peak memory near its live heap. By default V8 lets the heap grow to
 * up to 4x what survived the last full GC, so a run whose live heap is flat (~70 MB at 1M CSV
 * rows) still peaked at 433 MiB RSS; with 30% the same run peaks at about 240 MiB at the same
 * speed (bench/translate.ts measures both). A factor, not a cap: a run that needs more memory
 * still gets it. Set by the `peerbridge translate` process (and the benchmark), not the server.
 */
export function boundHeapGrowth(percent = TRANSLATE_HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** The CLI has no store (issue 13 item 1): said once in every text report. */
export const NO_STORE_NOTE =
  "Store: none (records sent before are not looked up: a contact's episode must be in the run or named with its person and organization)";

/** Text report: one line per issue, then the summary per record kind. */
export function formatReport(report: TranslateReport): string {
  const lines = report.outcome.issue.map((i) => `${i.severity.toUpperCase().padEnd(7)} ${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`);
  const s = report.summary;
  lines.push('', `Records: ${s.read} read, ${s.accepted} accepted, ${s.rejected} rejected; ${s.resources} FHIR resources`, NO_STORE_NOTE);
  for (const [kind, c] of Object.entries(s.byKind)) {
    lines.push(`  ${kind.padEnd(22)} ${String(c.read).padStart(7)} read ${String(c.accepted).padStart(7)} accepted ${String(c.rejected).padStart(7)} rejected`);
  }
  for (const c of s.recoveryCapitalChanges.filter((x) => x.change !== undefined)) {
    lines.push(`  recovery capital: person ${c.personId} ${c.previousTotal} -> ${c.total} (${c.change! >= 0 ? '+' : ''}${c.change}) on ${c.date}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function translateCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let parsed: Args;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(
        `peerbridge translate: ${e.message}\nUsage: peerbridge translate --mapping <canonical|name|path> <input|folder|-> [--out file | --out-dir dir [--post url]] [--rejects file] ... (--help: every option)\n`,
      );
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    out.write(HELP);
    return 0;
  }
  if (parsed.input !== '-' && !existsSync(parsed.input)) {
    err.write(`peerbridge translate: cannot read ${parsed.input}: no such file\n`);
    return 2;
  }
  if (parsed.mapping !== 'canonical') return translateOutside(parsed, out, err);
  const targets = new ReferenceTargets();
  const deps = { validator: Validator.create(), rules: loadRules(process.env.RULES_FILE || undefined), terms: loadPackageTerms(), references: targets };
  const input = parsed.input === '-' ? process.stdin.setEncoding('utf8') : createReadStream(parsed.input, { encoding: 'utf8', highWaterMark: 1 << 16 });
  const delivery: Delivery = {};
  const report = await emit(parsed, out, err, (sink) => translateCanonical(scanTopLevel(input as AsyncIterable<string>), deps, sink), false, delivery, targets);
  if (!report) return 2;
  if (parsed.report) {
    await writeFile(parsed.report, `${JSON.stringify({ summary: report.summary, outcome: report.outcome, ...deliveryJson(delivery) }, null, 2)}\n`);
  }
  err.write(
    parsed.format === 'json'
      ? `${JSON.stringify({ summary: report.summary, outcome: report.outcome, ...deliveryJson(delivery) })}\n`
      : formatReport(report) + formatDelivery(delivery),
  );
  return report.summary.rejected > 0 || report.fatal || delivery.notAccepted ? 1 : 0;
}

/** --out-dir or --post: a series of Bundles (and sent, src/cli/translate-bundles.ts); else the one Bundle of writeBundle. */
function emit<R>(
  parsed: Args,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  translate: (sink: (resources: Resource[]) => Promise<void>) => Promise<R>,
  latestOnly: boolean,
  delivery: Delivery,
  targets: ReferenceTargets,
): Promise<R | undefined> {
  return parsed.outDir || parsed.post ? writeSeries(parsed, err, translate, delivery, targets) : writeBundle(parsed, out, err, translate, latestOnly, targets);
}

/**
 * Writes a transaction Bundle to --out or stdout, one entry per accepted resource; undefined
 * (after saying why) on an I/O error, and then --out is never left half-written. Entries go to a
 * temporary file while `translate` runs: with `latestOnly` (outside sources, where a later record
 * updates an earlier one) only the last version of each resource is written (a transaction may
 * not hold one resource twice), and records referred to but not in the output get placeholders
 * (src/outbound/placeholders.ts) that only the whole run can tell. Memory holds one number per
 * resource key and the keys referred to, never the resources.
 */
async function writeBundle<R>(
  parsed: Args,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  translate: (sink: (resources: Resource[]) => Promise<void>) => Promise<R>,
  latestOnly: boolean,
  targets: ReferenceTargets,
): Promise<R | undefined> {
  const target = parsed.out ? createWriteStream(parsed.out) : out;
  const spool = join(mkdtempSync(join(tmpdir(), 'pb-translate-')), 'entries.ndjson');
  const staging = createWriteStream(spool);
  const referenced = new Set<string>();
  const write = async (stream: NodeJS.WritableStream, text: string) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  const last = new Map<string, number>();
  let seq = 0;
  let first = true;
  const entry = async (json: string): Promise<void> => {
    await write(target, `${first ? ',"entry":[\n' : ',\n'}${json}`);
    first = false;
  };
  try {
    // No "entry" at all when nothing was accepted: FHIR allows no empty arrays.
    await write(target, '{"resourceType":"Bundle","type":"transaction"');
    const result = await translate(async (resources: Resource[]) => {
      for (const r of resources) {
        for (const key of targets.observe(r)) referenced.add(key);
        last.set(`${r.resourceType}/${r.id}`, seq++);
        await write(staging, `${JSON.stringify(putEntry(r))}\n`);
      }
    });
    staging.end();
    await once(staging, 'finish');
    const { placeholders, outside } = targets.close(referenced, (key) => last.has(key));
    referenced.clear();
    let n = 0;
    const keep = latestOnly ? new Set(last.values()) : undefined;
    for await (const line of createInterface({ input: createReadStream(spool), crlfDelay: Infinity })) {
      if (!keep || keep.has(n)) await entry(pointAtPlaceholders(line, placeholders));
      n++;
    }
    for (const e of placeholders.values()) await entry(pointAtPlaceholders(JSON.stringify(e), placeholders));
    if (parsed.format !== 'json' && (placeholders.size > 0 || outside.length > 0)) {
      err.write(
        `References: ${placeholders.size} records referred to but not in the output are carried as placeholders (conditional creates by source-record identifier)${outside.length ? `; ${outside.length} resolve only on a server that has them, e.g. ${outside.slice(0, 3).join(', ')}` : ''}\n`,
      );
    }
    await write(target, first ? '}\n' : '\n]}\n');
    if (parsed.out) {
      (target as NodeJS.WritableStream).end();
      await once(target, 'finish');
    }
    return result;
  } catch (e) {
    if (parsed.out) {
      (target as NodeJS.WritableStream).end();
      await once(target, 'close').catch(() => undefined);
      await rm(parsed.out, { force: true });
    }
    err.write(`peerbridge translate: ${(e as Error).message}\n`);
    return undefined;
  } finally {
    staging.end();
    await rm(dirname(spool), { recursive: true, force: true });
  }
}

/** Text summary of an outside source's run: issues, then source records and canonical records per kind. */
export function formatSourceReport(report: SourceRunReport, rejectsFile?: string): string {
  const lines = report.outcome.issue.filter((i) => i.severity !== 'information').map((i) => `${i.severity.toUpperCase().padEnd(7)} ${i.details?.text ?? ''}`);
  const r = report.records;
  const s = report.summary;
  lines.push(
    '',
    `Source records: ${r.read} read, ${r.accepted} accepted, ${r.rejected} rejected${r.skipped ? `, ${r.skipped} made no record` : ''}; ${s.resources} FHIR resources`,
    NO_STORE_NOTE,
  );
  for (const input of report.inputs) {
    lines.push(`  ${input.name}${input.feed ? ` (feed ${input.feed})` : ''}: ${input.skipped ? `not read: ${input.skipped}` : `${input.read} read`}`);
  }
  lines.push('Records by type:');
  for (const [kind, c] of Object.entries(s.byKind)) {
    lines.push(`  ${kind.padEnd(22)} ${String(c.read).padStart(7)} read ${String(c.accepted).padStart(7)} accepted ${String(c.rejected).padStart(7)} rejected`);
  }
  if (rejectsFile) lines.push(`Rejected records: ${rejectsFile} (NDJSON, one line per record, with its raw input)`);
  return `${lines.join('\n')}\n`;
}

/** An outside export through its mapping folder. */
async function translateOutside(parsed: Args, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let source: LoadedSource;
  try {
    source = loadSource(resolveMapping(parsed.mapping));
  } catch (e) {
    if (e instanceof MappingLoadError || (e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof UsageError) {
      err.write(`peerbridge translate: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
  const targets = new ReferenceTargets();
  const deps = { validator: Validator.create(), rules: loadRules(process.env.RULES_FILE || undefined), terms: loadPackageTerms(), references: targets };
  const inputs = inputsFromPath(parsed.input, source, parsed.feed);
  const total = inputs.reduce((n, i) => n + (i.size ?? 0), 0);
  const tty = parsed.progress && (err as NodeJS.WriteStream).isTTY === true;
  const bar = tty ? progressBar(err as NodeJS.WriteStream, total) : undefined;
  // Rejects go to NDJSON as they come (flat memory); the file is made only when there is one.
  let rejectsOut: ReturnType<typeof createWriteStream> | undefined;
  // Next to the input (a folder's sits beside the folder); standard input's in the current folder.
  const rejectsFile =
    parsed.rejects ??
    (parsed.input === '-' ? 'stdin.rejects.ndjson' : join(dirname(parsed.input.replace(/[\\/]+$/, '')), `${inputStem(parsed.input)}.rejects.ndjson`));
  let rejected = 0;
  const onReject = async (r: RejectRecord): Promise<void> => {
    rejected++;
    rejectsOut ??= createWriteStream(rejectsFile);
    // `about` (the owner lookup of the rejects store) is not part of the documented line.
    const { about: _about, ...line } = r;
    if (!rejectsOut.write(`${JSON.stringify(line)}\n`)) await once(rejectsOut, 'drain');
  };
  const delivery: Delivery = {};
  const report = await emit(
    parsed,
    out,
    err,
    (sink) => translateSource(source, inputs, deps, sink, { onReject, onProgress: bar?.update }),
    true,
    delivery,
    targets,
  );
  bar?.done();
  if (rejectsOut) {
    rejectsOut.end();
    await once(rejectsOut, 'finish');
  }
  if (!report) return 2;
  if (parsed.report) {
    await writeFile(
      parsed.report,
      `${JSON.stringify({ records: report.records, summary: report.summary, inputs: report.inputs, outcome: report.outcome, ...deliveryJson(delivery) }, null, 2)}\n`,
    );
  }
  err.write(
    parsed.format === 'json'
      ? `${JSON.stringify({ records: report.records, summary: report.summary, inputs: report.inputs, outcome: report.outcome, ...(rejected ? { rejects: rejectsFile } : {}), ...deliveryJson(delivery) })}\n`
      : formatSourceReport(report, rejected ? rejectsFile : undefined) + formatDelivery(delivery),
  );
  return report.records.rejected > 0 || report.fatal || delivery.notAccepted ? 1 : 0;
}
