/**
 * `peerbridge auth keygen|token`: a newcomer's way to a first access token (issue 6, "easy first
 * run"), playing the client's side of SMART Backend Services.
 *
 *   peerbridge auth keygen [--alg ES384|RS384] --out <dir> [--force]
 *       writes <dir>/private-key.jwk.json and <dir>/private-key.pem (mode 0600: keep them secret)
 *       and <dir>/jwks.json (the public JWKS to register with `peerbridge clients add --jwks`)
 *   peerbridge auth token --client-id <id> --key <private key: JWK or PEM> [--token-url <url>]
 *                         [--scope <scope>...] [--assertion-only] [--json]
 *       signs a client assertion (iss = sub = client id, aud = token URL, exp in 4 minutes, a
 *       fresh jti) and POSTs it; prints the access token (--json: the whole answer), or with
 *       --assertion-only just the signed assertion, for curl. The granted scope and when the token
 *       expires go to stderr, so that stdout is the token alone.
 *
 * The token URL defaults to the server's own: AUTH_TOKEN_URL, else the root of the public FHIR base
 * (BASE_URL, else http://localhost:$PORT/fhir) + /auth/token.
 *   peerbridge auth rotate-key
 *       a new signing key for the server's access tokens (src/cli/auth-rotate.ts)
 *
 * Exit 0 done, 1 refused by the server, 2 usage or I/O error.
 */
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, SignJWT, type JWK, type KeyLike } from 'jose';
import { configuredTokenUrl } from '../auth/config';
import { JWT_BEARER } from '../auth/token';
import { loadConfig, publicBaseUrl } from '../config';
import { ROTATE_USAGE, rotateKey } from './auth-rotate';

const USAGE = `Usage:
  peerbridge auth keygen [--alg ES384|RS384] --out <dir> [--force]
  peerbridge auth token --client-id <id> --key <private key file (JWK or PEM)> [--token-url <url>] [--scope <scope>...] [--assertion-only] [--json]
${ROTATE_USAGE}`;

/** Seconds an assertion lives: under SMART's five-minute limit with room for clock skew. */
const ASSERTION_SECONDS = 240;
const ALGS = ['ES384', 'RS384'] as const;
type Alg = (typeof ALGS)[number];

class UsageError extends Error {}

const VALUE_OPTIONS = new Set(['--alg', '--out', '--client-id', '--key', '--token-url', '--scope', '--kid']);
const FLAGS = new Set(['--force', '--assertion-only', '--json']);

function parseArgs(args: string[]): { options: Map<string, string[]>; flags: Set<string> } {
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.split('=')[0];
    if (VALUE_OPTIONS.has(name)) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) {
        throw new UsageError(`${name} needs a value`);
      }
      options.set(name, [...(options.get(name) ?? []), v]);
    } else if (FLAGS.has(a)) {
      flags.add(a);
    } else {
      throw new UsageError(`Unexpected argument '${a}'`);
    }
  }
  return { options, flags };
}

const first = (options: Map<string, string[]>, name: string): string | undefined => options.get(name)?.[0];

function checkAlg(text: string | undefined): Alg {
  const alg = (text ?? 'ES384').toUpperCase();
  if (!(ALGS as readonly string[]).includes(alg)) {
    throw new UsageError(`--alg must be ES384 or RS384, not '${text}'`);
  }
  return alg as Alg;
}

async function keygen(options: Map<string, string[]>, flags: Set<string>, out: NodeJS.WritableStream): Promise<number> {
  const alg = checkAlg(first(options, '--alg'));
  const dir = first(options, '--out');
  if (!dir) {
    throw new UsageError('--out <dir> is required');
  }
  const files = { jwk: join(dir, 'private-key.jwk.json'), pem: join(dir, 'private-key.pem'), jwks: join(dir, 'jwks.json') };
  const existing = Object.values(files).filter((f) => existsSync(f));
  if (existing.length > 0 && !flags.has('--force')) {
    throw new Error(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: use another --out or --force to replace`);
  }
  const pair = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), alg, use: 'sig' };
  publicJwk.kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk: JWK = { ...(await exportJWK(pair.privateKey)), alg, use: 'sig', kid: publicJwk.kid };
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.jwk, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(files.pem, await exportPKCS8(pair.privateKey), { mode: 0o600 });
  writeFileSync(files.jwks, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`);
  out.write(
    [
      `${alg} key pair, kid ${publicJwk.kid}:`,
      `  private key (keep secret): ${files.jwk}`,
      `                             ${files.pem}`,
      `  public JWKS (register it): ${files.jwks}`,
      'Next:',
      `  peerbridge clients add --name "My HIE" --jwks ${files.jwks} --scope "system/*.read" --org <organization id>`,
      `  peerbridge auth token --client-id <id printed above> --key ${files.jwk}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** The signing key, its alg and kid, from a private JWK (JSON) or PKCS#8 PEM file. */
async function loadPrivateKey(file: string, kidOption?: string): Promise<{ key: KeyLike | Uint8Array; alg: Alg; kid: string }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (text.trimStart().startsWith('{')) {
    const jwk = JSON.parse(text) as JWK;
    if (!jwk.d) {
      throw new Error(`${file} is a public key: give the private key (private-key.jwk.json)`);
    }
    const alg = checkAlg(jwk.alg ?? (jwk.kty === 'RSA' ? 'RS384' : 'ES384'));
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    const kid = kidOption ?? jwk.kid ?? (await calculateJwkThumbprint({ ...pub, alg, use: 'sig' }));
    return { key: await importJWK(jwk, alg), alg, kid };
  }
  let pk;
  try {
    pk = createPrivateKey(text);
  } catch {
    throw new Error(`${file} is neither a private JWK nor a PEM private key`);
  }
  const alg: Alg = pk.asymmetricKeyType === 'rsa' ? 'RS384' : 'ES384';
  const publicJwk = createPublicKey(pk).export({ format: 'jwk' }) as JWK;
  const kid = kidOption ?? (await calculateJwkThumbprint({ ...publicJwk, alg, use: 'sig' }));
  return { key: await importPKCS8(pk.export({ format: 'pem', type: 'pkcs8' }).toString(), alg), alg, kid };
}

/** Signs a client assertion for the SMART token endpoint. */
export async function signClientAssertion(clientId: string, tokenUrl: string, key: KeyLike | Uint8Array, alg: string, kid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_SECONDS)
    .setJti(randomUUID())
    .sign(key);
}

/** What the token endpoint answered: the token response, or why not (exit 1 refused, 2 unreachable). */
export type TokenResult = { ok: true; body: Record<string, unknown> & { access_token: string } } | { ok: false; exit: 1 | 2; message: string };

/**
 * Signs a client assertion with the key in `keyFile` and POSTs a client_credentials request for
 * `scope` to `tokenUrl` (the assertion's audience).
 */
export async function requestAccessToken(tokenUrl: string, clientId: string, keyFile: string, scope: string, kid?: string): Promise<TokenResult> {
  const { key, alg, kid: keyId } = await loadPrivateKey(keyFile, kid);
  const assertion = await signClientAssertion(clientId, tokenUrl, key, alg, keyId);
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, scope });
  let res: Response;
  try {
    res = await fetch(tokenUrl, { method: 'POST', body: form, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    return { ok: false, exit: 2, message: `Could not reach ${tokenUrl}: ${(e as Error).message} (is the server running? set --token-url)` };
  }
  let body: Record<string, unknown>;
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    return { ok: false, exit: 1, message: `${tokenUrl} answered ${res.status} without JSON: is it the PeerBridge token endpoint?` };
  }
  if (res.status !== 200 || typeof body.access_token !== 'string') {
    return { ok: false, exit: 1, message: `Token refused (${res.status}): ${String(body.error)}: ${shown(body.error_description)}` };
  }
  return { ok: true, body: body as Record<string, unknown> & { access_token: string } };
}

async function token(
  options: Map<string, string[]>,
  flags: Set<string>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const clientId = first(options, '--client-id');
  const keyFile = first(options, '--key');
  if (!clientId || !keyFile) {
    throw new UsageError('--client-id and --key are required');
  }
  const tokenUrl = first(options, '--token-url') ?? configuredTokenUrl({ AUTH_TOKEN_URL: env.AUTH_TOKEN_URL }, publicBaseUrl(loadConfig(env)));
  const scope = (options.get('--scope') ?? ['system/*.read']).join(' ');
  if (flags.has('--assertion-only')) {
    const { key, alg, kid } = await loadPrivateKey(keyFile, first(options, '--kid'));
    out.write(`${await signClientAssertion(clientId, tokenUrl, key, alg, kid)}\n`);
    return 0;
  }
  const result = await requestAccessToken(tokenUrl, clientId, keyFile, scope, first(options, '--kid'));
  if (!result.ok) {
    err.write(`${result.message}\n`);
    return result.exit;
  }
  const body = result.body;
  out.write(flags.has('--json') ? `${JSON.stringify(body)}\n` : `${body.access_token}\n`);
  if (!flags.has('--json')) {
    err.write(
      `Granted scope: ${String(body.scope)}; expires in ${String(body.expires_in)} s, at ${expiresAt(body)} (after that, requests with it answer 401: run this command again). Use it as: Authorization: Bearer <token>\n`,
    );
  }
  return 0;
}

/** When a token expires, as an instant (UTC, seconds): its `exp` claim, else now + `expires_in`. */
function expiresAt(body: { access_token: string; expires_in?: unknown }): string {
  let exp: number | undefined;
  try {
    const claim = decodeJwt(body.access_token).exp;
    if (typeof claim === 'number') exp = claim;
  } catch {
    exp = undefined;
  }
  exp ??= Math.floor(Date.now() / 1000) + Number(body.expires_in ?? 0);
  if (!Number.isFinite(exp)) return 'an unknown time';
  return new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Runs `auth`; returns the exit code. `env` defaults to process.env. */
export async function authCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      out.write(USAGE);
      return 0;
    }
    const { options, flags } = parseArgs(rest);
    if (sub === 'keygen') {
      return await keygen(options, flags, out);
    }
    if (sub === 'token') {
      return await token(options, flags, out, err, env);
    }
    if (sub === 'rotate-key') {
      if (options.size > 0 || flags.size > 0) throw new UsageError('rotate-key takes no options: it reads DATABASE_URL or DATA_DIR');
      return await rotateKey(out, env);
    }
    throw new UsageError(sub ? `Unknown subcommand '${sub}'` : 'Give a subcommand: keygen, token or rotate-key');
  } catch (e) {
    err.write(e instanceof UsageError ? `${e.message}\n${USAGE}` : `${(e as Error).message}\n`);
    return 2;
  }
}

/** A field of the token endpoint's answer for a message: strings as they are, absent as '', anything else as JSON. */
function shown(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
}
