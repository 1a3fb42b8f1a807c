/**
 * SMART Backend Services for PeerBridge (issue 6): registered clients, the token endpoint, access
 * tokens, scopes on every request, per-client rate limits. `openAuth({ driver })` creates the
 * module's tables (idempotent), loads or creates the server's signing key and returns:
 * - `router`: `POST /auth/token` and the SMART configuration (mount at the root, before `authenticate`);
 * - `authenticate`: bearer token -> `res.locals.auth` (mount at the root, after `router`);
 * - `rateLimit`: per-client token bucket (after `authenticate`);
 * - `admin`: the client registry, `/admin/clients` (mount there, after `rateLimit`);
 * - `authorize`: scopes vs. the request (after the body is read: inside the FHIR router after its
 *   body reader, and on `/ingest/:source` after its body reader);
 * - the parts (`clients`, `verifier`, ...) for tests, the CLI and the audit work.
 */
import type { RequestHandler, Router } from 'express';
import { loadConfig, publicBaseUrl } from '../config';
import type { SqlDriver } from '../store/repository';
import { AccessTokenVerifier } from './access-token';
import { ClientKeyResolver } from './client-keys';
import { ClientStore, JtiStore } from './clients';
import { assertAuthConfig, loadAuthConfig, urlsFor, type AuthConfig, type RequestUrls } from './config';
import { authenticate, authorize, type AccessEvent, type Log } from './middleware';
import { rateLimit } from './rate-limit';
import { adminRouter } from './admin-router';
import { authRouter } from './router';
import { ServerKeys } from './server-keys';
import { capabilitySecurity, type TokenEvent } from './token';

export { AccessTokenVerifier, InvalidTokenError, issueAccessToken, type AuthContext, type TokenAudience } from './access-token';
export { AssertionError, MAX_ASSERTION_LIFETIME_SECONDS, verifyClientAssertion } from './assertion';
export { ASSERTION_ALGS, ClientKeyError, ClientKeyResolver, jwksErrors, jwksUrlErrors } from './client-keys';
export { ALL_ORGANIZATIONS, ClientStore, ClientValidationError, JtiStore, type Client, type NewClient } from './clients';
export { assertAuthConfig, loadAuthConfig, loopbackAliases, urlsFor, type AuthConfig, type RequestUrls } from './config';
export { authenticate, authorize, authOf, DISABLED_AUTH, type AccessEvent, type AuthenticateOptions, type Log } from './middleware';
export { checkBundleEntries, checkPermission, entryPermission, forbidden, requiredPermission, type NeedAt, type Requirement } from './permissions';
export { clientOrIp, limitWith, rateLimit, RateLimiter, type RateLimitOptions } from './rate-limit';
export { SharedRateLimiter } from './shared-rate-limit';
export { adminRouter, clientJson } from './admin-router';
export { canSee, escalations, type ClientAdmin } from './client-admin';
export { authRouter } from './router';
export {
  ADMIN_TYPES,
  allows,
  AUDIT_SCOPE,
  CLIENT_ADMIN_TYPE,
  METRICS_TYPE,
  grantScopes,
  INTERACTIONS,
  parseScope,
  parseScopes,
  scopeErrors,
  type Interaction,
  type Need,
  type Scope,
} from './scopes';
export { migrateAuth } from './schema';
export { ACCESS_TOKEN_ALG, ServerKeys } from './server-keys';
export { capabilitySecurity, JWT_BEARER, SCOPES_SUPPORTED, smartConfiguration, tokenRequest, type TokenAnswer, type TokenEvent } from './token';

export interface AuthOptions {
  /** The store's driver (`repo.driver`): holds the auth tables. */
  driver: SqlDriver;
  /** Settings; missing ones come from `env` (default `process.env`) through `loadAuthConfig`. */
  config?: Partial<AuthConfig>;
  env?: Record<string, string | undefined>;
  /**
   * Public FHIR base URL (src/config `publicBaseUrl`): the access tokens' `aud`, and the token
   * URL's base. Default: `publicBaseUrl` of `env` (BASE_URL, else `http://localhost:<PORT>/fhir`).
   */
  baseUrl?: string;
  /** Checks resource types in scopes at registration (e.g. `validator.defs.isResourceType`). */
  isResourceType?: (type: string) => boolean;
  log?: Log;
  /** Token issued or refused, invalid token, access denied: for the audit trail. */
  onEvent?: (event: TokenEvent | AccessEvent) => void;
}

export interface Auth {
  config: AuthConfig;
  clients: ClientStore;
  jti: JtiStore;
  serverKeys: ServerKeys;
  clientKeys: ClientKeyResolver;
  verifier: AccessTokenVerifier;
  /** Token endpoint and SMART configuration. */
  router: Router;
  authenticate: RequestHandler;
  authorize: RequestHandler;
  /** Per client (per IP before authentication); a pass-through when RATE_LIMIT_PER_SECOND=0. */
  rateLimit: RequestHandler;
  /** `/admin/clients`: register, list and remove clients while the server runs (`system/Client.*` scopes). */
  admin: Router;
  /** The token URL, issuer and audience, from the public base (never from a request). */
  urls: RequestUrls;
  /** The CapabilityStatement `rest.security`. */
  capabilitySecurity(): Record<string, unknown>;
}

/** Opens the auth module on a store's driver. Throws when AUTH_DISABLED is set in production. */
export async function openAuth(options: AuthOptions): Promise<Auth> {
  const env = options.env ?? process.env;
  const config: AuthConfig = { ...loadAuthConfig(env), ...options.config };
  assertAuthConfig(config);
  const clients = await ClientStore.open(options.driver, { isResourceType: options.isResourceType });
  const jti = await JtiStore.open(options.driver, { skewSeconds: config.AUTH_CLOCK_SKEW_SECONDS });
  const serverKeys = await ServerKeys.open(options.driver);
  const clientKeys = new ClientKeyResolver({ cacheSeconds: config.AUTH_JWKS_CACHE_SECONDS, timeoutMs: config.AUTH_JWKS_TIMEOUT_MS });
  const verifier = new AccessTokenVerifier(serverKeys, {
    clockSkewSeconds: config.AUTH_CLOCK_SKEW_SECONDS,
    isActive: async (id) => (await clients.get(id)) !== undefined,
  });
  const urls = urlsFor(config, options.baseUrl ?? publicBaseUrl(loadConfig(env)));
  const onEvent = options.onEvent;
  return {
    config,
    clients,
    jti,
    serverKeys,
    clientKeys,
    verifier,
    router: authRouter({
      token: { clients, jti, clientKeys, serverKeys, ttlSeconds: config.AUTH_TOKEN_TTL_SECONDS, clockSkewSeconds: config.AUTH_CLOCK_SKEW_SECONDS, onEvent },
      urls,
      tokenRatePerMinute: config.AUTH_TOKEN_RATE_PER_MINUTE,
      driver: options.driver,
      log: options.log,
    }),
    authenticate: authenticate({ verifier, expected: () => urls, disabled: config.AUTH_DISABLED, log: options.log, onEvent }),
    authorize: authorize({ onEvent }),
    admin: adminRouter({ clients, authorize: authorize({ onEvent }), onRemoved: (id) => verifier.forgetClient(id) }),
    // Shared through the database on PostgreSQL (every worker and host), per process on PGlite.
    rateLimit: rateLimit({
      rate: config.RATE_LIMIT_PER_SECOND,
      burst: config.RATE_LIMIT_BURST,
      shared: { driver: options.driver, scope: 'fhir', log: options.log },
    }),
    urls,
    capabilitySecurity: () => capabilitySecurity(urls.tokenUrl),
  };
}
