/**
 * The token endpoint without Express (`POST /auth/token`, SMART Backend Services,
 * https://hl7.org/fhir/smart-app-launch/backend-services.html#obtaining-an-access-token):
 * `grant_type=client_credentials` with a `private_key_jwt` client assertion (assertion.ts) and the
 * requested `scope`. Answers as RFC 6749 section 5: 200 with the token, or 400/401 with
 * `{ error, error_description }`, `Cache-Control: no-store` either way. Never echoes a token.
 *
 * Error codes: `invalid_request` (missing or repeated parameter, wrong assertion type),
 * `unsupported_grant_type`, `invalid_client` (401: every assertion failure, RFC 7523 section 3.2),
 * `invalid_scope` (no scope asked for, or none of those asked for is registered for the client).
 */
import { issueAccessToken, type TokenAudience } from './access-token';
import { AssertionError, verifyClientAssertion, type AssertionDeps } from './assertion';
import { ASSERTION_ALGS } from './client-keys';
import { AUDIT_SCOPE, CLIENT_ADMIN_TYPE, grantScopes, METRICS_TYPE } from './scopes';
import type { ServerKeys } from './server-keys';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SINGLE = ['grant_type', 'client_assertion_type', 'client_assertion', 'scope', 'client_id'];

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope' | 'server_error';

export interface OAuthError {
  error: OAuthErrorCode;
  error_description: string;
}

export interface TokenSuccess {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

export interface TokenAnswer {
  status: number;
  body: TokenSuccess | OAuthError;
  headers: Record<string, string>;
}

/** The server's token URL (assertion `aud`, with `assertionAudiences` its accepted aliases) and the access tokens' `iss` and `aud`. */
export interface TokenUrls extends TokenAudience {
  tokenUrl: string;
  assertionAudiences?: string[];
}

/** Something that happened at the token endpoint, for audit (never holds a token or assertion). */
export type TokenEvent =
  | { type: 'token-issued'; clientId: string; clientName: string; scope: string; tokenId: string; organizations: readonly string[] }
  | { type: 'token-refused'; clientId?: string; error: OAuthErrorCode; description: string; organizations?: readonly string[] };

export interface TokenDeps extends AssertionDeps {
  serverKeys: ServerKeys;
  ttlSeconds: number;
  clockSkewSeconds: number;
  onEvent?: (event: TokenEvent) => void;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function error(status: number, code: OAuthErrorCode, description: string): TokenAnswer {
  return { status, body: { error: code, error_description: description }, headers: { ...NO_STORE } };
}

/** Answers one token request (the form's fields). */
export async function tokenRequest(form: URLSearchParams, urls: TokenUrls, deps: TokenDeps): Promise<TokenAnswer> {
  /** `client`: the registered client the request names (its id and organizations go to audit), or only the id it claimed. */
  const refuse = (status: number, code: OAuthErrorCode, description: string, client?: { id?: string; organizations?: readonly string[] }): TokenAnswer => {
    deps.onEvent?.({
      type: 'token-refused',
      clientId: client?.id,
      error: code,
      description,
      ...(client?.organizations ? { organizations: client.organizations } : {}),
    });
    return error(status, code, description);
  };
  for (const name of SINGLE) {
    if (form.getAll(name).length > 1) {
      return refuse(400, 'invalid_request', `${name} appears more than once`);
    }
  }
  const grantType = form.get('grant_type');
  if (!grantType) {
    return refuse(400, 'invalid_request', 'grant_type is required (client_credentials)');
  }
  if (grantType !== 'client_credentials') {
    return refuse(400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
  }
  const assertionType = form.get('client_assertion_type');
  if (assertionType !== JWT_BEARER) {
    return refuse(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
  }
  const assertion = form.get('client_assertion');
  if (!assertion) {
    return refuse(400, 'invalid_request', "client_assertion is required (a JWT signed with the client's private key)");
  }
  let client;
  try {
    client = await verifyClientAssertion(assertion, deps, {
      tokenUrl: urls.tokenUrl,
      audiences: urls.assertionAudiences,
      clockSkewSeconds: deps.clockSkewSeconds,
    });
  } catch (e) {
    if (e instanceof AssertionError) {
      return refuse(401, 'invalid_client', e.message, { id: e.claimedClient, organizations: e.clientOrganizations });
    }
    throw e;
  }
  const clientId = form.get('client_id');
  if (clientId !== null && clientId !== client.id) {
    return refuse(401, 'invalid_client', 'client_id does not match the client assertion', client);
  }
  const requested = (form.get('scope') ?? '').trim();
  if (!requested) {
    return refuse(400, 'invalid_scope', 'scope is required (e.g. system/*.read)', client);
  }
  const granted = grantScopes(requested, client.scopes);
  if (granted.length === 0) {
    return refuse(400, 'invalid_scope', 'none of the requested scopes is registered for this client', client);
  }
  const scope = granted.join(' ');
  const issued = await issueAccessToken(deps.serverKeys, client, scope, { issuer: urls.issuer, audience: urls.audience, ttlSeconds: deps.ttlSeconds });
  deps.onEvent?.({ type: 'token-issued', clientId: client.id, clientName: client.name, scope, tokenId: issued.jti, organizations: client.organizations });
  return {
    status: 200,
    body: { access_token: issued.token, token_type: 'bearer', expires_in: issued.expiresIn, scope },
    headers: { ...NO_STORE },
  };
}

/** Scopes listed in the SMART configuration (any resource type may be named instead of `*`). */
export const SCOPES_SUPPORTED = [
  'system/*.read',
  'system/*.write',
  'system/*.*',
  'system/*.rs',
  'system/*.cud',
  'system/*.cruds',
  AUDIT_SCOPE,
  `system/${CLIENT_ADMIN_TYPE}.cruds`,
  `system/${METRICS_TYPE}.read`,
];

/**
 * `[base]/.well-known/smart-configuration`
 * (https://hl7.org/fhir/smart-app-launch/conformance.html#using-well-known).
 */
export function smartConfiguration(tokenUrl: string): Record<string, unknown> {
  return {
    token_endpoint: tokenUrl,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    grant_types_supported: ['client_credentials'],
    scopes_supported: SCOPES_SUPPORTED,
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}

/**
 * The `security` element for the CapabilityStatement's `rest`, for src/http/capability.ts: the
 * SMART-on-FHIR service code and where to find the token endpoint. No `oauth-uris` extension: it
 * requires an `authorize` endpoint (SMART App Launch, StructureDefinition oauth-uris), which SMART
 * Backend Services does not have; Backend Services clients discover the token endpoint at
 * `[base]/.well-known/smart-configuration` (https://hl7.org/fhir/smart-app-launch/backend-services.html).
 */
export function capabilitySecurity(tokenUrl: string): Record<string, unknown> {
  return {
    service: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }],
        text: 'SMART Backend Services (client_credentials with private_key_jwt)',
      },
    ],
    description: `Get an access token at the token endpoint ${tokenUrl} (also in [base]/.well-known/smart-configuration) with a signed client assertion (RS384 or ES384); send it as Authorization: Bearer.`,
  };
}
