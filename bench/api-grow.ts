/**
 * `npm run bench:api -- --grow [--grow-sizes 10000,100000,1000000]` (issue 15, "cost as the store
 * grows"): one store per driver (PostgreSQL by default), loaded in steps with generated peer
 * support resources (bench/api-workload.ts `ResourceStream`: made a chunk at a time, so a million
 * never sit in this process's memory) through `POST /fhir` transactions, `--ingest-concurrency`
 * Bundles in flight, as bench:api loads. At each size, after ANALYZE and a server restart (unless
 * --no-analyze / --no-restart, as bench:api), on the server child of bench/api-server.ts (no auth,
 * no audit: the same server bench:api's first rows measure):
 *   - the load rate of the step (resources/s);
 *   - read by id, search by patient, search by date range (one week): autocannon, --duration
 *     seconds (5 by default in this mode) after a 2 s warm-up: req/s, p50, p99;
 *   - a full Bulk Data export (resources/s, the server's peak RSS during it);
 *   - the server's RSS after the restart, after the searches, and at the export's peak.
 * One table with a row per size; results in bench/results/api-grow-<timestamp>.json.
 */
import type { Args as ApiArgs } from './api';
import { bulkExport, freshStore, load, rss, startServer, stopServer, type Driver, type LoadResult } from './api-measure';
import { ingest, ResourceStream, type IngestResult } from './api-workload';
import { fmt, fmtInt, machineInfo, table, writeResults } from './stats';
import { Rng } from './workload';

/** bench:api's options that the growth curve uses (it is `npm run bench:api -- --grow`), and the store sizes. */
export type GrowArgs = Pick<ApiArgs, 'drivers' | 'duration' | 'connections' | 'batch' | 'ingestConcurrency' | 'seed' | 'analyze' | 'restart' | 'cpuProf'> & {
  /** Store sizes, ascending. */
  sizes: number[];
};

interface GrowRow {
  size: number;
  /** Resources the store holds (every one loaded so far, less failed Bundles). */
  stored: number;
  ingest: IngestResult;
  analyzeSeconds?: number;
  read: LoadResult;
  byPatient: LoadResult;
  byDate: LoadResult;
  export: Awaited<ReturnType<typeof bulkExport>>;
  rssIdleMb: number;
  rssAfterSearchMb: number;
}

async function growDriver(
  driver: Driver,
  args: GrowArgs,
): Promise<{ driver: Driver; rows: GrowRow[]; repeatsSkipped: number; byType: Record<string, number> }> {
  const log = (s: string): void => console.log(`[${driver} grow] ${s}`);
  const store = await freshStore(driver, 'peerbridge_bench_grow');
  const stream = new ResourceStream(args.seed);
  const rng = new Rng(args.seed);
  const rows: GrowRow[] = [];
  let stored = 0;
  let server = await startServer(store.env, args.cpuProf);
  try {
    for (const size of args.sizes) {
      const step = size - stream.index.count;
      log(`loading ${fmtInt(step)} resources (to ${fmtInt(size)})`);
      const ing = await ingest(server.base, stream.bundles(step, args.batch), args.ingestConcurrency);
      stored += ing.resources;
      log(
        `loaded ${fmtInt(ing.resources)} in ${fmt(ing.seconds)} s = ${fmtInt(ing.rps)} resources/s, ${ing.failures} failed Bundles${ing.firstError ? ` (first: ${ing.firstError})` : ''}`,
      );
      let analyzeSeconds: number | undefined;
      if (args.analyze) {
        const t = performance.now();
        await server.command('analyze');
        analyzeSeconds = (performance.now() - t) / 1000;
      }
      if (args.restart) {
        await stopServer(server);
        server = await startServer(store.env, args.cpuProf);
      }
      const pid = server.child.pid as number;
      const rssIdleMb = rss(pid).now;
      const w = stream.index;
      const read = await load(server.base, args, () => `/fhir/Encounter/${rng.pick(w.encounterIds)}`);
      log(`read by id: ${fmtInt(read.rps)} req/s, p50 ${read.p50} ms, p99 ${read.p99} ms, ${read.non2xx} non-2xx`);
      const byPatient = await load(server.base, args, () => `/fhir/Encounter?patient=Patient/${rng.pick(w.patientIds)}`);
      log(`search by patient: ${fmtInt(byPatient.rps)} req/s, p50 ${byPatient.p50} ms, p99 ${byPatient.p99} ms, ${byPatient.non2xx} non-2xx`);
      const [min, max] = w.dates;
      const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
      const byDate = await load(server.base, args, () => {
        const from = min + rng.int(0, Math.max(0, Math.floor((max - min) / 86_400_000) - 1)) * 86_400_000;
        return `/fhir/Encounter?date=ge${day(from)}&date=lt${day(from + 7 * 86_400_000)}`;
      });
      log(`search by date range: ${fmtInt(byDate.rps)} req/s, p50 ${byDate.p50} ms, p99 ${byDate.p99} ms, ${byDate.non2xx} non-2xx`);
      const rssAfterSearchMb = rss(pid).now;
      const exp = await bulkExport(server.base, pid);
      log(`export: ${fmtInt(exp.resources)} resources in ${fmt(exp.seconds)} s = ${fmtInt(exp.rps)}/s, peak RSS ${fmtInt(exp.peakRssMb)} MB`);
      if (exp.resources !== stored) log(`WARNING: exported ${exp.resources}, stored ${stored}`);
      rows.push({ size, stored, ingest: ing, analyzeSeconds, read, byPatient, byDate, export: exp, rssIdleMb, rssAfterSearchMb });
    }
  } finally {
    await stopServer(server);
    await store.cleanup();
  }
  return { driver, rows, repeatsSkipped: stream.repeats, byType: stream.index.byType };
}

function growTable(results: Awaited<ReturnType<typeof growDriver>>[]): string {
  const ms = (r: LoadResult): string => `${fmtInt(r.rps)} (${r.p50} / ${r.p99})`;
  const rows = results.flatMap(({ driver, rows }) =>
    rows.map((r) => [
      driver,
      fmtInt(r.stored),
      fmtInt(r.ingest.rps),
      ms(r.read),
      ms(r.byPatient),
      ms(r.byDate),
      fmtInt(r.export.rps),
      `${fmtInt(r.rssIdleMb)} / ${fmtInt(r.rssAfterSearchMb)} / ${fmtInt(r.export.peakRssMb)}`,
    ]),
  );
  return table(
    [
      'store',
      'resources',
      'load (res/s)',
      'read by id: req/s (p50 / p99 ms)',
      'search by patient',
      'search by date range',
      'export (res/s)',
      'server RSS MB: idle / after searches / export peak',
    ],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** The growth curve: every driver in turn, one table, one results file. */
export async function runGrow(args: GrowArgs): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const results = [];
  for (const driver of args.drivers) results.push(await growDriver(driver, args));
  const report = growTable(results);
  console.log(`\n${report}\n`);
  const machine = machineInfo();
  const file = writeResults('api-grow', started, {
    started: started.toISOString(),
    seconds: (performance.now() - t0) / 1000,
    args,
    machine,
    results,
    table: report,
  });
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s; results in ${file}`);
}
