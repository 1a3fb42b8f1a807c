/**
 * The client registry over HTTP, so clients can be registered while the server runs (the embedded
 * store serves one process, so `peerbridge clients add` cannot open it beside a running server;
 * `peerbridge clients --server <url>` uses this instead). Mounted at `/admin/clients`, after
 * `authenticate`:
 *
 * - `POST /admin/clients` (application/json `{ name, jwks | jwksUrl, scopes, organizations }`;
 *   `scopes` a list or a space-separated string): 201 with the client and `Location`; needs
 *   `system/Client.c`;
 * - `GET /admin/clients`: `{ "clients": [...] }`, oldest first; needs `system/Client.s`;
 * - `GET /admin/clients/{id}`: the client; needs `system/Client.r`;
 * - `DELETE /admin/clients/{id}`: 204; needs `system/Client.d`.
 *
 * `*` scopes never grant these (scopes.ts). Within them an admin manages only clients of its own
 * organizations and grants only scopes it holds (client-admin.ts); a client it may not see answers
 * 404 like an unknown id. Errors are OperationOutcomes (thrown as FhirError to the app's error
 * handler); requests are audited by the audit middleware like every other.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { badRequest, forbidden, methodNotAllowed, notFound, unauthorized, unsupportedMediaType } from '../outcomes';
import { FHIR_JSON } from '../outcomes/fhir-json';
import { ClientValidationError, type Client, type ClientStore, type NewClient } from './clients';
import { canSee, escalations, type ClientAdmin } from './client-admin';
import { authOf } from './middleware';

export interface AdminRouterDeps {
  clients: ClientStore;
  /** Called with a removed client's id (the verifier's `forgetClient`: its tokens end at once). */
  onRemoved?: (clientId: string) => void;
  /** The scope check (`auth.authorize`). */
  authorize: RequestHandler;
}

const JSON_TYPES = ['application/json', FHIR_JSON];
const MAX_BODY = '256kb';

/** A client as the admin API answers it. */
export function clientJson(c: Client): Record<string, unknown> {
  return { ...c, createdAt: c.createdAt.toISOString() };
}

function outcome(code: 'invalid' | 'forbidden', problems: string[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: problems.map((text) => ({ severity: 'error', code, details: { text } })) };
}

/** The caller as an admin: its registered scopes bound what it may grant. */
async function adminOf(res: Response, clients: ClientStore): Promise<ClientAdmin> {
  const auth = authOf(res);
  if (!auth) throw unauthorized('An access token is required');
  const registered = await clients.get(auth.clientId);
  return {
    scopes: registered?.scopes ?? auth.scope.split(/\s+/).filter(Boolean),
    organizations: auth.organizations,
    allOrganizations: auth.allOrganizations,
    assignIds: registered?.assignIds ?? auth.assignIds === true,
  };
}

/** The registration a body asks for, as given (ClientStore checks the values). */
function newClientOf(body: unknown): NewClient {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(outcome('invalid', ['The body must be a JSON object: { "name", "jwks" or "jwksUrl", "scopes", "organizations", "assignIds" }']));
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['name', 'jwks', 'jwksUrl', 'scopes', 'organizations', 'assignIds'].includes(k));
  const problems = unknown.map((k) => `unknown property '${k}' (known: name, jwks, jwksUrl, scopes, organizations, assignIds)`);
  if (b.assignIds !== undefined && typeof b.assignIds !== 'boolean') problems.push('assignIds must be true or false');
  const list = (v: unknown, name: string): string[] => {
    if (v === undefined) return [];
    if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    problems.push(`${name} must be a list of strings (or one space-separated string)`);
    return [];
  };
  const input: NewClient = { name: b.name as string, scopes: list(b.scopes, 'scopes'), organizations: list(b.organizations, 'organizations') };
  if (b.jwks !== undefined) input.jwks = b.jwks as NewClient['jwks'];
  if (b.jwksUrl !== undefined) input.jwksUrl = b.jwksUrl as string;
  if (b.assignIds === true) input.assignIds = true;
  if (problems.length > 0) throw badRequest(outcome('invalid', problems));
  return input;
}

/** The router to mount at `/admin/clients`. */
export function adminRouter(deps: AdminRouterDeps): express.Router {
  const router = express.Router();
  const { clients } = deps;
  router.use(deps.authorize);

  /** The client `id` when the caller may see it, else 404 (unknown and hidden alike). */
  const visible = async (res: Response, id: string): Promise<Client> => {
    const client = await clients.get(id);
    if (!client || !canSee(await adminOf(res, clients), client)) throw notFound(`No client with id '${id}'`);
    return client;
  };

  router.get('/', async (_req: Request, res: Response) => {
    const admin = await adminOf(res, clients);
    res.json({ clients: (await clients.list()).filter((c) => canSee(admin, c)).map(clientJson) });
  });

  router.post(
    '/',
    (req: Request, _res: Response, next: NextFunction) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (!JSON_TYPES.includes(type)) {
        req.resume();
        next(unsupportedMediaType(`Content-Type must be application/json (got '${type || 'none'}')`));
        return;
      }
      next();
    },
    express.json({ type: JSON_TYPES, limit: MAX_BODY, strict: false }),
    async (req: Request, res: Response) => {
      const input = newClientOf(req.body);
      const refused = escalations(await adminOf(res, clients), input);
      if (refused.length > 0) throw forbidden(outcome('forbidden', refused));
      let client: Client;
      try {
        client = await clients.add(input);
      } catch (e) {
        if (e instanceof ClientValidationError) throw badRequest(outcome('invalid', e.problems));
        throw e;
      }
      const location = `${req.baseUrl}/${encodeURIComponent(client.id)}`;
      res.status(201).set({ Location: location, 'Content-Location': location }).json(clientJson(client));
    },
  );

  router.get('/:id', async (req: Request, res: Response) => {
    res.json(clientJson(await visible(res, String(req.params.id))));
  });

  router.delete('/:id', async (req: Request, res: Response) => {
    const client = await visible(res, String(req.params.id));
    await clients.remove(client.id);
    deps.onRemoved?.(client.id);
    res.status(204).end();
  });

  router.all(['/', '/:id'], (req: Request, res: Response) => {
    res.set('Allow', req.path === '/' ? 'GET, POST' : 'GET, DELETE');
    throw methodNotAllowed(`${req.method} is not allowed on ${req.baseUrl}${req.path === '/' ? '' : req.path}`);
  });
  return router;
}
