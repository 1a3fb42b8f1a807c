/**
 * Child process of bench/ingest.ts: runs the pipeline once over a canonical file in a fresh
 * process and prints one JSON line with the process's peak RSS, so each file size is measured
 * without the parent's heap.
 *
 * Usage: node --// First: compiled dist/ unless BENCH_CODE=src, as the parent (bench/ingest.ts).
import './compiled';
import tsx bench/ingest-child.ts <file> <stream|whole> <bundle-out>
 *   stream: fs read stream -> scanTopLevel (records parsed one at a time)
 *   whole:  readFileSync + JSON.parse of the whole file -> documentEvents
 */
import { loadDeps, runPipeline } from './ingest-pipeline';

async function main(): Promise<void> {
  const [file, mode, out] = process.argv.slice(2);
  if (!file || (mode !== 'stream' && mode !== 'whole') || !out) {
    throw new Error('usage: ingest-child.ts <file> <stream|whole> <bundle-out>');
  }
  const t0 = performance.now();
  const deps = loadDeps();
  const depsMs = performance.now() - t0;
  const rssAfterDepsKb = Math.round(process.memoryUsage().rss / 1024);
  const maxRssAfterDepsKb = process.resourceUsage().maxRSS;
  const run = await runPipeline(file, out, deps, mode);
  const s = run.report.summary;
  const maxRssKb = process.resourceUsage().maxRSS;
  const mem = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      mode,
      depsMs,
      ms: run.ms,
      read: s.read,
      accepted: s.accepted,
      rejected: s.rejected,
      contacts: s.byKind.contact?.accepted ?? 0,
      resources: s.resources,
      entries: run.entries,
      fatal: run.report.fatal,
      rssAfterDepsKb,
      maxRssAfterDepsKb,
      maxRssKb,
      rssEndKb: Math.round(mem.rss / 1024),
      heapUsedEndKb: Math.round(mem.heapUsed / 1024),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
