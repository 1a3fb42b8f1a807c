/**
 * Registered Backend Services clients (`auth_client`, see schema.ts), and the `jti` values their
 * assertions have used (`auth_jti`). Clients are added by an admin (`peerbridge clients add`);
 * each has a random, URL-safe id, a public JWKS or a JWKS URL, the scopes it may be granted and
 * the organizations (tenants) it serves.
 */
import { randomBytes } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { SqlDriver } from '../store/repository';
import { jwksErrors, jwksUrlErrors } from './client-keys';
import { migrateAuth } from './schema';
import { scopeErrors } from './scopes';

/** A registered client. */
export interface Client {
  id: string;
  name: string;
  /** The client's public keys, when registered by value. */
  jwks?: JSONWebKeySet;
  /** Where the client publishes its public keys, when registered by URL. */
  jwksUrl?: string;
  /** Scopes the client may be granted (SMART system scopes). */
  scopes: string[];
  /** Organization ids (tenants) whose records the client may see; `*` (ALL_ORGANIZATIONS): every one. */
  organizations: string[];
  /** May create resources under ids of its own (update-as-create); see RepositoryAccess.assignIds. */
  assignIds: boolean;
  createdAt: Date;
}

/** What `add` takes: exactly one of `jwks` and `jwksUrl`. */
export interface NewClient {
  name: string;
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
  scopes: string[];
  organizations: string[];
  /** Default false. */
  assignIds?: boolean;
}

/** A registration refused for the listed reasons. */
export class ClientValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Client not registered:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

interface ClientRow {
  id: string;
  name: string;
  jwks: JSONWebKeySet | null;
  jwks_url: string | null;
  scopes: string[];
  organizations: string[];
  assign_ids: boolean;
  created_at: Date | string;
}

const COLUMNS = 'id, name, jwks, jwks_url, scopes, organizations, assign_ids, created_at';
const ORG_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The organization entry that gives a client every tenant (an HIE of the whole deployment, a
 * first run). It does not name an Organization, so no Consent can name it as a recipient: such a
 * client gets 42 CFR Part 2 records only through the other organizations it is registered for.
 */
export const ALL_ORGANIZATIONS = '*';

function toClient(row: ClientRow): Client {
  const client: Client = {
    id: row.id,
    name: row.name,
    scopes: [...row.scopes],
    organizations: [...row.organizations],
    assignIds: row.assign_ids === true,
    createdAt: new Date(row.created_at),
  };
  if (row.jwks) {
    client.jwks = typeof row.jwks === 'string' ? (JSON.parse(row.jwks) as JSONWebKeySet) : row.jwks;
  }
  if (row.jwks_url) {
    client.jwksUrl = row.jwks_url;
  }
  return client;
}

export interface ClientStoreOptions {
  /** Checks resource types named in scopes (e.g. the validator's `defs.isResourceType`). */
  isResourceType?: (type: string) => boolean;
}

/** The registered clients, over any SqlDriver. */
export class ClientStore {
  private constructor(
    private readonly driver: SqlDriver,
    private readonly options: ClientStoreOptions,
  ) {}

  /** Creates the auth tables when missing (idempotent, any number of processes) and opens the store. */
  static async open(driver: SqlDriver, options: ClientStoreOptions = {}): Promise<ClientStore> {
    await migrateAuth(driver);
    return new ClientStore(driver, options);
  }

  /** Registers a client; throws ClientValidationError listing every problem. */
  async add(input: NewClient): Promise<Client> {
    const problems: string[] = [];
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || name.length > 200) {
      problems.push('name must be 1 to 200 characters');
    }
    if ((input.jwks === undefined) === (input.jwksUrl === undefined)) {
      problems.push('give exactly one of a JWKS and a JWKS URL');
    } else if (input.jwks !== undefined) {
      problems.push(...(await jwksErrors(input.jwks)).map((p) => `JWKS: ${p}`));
    } else if (input.jwksUrl !== undefined) {
      problems.push(...jwksUrlErrors(input.jwksUrl));
    }
    const scopes = [...new Set(input.scopes ?? [])];
    if (scopes.length === 0) {
      problems.push('give at least one scope (e.g. system/*.read)');
    }
    problems.push(...scopeErrors(scopes, this.options.isResourceType));
    const organizations = [...new Set(input.organizations ?? [])];
    for (const org of organizations) {
      if (typeof org !== 'string' || (org !== ALL_ORGANIZATIONS && !ORG_RE.test(org))) {
        problems.push(`organization '${String(org)}' is not a FHIR id ([A-Za-z0-9-.], 1 to 64 characters) nor '${ALL_ORGANIZATIONS}' (every organization)`);
      }
    }
    if (problems.length > 0) {
      throw new ClientValidationError(problems);
    }
    const id = newClientId();
    const res = await this.driver.query<ClientRow>(
      `INSERT INTO auth_client (id, name, jwks, jwks_url, scopes, organizations, assign_ids)
       VALUES ($1, $2, $3::jsonb, $4, $5::text[], $6::text[], $7) RETURNING ${COLUMNS}`,
      [id, name, input.jwks ? JSON.stringify(input.jwks) : null, input.jwksUrl ?? null, scopes, organizations, input.assignIds === true],
    );
    return toClient(res.rows[0]);
  }

  /** The client, or undefined. */
  async get(id: string): Promise<Client | undefined> {
    if (typeof id !== 'string' || id.length > 128) {
      return undefined;
    }
    const res = await this.driver.query<ClientRow>(`SELECT ${COLUMNS} FROM auth_client WHERE id = $1`, [id]);
    return res.rows[0] ? toClient(res.rows[0]) : undefined;
  }

  /** Every client, oldest first. */
  async list(): Promise<Client[]> {
    const res = await this.driver.query<ClientRow>(`SELECT ${COLUMNS} FROM auth_client ORDER BY created_at, id`);
    return res.rows.map(toClient);
  }

  /**
   * Removes a client and its used `jti`s; true when it existed. Its access tokens stay valid until
   * they expire unless the verifier checks clients (`AccessTokenVerifier`'s `isActive`).
   */
  async remove(id: string): Promise<boolean> {
    return this.driver.transaction(async (tx) => {
      const res = await tx.query('DELETE FROM auth_client WHERE id = $1', [id]);
      await tx.query('DELETE FROM auth_jti WHERE client_id = $1', [id]);
      return res.rowCount > 0;
    });
  }
}

/**
 * Used assertion `jti`s (`auth_jti`): `use` inserts under the (client, jti) primary key, so of
 * two processes seeing the same assertion only one succeeds. Rows are kept until the assertion's
 * `exp` (plus skew) has passed, after which the assertion is refused for its age anyway.
 */
export class JtiStore {
  private lastPrune = Date.now();

  private constructor(
    private readonly driver: SqlDriver,
    private readonly skewSeconds: number,
    private readonly pruneEveryMs: number,
  ) {}

  static async open(driver: SqlDriver, options: { skewSeconds?: number; pruneEveryMs?: number } = {}): Promise<JtiStore> {
    await migrateAuth(driver);
    return new JtiStore(driver, options.skewSeconds ?? 30, options.pruneEveryMs ?? 60_000);
  }

  /** Records the jti; false when the client has used it before. */
  async use(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const res = await this.driver.query(
      `INSERT INTO auth_jti (client_id, jti, expires_at) VALUES ($1, $2, $3::timestamptz + make_interval(secs => $4::float8))
       ON CONFLICT (client_id, jti) DO NOTHING RETURNING 1`,
      [clientId, jti, expiresAt.toISOString(), this.skewSeconds],
    );
    if (Date.now() - this.lastPrune > this.pruneEveryMs) {
      this.lastPrune = Date.now();
      await this.prune();
    }
    return res.rows.length > 0;
  }

  /** Deletes rows whose assertions have expired; returns how many. */
  async prune(): Promise<number> {
    const res = await this.driver.query('DELETE FROM auth_jti WHERE expires_at < now()');
    return res.rowCount;
  }
}

/**
 * A random client id (128 bits, base64url) that starts with a letter or digit: an id starting
 * with '-' would read as an option on the command line (`clients remove -6Ass…`).
 */
export function newClientId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) {
      return id;
    }
  }
}
