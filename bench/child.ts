/** Fresh child processes for the benchmarks' peak-RSS figures (bench/ingest.ts, bench/translate.ts). */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { PROJECT_ROOT } from '../src/validation';

/**
 * Runs `node <nodeArgs>` in the project root and resolves to the JSON object on the last line
 * of its stdout and its wall time; removes `out` (the child's output file) either way; rejects
 * with the child's stderr when it exits non-zero.
 */
export function runJsonChild<T>(label: string, nodeArgs: string[], out: string, env: NodeJS.ProcessEnv = process.env): Promise<{ result: T; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, nodeArgs, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t;
      rmSync(out, { force: true });
      if (code !== 0) {
        reject(new Error(`child ${label} failed (exit ${code}):\n${stderr}`));
        return;
      }
      resolve({ result: JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T, wallMs });
    });
  });
}
