#!/usr/bin/env node
'use strict';
/**
 * `npm start` and `npm install` (prestart, prepare): runs `npm run build` only when dist/ is older
 * than its sources. dist/.build-stamp is written after each build this script runs, with the time
 * the build started; the build is stale when a file or folder under the inputs (src/, web/ when
 * present, tsconfig.json, package.json, package-lock.json) changed after it. Folders count too,
 * so a deleted or renamed source file (which changes its folder's mtime) also rebuilds.
 *   node scripts/build-if-stale.js           build when stale
 *   node scripts/build-if-stale.js --check   exit 1 when stale, 0 when current (builds nothing)
 *   node scripts/build-if-stale.js --force   build anyway
 */
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync, mkdirSync, utimesSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
const INPUTS = ['src', 'web', 'tsconfig.json', 'package.json', 'package-lock.json'].map((p) => join(ROOT, p));

/** The newest mtime (ms) of `path` and, for a folder, of everything under it; 0 when it does not exist. */
function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  let max = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) {
      max = Math.max(max, newest(join(path, name)));
    }
  }
  return max;
}

/** Why dist/ must be built, or undefined when it is current. */
function staleness() {
  if (!existsSync(STAMP)) return 'no dist/.build-stamp';
  const built = statSync(STAMP).mtimeMs;
  const changed = Math.max(...INPUTS.map(newest));
  return changed > built ? `sources changed since the last build (${new Date(changed).toISOString()} > ${new Date(built).toISOString()})` : undefined;
}

function main(argv) {
  const reason = argv.includes('--force') ? '--force' : staleness();
  if (argv.includes('--check')) {
    console.log(reason ? `dist/ is stale: ${reason}` : 'dist/ is current');
    return reason ? 1 : 0;
  }
  if (!reason) {
    console.log('dist/ is current: not rebuilding (node scripts/build-if-stale.js --force rebuilds)');
    return 0;
  }
  console.log(`Building dist/: ${reason}`);
  // The stamp carries the time the build started: a source saved while tsc runs makes the next start rebuild.
  const started = new Date();
  const res = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (res.status !== 0) return res.status ?? 1;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  writeFileSync(STAMP, `${started.toISOString()}\n`);
  utimesSync(STAMP, started, started);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
