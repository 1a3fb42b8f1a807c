/**
 * Clients' public keys: the JWKS registered with the client, or fetched from its registered JWKS
 * URL (SMART Backend Services, "Registering a client",
 * https://hl7.org/fhir/smart-app-launch/backend-services.html#registering-a-smart-backend-service).
 *
 * Only the URL the admin registered is ever fetched (a `jku` header must equal it; it is never
 * followed elsewhere, nor are redirects), with a timeout and a size cap. Fetched keys are cached
 * for `cacheSeconds`; an unknown `kid` refetches at most once per `COOLDOWN_MS` (key rotation).
 *
 * Keys must be public RSA (2048 bits or more, for RS384) or EC P-384 (ES384) signing keys with a
 * `kid`: registration refuses anything else; keys fetched from a URL that fail the same checks are
 * left out.
 */
import { createLocalJWKSet, importJWK, type JSONWebKeySet, type JWK, type JWTHeaderParameters, type KeyLike } from 'jose';

/** Algorithms a client assertion may be signed with (SMART: RS384 and ES384). */
export const ASSERTION_ALGS = ['RS384', 'ES384'] as const;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_KEYS = 20;
const DEFAULT_MAX_BYTES = 64 * 1024;
const COOLDOWN_MS = 10_000;

/** A failure to find or fetch a client's key: the assertion is refused (`invalid_client`). */
export class ClientKeyError extends Error {}

/** Problems of one JWK as a client signing key (empty when it is fine). */
export function jwkErrors(key: unknown, where: string): string[] {
  if (!key || typeof key !== 'object' || Array.isArray(key)) {
    return [`${where} is not a JSON object`];
  }
  const k = key as JWK & Record<string, unknown>;
  const errors: string[] = [];
  const priv = PRIVATE_MEMBERS.filter((m) => m in k);
  if (priv.length > 0) {
    errors.push(`${where} holds private key material (${priv.join(', ')}): register the public JWKS only`);
  }
  if (typeof k.kid !== 'string' || !k.kid) {
    errors.push(`${where} has no "kid" (SMART requires one per key)`);
  }
  if (k.use !== undefined && k.use !== 'sig') {
    errors.push(`${where} has "use": "${String(k.use)}"; a signing key needs "sig" or no "use"`);
  }
  if (k.kty === 'RSA') {
    const bits = typeof k.n === 'string' ? Buffer.from(k.n, 'base64url').length * 8 : 0;
    if (bits < 2048 || typeof k.e !== 'string') {
      errors.push(`${where} is an RSA key of ${bits} bits; RS384 keys need 2048 bits or more`);
    }
    if (k.alg !== undefined && k.alg !== 'RS384') {
      errors.push(`${where} has "alg": "${String(k.alg)}"; RSA keys must be RS384`);
    }
  } else if (k.kty === 'EC') {
    if (k.crv !== 'P-384' || typeof k.x !== 'string' || typeof k.y !== 'string') {
      errors.push(`${where} is an EC key on ${String(k.crv)}; ES384 needs P-384`);
    }
    if (k.alg !== undefined && k.alg !== 'ES384') {
      errors.push(`${where} has "alg": "${String(k.alg)}"; P-384 keys must be ES384`);
    }
  } else {
    errors.push(`${where} has "kty": "${String(k.kty)}"; only RSA (RS384) and EC P-384 (ES384) keys are accepted`);
  }
  return errors;
}

/**
 * Checks a JWKS for registration: `{ "keys": [...] }` of public RS384/ES384 keys with distinct
 * `kid`s, each importable. Returns the messages (empty when fine).
 */
export async function jwksErrors(jwks: unknown): Promise<string[]> {
  const keys = (jwks as JSONWebKeySet | undefined)?.keys;
  if (!jwks || typeof jwks !== 'object' || !Array.isArray(keys)) {
    return ['the JWKS must be a JSON object with a "keys" array'];
  }
  if (keys.length === 0 || keys.length > MAX_KEYS) {
    return [`the JWKS must hold between 1 and ${MAX_KEYS} keys (it has ${keys.length})`];
  }
  const errors = keys.flatMap((k, i) => jwkErrors(k, `keys[${i}]`));
  const kids = keys.map((k) => k?.kid);
  const repeated = kids.filter((kid, i) => kid && kids.indexOf(kid) !== i);
  if (repeated.length > 0) {
    errors.push(`kid ${[...new Set(repeated)].map((k) => `"${String(k)}"`).join(', ')} appears more than once`);
  }
  if (errors.length === 0) {
    for (const [i, k] of keys.entries()) {
      try {
        await importJWK(k, k.kty === 'RSA' ? 'RS384' : 'ES384');
      } catch (e) {
        errors.push(`keys[${i}] cannot be read as a public key: ${(e as Error).message}`);
      }
    }
  }
  return errors;
}

/** Checks a JWKS URL for registration: https, or http on localhost only; no credentials or fragment. */
export function jwksUrlErrors(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [`'${text}' is not a URL`];
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    return ['the JWKS URL must use https (http only on localhost)'];
  }
  if (url.username || url.password || url.hash) {
    return ['the JWKS URL must not hold credentials or a fragment'];
  }
  return [];
}

/** What the resolver needs to know of a client. */
export interface KeySource {
  id: string;
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
}

type GetKey = ReturnType<typeof createLocalJWKSet>;

interface Fetched {
  at: number;
  kids: Set<string>;
  getKey: GetKey;
}

export interface ClientKeyOptions {
  /** Seconds fetched keys are used before fetching again. */
  cacheSeconds: number;
  /** Milliseconds one fetch may take. */
  timeoutMs: number;
  /** Largest JWKS document accepted, in bytes. */
  maxBytes?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Finds the key a client assertion names (`kid`), in the client's JWKS or at its JWKS URL. */
export class ClientKeyResolver {
  private readonly local = new Map<string, { jwks: JSONWebKeySet; getKey: GetKey }>();
  private readonly remote = new Map<string, Fetched>();
  private readonly inFlight = new Map<string, Promise<Fetched>>();
  private readonly now: () => number;

  constructor(private readonly options: ClientKeyOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The verification key for `header` (its `kid` and `alg`); throws ClientKeyError when there is none. */
  async keyFor(client: KeySource, header: JWTHeaderParameters): Promise<KeyLike | Uint8Array> {
    if (typeof header.kid !== 'string' || !header.kid) {
      throw new ClientKeyError('the assertion header has no "kid"');
    }
    if (header.jku !== undefined && header.jku !== client.jwksUrl) {
      throw new ClientKeyError('the assertion header\'s "jku" is not the JWKS URL registered for this client');
    }
    let getKey: GetKey;
    if (client.jwks) {
      let entry = this.local.get(client.id);
      if (!entry || entry.jwks !== client.jwks) {
        entry = { jwks: client.jwks, getKey: createLocalJWKSet(client.jwks) };
        this.local.set(client.id, entry);
      }
      getKey = entry.getKey;
    } else if (client.jwksUrl) {
      getKey = (await this.fetched(client.jwksUrl, header.kid)).getKey;
    } else {
      throw new ClientKeyError('the client has no keys registered');
    }
    try {
      return await getKey(header);
    } catch {
      throw new ClientKeyError(`no key of the client's JWKS matches kid "${header.kid}" and alg "${String(header.alg)}"`);
    }
  }

  private async fetched(url: string, kid: string): Promise<Fetched> {
    const cached = this.remote.get(url);
    const age = cached ? this.now() - cached.at : Infinity;
    if (cached && age < this.options.cacheSeconds * 1000 && (cached.kids.has(kid) || age < COOLDOWN_MS)) {
      return cached;
    }
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.fetchJwks(url).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    const fresh = await pending;
    this.remote.set(url, fresh);
    return fresh;
  }

  private async fetchJwks(url: string): Promise<Fetched> {
    const maxBytes = this.options.maxBytes ?? DEFAULT_MAX_BYTES;
    let text: string;
    try {
      const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(this.options.timeoutMs), headers: { accept: 'application/json' } });
      if (!res.ok) {
        throw new Error(`HTTP ${res.status}`);
      }
      text = await readCapped(res, maxBytes);
    } catch (e) {
      const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (e as Error).message;
      throw new ClientKeyError(`the client's JWKS URL could not be fetched: ${reason}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new ClientKeyError("the client's JWKS URL did not answer with JSON");
    }
    const keys = Array.isArray((doc as JSONWebKeySet)?.keys) ? (doc as JSONWebKeySet).keys : [];
    const usable = keys.slice(0, MAX_KEYS).filter((k, i) => jwkErrors(k, `keys[${i}]`).length === 0);
    const jwks: JSONWebKeySet = { keys: usable };
    return { at: this.now(), kids: new Set(usable.map((k) => String(k.kid))), getKey: createLocalJWKSet(jwks) };
  }
}

/** Reads a response body as text, failing beyond `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
  }
  if (!res.body) {
    return '';
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const read = await reader.read();
    if (read.done) {
      break;
    }
    // Node types fetch bodies as ReadableStream<any>; undici always yields Uint8Array chunks.
    const value: unknown = read.value;
    if (!(value instanceof Uint8Array)) {
      throw new Error('the JWKS response body is not a byte stream');
    }
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`the JWKS is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
