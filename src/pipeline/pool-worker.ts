/**
 * The server's worker thread (src/pipeline/pool.ts): validates as src/validation/pool-worker.ts
 * does, and runs the pipeline (`translateForIngest`, `translateCanonicalBody`), asking the main
 * thread for stored records over its port. It loads mappings and code displays once, on its
 * first run; the rule set is the main thread's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RuleSet } from '../domain/rules';
import type { StoredRecords } from '../domain/stored-records';
import { loadPackageTerms, type PackageTerms } from '../fhir/context';
import { loadSource } from '../translate';
import type { LoadedSource } from '../translate/types';
import { serveJobs, workerValidator } from '../validation/pool-worker';
import type { Validator } from '../validation';
import type { PipelineDeps } from './canonical';
import { translateCanonicalBody, translateForIngest } from './runs';
import { MAPPING_CHANGED, sourceSignature, STORED_METHODS, type PipelineJob, type RunSettings } from './pool';

type Call = (method: string, args: unknown[]) => Promise<unknown>;

/** The worker's PipelineDeps for a run with `settings`. */
function depsOf(validator: Validator, rules: RuleSet, terms: PackageTerms, settings: RunSettings, call: Call): PipelineDeps {
  const stored = settings.stored
    ? (Object.fromEntries(STORED_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)])) as unknown as StoredRecords)
    : undefined;
  return {
    validator,
    rules,
    terms,
    now: () => new Date(settings.now),
    ...(settings.part2Organizations ? { part2Organizations: settings.part2Organizations } : {}),
    ...(settings.narrative ? { narrative: settings.narrative } : {}),
    ...(settings.ledgerMaxContacts !== undefined ? { ledgerMaxContacts: settings.ledgerMaxContacts } : {}),
    ...(stored ? { stored } : {}),
  };
}

if (parentPort && (workerData as { serve?: string } | undefined)?.serve === 'custom') {
  const validator = workerValidator();
  const rules = (workerData as { rules: RuleSet }).rules;
  let terms: PackageTerms | undefined;
  const sources = new Map<string, LoadedSource>();
  const sourceAt = (dir: string, name: string, signature: string): LoadedSource => {
    let source = sources.get(dir);
    if (!source || sourceSignature(source) !== signature) {
      source = loadSource(dir);
      sources.set(dir, source);
    }
    if (sourceSignature(source) !== signature) throw new Error(`${MAPPING_CHANGED}: mapping ${name} (${dir}) changed since the server loaded it`);
    return source;
  };
  serveJobs(parentPort, validator, (job, call) => {
    const j = job as PipelineJob;
    if ('translate' in j) {
      const t = j.translate;
      return (async () => {
        terms ??= loadPackageTerms();
        return translateForIngest(sourceAt(t.dir, t.name, t.signature), t.inputs, depsOf(validator, rules, terms, t, call));
      })();
    }
    if ('canonical' in j) {
      terms ??= loadPackageTerms();
      return translateCanonicalBody(j.canonical.body, depsOf(validator, rules, terms, j.canonical, call));
    }
    return undefined;
  });
}
