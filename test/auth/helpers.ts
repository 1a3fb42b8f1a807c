/**
 * Auth test support: real key pairs (jose), client assertions signed with them (or built by hand
 * when a test needs a broken one), a driver on either store (auth tables only, no FHIR schema),
 * and a small app with the auth router, `authenticate`, `authorize` and echo routes.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type JSONWebKeySet, type KeyLike } from 'jose';
import { openAuth, type Auth, type AuthConfig } from '../../src/auth';
import { openDriver } from '../../src/store';
import type { SqlDriver } from '../../src/store/repository';
import { createTestDatabase, type DriverName } from '../support/stores';

export const TOKEN_URL = 'https://peerbridge.example/auth/token';
export const FHIR_BASE = 'https://peerbridge.example/fhir';

export interface TestKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
}

/** A fresh key pair; kid = JWK thumbprint. */
export async function makeKey(alg: 'RS384' | 'ES384'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig' };
  publicJwk.kid = await calculateJwkThumbprint(publicJwk);
  return { alg, kid: publicJwk.kid, privateKey, publicJwk };
}

export const jwksOf = (...keys: TestKey[]): JSONWebKeySet => ({ keys: keys.map((k) => k.publicJwk) });

export interface AssertionOverrides {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Seconds from now; null leaves `exp` out. */
  exp?: number | null;
  iat?: number;
  nbf?: number;
  jti?: string | null;
  kid?: string;
  header?: Record<string, unknown>;
}

/** A client assertion signed with `key` (claims as SMART asks, unless overridden). */
export async function signAssertion(key: TestKey, clientId: string, o: AssertionOverrides = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: o.iss ?? clientId,
    sub: o.sub ?? clientId,
    aud: o.aud ?? TOKEN_URL,
    jti: o.jti === undefined ? randomUUID() : o.jti,
  };
  if (o.exp !== null) {
    claims.exp = now + (o.exp ?? 240);
  }
  if (o.iat !== undefined) {
    claims.iat = now + o.iat;
  }
  if (o.nbf !== undefined) {
    claims.nbf = now + o.nbf;
  }
  for (const k of Object.keys(claims)) {
    if (claims[k] === null) {
      delete claims[k];
    }
  }
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: o.kid ?? key.kid, typ: 'JWT', ...o.header }).sign(key.privateKey);
}

/** A JWT put together by hand: `header.payload.signature` with any header and signature. */
export function rawJwt(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  const enc = (v: unknown): string => base64url.encode(JSON.stringify(v));
  return `${enc(header)}.${enc(payload)}.${signature}`;
}

export interface TestDriver {
  driver: SqlDriver;
  /** A second, separate connection to the same database (pg); the same driver for PGlite (one session). */
  second(): Promise<SqlDriver>;
  close(): Promise<void>;
}

/** A driver on an empty database of the given kind. */
export async function openTestDriver(name: DriverName): Promise<TestDriver> {
  if (name === 'pglite') {
    const driver = await openDriver({ memory: true });
    return { driver, second: async () => driver, close: () => driver.close() };
  }
  const db = await createTestDatabase();
  const driver = await openDriver({ DATABASE_URL: db.url });
  const others: SqlDriver[] = [];
  return {
    driver,
    second: async () => {
      const d = await openDriver({ DATABASE_URL: db.url });
      others.push(d);
      return d;
    },
    close: async () => {
      for (const d of others) {
        await d.close();
      }
      await driver.close();
      await db.drop();
    },
  };
}

/** Settings for tests: fixed URLs (BASE_URL), no rate limits unless asked. */
export const TEST_CONFIG: Partial<AuthConfig> = {
  AUTH_DISABLED: false,
  AUTH_TOKEN_URL: TOKEN_URL,
  RATE_LIMIT_PER_SECOND: 0,
  AUTH_TOKEN_RATE_PER_MINUTE: 0,
};

/**
 * An app wired as createApp will be: auth router, authenticate, rate limit, then JSON body
 * reading and authorize on `/fhir` and `/ingest`, with handlers that echo `res.locals.auth`.
 */
export function testApp(auth: Auth): express.Express {
  const app = express();
  app.use(auth.router);
  app.use(auth.authenticate);
  app.use(auth.rateLimit);
  app.use(express.json({ type: ['application/json', 'application/fhir+json'] }));
  app.use(express.urlencoded({ extended: false }));
  app.use(auth.authorize);
  app.all('/{*rest}', (_req, res) => {
    res.json({ ok: true, clientId: res.locals.auth?.clientId, organizations: res.locals.auth?.organizations, scope: res.locals.auth?.scope });
  });
  // The app's error handler: FhirError -> its status and outcome.
  app.use((err: { status?: number; outcome?: unknown }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res
      .status(err.status ?? 500)
      .type('application/fhir+json')
      .send(JSON.stringify(err.outcome ?? { message: 'error' }));
  });
  return app;
}

/** openAuth on a driver with the test settings. */
export function openTestAuth(driver: SqlDriver, config: Partial<AuthConfig> = {}): Promise<Auth> {
  return openAuth({ driver, env: {}, config: { ...TEST_CONFIG, ...config }, baseUrl: FHIR_BASE });
}

/** The form of a token request. */
/** `scope` null leaves it out. */
export function tokenForm(assertion: string | undefined, scope: string | null = 'system/*.read', extra: Record<string, string> = {}): string {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' });
  if (assertion !== undefined) {
    form.set('client_assertion', assertion);
  }
  if (scope !== null) {
    form.set('scope', scope);
  }
  for (const [k, v] of Object.entries(extra)) {
    form.set(k, v);
  }
  return form.toString();
}
