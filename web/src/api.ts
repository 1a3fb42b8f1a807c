/**
 * Calls to the server: the console uses the same APIs as any client (/fhir, /ingest), so the
 * same access rules apply; with a session its cookie authenticates them. State-changing requests
 * carry the session's CSRF token (`X-CSRF-Token`).
 */
export interface SessionUser {
  name: string;
  organizations: string[];
  role: string;
  scopes: string;
}

export interface Session {
  user: SessionUser | null;
  authDisabled: boolean;
  csrfToken?: string;
}

export interface ConsoleConfig {
  authDisabled: boolean;
  profiles: { url: string; name: string; title: string; type: string }[];
  packages: { name: string; version: string }[];
  mappings: string[];
}

/** An answer that is not 2xx: its status and the first issue of its OperationOutcome. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** The header a state-changing request carries when signed in (the server checks it on cookie-authenticated requests). */
export function csrfHeaders(): Record<string, string> {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

/** The text of an OperationOutcome's issues, else the status. */
export function outcomeText(body: unknown, status: number): string {
  const issues = (body as { issue?: { details?: { text?: string }; diagnostics?: string }[] } | undefined)?.issue;
  const text = issues
    ?.map((i) => i.details?.text ?? i.diagnostics)
    .filter(Boolean)
    .join('; ');
  return text || `HTTP ${status}`;
}

/** A request; JSON answers parsed. Throws ApiError on a status other than 2xx. */
export async function api<T>(method: string, path: string, body?: BodyInit, contentType?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/fhir+json, application/json' };
  if (contentType) headers['Content-Type'] = contentType;
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) throw new ApiError(res.status, outcomeText(parsed, res.status), parsed);
  return parsed as T;
}

export const getJson = <T>(path: string): Promise<T> => api<T>('GET', path);
export const postFhir = <T>(path: string, resource: unknown): Promise<T> => api<T>('POST', path, JSON.stringify(resource), 'application/fhir+json');

/**
 * The session: `GET /console/session` (sign-in, src/users); a server without sign-in answers 404,
 * and then the console config says whether auth is off.
 */
export async function loadSession(): Promise<Session | 'signed-out'> {
  try {
    const s = await getJson<{ user: SessionUser | null; authDisabled?: boolean; csrfToken?: string }>('/console/session');
    setCsrfToken(s.csrfToken);
    return { user: s.user, authDisabled: s.authDisabled === true, csrfToken: s.csrfToken };
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return 'signed-out';
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  const config = await getJson<ConsoleConfig>('/console/api/config').catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 401) return undefined;
    throw e;
  });
  if (!config) return 'signed-out';
  return { user: null, authDisabled: config.authDisabled };
}

let configPromise: Promise<ConsoleConfig> | undefined;

export function loadConfig(): Promise<ConsoleConfig> {
  configPromise ??= getJson<ConsoleConfig>('/console/api/config');
  return configPromise;
}
