/**
 * Child process of bench/validate.ts: times `Validator.create()` in a fresh process and prints one
 * JSON line. Usage: node --import tsx bench/startup-probe.ts [cacheDir]
 *
 * - importMs: process start -> validator module imported (Node + tsx + @medplum/core load).
 * - createMs: `Validator.create()` alone (the start-up figure the target applies to).
 * - firstValidateMs: validating one generated resource of each profiled kind right after create
 *   (the lazy per-resource-type definition loads that the first requests pay).
 */
import { join } from 'node:path';
import { PROJECT_ROOT, Validator } from '../src/validation';
import { generateWorkload } from './workload';

const importMs = performance.now();
const cacheDir = process.argv[2];
const t0 = performance.now();
const validator = Validator.create(cacheDir ? { cacheDir } : undefined);
const createMs = performance.now() - t0;

const sample = new Map<string, unknown>();
for (const item of generateWorkload(7, 2, join(PROJECT_ROOT, 'profiles', 'package'))) {
  if (!sample.has(item.kind)) {
    sample.set(item.kind, item.resource);
  }
}
const t1 = performance.now();
let invalid = 0;
for (const r of sample.values()) {
  if (!validator.validate(r).valid) {
    invalid++;
  }
}
const firstValidateMs = performance.now() - t1;

process.stdout.write(`${JSON.stringify({ importMs, createMs, firstValidateMs, firstValidateKinds: sample.size, invalid })}\n`);
