/**
 * What NARRATIVE=all costs (issue 18 item 3): the same generated canonical file (bench/ingest-generate.ts)
 * through the canonical pipeline with narratives only where a profile requires one (`required`, CarePlan)
 * and on every resource (`all`); prints the resources made, their JSON size and the run time of each,
 * best of `--runs` (default 3), alternating the modes so both see the same machine load.
 *
 *   npx tsx bench/narrative.ts [--contacts 2000] [--runs 3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../src/domain/rules';
import { loadPackageTerms } from '../src/fhir/context';
import { withNarrative, type NarrativeMode } from '../src/fhir/narrative';
import { documentEvents, translateCanonical } from '../src/pipeline/translate-canonical';
import { Validator } from '../src/validation';
import { generateCanonicalFile } from './ingest-generate';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const contacts = arg('contacts', 2000);
  const runs = arg('runs', 3);
  const dir = mkdtempSync(join(tmpdir(), 'pb-narrative-'));
  try {
    const file = join(dir, 'canonical.json');
    generateCanonicalFile(file, { contacts, seed: 18 });
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => new Date('2026-11-22T12:00:00Z') };
    const best: Record<NarrativeMode, { ms: number; resources: number; bytes: number }> = {
      required: { ms: Infinity, resources: 0, bytes: 0 },
      all: { ms: Infinity, resources: 0, bytes: 0 },
    };
    let sample: Resource[] = [];
    for (let r = 0; r < runs; r++) {
      for (const mode of ['required', 'all'] as const) {
        const made: Resource[] = [];
        const started = process.hrtime.bigint();
        const report = await translateCanonical(documentEvents(doc), { ...deps, narrative: mode }, (list) => void made.push(...list));
        if (report.summary.rejected > 0) throw new Error(`${report.summary.rejected} record(s) rejected in mode ${mode}: the workload should be all valid`);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const bytes = made.reduce((n, x) => n + Buffer.byteLength(JSON.stringify(x)), 0);
        if (ms < best[mode].ms) best[mode] = { ms, resources: made.length, bytes };
        if (mode === 'required') sample = made;
      }
    }
    // The narratives alone (generation, without the pipeline's validation of them), best of `runs`.
    let generateMs = Infinity;
    for (let r = 0; r < runs; r++) {
      const started = process.hrtime.bigint();
      for (const x of sample) withNarrative(x);
      generateMs = Math.min(generateMs, Number(process.hrtime.bigint() - started) / 1e6);
    }
    const { required, all } = best;
    const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;
    console.log(`contacts ${contacts}, resources ${required.resources}, best of ${runs}`);
    console.log(
      `required: ${required.ms.toFixed(0)} ms, ${(required.bytes / 1e6).toFixed(2)} MB JSON (${(required.bytes / required.resources).toFixed(0)} B/resource)`,
    );
    console.log(`all:      ${all.ms.toFixed(0)} ms, ${(all.bytes / 1e6).toFixed(2)} MB JSON (${(all.bytes / all.resources).toFixed(0)} B/resource)`);
    console.log(`NARRATIVE=all costs ${pct(all.bytes, required.bytes)} size, ${pct(all.ms, required.ms)} time`);
    console.log(
      `generating the narratives alone: ${generateMs.toFixed(0)} ms for ${sample.length} resources (${((generateMs * 1000) / sample.length).toFixed(1)} µs each)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
