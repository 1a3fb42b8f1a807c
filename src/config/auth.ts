/**
 * The auth settings' schema (SMART Backend Services, rate limits), parsed by src/auth/config.ts
 * (`loadAuthConfig`) when the auth module opens; here beside the other schemas so the registry
 * (src/config/registry.ts) reads them all without src/config importing src/auth.
 */
import { z } from 'zod';

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
