/**
 * Wiring of the console's sign-in (src/users) into the app: the session endpoints and
 * `/console/api/config` (public routes, mounted before the bearer check), and the session
 * cookie as the caller of every other route (mounted just before `authenticate`). AUTH_DISABLED
 * (or an app without auth) means no sign-in: the console works as the disabled caller.
 */
import type { RequestHandler, Router } from 'express';
import type { Audit } from '../audit';
import { userLoginEvent } from '../audit/event';
import type { Auth } from '../auth';
import type { LoadedSource } from '../translate/types';
import { consoleConfig, type Console } from '../users';
import type { Validator } from '../validation';

export interface ConsoleSessionDeps {
  console: Console;
  auth?: Auth;
  audit?: Audit;
  validator: Validator;
  sources: ReadonlyMap<string, LoadedSource>;
  /** The public FHIR base: an https one makes the cookie `Secure`. */
  baseUrl: string;
}

export function consoleSession(deps: ConsoleSessionDeps): { router: Router; cookieAuth: RequestHandler } {
  const authDisabled = !deps.auth || deps.auth.config.AUTH_DISABLED;
  let body: unknown;
  const audit = deps.audit;
  return {
    router: deps.console.router({
      authDisabled,
      secureCookie: /^https:/i.test(deps.baseUrl),
      // Sign-ins per IP are limited as token requests are (AUTH_TOKEN_RATE_PER_MINUTE).
      signInRatePerMinute: deps.auth?.config.AUTH_TOKEN_RATE_PER_MINUTE ?? 0,
      onLogin: audit ? (event, actor) => audit.record(userLoginEvent(event, audit.source, new Date()), actor) : undefined,
      // Built once, on first use: the loaded profiles and sources do not change while the server runs.
      consoleConfig: () => (body ??= consoleConfig(deps.validator, deps.sources.keys(), authDisabled)),
    }),
    cookieAuth: deps.console.cookieAuth({ authDisabled }),
  };
}
