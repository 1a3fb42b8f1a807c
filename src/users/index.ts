/**
 * Sign-in for people (issue 14 item 4): console users, server-side sessions in a cookie, CSRF
 * tokens, lock-out, sign-out. API clients keep SMART Backend Services (src/auth); a signed-in
 * person acts through the same access rules with their role's scopes (roles.ts).
 *
 * `openConsole({ driver })` creates the module's tables (idempotent) and returns:
 * - `users`, `sessions`: the stores (`peerbridge users` works on `users`);
 * - `router(...)`: `/console/session` and `/console/api/config` (mount at the root, before `cookieAuth`);
 * - `cookieAuth`: the session cookie as the caller of every other route (mount before `authenticate`).
 */
import type { RequestHandler, Router } from 'express';
import type { SqlDriver } from '../store/repository';
import type { UserLoginOutcome } from '../audit/event';
import { loadConsoleConfig, type ConsoleConfig } from './config';
import { cookieAuth } from './cookie-auth';
import { sessionRouter } from './session-router';
import { SessionStore } from './sessions';
import { UserStore, type UserStoreOptions } from './users';

export { loadConsoleConfig, type ConsoleConfig } from './config';
export { consoleConfig, type ConsoleConfigBody } from './console-config';
export { isRole, ROLE_SCOPES, ROLES, roleScopes, type Role } from './roles';
export { CSRF_HEADER, SESSION_COOKIE, sessionAuth, USER_CLIENT_PREFIX } from './session-auth';
export { SessionStore, type Session } from './sessions';
export { migrateUsers } from './schema';
export { MIN_PASSWORD_CHARS, normalName, UserStore, UserValidationError, type NewUser, type User } from './users';

export interface ConsoleOptions {
  /** The store's driver (`repo.driver`): holds the console tables. */
  driver: SqlDriver;
  /** Settings; missing ones come from `env` (default `process.env`). */
  config?: Partial<ConsoleConfig>;
  env?: Record<string, string | undefined>;
  /** argon2 settings (tests lower the cost). */
  hash?: UserStoreOptions['hash'];
}

export interface ConsoleRouterOptions {
  /** AUTH_DISABLED=true: the console works without signing in. */
  authDisabled: boolean;
  /** The public base URL is https: the cookie is `Secure`. */
  secureCookie: boolean;
  onLogin?: (event: UserLoginOutcome, actor?: string) => void;
  consoleConfig: () => unknown;
  /** Sign-in requests per minute per IP address (0: no limit). */
  signInRatePerMinute?: number;
}

export interface Console {
  config: ConsoleConfig;
  users: UserStore;
  sessions: SessionStore;
  router(options: ConsoleRouterOptions): Router;
  cookieAuth(options: { authDisabled: boolean }): RequestHandler;
}

export async function openConsole(options: ConsoleOptions): Promise<Console> {
  const config: ConsoleConfig = { ...loadConsoleConfig(options.env ?? process.env), ...options.config };
  const users = await UserStore.open(options.driver, { hash: options.hash });
  const sessions = new SessionStore(
    options.driver,
    { idleMinutes: config.CONSOLE_SESSION_IDLE_MINUTES, maxHours: config.CONSOLE_SESSION_MAX_HOURS },
    { maxFailures: config.CONSOLE_LOCKOUT_FAILURES, windowMinutes: config.CONSOLE_LOCKOUT_MINUTES },
  );
  return {
    config,
    users,
    sessions,
    router: (o) => sessionRouter({ users, sessions, ...o }),
    cookieAuth: (o) => cookieAuth(sessions, o),
  };
}
