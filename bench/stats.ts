/** Small number, table and results-file helpers shared by the benchmarks. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/validation';

/** The machine a benchmark ran on, for its results file: cores, CPU model, memory, Node and the load average now. */
export function machineInfo(): { cpus: number; cpu: string | undefined; memGb: number; node: string; loadavg: number[] } {
  return { cpus: cpus().length, cpu: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadavg: loadavg() };
}

/** Writes `bench/results/<name>-<start time>.json`; returns its path. */
export function writeResults(name: string, startedAt: Date, result: unknown): string {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** A numeric knob from the environment (`BENCH_...`): its value when it is a finite number >= 0, else `fallback`. */
export const envNumber = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return process.env[name] !== undefined && process.env[name] !== '' && Number.isFinite(v) && v >= 0 ? v : fallback;
};

/** Per second from a count and milliseconds. */
export const perSec = (n: number, ms: number): number => (n / ms) * 1000;

/** KiB (as maxRSS gives them) in whole MiB. */
export const mib = (kb: number): string => `${fmt(kb / 1024, 0)} MiB`;

/** Median of a list of samples. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Rounds to `digits` decimals. */
export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** An integer with thousands separators, `-` when not finite. */
export const fmtInt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');

/** A number with `digits` decimals and thousands separators, `-` when not finite. */
export const fmt = (x: number, digits = 1): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';

/** A Markdown table, columns padded and aligned left ('l') or right ('r'). */
export function table(headers: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (align[i] === 'r' ? '-'.repeat(w + 1) + ':' : ':' + '-'.repeat(w + 1))).join('|') + '|';
  return [line(headers), sep, ...rows.map(line)].join('\n');
}
