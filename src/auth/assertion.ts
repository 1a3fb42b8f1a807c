/**
 * Client authentication by a signed JWT (`private_key_jwt`), as SMART Backend Services requires
 * (https://hl7.org/fhir/smart-app-launch/backend-services.html#authenticating-to-the-token-endpoint,
 * RFC 7523 section 3):
 *
 * - header: `alg` RS384 or ES384 only (`none`, HS*, everything else refused before any key is
 *   looked up), `kid` required, `typ` JWT when present, `jku` (if any) equal to the registered URL;
 * - `iss` = `sub` = a registered client id; signature by that client's key with the `kid`;
 * - `aud` = the token URL exactly (a string, or an array of that one string);
 * - `exp` present, not past (clock skew allowed) and at most 5 minutes ahead; `iat` (if present)
 *   and `nbf` (if present) not in the future;
 * - `jti` present and never used before by that client (auth_jti, across processes).
 *
 * Every failure is an AssertionError whose message is safe to return (`invalid_client`): it names
 * the check, never the token.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { ASSERTION_ALGS, ClientKeyError, type ClientKeyResolver } from './client-keys';
import type { Client, ClientStore, JtiStore } from './clients';

/** The longest an assertion may live (SMART: `exp` no more than five minutes in the future). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const MAX_ASSERTION_CHARS = 16 * 1024;
const MAX_JTI_CHARS = 255;
const COMPACT_JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A client assertion that is refused; the message says which check failed. */
export class AssertionError extends Error {
  constructor(
    message: string,
    /** The `iss` the assertion claimed, when it could be read (for logs and audit). */
    readonly claimedClient?: string,
    /** The organizations of the claimed client when it is registered: whose audit trail the refusal goes to. */
    readonly clientOrganizations?: readonly string[],
  ) {
    super(message);
  }
}

export interface AssertionDeps {
  clients: Pick<ClientStore, 'get'>;
  clientKeys: Pick<ClientKeyResolver, 'keyFor'>;
  jti: Pick<JtiStore, 'use'>;
}

export interface AssertionOptions {
  /** The token endpoint URL: the `aud` asked for. */
  tokenUrl: string;
  /** Every `aud` accepted (the token URL and its loopback aliases, see config.ts); default: the token URL alone. */
  audiences?: string[];
  clockSkewSeconds: number;
}

/** Verifies a client assertion and records its `jti`; returns the authenticated client. */
export async function verifyClientAssertion(assertion: string, deps: AssertionDeps, options: AssertionOptions): Promise<Client> {
  if (assertion.length > MAX_ASSERTION_CHARS || !COMPACT_JWS_RE.test(assertion)) {
    throw new AssertionError('client_assertion is not a compact JWS (header.payload.signature)');
  }
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw new AssertionError('client_assertion is not a readable JWT');
  }
  const claimed = typeof claims.iss === 'string' ? claims.iss.slice(0, 128) : undefined;
  // Read by fail() (a closure): unknown until the client is found below.
  let organizations: readonly string[] | undefined = undefined;
  const fail = (text: string): never => {
    throw new AssertionError(text, claimed, organizations);
  };
  if (!(ASSERTION_ALGS as readonly string[]).includes(String(header.alg))) {
    fail(`client_assertion "alg" ${JSON.stringify(String(header.alg)).slice(0, 40)} is not accepted: sign with RS384 or ES384`);
  }
  if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') {
    fail('client_assertion "typ" must be JWT');
  }
  if (typeof header.kid !== 'string' || !header.kid) {
    fail('client_assertion header has no "kid"');
  }
  if (typeof claims.iss !== 'string' || !claims.iss || claims.sub !== claims.iss) {
    fail('client_assertion "iss" and "sub" must both be the client id');
  }
  const client = await deps.clients.get(claims.iss as string);
  if (!client) {
    return fail('unknown client: no client is registered with the assertion\'s "iss"');
  }
  organizations = client.organizations;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, (h) => deps.clientKeys.keyFor(client, h), {
      algorithms: [...ASSERTION_ALGS],
      issuer: client.id,
      subject: client.id,
      audience: options.audiences ?? options.tokenUrl,
      clockTolerance: options.clockSkewSeconds,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (e) {
    return fail(describe(e, options.tokenUrl));
  }
  const aud = payload.aud;
  const accepted = options.audiences ?? [options.tokenUrl];
  if (!((typeof aud === 'string' && accepted.includes(aud)) || (Array.isArray(aud) && aud.length === 1 && accepted.includes(aud[0])))) {
    fail(`client_assertion "aud" must be the token URL ${options.tokenUrl} and nothing else`);
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = payload.exp as number;
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + options.clockSkewSeconds) {
    fail(`client_assertion "exp" is more than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds in the future`);
  }
  if (payload.iat !== undefined && payload.iat > now + options.clockSkewSeconds) {
    fail('client_assertion "iat" is in the future');
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || !jti || jti.length > MAX_JTI_CHARS) {
    fail(`client_assertion "jti" must be a string of 1 to ${MAX_JTI_CHARS} characters`);
  }
  if (!(await deps.jti.use(client.id, jti as string, new Date(exp * 1000)))) {
    fail('client_assertion "jti" has been used before: sign a new assertion for every token request');
  }
  return client;
}

/** A safe message for a jose (or key lookup) failure. */
function describe(e: unknown, tokenUrl: string): string {
  if (e instanceof ClientKeyError) {
    return e.message;
  }
  if (e instanceof errors.JWTExpired) {
    return 'client_assertion has expired ("exp" is past)';
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'aud':
        return `client_assertion "aud" must be the token URL ${tokenUrl}`;
      case 'nbf':
        return 'client_assertion "nbf" is in the future';
      case 'exp':
      case 'jti':
      case 'iss':
      case 'sub':
        return `client_assertion "${e.claim}" is missing or not valid`;
      default:
        return `client_assertion claim "${e.claim}" is not valid`;
    }
  }
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return 'client_assertion "alg" is not accepted: sign with RS384 or ES384';
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return "client_assertion signature does not verify with the client's key";
  }
  if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid) {
    return 'client_assertion is not a valid JWT';
  }
  return 'client_assertion could not be verified';
}
