/**
 * `peerbridge translate --mapping canonical <input> [--out file] [--report file] [--format text|json]`:
 * a canonical file -> a FHIR transaction Bundle (stdout or --out), streamed record by record so
 * files of any size run in flat memory. The report (stderr, or --report as JSON) says what was
 * accepted and what was not, with each record's JSON path. Exit 0 all accepted, 1 any record
 * rejected, 2 usage or I/O error.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../domain/rules';
import { putEntry } from '../fhir/bundle';
import { loadPackageTerms } from '../fhir/context';
import { scanTopLevel } from '../inbound/json-records';
import { translateCanonical, type TranslateReport } from '../pipeline/translate-canonical';
import { Validator } from '../validation';

class UsageError extends Error {}

interface Args {
  mapping: string;
  input: string;
  out?: string;
  report?: string;
  format: 'text' | 'json';
}

function parseArgs(args: string[]): Args {
  const rest: string[] = [];
  const opts: Partial<Args> = { format: 'text' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const name = a.split('=')[0];
    if (name === '--mapping') opts.mapping = value();
    else if (name === '--out') opts.out = value();
    else if (name === '--report') opts.report = value();
    else if (name === '--format') {
      const v = value();
      if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json, not '${v}'`);
      opts.format = v;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`Unknown option '${a}'`);
    else rest.push(a);
  }
  if (!opts.mapping) throw new UsageError('--mapping is required (the canonical JSON format is --mapping canonical)');
  if (opts.mapping !== 'canonical') throw new UsageError(`Unknown mapping '${opts.mapping}': available mappings: canonical`);
  if (rest.length !== 1) throw new UsageError('Give exactly one input file (or - for standard input)');
  return { ...(opts as Args), input: rest[0] };
}

/** Text report: one line per issue, then the summary per record kind. */
export function formatReport(report: TranslateReport): string {
  const lines = report.outcome.issue.map((i) => `${i.severity.toUpperCase().padEnd(7)} ${i.expression?.[0] ?? ''}: ${i.details?.text ?? ''}`);
  const s = report.summary;
  lines.push('', `Records: ${s.read} read, ${s.accepted} accepted, ${s.rejected} rejected; ${s.resources} FHIR resources`);
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
      err.write(`peerbridge translate: ${e.message}\nUsage: peerbridge translate --mapping canonical <input|-> [--out file] [--report file] [--format text|json]\n`);
      return 2;
    }
    throw e;
  }
  if (parsed.input !== '-' && !existsSync(parsed.input)) {
    err.write(`peerbridge translate: cannot read ${parsed.input}: no such file\n`);
    return 2;
  }
  const deps = { validator: Validator.create(), rules: loadRules(process.env.RULES_FILE || undefined), terms: loadPackageTerms() };
  const input = parsed.input === '-' ? process.stdin.setEncoding('utf8') : createReadStream(parsed.input, { encoding: 'utf8', highWaterMark: 1 << 16 });
  const target = parsed.out ? createWriteStream(parsed.out) : out;
  const write = async (text: string) => {
    if (!target.write(text)) await once(target, 'drain');
  };
  let first = true;
  let report: TranslateReport;
  try {
    // No "entry" at all when nothing was accepted: FHIR allows no empty arrays.
    await write('{"resourceType":"Bundle","type":"transaction"');
    report = await translateCanonical(scanTopLevel(input as AsyncIterable<string>), deps, async (resources: Resource[]) => {
      for (const r of resources) {
        await write(`${first ? ',"entry":[\n' : ',\n'}${JSON.stringify(putEntry(r))}`);
        first = false;
      }
    });
    await write(first ? '}\n' : '\n]}\n');
    if (parsed.out) {
      (target as NodeJS.WritableStream).end();
      await once(target, 'finish');
    }
  } catch (e) {
    // Never leave half a Bundle behind in --out.
    if (parsed.out) {
      (target as NodeJS.WritableStream).end();
      await once(target, 'close').catch(() => undefined);
      await rm(parsed.out, { force: true });
    }
    err.write(`peerbridge translate: ${(e as Error).message}\n`);
    return 2;
  }
  if (parsed.report) {
    await writeFile(parsed.report, `${JSON.stringify({ summary: report.summary, outcome: report.outcome }, null, 2)}\n`);
  }
  err.write(parsed.format === 'json' ? `${JSON.stringify({ summary: report.summary, outcome: report.outcome })}\n` : formatReport(report));
  return report.summary.rejected > 0 || report.fatal ? 1 : 0;
}
