/**
 * The `peerbridge` command line.
 *   peerbridge validate <file|dir>... [--format text|json]   exit 0 valid, 1 invalid, 2 usage or I/O error
 *   peerbridge package install <tgz> | list                the local FHIR package cache (IGs for --ig)
 *   peerbridge translate --mapping <canonical|name|path> <input|folder|->   exit 0 all accepted, 1 any rejected, 2 usage/I/O
 *   peerbridge clients add|list|remove [--server <url> ...]  registered SMART Backend Services clients (here, or on a running server)
 *   peerbridge auth keygen|token                            a key pair, a signed client assertion, an access token
 *   peerbridge audit archive --older-than-days <n>          AuditEvents older than n days to NDJSON, then deleted
 *   peerbridge config [--json]                              the effective configuration (secrets masked)
 *   peerbridge users add|list|remove|passwd                 people who sign in to the web console
 *   peerbridge serve                                        same as npm start
 *   peerbridge migrate                                      create or migrate the store's tables, then exit
 *   peerbridge --version                                    the version (package.json)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditCommand } from './cli/audit';
import { authCommand } from './cli/auth-token';
import { clientsCommand } from './cli/clients';
import { configCommand } from './cli/config';
import { migrateCommand } from './cli/migrate';
import { packageCommand } from './cli/package';
import { boundHeapGrowth, translateCommand } from './cli/translate';
import { usersCommand } from './cli/users';
import { validateCommand } from './cli/validate';

const USAGE = `Usage:
  peerbridge validate <file|dir>... [--format text|json] [--profile <url>] [--ig <tgz|folder|name#version>]... [--output <file>]
                      [--level error|warning|information] [--threads <n>] [--max-bytes <n>] [--no-progress]   (peerbridge validate --help: every option)
  peerbridge package install <file.tgz>... | peerbridge package list [--format text|json]
  peerbridge translate --mapping <canonical|name|path> <input|folder|-> [--feed <name>] [--out <file> | --out-dir <dir> [--post <url>]]
                       [--report <file>] [--rejects <file>] [--format text|json] [--no-progress]   (peerbridge translate --help: every option)
  peerbridge clients add --name <n> (--jwks <file> | --jwks-url <url>) --scope <scope>... [--org <id>...]
  peerbridge clients list [--format text|json] | peerbridge clients remove <id>
      (while a server runs, add to each: --server <url> --client-id <admin client id> --key <its private key file>)
  peerbridge auth keygen [--alg ES384|RS384] --out <dir>
  peerbridge auth token --client-id <id> --key <file> [--token-url <url>] [--scope <s>...] [--assertion-only] [--json]
  peerbridge audit archive --older-than-days <n> [--out <dir>]
  peerbridge config [--json] [--all]   the effective configuration, secrets masked (docs/configuration.md)
  peerbridge users add <name> --org <id|'*'>... --role <viewer|analyst|admin> [--password-stdin]
  peerbridge users list [--format text|json] | users remove <name> | users passwd <name> [--password-stdin]
  peerbridge serve
  peerbridge migrate   (the store's tables for DATABASE_URL or DATA_DIR, then exit)
  peerbridge --version
`;

const SERVE_HELP = `Usage: peerbridge serve

Starts the FHIR server (the same as npm start) with the configuration of the environment: PORT,
BASE_URL, DATABASE_URL (PostgreSQL) or DATA_DIR (embedded PGlite), AUTH_*, IG_PACKAGES, ... (README.md,
"The FHIR store and REST API": Configuration). It runs until stopped (SIGINT or SIGTERM).
`;

/** The package version: package.json sits one level above both src/ and dist/. */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  // A help flag anywhere (`package install --help`, `auth token -h`) asks for the command's help,
  // never runs it: `serve --help` does not start a server.
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (wantsHelp && (command === 'package' || command === 'clients' || command === 'auth' || command === 'audit' || command === 'users')) {
    const run =
      command === 'package'
        ? packageCommand
        : command === 'clients'
          ? clientsCommand
          : command === 'audit'
            ? auditCommand
            : command === 'users'
              ? usersCommand
              : authCommand;
    return run(['--help'], out, err);
  }
  if (wantsHelp && command === 'serve') {
    out.write(SERVE_HELP);
    return 0;
  }
  switch (command) {
    case 'validate':
      return validateCommand(rest, out, err);
    case 'package':
      return packageCommand(rest, out, err);
    case 'translate':
      boundHeapGrowth();
      return translateCommand(rest, out, err);
    case 'clients':
      return clientsCommand(rest, out, err);
    case 'auth':
      return authCommand(rest, out, err);
    case 'audit':
      return auditCommand(rest, out, err);
    case 'migrate':
      return migrateCommand(rest, out, err);
    case 'config':
      return configCommand(rest, out, err);
    case 'users':
      return usersCommand(rest, out, err);
    case 'serve': {
      const { serve } = await import('./server');
      await serve();
      return new Promise<number>(() => undefined);
    }
    case '--version':
    case '-V':
    case 'version':
      out.write(`peerbridge ${version()}\n`);
      return 0;
    case '--help':
    case '-h':
    case 'help':
      out.write(USAGE);
      return 0;
    default:
      err.write(command ? `Unknown command '${command}'\n${USAGE}` : USAGE);
      return 2;
  }
}
