/**
 * scripts/install-production.sh refuses what it cannot do, before touching anything. The whole
 * install (build, install, migrate, start, GET /readyz) runs in CI from a fresh clone:
 * scripts/ci-install-check.sh, too slow for a unit test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'install-production.sh');

function sh(...args: string[]): { code: number | null; out: string; err: string } {
  const res = spawnSync(SCRIPT, args, { encoding: 'utf8' });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

test('--help: the steps, exit 0; no step or an unknown one: usage, exit 2', () => {
  expect(sh('--help')).toMatchObject({ code: 0, out: expect.stringMatching(/install-production\.sh install <built> <target>/) });
  expect(sh()).toMatchObject({ code: 2, err: expect.stringMatching(/install-production\.sh build <src>/) });
  expect(sh('deploy').code).toBe(2);
  expect(sh('install', 'only-one').code).toBe(2);
});

test('install refuses a tree that was not built, and a target that is the tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-install-'));
  try {
    const notBuilt = sh('install', dir, join(dir, 'app'));
    expect(notBuilt.code).toBe(2);
    expect(notBuilt.err).toMatch(/dist\/server\.js is missing: run '.*build/);
    expect(existsSync(join(dir, 'app'))).toBe(false);
    const root = join(__dirname, '..', '..');
    if (existsSync(join(root, 'dist', 'server.js'))) {
      expect(sh('install', root, root)).toMatchObject({ code: 2, err: expect.stringContaining('must differ') });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
