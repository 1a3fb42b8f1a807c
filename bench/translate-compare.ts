/**
 * `npm run bench:translate-compare -- --baseline <git ref>`: this checkout's translation pipeline
 * against an earlier commit's, in one run, on the same generated inputs and machine (issue 13:
 * "keep the end-to-end rates of today"). Both run compiled (each checkout's own dist/, built here),
 * as `peerbridge translate` runs them, in fresh child processes (bench/translate-compare-child.js),
 * the two sides interleaved round by round so a change in the machine's load falls on both.
 *
 * Steps: builds dist/ here when stale; checks the baseline out into a temporary git worktree
 * (node_modules linked from here) and builds its dist/ with tsc; generates a Riverbend CSV export of
 * --csv-rows contact rows and an HL7 v2 file of --hl7-messages messages with this checkout's
 * generators (bench/translate-generate.ts); then --rounds rounds, each running both sides on both
 * inputs (--runs runs per child, the first a warm-up that is not counted). Prints per side and
 * input: records/s (wall clock) and records per CPU second (process.cpuUsage: what one idle core
 * would do), resources made and JSON characters written per record (what each side produces), and
 * this checkout's rate as a share of the baseline's. Results: bench/results/translate-compare-*.json.
 *
 * Issue 13 asks for the baseline's rates kept "with store lookups on": a third side, this checkout
 * with the lookup port over an empty in-memory PGlite store (PipelineDeps `stored`, as a first load
 * meets it), runs interleaved with the other two, so one run gives the rate with lookups on against
 * the baseline, and the lookup cost (lookups on against off, same code). `--no-lookups` leaves it out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/validation';
import { runJsonChild } from './child';
import { fmt, fmtInt, machineInfo, median, table, writeResults } from './stats';
import { generateHl7File, generateRiverbendCsv } from './translate-generate';

interface Args {
  baseline: string;
  csvRows: number;
  hl7Messages: number;
  rounds: number;
  runs: number;
  seed: number;
  lookups: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { baseline: '', csvRows: 20_000, hl7Messages: 20_000, rounds: 3, runs: 3, seed: 20261122, lookups: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = (): number => {
      const n = Number(next());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} must be a positive integer`);
      return n;
    };
    if (a === '--baseline') args.baseline = next();
    else if (a === '--csv-rows') args.csvRows = count();
    else if (a === '--hl7-messages') args.hl7Messages = count();
    else if (a === '--rounds') args.rounds = count();
    else if (a === '--runs') args.runs = Math.max(2, count());
    else if (a === '--seed') args.seed = count();
    else if (a === '--no-lookups') args.lookups = false;
    else throw new Error(`unknown option ${a} (--baseline REF [--csv-rows N] [--hl7-messages N] [--rounds N] [--runs N] [--seed N] [--no-lookups])`);
  }
  if (!args.baseline) throw new Error('--baseline <git ref> is required (the commit to compare against, e.g. 9ac237d)');
  return args;
}

function run(cmd: string, argv: string[], cwd: string): string {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed in ${cwd}: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

interface ChildRun {
  ms: number;
  cpuMs: number;
  read: number;
  rejected: number;
  resources: number;
  chars: number;
  /** Questions asked of the lookup port in the run (the side with lookups on). */
  lookups?: number;
}

interface Side {
  label: string;
  commit: string;
  root: string;
  /** Runs with the lookup port over an empty in-memory PGlite store. */
  lookups?: boolean;
  csv: ChildRun[];
  hl7: ChildRun[];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const tmp = mkdtempSync(join(tmpdir(), 'peerbridge-translate-compare-'));
  const baseRoot = join(tmp, 'baseline');
  const head = run('git', ['rev-parse', '--short', 'HEAD'], PROJECT_ROOT);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], PROJECT_ROOT) !== '';
  const baseCommit = run('git', ['rev-parse', '--short', `${args.baseline}^{commit}`], PROJECT_ROOT);
  try {
    console.log(`translate-compare: this checkout ${head}${dirty ? ' (with uncommitted changes)' : ''} against ${args.baseline} (${baseCommit})`);
    run(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build-if-stale.js')], PROJECT_ROOT);
    run('git', ['worktree', 'add', '--detach', baseRoot, baseCommit], PROJECT_ROOT);
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(baseRoot, 'node_modules'), 'dir');
    console.log(`building ${baseCommit}'s dist/ (tsc) ...`);
    run(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], baseRoot);
    if (!existsSync(join(baseRoot, 'dist', 'pipeline', 'translate-source.js')))
      throw new Error(`${baseCommit} has no dist/pipeline/translate-source.js to compare`);

    const csv = generateRiverbendCsv(join(tmp, 'csv'), { seed: args.seed, contacts: args.csvRows });
    const hl7File = join(tmp, 'messages.hl7');
    generateHl7File(hl7File, { seed: args.seed, messages: args.hl7Messages });
    console.log(`inputs: CSV export of ${fmtInt(csv.rows)} rows (${fmtInt(args.csvRows)} contacts), ${fmtInt(args.hl7Messages)} HL7 v2 messages`);

    const sides: Side[] = [
      { label: 'this checkout', commit: head, root: PROJECT_ROOT, csv: [], hl7: [] },
      ...(args.lookups ? [{ label: 'this checkout, lookups on', commit: head, root: PROJECT_ROOT, lookups: true, csv: [], hl7: [] }] : []),
      { label: 'baseline', commit: baseCommit, root: baseRoot, csv: [], hl7: [] },
    ];
    const child = join(PROJECT_ROOT, 'bench', 'translate-compare-child.js');
    for (let round = 0; round < args.rounds; round++) {
      // Rotate which side goes first, so a drift in the machine's load is shared.
      const order = sides.map((_, i) => sides[(i + round) % sides.length]);
      for (const side of order) {
        for (const [input, mapping, path] of [
          ['csv', 'riverbend-csv', csv.dir],
          ['hl7', 'hl7v2', hl7File],
        ] as const) {
          const { result: runs } = await runJsonChild<ChildRun[]>(
            `${side.label} ${input}`,
            [child, side.root, mapping, path, String(args.runs), ...(side.lookups ? ['lookups'] : [])],
            join(tmp, 'none'),
          );
          for (const r of runs)
            if (r.rejected > 0) throw new Error(`${side.label} (${side.commit}) rejected ${r.rejected} ${input} records: the inputs do not suit it`);
          side[input].push(...runs.slice(1));
          const last = runs[runs.length - 1];
          console.log(
            `  round ${round + 1}, ${side.label} ${side.commit}, ${input}: ${fmtInt((1000 * last.read) / last.ms)} records/s, ${fmtInt((1000 * last.read) / last.cpuMs)} per CPU s${side.lookups ? `, ${fmtInt(last.lookups ?? 0)} lookups` : ''}`,
          );
        }
      }
    }
    const rate = (runs: ChildRun[], key: 'ms' | 'cpuMs'): number => median(runs.map((r) => (1000 * r.read) / r[key]));
    const perRecord = (runs: ChildRun[], key: 'resources' | 'chars'): number => runs[0][key] / runs[0].read;
    const cur = sides[0];
    const base = sides[sides.length - 1];
    const rows = (['csv', 'hl7'] as const).flatMap((input) =>
      sides.map((s) => [
        `${input === 'csv' ? 'CSV rows' : 'HL7 messages'}: ${s.label} ${s.commit}`,
        fmtInt(rate(s[input], 'ms')),
        fmtInt(rate(s[input], 'cpuMs')),
        fmt(perRecord(s[input], 'resources'), 2),
        fmtInt(perRecord(s[input], 'chars')),
        s === base
          ? ''
          : `${fmt((100 * rate(s[input], 'ms')) / rate(base[input], 'ms'), 0)}% / ${fmt((100 * rate(s[input], 'cpuMs')) / rate(base[input], 'cpuMs'), 0)}%`,
      ]),
    );
    const report = table(['input: side', 'records/s', 'records/CPU s', 'resources/record', 'JSON chars/record', 'this / baseline (wall / CPU)'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]);
    console.log(`\nMedians of ${args.rounds} rounds x ${args.runs - 1} counted runs (compiled dist/ of each side, fresh child per round):\n${report}`);
    const on = sides.find((s) => s.lookups);
    if (on)
      for (const input of ['csv', 'hl7'] as const)
        console.log(
          `${input === 'csv' ? 'CSV' : 'HL7'} lookup cost: ${fmt(median(on[input].map((r) => r.lookups ?? 0)), 0)} lookups a run; with them ${fmt((100 * rate(on[input], 'ms')) / rate(cur[input], 'ms'), 1)}% of the rate without (${fmt((100 * rate(on[input], 'cpuMs')) / rate(cur[input], 'cpuMs'), 1)}% per CPU second)`,
        );
    const file = writeResults('translate-compare', started, { args, head, dirty, baseCommit, machine: machineInfo(), sides, table: report });
    console.log(`\nresults in ${file}`);
  } finally {
    spawnSync('git', ['worktree', 'remove', '--force', baseRoot], { cwd: PROJECT_ROOT });
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
