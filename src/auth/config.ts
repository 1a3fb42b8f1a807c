/**
 * Auth settings from the environment, parsed once with zod when the module opens (a bad value
 * stops start-up naming the variable, like src/config). Kept here, like src/export/config.ts, so
 * the module can be wired in without touching the shared schema.
 */
import { z } from 'zod';
import { publicRootUrl } from '../config';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

export const AuthConfigSchema = z.object({
  /** `true` turns authentication off (development only: refused with NODE_ENV=production). */
  AUTH_DISABLED: bool.describe('`true` turns authentication off (development only: refused with NODE_ENV=production).'),
  NODE_ENV: z
    .string()
    .optional()
    .describe('`production` refuses AUTH_DISABLED=true (and marks a production install); anything else, or unset, is development.'),
  /**
   * The token endpoint's public URL: the `aud` client assertions must carry, exactly. Default:
   * the public FHIR base (BASE_URL, else `http://localhost:<PORT>/fhir`) with its last path
   * segment (`/fhir`) replaced by `/auth/token`.
   */
  AUTH_TOKEN_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "The token endpoint's public URL: the `aud` client assertions must carry, exactly. Default: the public FHIR base (BASE_URL, else `http://localhost:<PORT>/fhir`) with its last path segment (`/fhir`) replaced by `/auth/token`.",
    ),
  /** `iss` of access tokens. Default: the token URL without `/token` (`https://host/auth`). */
  AUTH_ISSUER: z.string().min(1).optional().describe('`iss` of access tokens. Default: the token URL without `/token` (`https://host/auth`).'),
  /** Access token lifetime in seconds. */
  AUTH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(300).describe('Access token lifetime in seconds.'),
  /** Clock skew allowed on `exp`, `iat` and `nbf` of assertions and tokens, in seconds. */
  AUTH_CLOCK_SKEW_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300)
    .default(30)
    .describe('Clock skew allowed on `exp`, `iat` and `nbf` of assertions and tokens, in seconds.'),
  /** How long keys fetched from a client's JWKS URL are used before fetching again, in seconds. */
  AUTH_JWKS_CACHE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(300)
    .describe("How long keys fetched from a client's JWKS URL are used before fetching again, in seconds."),
  /** Timeout of one JWKS URL fetch, in milliseconds. */
  AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(5000).describe('Timeout of one JWKS URL fetch, in milliseconds.'),
  /** Per-client (per-IP before authentication) request rate, requests per second; 0 turns limiting off. */
  RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .min(0)
    .default(50)
    .describe('Per-client (per-IP before authentication) request rate, requests per second; 0 turns limiting off.'),
  /** Requests a client may make at once above the rate (token bucket size). */
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100).describe('Requests a client may make at once above the rate (token bucket size).'),
  /** Token endpoint requests per minute per IP address. */
  AUTH_TOKEN_RATE_PER_MINUTE: z.coerce.number().min(0).default(60).describe('Token endpoint requests per minute per IP address.'),
});

export type AuthConfig = z.infer<typeof AuthConfigSchema>;

/** Parses the auth settings; throws an Error naming each bad variable. */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const parsed = AuthConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid auth configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * Refuses `AUTH_DISABLED` in production (issue 6: secure by default). Accepts the parsed boolean
 * or the raw environment string.
 */
export function assertAuthConfig(config: { AUTH_DISABLED?: boolean | string; NODE_ENV?: string }): void {
  const disabled = config.AUTH_DISABLED === true || config.AUTH_DISABLED === 'true' || config.AUTH_DISABLED === '1';
  if (disabled && (config.NODE_ENV ?? '').trim().toLowerCase() === 'production') {
    throw new Error('AUTH_DISABLED=true is refused when NODE_ENV=production: register a client (peerbridge clients add) instead');
  }
}

/** The token endpoint URL: AUTH_TOKEN_URL, else the FHIR base's root + `/auth/token`. */
export function configuredTokenUrl(config: Pick<AuthConfig, 'AUTH_TOKEN_URL'>, baseUrl: string): string {
  return config.AUTH_TOKEN_URL ?? `${publicRootUrl(baseUrl)}/auth/token`;
}

/** The access tokens' issuer for a token URL. */
export function issuerFor(tokenUrl: string, configured?: string): string {
  return configured ?? tokenUrl.replace(/\/token$/, '');
}

/** The server's token URL, access-token issuer and audience (FHIR base). */
export interface RequestUrls {
  tokenUrl: string;
  issuer: string;
  audience: string;
  /**
   * The `aud` values client assertions may carry: the token URL, and when its host is a loopback
   * name (the default base, `http://localhost:<PORT>`), the same URL on the other loopback names,
   * so a client that reached the server as `127.0.0.1` is not refused for naming it so.
   */
  assertionAudiences: string[];
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `url` and, when its host is a loopback name, the same URL on each other loopback name. */
export function loopbackAliases(url: string): string[] {
  const parsed = new URL(url);
  if (!LOOPBACK.includes(parsed.hostname)) return [url];
  return [url, ...LOOPBACK.filter((h) => h !== parsed.hostname).map((h) => url.replace(`//${parsed.host}`, `//${h}${parsed.port ? `:${parsed.port}` : ''}`))];
}

/**
 * The server's URLs from its public FHIR base (src/config `publicBaseUrl`): never from a request,
 * whose `Host` header the client chooses. Configured token URL and issuer win.
 */
export function urlsFor(config: Pick<AuthConfig, 'AUTH_TOKEN_URL' | 'AUTH_ISSUER'>, baseUrl: string): RequestUrls {
  const tokenUrl = configuredTokenUrl(config, baseUrl);
  return { tokenUrl, issuer: issuerFor(tokenUrl, config.AUTH_ISSUER), audience: baseUrl, assertionAudiences: loopbackAliases(tokenUrl) };
}
