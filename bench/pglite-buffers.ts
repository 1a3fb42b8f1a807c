/**
 * What PGlite's `shared_buffers` costs in speed once the data outgrows it: `npm run
 * bench:pglite-buffers` (tsx bench/pglite-buffers.ts). Issue 15, item 4.
 *
 * For each size (`--sizes`, default 16MB and 128MB, interleaved for `--rounds` rounds), in a fresh
 * child process (so the RSS is that size's alone): PGlite in a new data directory copied from the
 * initdb template (src/store/pglite-template.ts), a table shaped like the store's (text key,
 * `jsonb` with a GIN `jsonb_path_ops` index, a timestamp with a btree), `--rows` rows of ~1.5 KB
 * (default 30,000: ~60 MB with indexes, beyond 16MB) inserted 200 per transaction, then 5,000
 * reads by key in a scattered order, 300 containment searches and 300 one-week range searches.
 * Prints rows/s, reads/s, ms per search and the process RSS; results to
 * bench/results/pglite-buffers-<timestamp>.json. Options: --rows N, --sizes 16MB,128MB, --rounds R [2].
 */
import { PGlite } from '@electric-sql/pglite';
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePgliteTemplate } from '../src/store/pglite-template';
import { median, round, writeResults } from './stats';

interface Result {
  sharedBuffers: string;
  insertsPerSec: number;
  readsPerSec: number;
  containmentMs: number;
  rangeMs: number;
  rssMiB: number;
}

const T0 = 1.7e12;
const body = (i: number): unknown => ({
  resourceType: 'Encounter',
  id: `e${i}`,
  subject: { reference: `Patient/p${i % 500}` },
  period: { start: new Date(T0 + i * 60_000).toISOString() },
  code: { coding: [{ system: 'http://example.org/codes', code: `c${i % 37}` }] },
  note: 'x'.repeat(1200),
});

/** One size, in this (child) process. */
async function measure(sharedBuffers: string, rows: number, template: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'peerbridge-buffers-'));
  try {
    cpSync(template, dir, { recursive: true });
    const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`] });
    await db.exec(
      'CREATE TABLE r (id text PRIMARY KEY, content jsonb NOT NULL, d timestamptz NOT NULL); CREATE INDEX ON r USING gin (content jsonb_path_ops); CREATE INDEX ON r (d);',
    );
    let t = performance.now();
    for (let b = 0; b < rows; b += 200) {
      await db.transaction(async (tx) => {
        for (let i = b; i < Math.min(rows, b + 200); i++) await tx.query('INSERT INTO r VALUES ($1, $2, $3)', [`e${i}`, body(i), new Date(T0 + i * 60_000)]);
      });
    }
    const insertMs = performance.now() - t;
    t = performance.now();
    for (let k = 0; k < 5000; k++) await db.query('SELECT content FROM r WHERE id = $1', [`e${(k * 7919) % rows}`]);
    const readMs = performance.now() - t;
    t = performance.now();
    for (let k = 0; k < 300; k++) await db.query('SELECT id FROM r WHERE content @> $1', [JSON.stringify({ subject: { reference: `Patient/p${k % 500}` } })]);
    const containmentMs = (performance.now() - t) / 300;
    t = performance.now();
    for (let k = 0; k < 300; k++)
      await db.query('SELECT id FROM r WHERE d >= $1 AND d < $2', [new Date(T0 + k * 6e6), new Date(T0 + k * 6e6 + 7 * 86_400_000)]);
    const rangeMs = (performance.now() - t) / 300;
    const rssMiB = round(process.memoryUsage().rss / 1048576, 0);
    await db.close();
    return {
      sharedBuffers,
      insertsPerSec: round((rows / insertMs) * 1000, 0),
      readsPerSec: round((5000 / readMs) * 1000, 0),
      containmentMs: round(containmentMs, 2),
      rangeMs: round(rangeMs, 2),
      rssMiB,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(sharedBuffers: string, rows: number, template: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child', sharedBuffers, String(rows), template], { execArgv: ['--import', 'tsx'] });
    child.once('message', (m: Result) => resolve(m));
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child for ${sharedBuffers} exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    process.send?.(await measure(argv[1], Number(argv[2]), argv[3]));
    return;
  }
  const opt = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const rows = Number(opt('--rows', '30000'));
  const sizes = opt('--sizes', '16MB,128MB').split(',');
  const rounds = Number(opt('--rounds', '2'));
  const template = await ensurePgliteTemplate();
  if (!template) throw new Error('no PGlite template (npm run build makes it)');
  const startedAt = new Date();
  const results: Result[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const size of sizes) {
      const res = await runChild(size, rows, template);
      results.push(res);
      console.log(`round ${r} shared_buffers=${size}: ${JSON.stringify(res)}`);
    }
  }
  const summary = sizes.map((size) => {
    const of = results.filter((x) => x.sharedBuffers === size);
    const med = (k: keyof Omit<Result, 'sharedBuffers'>): number => median(of.map((x) => x[k]));
    return {
      sharedBuffers: size,
      insertsPerSec: med('insertsPerSec'),
      readsPerSec: med('readsPerSec'),
      containmentMs: med('containmentMs'),
      rangeMs: med('rangeMs'),
      rssMiB: med('rssMiB'),
    };
  });
  console.table(summary);
  const file = writeResults('pglite-buffers', startedAt, { startedAt: startedAt.toISOString(), rows, rounds, loadavg: loadavg(), summary, results });
  console.log(`results in ${file}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
