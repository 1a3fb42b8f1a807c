/**
 * Auth settings from the environment, parsed once with zod when the module opens (a bad value
 * stops start-up naming the variable, like src/config). The schema is src/config/auth.ts, with
 * every other variable's (src/config/registry.ts).
 */
import type { z } from 'zod';
import { publicRootUrl } from '../config';
import { AuthConfigSchema } from '../config/auth';

export { AuthConfigSchema };

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
