/**
 * Which code a benchmark runs (bench/compiled.ts says why compiled): `dist` (the tsc output, as
 * `npm start` and `peerbridge` run it; the default) or `src` (the TypeScript sources through tsx,
 * `BENCH_CODE=src`). No side effects: bench/compiled.ts is the module that redirects imports.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** Which code the benchmark runs: `dist` (compiled, as the CLI and the server) or `src` (TypeScript through tsx). */
export const BENCH_CODE: 'dist' | 'src' = process.env.BENCH_CODE === 'src' ? 'src' : 'dist';

/** Builds dist/ when it is older than its sources (scripts/build-if-stale.js, as `npm start` does). */
export function buildIfStale(): void {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) {
    throw new Error('bench: building dist/ failed (scripts/build-if-stale.js); BENCH_CODE=src runs the sources instead');
  }
}
