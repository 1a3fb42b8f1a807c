/**
 * The session cookie and what it stands for: `pb_session` (the session id, HttpOnly,
 * SameSite=Strict, Secure behind https), the caller it makes a request (an AuthContext like a
 * client's, so every access rule applies unchanged), and the CSRF check of state-changing requests.
 */
import { timingSafeEqual } from 'node:crypto';
import type { CookieOptions, Request } from 'express';
import type { AuthContext } from '../auth/access-token';
import { ALL_ORGANIZATIONS } from '../auth/clients';
import { hiddenAdminTypes, readableTypes } from '../auth/scopes';
import { ROLE_SCOPES, roleScopes } from './roles';
import type { Session } from './sessions';

export const SESSION_COOKIE = 'pb_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Methods that change nothing: they need no CSRF token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Prefix of a console user's `clientId` (`user:<name>`): no registered client id has a colon. */
export const USER_CLIENT_PREFIX = 'user:';

/** The value of one cookie of the request (the first of that name), or undefined. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).trim() !== name) continue;
    let value = part.slice(at + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** The cookie's attributes: `Secure` when the public base is https (behind TLS). */
export function cookieOptions(secure: boolean): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure };
}

/** Does the request's `X-CSRF-Token` equal the session's (compared in constant time)? */
export function csrfMatches(req: Request, expected: string): boolean {
  const got = req.headers[CSRF_HEADER];
  const value = Array.isArray(got) ? got[0] : got;
  if (typeof value !== 'string') return false;
  const a = Buffer.from(value, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The caller a session makes a request: the user's role's scopes and organizations, as a client's would be. */
export function sessionAuth(session: Pick<Session, 'userName' | 'organizations' | 'role'> & Partial<Pick<Session, 'assignIds'>>): AuthContext {
  const scopes = roleScopes(session.role);
  const readTypes = readableTypes(scopes);
  return {
    clientId: `${USER_CLIENT_PREFIX}${session.userName}`,
    clientName: session.userName,
    userName: session.userName,
    scope: ROLE_SCOPES[session.role],
    scopes,
    organizations: session.organizations.filter((o) => o !== ALL_ORGANIZATIONS),
    allOrganizations: session.organizations.includes(ALL_ORGANIZATIONS),
    hiddenTypes: Object.freeze(hiddenAdminTypes(scopes)),
    ...(readTypes ? { readTypes: Object.freeze(readTypes) } : {}),
    ...(session.assignIds ? { assignIds: true } : {}),
  };
}

/** The `user` of the console's session answers. */
export function sessionUser(session: Pick<Session, 'userName' | 'organizations' | 'role'>): {
  name: string;
  organizations: string[];
  role: string;
  scopes: string;
} {
  return { name: session.userName, organizations: [...session.organizations], role: session.role, scopes: ROLE_SCOPES[session.role] };
}
