/**
 * scripts/build-if-stale.js (`npm start`'s prestart, `npm install`'s prepare): builds when there is
 * no stamp, when a source is newer than the stamp, or when a source was deleted; does nothing when
 * dist/ is current. Run in a scratch project whose `npm run build` counts its runs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string;

function run(...args: string[]): { code: number | null; out: string } {
  const res = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: res.status, out: res.stdout + res.stderr };
}

const builds = (): number => (existsSync(join(root, 'dist', 'builds')) ? readFileSync(join(root, 'dist', 'builds'), 'utf8').length : 0);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pb-stale-'));
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, 'src', 'sub'), { recursive: true });
  copyFileSync(join(__dirname, '..', '..', 'scripts', 'build-if-stale.js'), join(root, 'scripts', 'build-if-stale.js'));
  const build = `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').appendFileSync('dist/builds','x')"`;
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'scratch', version: '0.0.0', private: true, scripts: { build } }));
  writeFileSync(join(root, 'tsconfig.json'), '{}');
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'src', 'sub', 'b.ts'), 'export const b = 1;\n');
  const past = new Date(Date.now() - 60_000);
  for (const p of ['package.json', 'tsconfig.json', 'src/a.ts', 'src/sub/b.ts', 'src/sub', 'src']) utimesSync(join(root, p), past, past);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

test('builds without a stamp, then not while current, again after a change or a deletion', () => {
  expect(run('--check').code).toBe(1);
  expect(run()).toMatchObject({ code: 0, out: expect.stringContaining('no dist/.build-stamp') });
  expect(builds()).toBe(1);

  expect(run()).toMatchObject({ code: 0, out: expect.stringContaining('dist/ is current') });
  expect(run('--check')).toMatchObject({ code: 0, out: 'dist/ is current\n' });
  expect(builds()).toBe(1);

  // Times are set by hand, the stamp before the change, so that no clock granularity decides.
  const ago = (s: number): Date => new Date(Date.now() - s * 1000);
  const stamp = join(root, 'dist', '.build-stamp');
  utimesSync(stamp, ago(30), ago(30));
  utimesSync(join(root, 'src', 'sub', 'b.ts'), ago(20), ago(20));
  expect(run('--check').code).toBe(1);
  expect(run()).toMatchObject({ code: 0, out: expect.stringContaining('sources changed') });
  expect(builds()).toBe(2);
  expect(run().out).toContain('dist/ is current');

  utimesSync(stamp, ago(15), ago(15));
  rmSync(join(root, 'src', 'a.ts'));
  utimesSync(join(root, 'src'), ago(10), ago(10)); // what the deletion does to its folder
  expect(run()).toMatchObject({ code: 0, out: expect.stringContaining('sources changed') });
  expect(builds()).toBe(3);

  expect(run('--force').out).toContain('--force');
  expect(builds()).toBe(4);
}, 120_000);
