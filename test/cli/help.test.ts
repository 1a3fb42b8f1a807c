/**
 * `--help` on every command and subcommand: exit 0 with the usage on stdout, nothing run
 * (`serve --help` starts no server; `clients add --help` opens no store).
 */
import { run } from './run-cli';

describe('peerbridge <command> --help', () => {
  test.each([
    [['--help'], /peerbridge validate/],
    [['validate', '--help'], /--level error\|warning\|information/],
    [['translate', '--help'], /--out-dir/],
    [['package', '--help'], /package install/],
    [['package', 'install', '--help'], /package install/],
    [['package', 'list', '-h'], /package list/],
    [['clients', '--help'], /clients add/],
    [['clients', 'add', '--help'], /clients add/],
    [['clients', 'remove', '-h'], /clients remove/],
    [['auth', '--help'], /auth keygen/],
    [['auth', 'token', '--help'], /auth token/],
    [['serve', '--help'], /Starts the FHIR server/],
    [['mapping', '--help'], /mapping init --from/],
    [['mapping', 'init', '--help'], /--kind <kind>/],
    [['mapping', 'test', '-h'], /expected\.json/],
  ])('%j', async (args, usage) => {
    const res = await run(...args);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(usage);
  });

  test('--version prints the package version', async () => {
    const res = await run('--version');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^peerbridge \d+\.\d+\.\d+\n$/);
  });
});
