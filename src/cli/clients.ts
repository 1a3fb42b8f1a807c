/**
 * `peerbridge clients add|list|remove`: the SMART Backend Services clients registered in the
 * configured store (DATABASE_URL, else PGlite in DATA_DIR).
 *
 *   peerbridge clients add --name <name> (--jwks <file> | --jwks-url <url>) --scope <scope>... [--org <id>...] [--assign-ids]
 *       prints the new client id on stdout
 *   peerbridge clients list [--format text|json]
 *   peerbridge clients remove <id>
 *
 *   ... --server <url> --client-id <id> --key <private key file> [--token-url <url>]
 *       the same through a running server's /admin/clients (clients-remote.ts), as that admin client
 *
 * Exit 0 done, 1 refused (bad JWKS, unknown scope, unknown id, refused by the server), 2 usage or
 * I/O error.
 *
 * PGlite is one process's database: while a server holds the embedded store's data directory the
 * command is refused (exit 2, naming the holder); use --server then.
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { ClientStore, ClientValidationError, type Client } from '../auth/clients';
import { RefusedError, RemoteClients } from './clients-remote';
import { loadConfig } from '../config';
import { one, parseOptions, UsageError, type Parsed } from './options';
import { openDriver } from '../store';
import { StoreLockedError } from '../store/dir-lock';
import type { SqlDriver } from '../store/repository';
import { ensureDefinitionsCache } from '../validation/definitions-cache';

const USAGE = `Usage:
  peerbridge clients add --name <name> (--jwks <file> | --jwks-url <url>) --scope <scope>... [--org <organization id>|'*'...] [--assign-ids]
  peerbridge clients list [--format text|json]
  peerbridge clients remove [--] <client id>
Scopes are SMART system scopes: system/*.read, system/Encounter.rs, system/*.cruds, system/AuditEvent.rs (audit search).
--org names an Organization id (a tenant) whose records the client may see; '*' gives every organization.
--assign-ids lets the client create resources under ids of its own (PUT to a new id, transaction PUT entries,
  ingest: an EHR feed with deterministic ids). Such a client can tell that an id it cannot read is taken (409);
  without it, a PUT to any id the client cannot read answers 404, so nothing is learnt of records it may not see.
With the embedded store held by a running server, manage clients through it (any subcommand):
  --server <its URL, e.g. http://localhost:8080> --client-id <admin client> --key <its private key file> [--token-url <url>]
  The admin client needs system/Client.c (add), .rs (list), .d (remove); it can register only its own
  organizations and scopes it holds itself ('*' organizations: any).
`;

const VALUE_OPTIONS = new Set(['--name', '--jwks', '--jwks-url', '--scope', '--org', '--format', '--server', '--client-id', '--key', '--token-url']);
const FLAG_OPTIONS = new Set(['--assign-ids']);

const parseArgs = (args: string[]): Parsed => parseOptions(args, VALUE_OPTIONS, FLAG_OPTIONS);

/** Values of a repeatable option, each also split on spaces or commas. */
function many(p: Parsed, name: string, split: RegExp): string[] {
  return (p.options.get(name) ?? [])
    .flatMap((v) => v.split(split))
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * Opens the configured store's driver. An embedded data directory held by another process (a
 * running server) is refused by the store's lock (src/store/dir-lock.ts); the message then says
 * how to reach the running server instead.
 */
export async function openConfiguredDriver(env: NodeJS.ProcessEnv): Promise<SqlDriver> {
  try {
    return await openDriver(loadConfig(env));
  } catch (e) {
    if (e instanceof StoreLockedError) {
      throw new Error(
        `${e.message}\nWhile the server runs, manage clients through it: peerbridge clients ... --server <its base URL, e.g. http://localhost:8080> --client-id <an admin client> --key <its private key>`,
      );
    }
    throw e;
  }
}

function describeKeys(c: Client): string {
  if (c.jwksUrl) {
    return `JWKS URL ${c.jwksUrl}`;
  }
  const kids = (c.jwks?.keys ?? []).map((k) => `${String(k.kid)} (${String(k.kty === 'EC' ? 'ES384' : 'RS384')})`);
  return `JWKS ${kids.join(', ')}`;
}

function formatClient(c: Client): string {
  return [
    `${c.id}  ${c.name}`,
    `  keys:          ${describeKeys(c)}`,
    `  scopes:        ${c.scopes.join(' ')}`,
    `  organizations: ${c.organizations.join(', ') || "(none: sees no tenant's records)"}`,
    `  assigns ids:   ${c.assignIds ? 'yes (may create resources under ids of its own)' : 'no (creates with POST; PUT only updates what it can read)'}`,
    `  registered:    ${c.createdAt.toISOString()}`,
  ].join('\n');
}

/** The registry the command works on: the store opened here, or a running server's. */
type Registry = Pick<ClientStore, 'add' | 'list' | 'remove'>;

/** The `system/Client.*` scope each subcommand needs over --server. */
const REMOTE_SCOPE: Record<string, string> = { add: 'system/Client.c', list: 'system/Client.rs', remove: 'system/Client.d' };

async function add(store: Registry, p: Parsed, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (p.positional.length > 0) {
    throw new UsageError(`Unexpected argument '${p.positional[0]}'`);
  }
  const name = one(p, '--name');
  const jwksFile = one(p, '--jwks');
  const jwksUrl = one(p, '--jwks-url');
  if (!name) {
    throw new UsageError('--name is required');
  }
  if (!jwksFile === !jwksUrl) {
    throw new UsageError('Give exactly one of --jwks <file> and --jwks-url <url>');
  }
  let jwks: JSONWebKeySet | undefined;
  if (jwksFile) {
    let text: string;
    try {
      text = readFileSync(jwksFile, 'utf8');
    } catch (e) {
      throw new Error(`Cannot read ${jwksFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      err.write(`${jwksFile} is not JSON: give the public JWKS (jwks.json from peerbridge auth keygen)\n`);
      return 1;
    }
    const single = doc as Record<string, unknown> | null;
    if (single && typeof single === 'object' && 'kty' in single && !('keys' in single)) {
      if ('d' in single) {
        err.write(`${jwksFile} holds a private key: register the public JWKS (jwks.json from peerbridge auth keygen); the private key stays with the client\n`);
        return 1;
      }
      // One public JWK: registered as a JWKS of that key.
      doc = { keys: [single] };
    }
    jwks = doc as JSONWebKeySet;
  }
  const scopes = many(p, '--scope', /\s+/);
  const organizations = many(p, '--org', /[\s,]+/);
  try {
    const client = await store.add({ name, jwks, jwksUrl, scopes, organizations, assignIds: p.flags.has('--assign-ids') });
    out.write(`${client.id}\n`);
    const restricted = client.scopes.filter((s) => s.includes('?'));
    if (restricted.length > 0) {
      err.write(`Note: scope restrictions (${restricted.join(' ')}) are not enforced yet, so those scopes grant nothing.\n`);
    }
    if (organizations.length === 0) {
      err.write("Note: no --org given: the client will see no organization's records once tenants are enforced.\n");
    }
    err.write(
      `Registered '${client.name}'. Get a token: peerbridge auth token --client-id ${client.id} --key <private key file> --scope "${client.scopes[0]}"\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ClientValidationError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Runs `clients`; returns the exit code. `env` defaults to process.env (tests pass their own). */
export async function clientsCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [sub, ...rest] = args;
  let p: Parsed;
  try {
    if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
      (sub ? out : err).write(USAGE);
      return sub ? 0 : 2;
    }
    if (!['add', 'list', 'remove'].includes(sub)) {
      throw new UsageError(`Unknown subcommand '${sub}'`);
    }
    p = parseArgs(rest);
    const format = one(p, '--format') ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new UsageError(`--format must be text or json, not '${format}'`);
    }
    if (sub === 'remove' && p.positional.length !== 1) {
      throw new UsageError('Give the id of the client to remove');
    }
    const remote = ['--server', '--client-id', '--key', '--token-url'].filter((o) => p.options.has(o));
    if (remote.length > 0 && !(one(p, '--server') && one(p, '--client-id') && one(p, '--key'))) {
      throw new UsageError('--server, --client-id and --key go together (the admin client that manages clients on the running server)');
    }
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let driver: SqlDriver | undefined;
  try {
    const server = one(p, '--server');
    let store: Registry;
    if (server) {
      store = await RemoteClients.connect(
        { server, clientId: one(p, '--client-id') as string, keyFile: one(p, '--key') as string, tokenUrl: one(p, '--token-url') },
        REMOTE_SCOPE[sub],
      );
    } else {
      driver = await openConfiguredDriver(env);
      const isResourceType = (t: string): boolean => resourceTypes().has(t);
      store = await ClientStore.open(driver, { isResourceType });
    }
    switch (sub) {
      case 'add':
        return await add(store, p, out, err);
      case 'list': {
        const clients = await store.list();
        if (one(p, '--format') === 'json') {
          out.write(`${JSON.stringify(clients.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })))}\n`);
        } else {
          out.write(clients.length === 0 ? 'No clients registered (peerbridge clients add ...)\n' : `${clients.map(formatClient).join('\n\n')}\n`);
        }
        return 0;
      }
      default: {
        const id = p.positional[0];
        if (await store.remove(id)) {
          out.write(`Removed client ${id}\n`);
          return 0;
        }
        err.write(`No client with id '${id}'\n`);
        return 1;
      }
    }
  } catch (e) {
    err.write(`${e instanceof UsageError ? `${e.message}\n${USAGE}` : `${(e as Error).message}\n`}`);
    return e instanceof RefusedError ? 1 : 2;
  } finally {
    await driver?.close().catch(() => undefined);
  }
}

let types: Set<string> | undefined;
/** FHIR R4 resource type names (from the definitions cache; built on first use). */
function resourceTypes(): Set<string> {
  types ??= new Set(ensureDefinitionsCache().resourceTypes);
  return types;
}
