/**
 * Which references name a resource of this server (https://hl7.org/fhir/R4/references.html#literal):
 * a relative `Type/id`, or an absolute URL on the server's own FHIR base (config BASE_URL). An
 * absolute URL on any other base is a foreign resource: it is kept as text (searchable by that
 * exact URL) but never resolved to a local one, so `http://elsewhere/fhir/Patient/x` cannot put a
 * record in local Patient x's compartment, searches, includes or chains.
 */

/** The server's FHIR base, parsed once. */
export interface ServerBase {
  protocol: string;
  /** Host names that are this server: a loopback name stands for every loopback name. */
  hosts: ReadonlySet<string>;
  /** '' for the scheme's default port. */
  port: string;
  /** Paths a resource path may follow (`/fhir`; also `<path>/fhir` when BASE_URL names the root). */
  paths: readonly string[];
}

/** `Type/id` named by a reference. */
export interface LocalTarget {
  type: string;
  id: string;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const RELATIVE_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const ABSOLUTE_RE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Parses BASE_URL (`http://localhost:8080/fhir`). The FHIR API is mounted at `/fhir`, so a base
 * whose path does not end in `/fhir` also accepts `<base>/fhir/Type/id`. Undefined: no base, so
 * every absolute URL is foreign.
 */
export function serverBase(url: string | undefined): ServerBase | undefined {
  if (!url) {
    return undefined;
  }
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  const host = u.hostname.toLowerCase();
  return {
    protocol: u.protocol,
    hosts: new Set(LOOPBACK.includes(host) ? LOOPBACK : [host]),
    port: u.port,
    paths: path.endsWith('/fhir') ? [path] : [path, `${path}/fhir`],
  };
}

/** True when the text is an absolute URL (or URN), not a relative reference. */
export const isAbsolute = (ref: string): boolean => ABSOLUTE_RE.test(ref);

/**
 * The local `Type/id` a reference names (a `_history/n` suffix dropped), or undefined for a
 * foreign URL, a canonical (`url|version`), a contained or logical reference.
 */
export function localTarget(ref: string, base: ServerBase | undefined): LocalTarget | undefined {
  if (!isAbsolute(ref)) {
    const m = RELATIVE_RE.exec(ref);
    return m ? { type: m[1], id: m[2] } : undefined;
  }
  if (!base || ref.includes('|')) {
    return undefined;
  }
  let u: URL;
  try {
    u = new URL(ref);
  } catch {
    return undefined;
  }
  if (u.protocol !== base.protocol || u.port !== base.port || !base.hosts.has(u.hostname.toLowerCase()) || u.search || u.hash || u.username) {
    return undefined;
  }
  for (const path of base.paths) {
    if (u.pathname.startsWith(`${path}/`)) {
      const m = RELATIVE_RE.exec(u.pathname.slice(path.length + 1));
      if (m) {
        return { type: m[1], id: m[2] };
      }
    }
  }
  return undefined;
}

/**
 * The resource with every `reference` that is an absolute URL on this server's base rewritten to
 * `Type/id` (the same object when there is none): FHIRPath's `resolve()` in the spec's search
 * expressions (`subject.where(resolve() is Patient)`) reads only the relative form.
 */
export function relativeReferences<T>(value: T, base: ServerBase | undefined): T {
  if (!base || !value || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = relativeReferences(v, base);
      changed ||= r !== v;
      return r;
    });
    return (changed ? out : value) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    let r = v;
    if (k === 'reference' && typeof v === 'string' && isAbsolute(v)) {
      const local = localTarget(v, base);
      r = local ? `${local.type}/${local.id}` : v;
    } else if (v && typeof v === 'object') {
      r = relativeReferences(v, base);
    }
    if (r !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = r;
    }
  }
  return (out ?? value) as T;
}
