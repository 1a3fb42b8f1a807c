/**
 * `peerbridge users add|list|remove|passwd` on both drivers (PGlite in a temporary DATA_DIR, a
 * fresh PostgreSQL database): passwords from standard input or the terminal prompt (never the
 * command line), the refusals and their exit codes, and the stored user signing in (argon2id hash
 * only). Also `peerbridge users --help` through the main CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { main } from '../../src/cli';
import { usersCommand, type Input } from '../../src/cli/users';
import { openDriver } from '../../src/store';
import { UserStore } from '../../src/users';
import { createTestDatabase, DRIVERS } from '../support/stores';

jest.setTimeout(60_000);

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const PASSWORD = 'a long enough pass phrase';
const stdin = (text: string): Input => Readable.from([Buffer.from(text)]);

describe.each(DRIVERS)('peerbridge users on %s', (driverName) => {
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (driverName === 'pglite') {
      const dir = mkdtempSync(join(tmpdir(), 'pb-users-cli-'));
      env = { DATA_DIR: join(dir, 'data') };
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const db = await createTestDatabase();
      env = { DATABASE_URL: db.url };
      cleanup = db.drop;
    }
  });
  afterAll(() => cleanup?.());

  const run = async (input: Input, ...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out = new Capture();
    const err = new Capture();
    const code = await usersCommand(args, out, err, env, input);
    return { code, out: out.text, err: err.text };
  };
  const verify = async (name: string, password: string): Promise<boolean> => {
    const driver = await openDriver({ DATABASE_URL: env.DATABASE_URL, DATA_DIR: env.DATA_DIR });
    try {
      return (await (await UserStore.open(driver)).verify(name, password)) !== undefined;
    } finally {
      await driver.close();
    }
  };

  test('add with --password-stdin, list (text and json), sign-in check against the stored hash', async () => {
    const added = await run(
      stdin(`${PASSWORD}\n`),
      'add',
      'Ana.Lopez',
      '--org',
      'riverbend-ccbhc',
      '--org',
      'lakeside-sud',
      '--role',
      'analyst',
      '--password-stdin',
    );
    expect(added).toMatchObject({ code: 0, err: '' });
    expect(added.out).toMatch(/Added ana\.lopez \(analyst, organizations riverbend-ccbhc, lakeside-sud\)/);
    const list = await run(stdin(''), 'list');
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/ana\.lopez\n {2}role: +analyst \(system\/\*\.crus\)\n {2}organizations: riverbend-ccbhc, lakeside-sud/);
    const json = JSON.parse((await run(stdin(''), 'list', '--format', 'json')).out) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ name: 'ana.lopez', role: 'analyst', organizations: ['riverbend-ccbhc', 'lakeside-sud'] })]);
    expect(JSON.stringify(json)).not.toMatch(/hash|argon/);
    expect(await verify('ana.lopez', PASSWORD)).toBe(true);
    expect(await verify('ana.lopez', `${PASSWORD}\n`)).toBe(false);
  });

  test('the password is asked twice on a terminal, without echo', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: jest.fn() }) as unknown as Input & { write(s: string): void };
    const pending = run(tty, 'add', 'ben', '--org', '*', '--role', 'viewer');
    setTimeout(() => tty.write(`${PASSWORD}x\u007f\r`), 50);
    setTimeout(() => tty.write(`${PASSWORD}\r`), 150);
    const res = await pending;
    expect(res.code).toBe(0);
    expect(res.err).toContain('Password for ben: ');
    expect(res.err).not.toContain(PASSWORD);
    expect(await verify('ben', PASSWORD)).toBe(true);
    // Two different answers change nothing.
    const tty2 = Object.assign(new PassThrough(), { isTTY: true, setRawMode: jest.fn() }) as unknown as Input & { write(s: string): void };
    const pending2 = run(tty2, 'passwd', 'ben');
    setTimeout(() => tty2.write('first pass phrase!\r'), 50);
    setTimeout(() => tty2.write('second pass phrase\r'), 150);
    const differ = await pending2;
    expect(differ.code).toBe(2);
    expect(differ.err).toMatch(/differ/);
    expect(await verify('ben', PASSWORD)).toBe(true);
  });

  test('refusals: never a password on the command line, no terminal, bad role, organization, name or password, a name taken', async () => {
    const onLine = await run(stdin(''), 'add', 'cy', '--org', 'x', '--role', 'viewer', '--password', 'secret-on-the-line');
    expect(onLine.code).toBe(2);
    expect(onLine.err).toMatch(/never given on the command line/);
    const noTty = await run(stdin(''), 'add', 'cy', '--org', 'x', '--role', 'viewer');
    expect(noTty.code).toBe(2);
    expect(noTty.err).toMatch(/--password-stdin/);
    const bad = await run(stdin('short'), 'add', '-bad name', '--org', 'not an id!', '--role', 'boss', '--password-stdin');
    expect(bad.code).toBe(2); // '-bad name' reads as an option
    const problems = await run(stdin('short'), 'add', 'bad name', '--org', 'not/an/id', '--role', 'boss', '--password-stdin');
    expect(problems.code).toBe(1);
    expect(problems.err).toMatch(/name 'bad name' must be/);
    expect(problems.err).toMatch(/at least 12 characters/);
    expect(problems.err).toMatch(/organization 'not\/an\/id'/);
    expect(problems.err).toMatch(/role 'boss' must be one of viewer, analyst, admin/);
    const noOrg = await run(stdin(PASSWORD), 'add', 'cy', '--role', 'viewer', '--password-stdin');
    expect(noOrg.code).toBe(1);
    expect(noOrg.err).toMatch(/at least one --org/);
    const taken = await run(stdin(PASSWORD), 'add', 'ANA.LOPEZ', '--org', 'x', '--role', 'viewer', '--password-stdin');
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/exists/);
    expect((await run(stdin(''), 'add', 'cy', '--org', 'x')).code).toBe(2);
    expect((await run(stdin(''), 'frobnicate')).code).toBe(2);
    expect((await run(stdin(''), 'remove')).code).toBe(2);
  });

  test('passwd changes the password (stdin); remove removes; unknown names exit 1', async () => {
    expect((await run(stdin('another long pass phrase'), 'passwd', 'ana.lopez', '--password-stdin')).code).toBe(0);
    expect(await verify('ana.lopez', PASSWORD)).toBe(false);
    expect(await verify('ana.lopez', 'another long pass phrase')).toBe(true);
    expect((await run(stdin('short'), 'passwd', 'ana.lopez', '--password-stdin')).code).toBe(1);
    expect((await run(stdin('another long pass phrase'), 'passwd', 'nobody', '--password-stdin')).code).toBe(1);
    expect((await run(stdin(''), 'remove', 'Ana.Lopez')).code).toBe(0);
    expect(await verify('ana.lopez', 'another long pass phrase')).toBe(false);
    const again = await run(stdin(''), 'remove', 'ana.lopez');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/No console user named/);
  });
});

test('peerbridge users --help (and subcommand --help) prints the usage and exits 0', async () => {
  for (const args of [
    ['users', '--help'],
    ['users', 'add', '--help'],
    ['users', 'help'],
  ]) {
    const out = new Capture();
    const err = new Capture();
    expect(await main(args, out, err)).toBe(0);
    expect(out.text).toMatch(/peerbridge users add <name> --org/);
    expect(out.text).toMatch(/--password-stdin/);
    expect(out.text).toMatch(/viewer \(system\/\*\.rs\), analyst \(system\/\*\.crus\), admin \(system\/\*\.cruds\)/);
  }
  const out = new Capture();
  expect(await main(['--help'], out, new Capture())).toBe(0);
  expect(out.text).toMatch(/peerbridge users add/);
});
