/**
 * Child process of bench/translate.ts: one end-to-end translation (translateSource -> Bundle file)
 * in a fresh process, printing one JSON line with its peak RSS, so each input size is measured
 * without the parent's heap.
 *
 * Usage: node --expose-gc --import tsx bench/translate-child.ts <riverbend-csv|hl7v2> <path> <bundle-out> <source records>
 * (BENCH_HEAP_GROWING=0 for V8's default heap growth instead of the CLI's bound)
 *
 * With --expose-gc it also measures what the run keeps across records: the live heap after a
 * full GC before the run (heapBefore) and right after the last source record was handled, while
 * the run and its state are still alive (heapAtLast); then, after the run, with its report alive
 * and without it (the report holds the OperationOutcome issues collected over the run), the
 * mappings and deps (and what the validator loaded lazily) still referenced. These GCs come before
 * the run and at its very end, so they do not lower the peak RSS reached in it.
 */
// First: compiled dist/ unless BENCH_CODE=src, as the parent (bench/translate.ts).
import './compiled';
import type { PipelineDeps } from '../src/pipeline/canonical';
import type { LoadedSource } from '../src/translate';
import { boundHeapGrowth, TRANSLATE_HEAP_GROWING_PERCENT } from '../src/cli/translate';
import { envNumber } from './stats';
import { loadBenchSource, loadDeps, runSource, type SourceRun } from './translate-pipeline';

/** The heap growth `peerbridge translate` sets, unless BENCH_HEAP_GROWING says otherwise (0: V8's own, up to 4x). */
const HEAP_GROWING_PERCENT = envNumber('BENCH_HEAP_GROWING', TRANSLATE_HEAP_GROWING_PERCENT);
if (HEAP_GROWING_PERCENT > 0) boundHeapGrowth(HEAP_GROWING_PERCENT);

const gc = (globalThis as { gc?: () => void }).gc;
const liveHeapKb = (): number => {
  gc?.();
  return Math.round(process.memoryUsage().heapUsed / 1024);
};

/** The figures of a run (a function of its own, so no local keeps the report alive afterwards). */
function counts(run: SourceRun) {
  const r = run.report;
  return {
    ms: run.ms,
    phaseStartMs: run.phaseStartMs,
    read: r.records.read,
    accepted: r.records.accepted,
    rejected: r.records.rejected,
    skipped: r.records.skipped,
    canonical: r.summary.read,
    resources: r.summary.resources,
    entries: run.entries,
    issues: r.outcome.issue.length,
    fatal: r.fatal,
  };
}

/**
 * Runs the translation and returns plain figures only, measuring the live heap with the report
 * still referenced; once this function has returned nothing of the run is reachable (a local of
 * the caller holding the run could keep it alive in a stale register).
 */
async function translate(source: LoadedSource, deps: PipelineDeps, path: string, out: string, records: number) {
  const heapBeforeKb = liveHeapKb();
  let heapAtLastKb = 0;
  const run = await runSource(source, path, out, deps, {
    phaseInput: source.name === 'riverbend-csv' ? 'contacts.csv' : undefined,
    onSourceRecord: (n) => {
      if (n === records) heapAtLastKb = liveHeapKb();
    },
  });
  const maxRssKb = process.resourceUsage().maxRSS;
  return { ...counts(run), maxRssKb, heapBeforeKb, heapAtLastKb, withReportKb: liveHeapKb() };
}

async function main(): Promise<void> {
  const [sourceName, path, out, expected] = process.argv.slice(2);
  const records = Number(expected);
  if (!sourceName || !path || !out || !Number.isInteger(records) || records <= 0) {
    throw new Error('usage: translate-child.ts <riverbend-csv|hl7v2> <path> <bundle-out> <source records>');
  }
  // Mappings and deps stay referenced here, so the heap after the run still holds what the
  // validator loaded lazily during it: the difference is the run's own state.
  const t0 = performance.now();
  const source = loadBenchSource(sourceName);
  const deps = loadDeps();
  const depsMs = performance.now() - t0;
  const rssAfterDepsKb = Math.round(process.memoryUsage().rss / 1024);
  const figures = await translate(source, deps, path, out, records);
  const withoutReportKb = liveHeapKb();
  process.stdout.write(
    `${JSON.stringify({ source: sourceName, gc: gc !== undefined, heapGrowingPercent: HEAP_GROWING_PERCENT, expected: records, depsMs, rssAfterDepsKb, ...figures, withoutReportKb, feeds: source.feeds.length, rules: deps.rules !== undefined })}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
