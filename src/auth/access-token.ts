/**
 * Access tokens: JWTs signed with the server key (server-keys.ts), in the shape of RFC 9068
 * ("JWT Profile for OAuth 2.0 Access Tokens", `typ: at+jwt`): `iss` (this server), `sub` and
 * `client_id` (the client), `aud` (the FHIR base URL), `exp`, `iat`, `jti`, `scope` (granted,
 * space-separated), plus `organizations` (the client's tenants) and `client_name`.
 *
 * They are short-lived (AUTH_TOKEN_TTL_SECONDS, default 300 s) and not revocable one by one:
 * removing a client ends its tokens within the verifier's `activeCacheMs` when `isActive` is given.
 */
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { hiddenAdminTypes, parseScopes, readableTypes, type Scope } from './scopes';
import { ALL_ORGANIZATIONS } from './clients';
import { ACCESS_TOKEN_ALG, type ServerKeys } from './server-keys';

const TYP = 'at+jwt';
/** Longest access token accepted (ours are well under 2 KB). */
const MAX_TOKEN_CHARS = 8192;
const MAX_ACTIVE_CACHE = 10_000;
const MAX_VERIFIED_CACHE = 10_000;

/** `readTypes` of a caller, left out when the scopes read every type. */
function readTypesOf(scopes: readonly Scope[]): { readTypes?: readonly string[] } {
  const types = readableTypes(scopes);
  return types ? { readTypes: Object.freeze(types) } : {};
}

/** Who is calling, as `authenticate` puts it in `res.locals.auth`. */
export interface AuthContext {
  clientId: string;
  clientName: string;
  /** Granted scopes as issued (space-separated). */
  scope: string;
  /** The same, parsed. */
  scopes: Scope[];
  /** Organization ids (tenants) the client may see. */
  organizations: string[];
  /**
   * No tenant restriction: a client registered for `*` (ALL_ORGANIZATIONS), or auth disabled.
   * `organizations` then lists only the named ones (whose consents release Part 2 records).
   */
  allOrganizations: boolean;
  /**
   * Admin types (`AuditEvent`) no granted scope lets the client read or search: left out of every
   * read path that is not by type (system history, `$everything`, `$export`, `_revinclude=*`).
   */
  hiddenTypes: readonly string[];
  /** Registered to create resources under ids of its own (the token's `assign_ids` claim). */
  assignIds?: boolean;
  /** The types the scopes let the client read, when not every type (`readableTypes`); `$export` without `_type` exports these. */
  readTypes?: readonly string[];
  /**
   * A person signed in to the console (src/users) rather than a client: their user name
   * (`clientId` is then `user:<name>`). The audit trail names them as a user.
   */
  userName?: string;
  /** The token's `jti` (for audit), absent when auth is disabled. */
  tokenId?: string;
  /** When the token expires. */
  expiresAt?: Date;
}

/** Where tokens come from and whom they are for. */
export interface TokenAudience {
  /** `iss` of access tokens. */
  issuer: string;
  /** `aud` of access tokens: the FHIR base URL. */
  audience: string;
}

/** Signs an access token for a client. */
export async function issueAccessToken(
  keys: ServerKeys,
  client: { id: string; name: string; organizations: string[]; assignIds?: boolean },
  scope: string,
  options: TokenAudience & { ttlSeconds: number },
): Promise<{ token: string; expiresIn: number; jti: string }> {
  const { kid, key } = keys.signing;
  const jti = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    scope,
    client_id: client.id,
    client_name: client.name,
    organizations: client.organizations,
    ...(client.assignIds ? { assign_ids: true } : {}),
  })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: TYP })
    .setIssuer(options.issuer)
    .setSubject(client.id)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(jti)
    .sign(key);
  return { token, expiresIn: options.ttlSeconds, jti };
}

/** A token that does not verify; `expired` tells an expired one from the rest. */
export class InvalidTokenError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}

export interface VerifierOptions {
  clockSkewSeconds: number;
  /** Is the client still registered? Checked once per `activeCacheMs` per client when given. */
  isActive?: (clientId: string) => Promise<boolean>;
  activeCacheMs?: number;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Verifies access tokens issued by this server (any process on the same database). */
export class AccessTokenVerifier {
  private readonly active = new Map<string, { active: boolean; at: number }>();
  /** Tokens already verified, until they expire: a repeat costs a map lookup instead of a signature check. */
  private readonly verified = new Map<string, { auth: AuthContext; expected: TokenAudience; validUntil: number }>();

  constructor(
    private readonly keys: ServerKeys,
    private readonly options: VerifierOptions,
  ) {}

  /**
   * The caller behind a token verified before, still valid, whose client was seen registered
   * within the active-cache time; undefined when `verify` must decide (first use, expired, client
   * to look up again). Synchronous, so the bearer middleware needs no promise for a repeat token.
   */
  verifyCached(token: string, expected: TokenAudience): AuthContext | undefined {
    const hit = this.verified.get(token);
    if (!hit || hit.expected.issuer !== expected.issuer || hit.expected.audience !== expected.audience || Date.now() >= hit.validUntil) {
      return undefined;
    }
    if (this.options.isActive) {
      const cached = this.active.get(hit.auth.clientId);
      if (!cached || !cached.active || Date.now() - cached.at >= (this.options.activeCacheMs ?? 30_000)) {
        return undefined;
      }
    }
    return hit.auth;
  }

  /** The caller behind a token; throws InvalidTokenError when it is not valid for `expected`. */
  async verify(token: string, expected: TokenAudience): Promise<AuthContext> {
    if (token.length > MAX_TOKEN_CHARS) {
      throw new InvalidTokenError('the access token is too long');
    }
    const hit = this.verified.get(token);
    if (hit && hit.expected.issuer === expected.issuer && hit.expected.audience === expected.audience) {
      if (Date.now() < hit.validUntil) {
        await this.checkActive(hit.auth.clientId);
        return hit.auth;
      }
      this.verified.delete(token);
    }
    const auth = await this.verifySignature(token, expected);
    await this.checkActive(auth.clientId);
    if (auth.expiresAt) {
      if (this.verified.size >= MAX_VERIFIED_CACHE) {
        this.verified.clear();
      }
      this.verified.set(token, { auth, expected, validUntil: auth.expiresAt.getTime() + this.options.clockSkewSeconds * 1000 });
    }
    return auth;
  }

  private async checkActive(clientId: string): Promise<void> {
    if (this.options.isActive && !(await this.isActive(clientId))) {
      throw new InvalidTokenError('the client of this access token is no longer registered');
    }
  }

  private async verifySignature(token: string, expected: TokenAudience): Promise<AuthContext> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const k = await this.keys.publicKey(header.kid);
          if (!k) {
            throw new InvalidTokenError('the access token was not signed by this server');
          }
          return k.key;
        },
        {
          algorithms: [ACCESS_TOKEN_ALG],
          typ: TYP,
          issuer: expected.issuer,
          audience: expected.audience,
          clockTolerance: this.options.clockSkewSeconds,
          requiredClaims: ['exp', 'iat', 'jti', 'sub', 'scope'],
        },
      ));
    } catch (e) {
      if (e instanceof InvalidTokenError) {
        throw e;
      }
      if (e instanceof errors.JWTExpired) {
        throw new InvalidTokenError('the access token has expired', true);
      }
      if (e instanceof errors.JWTClaimValidationFailed) {
        throw new InvalidTokenError(`the access token's "${e.claim}" claim is not valid here`);
      }
      throw new InvalidTokenError('the access token is malformed or its signature does not verify');
    }
    const { sub, scope, organizations, client_name: clientName, aud, jti, exp, assign_ids: assignIds } = payload as JWTPayload & Record<string, unknown>;
    if (typeof sub !== 'string' || typeof scope !== 'string' || !isStringArray(organizations) || aud !== expected.audience) {
      throw new InvalidTokenError('the access token is missing claims');
    }
    const scopes = parseScopes(scope);
    // Frozen: the same object serves every request with this token (the verified cache).
    return Object.freeze({
      clientId: sub,
      clientName: typeof clientName === 'string' ? clientName : sub,
      scope,
      scopes: Object.freeze(scopes) as Scope[],
      organizations: Object.freeze(organizations.filter((o) => o !== ALL_ORGANIZATIONS)) as string[],
      allOrganizations: organizations.includes(ALL_ORGANIZATIONS),
      hiddenTypes: Object.freeze(hiddenAdminTypes(scopes)),
      ...(assignIds === true ? { assignIds: true } : {}),
      ...readTypesOf(scopes),
      tokenId: typeof jti === 'string' ? jti : undefined,
      expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined,
    });
  }

  /**
   * Forgets that `clientId` was seen registered, so its tokens are checked against the registry
   * on their next use (a client removed through this process ends at once; other processes see it
   * within `activeCacheMs`).
   */
  forgetClient(clientId: string): void {
    this.active.delete(clientId);
  }

  private async isActive(clientId: string): Promise<boolean> {
    const ttl = this.options.activeCacheMs ?? 30_000;
    const cached = this.active.get(clientId);
    if (cached && Date.now() - cached.at < ttl) {
      return cached.active;
    }
    const active = await this.options.isActive!(clientId);
    if (this.active.size >= MAX_ACTIVE_CACHE) {
      this.active.clear();
    }
    this.active.set(clientId, { active, at: Date.now() });
    return active;
  }
}
