/**
 * Benchmarks measure the code users run. `peerbridge` (bin/peerbridge.js) and `npm start` run the
 * tsc output in dist/, while the benchmarks are TypeScript run through tsx, which compiles src/ with
 * esbuild's `keepNames`: every function created at run time (each closure of a hot loop) is wrapped
 * in a `__name(fn, "name")` call. On the translation benchmark that made the pipeline ~25% slower
 * than the shipped CLI (scratch A/B on 21,626 CSV rows, one machine, one run: 3,150 rows/s through
 * tsx, 4,000 compiled).
 *
 * Imported first by a benchmark's entry file (and its child processes): unless `BENCH_CODE=src`,
 * it builds dist/ when it is older than its sources (scripts/build-if-stale.js, as `npm start`
 * does) and resolves every module under src/ to its compiled twin under dist/, so the benchmark's
 * own TypeScript drives the compiled pipeline. `BENCH_CODE=src` measures the sources through tsx.
 */
import { existsSync } from 'node:fs';
import Module from 'node:module';
import { join, sep } from 'node:path';
import { BENCH_CODE, buildIfStale } from './code';

export { BENCH_CODE } from './code';

const ROOT = join(__dirname, '..');
const SRC = join(ROOT, 'src') + sep;
const DIST = join(ROOT, 'dist') + sep;

type Resolve = (request: string, parent: unknown, isMain: boolean, options: unknown) => string;

if (BENCH_CODE === 'dist' && !(globalThis as { __benchCompiled?: boolean }).__benchCompiled) {
  (globalThis as { __benchCompiled?: boolean }).__benchCompiled = true;
  buildIfStale();
  const M = Module as unknown as { _resolveFilename: Resolve };
  const resolve = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request, parent, isMain, options) {
    const file = resolve.call(this, request, parent, isMain, options);
    if (file.startsWith(SRC) && file.endsWith('.ts')) {
      const compiled = DIST + file.slice(SRC.length, -3) + '.js';
      if (existsSync(compiled)) {
        return compiled;
      }
    }
    return file;
  };
}
