/**
 * The web console (issue 14): the pages built from web/ by scripts/build-web.js into dist/web/,
 * and the console's own API under `/console/api`.
 *
 * - `consolePages()`: public, mounted before authentication (the shell and scripts hold no
 *   records; every record the pages show comes through the FHIR and ingest APIs, under the same
 *   access rules as any client). `/console/assets/*` are content-hashed: a year's immutable cache;
 *   the pages (`/validate`, `/people`, `/people/:id`, `/ingest`, `/signin`, and `/` when a browser
 *   asks for HTML) are the one `index.html`, `no-cache`. A strict Content-Security-Policy: scripts,
 *   styles, images and requests from this origin only; no inline script, no eval (`consoleCsp`).
 * - `consoleApi()`: after authentication. `POST /console/api/validate` validates the text of its
 *   body (server-side: README "Web console" says why) and answers each issue with its line and
 *   column; nothing of the body is stored or logged. `GET /console/api/config` (src/users
 *   console-config.ts), for an app without sign-in: the profiles and IG packages the validator has
 *   loaded and the ingest sources.
 */
import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, notFound, unsupportedMediaType } from '../outcomes';
import { PROJECT_ROOT, type ValidationPool, type Validator } from '../validation';
import { validateJsonText, type TextValidationResult } from '../validation/json-text';
import { issuePosition } from '../validation/positions';
import { contentType } from '../outcomes/fhir-json';
import { consoleConfig } from '../users/console-config';
import { readBody } from './body';

export const CONSOLE_DIR = join(PROJECT_ROOT, 'dist', 'web');

/** The console's pages: the paths the client routes (web/src/main.ts). */
export const CONSOLE_PAGES = ['/validate', '/people', '/people/:id', '/ingest', '/signin'];

/**
 * The console's Content-Security-Policy: this origin only, no inline script, no eval, no framing.
 * Styles come from this origin too, plus, on a page, the `<style>` elements CodeMirror writes its
 * theme into, allowed by a nonce made for that one response (never for scripts).
 */
export function consoleCsp(styleNonce?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self'${styleNonce ? ` 'nonce-${styleNonce}'` : ''}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Where index.html (scripts/build-web.js) takes the page's style nonce. */
export const STYLE_NONCE_PLACEHOLDER = '__PB_STYLE_NONCE__';

const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * The pages and their assets, from `dir` (dist/web). Without a build there (`npm run build` not
 * run) the pages answer 503 saying so; the API is unaffected.
 */
export function consolePages(dir = CONSOLE_DIR): express.Router {
  const router = express.Router();
  const indexFile = join(dir, 'index.html');
  router.use(
    '/console/assets',
    (_req, res, next) => {
      res.set({ 'Content-Security-Policy': consoleCsp(), 'Cache-Control': `public, max-age=${YEAR_SECONDS}, immutable` });
      next();
    },
    express.static(join(dir, 'assets'), { index: false, dotfiles: 'ignore', fallthrough: true, cacheControl: false, etag: true }),
    (req, _res, next) => next(notFound(`Not found: ${req.method} /console/assets${req.path}`)),
  );
  const page = (_req: Request, res: Response): void => {
    const nonce = randomBytes(16).toString('base64');
    res.set({ 'Content-Security-Policy': consoleCsp(nonce), 'Cache-Control': 'no-cache' });
    if (!existsSync(indexFile)) {
      res.status(503).type('text/plain').send('The web console is not built: run npm run build');
      return;
    }
    // Read each time (no-cache): a rebuild is served without a restart; the file is a few hundred bytes.
    res.type('html').send(readFileSync(indexFile, 'utf8').replaceAll(STYLE_NONCE_PLACEHOLDER, nonce));
  };
  router.get(CONSOLE_PAGES, page);
  // `/` stays the JSON service description for API clients; a browser asking for HTML gets the console.
  router.get('/', (req, res, next) => {
    if (req.accepts(['json', 'html']) === 'html' && (req.headers.accept ?? '').includes('text/html')) page(req, res);
    else next();
  });
  return router;
}

export interface ConsoleApiDeps {
  validator: Validator;
  /** Validates in the pool's workers when there is one (not on the event loop). */
  validationPool?: ValidationPool;
  maxBodyBytes: number;
  authDisabled: boolean;
  /** Names of the ingest sources (mapping folders). */
  mappings: string[];
}

/** One issue as the console shows it. */
export interface ConsoleIssue {
  severity: OperationOutcomeIssue['severity'];
  code: string;
  text: string;
  expression?: string;
  line?: number;
  col?: number;
  /** The resource the issue is about (`Encounter/abc`), or ''. */
  resource: string;
}

const TEXT_TYPES = ['application/json', 'application/fhir+json', 'text/plain'];

/** The console's API, to mount at the root after authentication. */
export function consoleApi(deps: ConsoleApiDeps): express.Router {
  const router = express.Router();
  const profiles = new Set(deps.validator.profileUrls());

  router.post('/console/api/validate', async (req, res) => {
    const type = contentType(req);
    if (!TEXT_TYPES.includes(type)) throw unsupportedMediaType(`Send the text to validate as ${TEXT_TYPES.join(' or ')}, not '${type || 'none'}'`);
    const profile = typeof req.query.profile === 'string' && req.query.profile !== '' ? req.query.profile : undefined;
    if (profile !== undefined && !profiles.has(profile) && !deps.validator.defs.hasDefinition(profile)) {
      throw badRequest(`Unknown profile '${profile}': GET /console/api/config lists the profiles loaded`, 'profile');
    }
    const text = (await readBody(req, deps.maxBodyBytes)).toString('utf8');
    const started = performance.now();
    const options = profile ? { profile } : {};
    const result: TextValidationResult = deps.validationPool
      ? (await deps.validationPool.validateTexts([text], options))[0]
      : validateJsonText(deps.validator, text, options);
    const issues = (result.outcome.issue ?? []).map((i, n) => consoleIssue(i, result.labels[n] ?? ''));
    res.set('Cache-Control', 'no-store');
    res.json({ valid: result.valid, issues, ms: Math.round((performance.now() - started) * 10) / 10 });
  });

  // With sign-in (src/users) its router answers this first; this one serves apps without it.
  router.get('/console/api/config', (_req, res) => {
    res.json(consoleConfig(deps.validator, deps.mappings, deps.authDisabled));
  });
  return router;
}

function consoleIssue(i: OperationOutcomeIssue, resource: string): ConsoleIssue {
  const at = issuePosition(i);
  const expression = i.expression?.[0];
  return {
    severity: i.severity,
    code: i.code,
    text: i.details?.text ?? i.diagnostics ?? i.code,
    ...(expression !== undefined ? { expression } : {}),
    ...(at ? { line: at.line, col: at.col } : {}),
    resource,
  };
}
