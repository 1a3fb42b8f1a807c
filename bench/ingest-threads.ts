/**
 * `npm run bench:ingest-threads`: where the server runs the pipeline (issue 15 item 2: "PGlite
 * stays one process but validation and pipeline work go to worker threads"). The real server
 * (`node dist/server.js`, audit on, auth off; bench/api-workers.ts `startRealServer`) on a fresh
 * store, once with the pipeline in its worker threads (the default) and once in the request
 * thread (`VALIDATION_WORKERS=0`: no pool; `/ingest` bodies are not otherwise validated by the
 * pool, their resources were validated as the pipeline made them), interleaved round by round:
 *
 *   1. ingest alone: `--posters` loops each `POST /ingest/hl7v2` of `--hl7-batch` generated HL7 v2
 *      messages (bench/translate-generate.ts), one at a time each, for `--seconds`: messages/s;
 *   2. ingest and reads: the same posters, and `--readers` loops reading a stored Patient by id:
 *      messages/s, and the reads' req/s and p50/p99 (what the ingest leaves the other requests).
 *
 * Options: --driver pglite|pg [pglite], --seconds S [20], --rounds R [2], --posters P [2],
 * --readers N [2], --hl7-batch M [50], --seed S [20261122]. Results: bench/results/ingest-threads-*.json.
 */
import { freshStore, quantile, type Driver } from './api-measure';
import { startRealServer } from './api-workers';
import { fmt, fmtInt, machineInfo, table, writeResults } from './stats';
import { hl7Batches } from './translate-generate';

interface Args {
  driver: Driver;
  seconds: number;
  rounds: number;
  posters: number;
  readers: number;
  batch: number;
  seed: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { driver: 'pglite', seconds: 20, rounds: 2, posters: 2, readers: 2, batch: 50, seed: 20261122 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} takes a number`);
      return v;
    };
    if (a === '--driver') {
      const d = argv[++i];
      if (d !== 'pg' && d !== 'pglite') throw new Error('--driver takes pg or pglite');
      args.driver = d;
    } else if (a === '--seconds') args.seconds = num();
    else if (a === '--rounds') args.rounds = Math.max(1, Math.floor(num()));
    else if (a === '--posters') args.posters = Math.max(1, Math.floor(num()));
    else if (a === '--readers') args.readers = Math.floor(num());
    else if (a === '--hl7-batch') args.batch = Math.max(1, Math.floor(num()));
    else if (a === '--seed') args.seed = num();
    else throw new Error(`Unknown option ${a}`);
  }
  return args;
}

const MODES = { 'worker threads': {}, 'request thread': { VALIDATION_WORKERS: '0' } } as const;
type Mode = keyof typeof MODES;

interface Phase {
  messages: number;
  messagesPerSecond: number;
  posts: number;
  failedPosts: number;
  reads?: { rps: number; p50: number; p99: number; failed: number };
}

const log = (line: string): void => console.log(line);

/** Posts batches in order from `next` until `until`; counts the messages of the batches stored (2xx). */
async function poster(
  base: string,
  next: () => string,
  until: number,
  out: { messages: number; posts: number; failed: number },
  perBatch: number,
): Promise<void> {
  while (performance.now() < until) {
    const res = await fetch(`${base}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: next() });
    await res.arrayBuffer();
    out.posts++;
    if (res.ok) out.messages += perBatch;
    else out.failed++;
  }
}

async function reader(base: string, path: string, until: number, times: number[], failed: { n: number }): Promise<void> {
  while (performance.now() < until) {
    const t0 = performance.now();
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    if (res.ok) times.push(performance.now() - t0);
    else failed.n++;
  }
}

async function phase(base: string, args: Args, next: () => string, readPath?: string): Promise<Phase> {
  const until = performance.now() + args.seconds * 1000;
  const t0 = performance.now();
  const posted = { messages: 0, posts: 0, failed: 0 };
  const times: number[] = [];
  const failed = { n: 0 };
  await Promise.all([
    ...Array.from({ length: args.posters }, () => poster(base, next, until, posted, args.batch)),
    ...(readPath ? Array.from({ length: args.readers }, () => reader(base, readPath, until, times, failed)) : []),
  ]);
  const seconds = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  return {
    messages: posted.messages,
    messagesPerSecond: posted.messages / seconds,
    posts: posted.posts,
    failedPosts: posted.failed,
    ...(readPath ? { reads: { rps: times.length / seconds, p50: quantile(times, 0.5), p99: quantile(times, 0.99), failed: failed.n } } : {}),
  };
}

async function runMode(mode: Mode, args: Args, batches: string[]): Promise<{ alone: Phase; mixed: Phase; readyMs: number }> {
  const store = await freshStore(args.driver, 'peerbridge_ingest_threads');
  const server = await startRealServer({ ...store.env, ...MODES[mode] });
  try {
    let i = 0;
    const next = (): string => batches[i++ % batches.length];
    // Warm-up: the first batches (the pool's first worker loads with the first run), then a Patient to read.
    for (let w = 0; w < 4; w++)
      await fetch(`${server.base}/ingest/hl7v2`, { method: 'POST', headers: { 'content-type': 'x-application/hl7-v2+er7' }, body: next() });
    const found = (await (await fetch(`${server.base}/fhir/Patient?_count=1&_elements=id`)).json()) as { entry?: { resource: { id: string } }[] };
    const patient = found.entry?.[0]?.resource.id;
    if (!patient) throw new Error(`no Patient stored after the warm-up:\n${server.output()}`);
    const alone = await phase(server.base, args, next);
    const mixed = await phase(server.base, args, next, `/fhir/Patient/${patient}`);
    return { alone, mixed, readyMs: server.readyMs };
  } finally {
    await server.stop();
    await store.cleanup();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const machine = machineInfo();
  log(
    `ingest-threads: ${args.driver}, ${args.posters} posters of ${args.batch}-message HL7 batches, ${args.readers} readers, ${args.seconds} s per phase, ${args.rounds} rounds`,
  );
  log(`machine: ${machine.cpus} cores, load ${machine.loadavg.map((x) => x.toFixed(2)).join(' ')}`);
  const batches = hl7Batches(args.seed, args.batch, Math.max(2_000, Math.ceil(args.seconds * 2 * 400)));
  const runs: Record<Mode, { alone: Phase; mixed: Phase; readyMs: number }[]> = { 'worker threads': [], 'request thread': [] };
  for (let r = 0; r < args.rounds; r++) {
    // Interleaved, the order swapped each round, so a change in the machine's load falls on both.
    const order: Mode[] = r % 2 === 0 ? ['worker threads', 'request thread'] : ['request thread', 'worker threads'];
    for (const mode of order) {
      const res = await runMode(mode, args, batches);
      runs[mode].push(res);
      log(
        `round ${r + 1}, ${mode}: alone ${fmt(res.alone.messagesPerSecond)} msg/s; with reads ${fmt(res.mixed.messagesPerSecond)} msg/s, reads ${fmt(res.mixed.reads?.rps ?? 0)}/s p50 ${fmt(res.mixed.reads?.p50 ?? 0)} ms p99 ${fmt(res.mixed.reads?.p99 ?? 0)} ms`,
      );
    }
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const of = (mode: Mode, f: (x: { alone: Phase; mixed: Phase }) => number): number => median(runs[mode].map(f));
  const rows: [string, (m: Mode) => number][] = [
    ['ingest alone (messages/s)', (m) => of(m, (x) => x.alone.messagesPerSecond)],
    ['ingest with reads (messages/s)', (m) => of(m, (x) => x.mixed.messagesPerSecond)],
    ['reads during ingest (req/s)', (m) => of(m, (x) => x.mixed.reads?.rps ?? 0)],
    ['  p50 (ms)', (m) => of(m, (x) => x.mixed.reads?.p50 ?? 0)],
    ['  p99 (ms)', (m) => of(m, (x) => x.mixed.reads?.p99 ?? 0)],
  ];
  log('');
  log(`medians of ${args.rounds} rounds:`);
  log(
    table(
      ['measure', 'worker threads', 'request thread', 'ratio'],
      rows.map(([name, f]) => [name, fmt(f('worker threads')), fmt(f('request thread')), `${fmt(f('worker threads') / f('request thread'), 2)}x`]),
      ['l', 'r', 'r', 'r'],
    ),
  );
  const failed = Object.values(runs).flatMap((rs) => rs.flatMap((x) => [x.alone.failedPosts, x.mixed.failedPosts, x.mixed.reads?.failed ?? 0]));
  if (failed.some((n) => n > 0)) log(`WARNING: ${fmtInt(failed.reduce((a, b) => a + b, 0))} requests failed`);
  const file = writeResults('ingest-threads', startedAt, { args, machine, runs });
  log(`results: ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
