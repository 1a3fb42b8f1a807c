/**
 * `peerbridge clients ... --server <url>`: the client registry of a running server, through its
 * `/admin/clients` endpoint (src/auth/admin-router.ts), for when the store cannot be opened here
 * (the embedded store is held by the server; one process at a time). The command mints its own
 * access token at the server's token endpoint as `--client-id` with `--key`, asking for the one
 * `system/Client.*` scope the subcommand needs.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import { ClientValidationError, type Client, type NewClient } from '../auth/clients';
import { requestAccessToken } from './auth-token';

/** The server refused the request (exit 1), with its reasons. */
export class RefusedError extends Error {}

export interface RemoteOptions {
  /** The server's root URL (`http://localhost:8080`; a trailing `/fhir` is dropped). */
  server: string;
  clientId: string;
  keyFile: string;
  /** The token endpoint, when not `<server>/auth/token` (the assertion's audience). */
  tokenUrl?: string;
}

/** The part of ClientStore the clients command uses, over HTTP. */
export class RemoteClients {
  private constructor(
    private readonly adminUrl: string,
    private readonly token: string,
  ) {}

  /** Gets a token for `scope` (`system/Client.c`, `.rs` or `.d`); throws RefusedError when refused. */
  static async connect(options: RemoteOptions, scope: string): Promise<RemoteClients> {
    let root: URL;
    try {
      root = new URL(options.server.replace(/\/+$/, '').replace(/\/fhir$/i, ''));
    } catch {
      throw new Error(`--server must be the server's URL (e.g. http://localhost:8080), not '${options.server}'`);
    }
    const base = root.toString().replace(/\/+$/, '');
    const result = await requestAccessToken(options.tokenUrl ?? `${base}/auth/token`, options.clientId, options.keyFile, scope);
    if (!result.ok) {
      throw result.exit === 1 ? new RefusedError(result.message) : new Error(result.message);
    }
    return new RemoteClients(`${base}/admin/clients`, result.body.access_token);
  }

  async add(input: NewClient): Promise<Client> {
    const res = await this.call('POST', '', input);
    if (res.status === 400 || res.status === 403) throw new ClientValidationError(problems(res.body));
    return toClient(this.expect(res, 201));
  }

  async list(): Promise<Client[]> {
    return ((this.expect(await this.call('GET', ''), 200) as { clients?: unknown[] }).clients ?? []).map(toClient);
  }

  /** True when removed; false when the server knows no such client (or none this admin may see). */
  async remove(id: string): Promise<boolean> {
    const res = await this.call('DELETE', `/${encodeURIComponent(id)}`);
    if (res.status === 404) return false;
    this.expect(res, 204);
    return true;
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const url = `${this.adminUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      throw new Error(`Could not reach ${url}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed };
  }

  private expect(res: { status: number; body: unknown }, status: number): unknown {
    if (res.status === status) return res.body;
    const why = problems(res.body).join('; ') || `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) throw new RefusedError(`Refused by the server (${res.status}): ${why}`);
    throw new Error(`The server answered ${res.status}: ${why}`);
  }
}

function problems(body: unknown): string[] {
  return ((body as OperationOutcome | undefined)?.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code);
}

function toClient(json: unknown): Client {
  const c = json as Client & { createdAt: string };
  return { ...c, createdAt: new Date(c.createdAt) };
}
