/**
 * SMART system scopes (HL7 SMART App Launch 2.x, "Scopes for requesting clinical data",
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html), for Backend Services:
 *
 * - v1: `system/<Type|*>.<read|write|*>`; `read` = r + s, `write` = c + u + d, `*` = all five.
 * - v2: `system/<Type|*>.<cruds>`: a non-empty subset of `c r u d s` in that order, optionally
 *   followed by `?param=value&...` restrictions (e.g. `system/Observation.rs?category=laboratory`).
 *
 * What each letter covers (the SMART v2 table): c = create; r = read, vread, instance history;
 * u = update (and update-as-create, which SMART does not separate); d = delete; s = type and
 * system search, type and system history.
 *
 * Only the `system/` context is accepted: Backend Services has no patient or user in context.
 *
 * Restrictions are parsed but NOT enforced: a restricted scope grants nothing in `allows` (it
 * fails closed rather than granting more than it says).
 *
 * Admin types: `AuditEvent` is left out of `*`. Audit search needs an explicit
 * `system/AuditEvent.rs` (or v1 `system/AuditEvent.read`), so an HIE with `system/*.read` does
 * not read the disclosure log.
 *
 * `Client` is not a FHIR type: it names the registry of clients (`/admin/clients`, see
 * admin-router.ts): `system/Client.c` registers, `.rs` lists and reads, `.d` removes. Like the
 * admin types it is left out of `*`, so `system/*.cruds` cannot register clients.
 */

/** A SMART v2 interaction letter. */
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

/** The letters in their canonical order. */
export const INTERACTIONS: readonly Interaction[] = ['c', 'r', 'u', 'd', 's'];

/** Types a `*` scope does not cover: only a scope naming them grants access. */
export const ADMIN_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);

/** The registry of clients (not a FHIR type): only a scope naming it grants `/admin/clients`. */
export const CLIENT_ADMIN_TYPE = 'Client';

/** The Prometheus metrics on the main port (not a FHIR type): only `system/Metrics.read` grants `GET /metrics`. */
export const METRICS_TYPE = 'Metrics';

/** Types a `*` scope does not cover. */
const NOT_IN_WILDCARD: ReadonlySet<string> = new Set([...ADMIN_TYPES, CLIENT_ADMIN_TYPE, METRICS_TYPE]);

/** The scope that lets an admin search the audit trail. */
export const AUDIT_SCOPE = 'system/AuditEvent.rs';

/** One parsed scope. */
export interface Scope {
  /** The scope as written. */
  raw: string;
  /** A resource type, or `*`. */
  type: string;
  /** The interactions it grants, in `cruds` order. */
  interactions: Interaction[];
  /** 1 for `.read` / `.write` / `.*`, 2 for letters. */
  version: 1 | 2;
  /** v2 `?name=value` restrictions, in order (parsed, not enforced: see the file comment). */
  restrictions?: Array<[string, string]>;
}

/** What a request needs: one interaction on one type (`*`: on every type). */
export interface Need {
  type: string;
  interaction: Interaction;
}

const V1: Record<string, Interaction[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': [...INTERACTIONS] };
const SCOPE_RE = /^system\/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)(\?.*)?$/;
const V2_RE = /^c?r?u?d?s?$/;

/** Parses one scope; undefined when it is not a SMART system scope (`openid`, `patient/...`, typos). */
export function parseScope(raw: string): Scope | undefined {
  const m = SCOPE_RE.exec(raw);
  if (!m) {
    return undefined;
  }
  const [, type, suffix, query] = m;
  if (V1[suffix]) {
    return query === undefined ? { raw, type, interactions: [...V1[suffix]], version: 1 } : undefined;
  }
  if (!V2_RE.test(suffix)) {
    return undefined;
  }
  const interactions = INTERACTIONS.filter((i) => suffix.includes(i));
  const scope: Scope = { raw, type, interactions, version: 2 };
  if (query !== undefined) {
    const restrictions = [...new URLSearchParams(query.slice(1))];
    if (restrictions.length === 0 || restrictions.some(([k, v]) => !k || !v)) {
      return undefined;
    }
    scope.restrictions = restrictions;
  }
  return scope;
}

/** Splits a space-separated scope string (or a list) and parses each; unknown scopes are dropped. */
export function parseScopes(scopes: string | readonly string[]): Scope[] {
  const list = typeof scopes === 'string' ? scopes.split(/\s+/) : scopes;
  return list
    .filter(Boolean)
    .map(parseScope)
    .filter((s): s is Scope => s !== undefined);
}

/** True when the scope's type covers `type` (`*` covers every type but the admin ones and `Client`). */
function covers(scopeType: string, type: string): boolean {
  if (type === '*') {
    return scopeType === '*';
  }
  return scopeType === type || (scopeType === '*' && !NOT_IN_WILDCARD.has(type));
}

/**
 * Does any granted scope allow `need`? `need.type === '*'` asks for the interaction on every type
 * at once (system history, an export without `_type`), which only a `*` scope gives.
 * Restricted scopes allow nothing (restrictions are not enforced yet).
 */
export function allows(granted: readonly Scope[] | string, need: Need): boolean {
  const scopes = typeof granted === 'string' ? parseScopes(granted) : granted;
  return scopes.some((s) => !s.restrictions && s.interactions.includes(need.interaction) && covers(s.type, need.type));
}

/** The admin types none of `granted` lets the client read or search (they are then hidden from every bulk read path). */
export function hiddenAdminTypes(granted: readonly Scope[]): string[] {
  return [...ADMIN_TYPES].filter((type) => !allows(granted, { type, interaction: 'r' }) && !allows(granted, { type, interaction: 's' }));
}

/**
 * The types `granted` lets the client read (`r`), when that is not every type: undefined with an
 * unrestricted `r` on `*`. Bulk paths that choose the types themselves (`$export` without
 * `_type`) keep to these.
 */
export function readableTypes(granted: readonly Scope[]): string[] | undefined {
  if (allows(granted, { type: '*', interaction: 'r' })) {
    return undefined;
  }
  const types = granted.filter((s) => !s.restrictions && s.type !== '*' && s.interactions.includes('r')).map((s) => s.type);
  return [...new Set(types)].sort();
}

/** Writes a scope back out: v1 form when the letters are exactly a v1 set and v1 was asked for. */
export function formatScope(type: string, interactions: readonly Interaction[], preferV1: boolean, restrictions?: Array<[string, string]>): string {
  const letters = INTERACTIONS.filter((i) => interactions.includes(i)).join('');
  let suffix = letters;
  if (preferV1 && !restrictions) {
    const v1 = Object.entries(V1).find(([, set]) => set.length === letters.length && set.every((i) => letters.includes(i)));
    suffix = v1 ? v1[0] : letters;
  }
  const query = restrictions ? `?${new URLSearchParams(restrictions).toString()}` : '';
  return `system/${type}.${suffix}${query}`;
}

/**
 * The scopes to grant for a token request (RFC 6749 section 3.3: the server may grant fewer):
 * each requested scope narrowed to what the registered scopes allow, in the requested order,
 * without duplicates. `system/*.read` requested by a client registered for `system/Patient.rs`
 * gives `system/Patient.read`; `system/*.cruds` requested under `system/*.read` gives
 * `system/*.rs`. A restricted scope is granted only when registered exactly as requested.
 * Requested scopes that are not SMART system scopes are left out.
 */
export function grantScopes(requested: string, registered: readonly string[]): string[] {
  const reg = parseScopes(registered);
  const out: string[] = [];
  const add = (s: string): void => {
    if (!out.includes(s)) {
      out.push(s);
    }
  };
  for (const req of parseScopes(requested)) {
    if (req.restrictions) {
      if (registered.includes(req.raw)) {
        add(req.raw);
      }
      continue;
    }
    for (const g of reg) {
      if (g.restrictions) {
        continue;
      }
      const type =
        req.type === '*' ? g.type : g.type === '*' ? (NOT_IN_WILDCARD.has(req.type) ? undefined : req.type) : g.type === req.type ? req.type : undefined;
      const interactions = req.interactions.filter((i) => g.interactions.includes(i));
      if (type && interactions.length > 0) {
        add(formatScope(type, interactions, req.version === 1));
      }
    }
  }
  // Leave out scopes another granted scope already covers (`system/Encounter.read` beside `system/*.read`).
  const parsed = out.map((s) => parseScope(s) as Scope);
  return out.filter((_, i) => {
    const s = parsed[i];
    return s.restrictions || !parsed.some((o, j) => j !== i && !o.restrictions && subsumes(o, s) && (!subsumes(s, o) || j < i));
  });
}

/** Does `a` grant everything `b` grants? */
function subsumes(a: Scope, b: Scope): boolean {
  return (a.type === b.type || (a.type === '*' && !NOT_IN_WILDCARD.has(b.type))) && b.interactions.every((i) => a.interactions.includes(i));
}

/**
 * Checks scopes for registration: each must be a SMART system scope, and name a known resource
 * type when `isResourceType` is given. Returns one message per bad scope.
 */
export function scopeErrors(scopes: readonly string[], isResourceType?: (type: string) => boolean): string[] {
  const errors: string[] = [];
  for (const raw of scopes) {
    const s = parseScope(raw);
    if (!s) {
      errors.push(`'${raw}' is not a SMART system scope (system/<Type|*>.<read|write|*> or system/<Type|*>.<cruds>)`);
    } else if (s.type !== '*' && s.type !== CLIENT_ADMIN_TYPE && s.type !== METRICS_TYPE && isResourceType && !isResourceType(s.type)) {
      errors.push(`'${raw}': '${s.type}' is not a FHIR R4 resource type`);
    }
  }
  return errors;
}
