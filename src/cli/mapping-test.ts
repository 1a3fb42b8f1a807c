/**
 * `peerbridge mapping test <mapping>`: golden tests for a user's own mapping. Its samples are in
 * a folder beside it: `<name>.samples/` for a one-file mapping `<name>.yaml`, `samples/` inside a
 * mapping folder. Each `<input>.expected.json` there is a case: `<input>` (a file, or a folder of
 * files) is translated as `peerbridge translate` would, and the transaction Bundle it gives must
 * equal the expected one (entries compared by resource, in any order). A case passes when the
 * Bundles are equal; its rejects are listed either way. `--update` writes the expected files from
 * what the mapping gives now (then review them).
 */
import { existsSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { loadRules } from '../domain/rules';
import { putEntry } from '../fhir/bundle';
import { loadPackageTerms } from '../fhir/context';
import type { PipelineDeps } from '../pipeline/canonical';
import { inputsFromPath, translateSource, type RejectRecord } from '../pipeline/translate-source';
import type { LoadedSource } from '../translate/types';
import { Validator } from '../validation';

export const EXPECTED = '.expected.json';

/** The samples folder of a mapping (it need not exist). */
export function samplesDir(source: LoadedSource): string {
  return source.dir.endsWith('.yaml') ? join(dirname(source.dir), `${basename(source.dir, '.yaml')}.samples`) : join(source.dir, 'samples');
}

export interface CaseResult {
  name: string;
  pass: boolean;
  /** What differs (empty when it passes). */
  diff: string[];
  rejects: RejectRecord[];
  entries: number;
  updated?: boolean;
}

const keyOf = (e: BundleEntry): string => e.request?.url ?? `${e.resource?.resourceType}/${e.resource?.id}`;

/** The first differences between two JSON values, as `path: expected X, got Y`. */
function differences(a: unknown, b: unknown, path: string, out: string[], max: number): void {
  if (out.length >= max) return;
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a)
      ? [...Array(Math.max(a.length, (b as unknown[]).length)).keys()].map(String)
      : [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`, out, max);
    }
    return;
  }
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 80));
  out.push(`${path}: expected ${show(a)}, got ${show(b)}`);
}

/** Compares two transaction Bundles entry by entry; lines saying what is missing, extra or changed. */
export function bundleDiff(expected: Bundle, actual: Bundle, max = 20): string[] {
  const want = new Map((expected.entry ?? []).map((e) => [keyOf(e), e]));
  const got = new Map((actual.entry ?? []).map((e) => [keyOf(e), e]));
  const out: string[] = [];
  for (const [k, e] of want) {
    const g = got.get(k);
    if (!g) out.push(`missing ${k}`);
    else {
      const d: string[] = [];
      differences(e, g, k, d, 3);
      out.push(...d.map((x) => `changed ${x}`));
    }
  }
  for (const k of got.keys()) if (!want.has(k)) out.push(`extra ${k}`);
  return out.length > max ? [...out.slice(0, max), `... and ${out.length - max} more`] : out;
}

/** The cases of a samples folder: every input (file or folder) there, expected in `<input>.expected.json`. */
export function sampleCases(dir: string): { name: string; input: string; expected: string }[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const names = readdirSync(dir);
  const inputs = names.filter((n) => !n.endsWith(EXPECTED) && !n.startsWith('.') && !n.endsWith('.rejects.ndjson'));
  return inputs.map((n) => ({ name: n, input: join(dir, n), expected: join(dir, `${n}${EXPECTED}`) })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Translates one sample input into the Bundle `translate --out` would write (the latest version of each resource). */
async function bundleOf(source: LoadedSource, input: string, deps: PipelineDeps): Promise<{ bundle: Bundle; rejects: RejectRecord[] }> {
  const latest = new Map<string, Resource>();
  const rejects: RejectRecord[] = [];
  await translateSource(
    source,
    inputsFromPath(input, source),
    deps,
    (resources) => {
      for (const r of resources) {
        const k = `${r.resourceType}/${r.id}`;
        latest.delete(k);
        latest.set(k, r);
      }
    },
    {
      onReject: (r) => {
        const { about: _about, ...line } = r;
        rejects.push(line);
      },
    },
  );
  const entry = [...latest.values()].map((r) => putEntry(r));
  return { bundle: { resourceType: 'Bundle', type: 'transaction', ...(entry.length ? { entry } : {}) }, rejects };
}

/** Runs every case of the mapping's samples; `update` writes the expected Bundles instead of comparing. */
export async function runSamples(source: LoadedSource, options: { update?: boolean; now?: Date } = {}): Promise<CaseResult[]> {
  const deps: PipelineDeps = {
    validator: Validator.create(),
    rules: loadRules(process.env.RULES_FILE || undefined),
    terms: loadPackageTerms(),
    ...(options.now ? { now: () => options.now as Date } : {}),
  };
  const results: CaseResult[] = [];
  for (const c of sampleCases(samplesDir(source))) {
    const { bundle, rejects } = await bundleOf(source, c.input, deps);
    const entries = bundle.entry?.length ?? 0;
    if (options.update) {
      writeFileSync(c.expected, `${JSON.stringify(bundle, null, 2)}\n`);
      results.push({ name: c.name, pass: true, diff: [], rejects, entries, updated: true });
      continue;
    }
    if (!existsSync(c.expected)) {
      results.push({ name: c.name, pass: false, diff: [`no ${basename(c.expected)}: write it with --update (then review it)`], rejects, entries });
      continue;
    }
    let expected: Bundle;
    try {
      expected = JSON.parse(readFileSync(c.expected, 'utf8')) as Bundle;
    } catch (e) {
      results.push({ name: c.name, pass: false, diff: [`${basename(c.expected)} is not JSON: ${(e as Error).message}`], rejects, entries });
      continue;
    }
    const diff = bundleDiff(expected, bundle);
    results.push({ name: c.name, pass: diff.length === 0, diff, rejects, entries });
  }
  return results;
}

/** The text report of `mapping test`. */
export function formatResults(source: LoadedSource, results: CaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const rej = r.rejects.length ? `, ${r.rejects.length} rejected` : '';
    lines.push(`${r.updated ? 'WROTE' : r.pass ? 'PASS ' : 'FAIL '} ${r.name} (${r.entries} entries${rej})`);
    for (const d of r.diff) lines.push(`        ${d}`);
    for (const j of r.rejects.slice(0, 10))
      lines.push(`        rejected ${j.input} ${j.where}: ${j.errors.map((e) => `${e.source ? `${e.source}: ` : ''}${e.reason}`).join('; ')}`);
    if (r.rejects.length > 10) lines.push(`        ... and ${r.rejects.length - 10} more rejected`);
  }
  const failed = results.filter((r) => !r.pass).length;
  lines.push(
    results.length
      ? `${results.length - failed} of ${results.length} samples of ${source.name} pass${failed ? `; ${failed} fail` : ''}`
      : `No samples for ${source.name}: put an input and its <input>${EXPECTED} in ${samplesDir(source)}`,
  );
  return `${lines.join('\n')}\n`;
}
