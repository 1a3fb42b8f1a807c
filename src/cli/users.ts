/**
 * `peerbridge users add|list|remove|passwd`: the people who sign in to the console (src/users), in
 * the configured store (DATABASE_URL, else PGlite in DATA_DIR).
 *
 *   peerbridge users add <name> --org <Organization id|'*'>... --role viewer|analyst|admin [--password-stdin]
 *   peerbridge users list [--format text|json]
 *   peerbridge users remove <name>
 *   peerbridge users passwd <name> [--password-stdin]
 *
 * The password is asked on the terminal (twice, not echoed) or read from standard input with
 * --password-stdin; never from the command line, where other users of the machine and the shell
 * history would see it. Exit 0 done, 1 refused (bad name, role, organization or password, name
 * taken, no such user), 2 usage or I/O error.
 */
import type { ReadStream } from 'node:tty';
import { loadConfig } from '../config';
import { openDriver } from '../store';
import { StoreLockedError } from '../store/dir-lock';
import type { SqlDriver } from '../store/repository';
import { one, parseOptions, UsageError, type Parsed } from './options';
import { MIN_PASSWORD_CHARS, ROLE_SCOPES, ROLES, UserStore, UserValidationError, type User } from '../users';

const USAGE = `Usage:
  peerbridge users add <name> --org <Organization id|'*'>... --role <viewer|analyst|admin> [--assign-ids] [--password-stdin]
  peerbridge users list [--format text|json]
  peerbridge users remove <name>
  peerbridge users passwd <name> [--password-stdin]
People who sign in to the web console (API clients use peerbridge clients). The password is asked
on the terminal, or read from standard input with --password-stdin (e.g. from a secrets manager);
it is never given on the command line. At least ${MIN_PASSWORD_CHARS} characters.
--org names an Organization id (a tenant) whose records the user may see (repeatable); '*' gives every organization.
Roles: ${ROLES.map((r) => `${r} (${ROLE_SCOPES[r]})`).join(', ')}.
  viewer reads and searches records; analyst also ingests, reads and retries rejects; admin also deletes.
  No role reads the audit trail or manages clients.
--assign-ids lets the user create records under ids of their own, as a client registered with it: what
  ingesting an organization's own export from the console needs (ingest writes deterministic ids). Such a
  user can tell that an id it cannot read is taken (409), and nothing else.
Names are not case-sensitive: 1 to 64 letters, digits or . _ @ -. passwd and remove end the user's sessions.
With the embedded store (PGlite) the server must be stopped first; with PostgreSQL (DATABASE_URL) it may run.
`;

/** Standard input as the command reads it (a terminal, or a pipe). */
export type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: ReadStream['setRawMode'] };

const VALUE_OPTIONS = new Set(['--org', '--role', '--format']);
const FLAG_OPTIONS = new Set(['--password-stdin', '--assign-ids']);

const parseArgs = (args: string[]): Parsed =>
  parseOptions(args, VALUE_OPTIONS, FLAG_OPTIONS, (name) => {
    if (name === '--password' || name === '-p') {
      throw new UsageError('A password is never given on the command line: leave it out to be asked, or pipe it with --password-stdin');
    }
  });

/** Everything on standard input, without one trailing line break. */
async function readAll(input: Input): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** One line typed on the terminal without echo (Enter ends it, Ctrl-C or Ctrl-D gives up). */
function readHidden(input: Input, err: NodeJS.WritableStream, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    err.write(prompt);
    let line = '';
    const done = (error?: Error): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      err.write('\n');
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (data: Buffer | string): void => {
      for (const ch of data.toString()) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('No password given'));
        if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
        else line += ch;
      }
    };
    input.setRawMode?.(true);
    input.resume();
    input.on('data', onData);
  });
}

/** The new password: from standard input (--password-stdin), else asked twice on the terminal. */
async function newPassword(p: Parsed, input: Input, err: NodeJS.WritableStream, name: string): Promise<string> {
  if (p.flags.has('--password-stdin')) {
    const pw = await readAll(input);
    if (pw === '') throw new UsageError('--password-stdin: standard input is empty');
    return pw;
  }
  if (!input.isTTY) throw new UsageError('No terminal to ask the password on: pipe it with --password-stdin');
  const first = await readHidden(input, err, `Password for ${name}: `);
  const again = await readHidden(input, err, 'The same password again: ');
  if (first !== again) throw new UsageError('The two passwords differ: nothing changed');
  return first;
}

function formatUser(u: User): string {
  return [
    `${u.name}`,
    `  role:          ${u.role} (${ROLE_SCOPES[u.role]})`,
    `  organizations: ${u.organizations.join(', ')}`,
    `  assigns ids:   ${u.assignIds ? 'yes (creates records under ids of its own: ingest)' : 'no'}`,
    `  added:         ${u.createdAt.toISOString()}`,
    `  password set:  ${u.passwordChangedAt.toISOString()}`,
  ].join('\n');
}

async function openUsersDriver(env: NodeJS.ProcessEnv): Promise<SqlDriver> {
  try {
    return await openDriver(loadConfig(env));
  } catch (e) {
    if (e instanceof StoreLockedError) {
      throw new Error(`${e.message}\nStop the server to manage console users on the embedded store (or run it on PostgreSQL, DATABASE_URL).`);
    }
    throw e;
  }
}

/** Runs `users`; returns the exit code. `env` and `input` default to the process's (tests pass their own). */
export async function usersCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
  input: Input = process.stdin,
): Promise<number> {
  const [sub, ...rest] = args;
  let p: Parsed;
  try {
    if (!sub || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
      (sub ? out : err).write(USAGE);
      return sub ? 0 : 2;
    }
    if (!['add', 'list', 'remove', 'passwd'].includes(sub)) throw new UsageError(`Unknown subcommand '${sub}'`);
    p = parseArgs(rest);
    const format = one(p, '--format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not '${format}'`);
    if (sub === 'list' && p.positional.length > 0) throw new UsageError(`Unexpected argument '${p.positional[0]}'`);
    if (sub !== 'list' && p.positional.length !== 1) throw new UsageError(`Give the user's name (one)`);
    if (sub === 'add' && !one(p, '--role')) throw new UsageError(`--role is required (${ROLES.join(', ')})`);
    if (sub !== 'add' && (p.options.has('--org') || p.options.has('--role'))) throw new UsageError('--org and --role go with add');
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let driver: SqlDriver | undefined;
  try {
    const name = p.positional[0];
    // The password is read before the store opens: a wrong pair is refused without touching it.
    const password = sub === 'add' || sub === 'passwd' ? await newPassword(p, input, err, name) : undefined;
    driver = await openUsersDriver(env);
    const users = await UserStore.open(driver);
    switch (sub) {
      case 'add': {
        const organizations = (p.options.get('--org') ?? []).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
        const user = await users.add({
          name,
          password: password as string,
          organizations,
          role: one(p, '--role') as string,
          assignIds: p.flags.has('--assign-ids'),
        });
        out.write(`Added ${user.name} (${user.role}, organizations ${user.organizations.join(', ')}${user.assignIds ? ', assigns ids' : ''})\n`);
        return 0;
      }
      case 'list': {
        const list = await users.list();
        if (one(p, '--format') === 'json') {
          out.write(
            `${JSON.stringify(list.map((u) => ({ ...u, createdAt: u.createdAt.toISOString(), passwordChangedAt: u.passwordChangedAt.toISOString() })))}\n`,
          );
        } else {
          out.write(list.length === 0 ? 'No console users (peerbridge users add ...)\n' : `${list.map(formatUser).join('\n\n')}\n`);
        }
        return 0;
      }
      case 'remove':
        if (await users.remove(name)) {
          out.write(`Removed ${name.toLowerCase()} (and ended their sessions)\n`);
          return 0;
        }
        err.write(`No console user named '${name}'\n`);
        return 1;
      default:
        if (await users.setPassword(name, password as string)) {
          out.write(`Changed the password of ${name.toLowerCase()} (and ended their sessions)\n`);
          return 0;
        }
        err.write(`No console user named '${name}'\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof UserValidationError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    err.write(e instanceof UsageError ? `${e.message}\n${USAGE}` : `${(e as Error).message}\n`);
    return 2;
  } finally {
    await driver?.close().catch(() => undefined);
  }
}
