/**
 * Fuzz (issue 6, "Tests"): over 5,000 malformed requests (fast-check, fixed seed) against the
 * whole app with auth on, over a real listening server (http.request, and raw sockets for bytes
 * no HTTP client would send), across every route: random bytes, invalid UTF-8, 10,000-level
 * nesting, wrong JSON types for every element of a few resources, 64 KiB headers, duplicate
 * headers, bad content types and methods, path traversal, percent-encoding garbage, huge query
 * strings, broken Bundles, CSV / HL7 / JSON garbage to each shipped ingest source.
 *
 * Every answer must be below 500; every 4xx body an OperationOutcome (OAuth JSON on /auth/token;
 * none for HEAD); the server keeps listening; valid requests still succeed afterwards.
 */
import http from 'node:http';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Patient } from '@medplum/fhirtypes';
import { openFullApp, ORG, type FullApp } from '../audit/full-app';
import { PROJECT_ROOT } from '../../src/validation';
import type { Route } from '../../src/fhir-api';

/** A logged error for a failure message: strings and Errors as they print, anything else as JSON. */
const said = (e: unknown): string => (typeof e === 'string' ? e : e instanceof Error ? String(e) : (JSON.stringify(e) ?? ''));

const SEED = 20261122;
const EXAMPLES = join(PROJECT_ROOT, 'examples');
const read = (p: string): string => readFileSync(join(EXAMPLES, p), 'utf8');

interface Spec {
  /** What it is, for failure messages. */
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Bytes written to a socket as they are (no HTTP client involved). */
  raw?: Buffer;
  auth?: 'valid' | 'none' | 'invalid';
}

interface Answer {
  status: number;
  type?: string;
  body: string;
}

// --- senders -------------------------------------------------------------------------------------

function send(base: URL, spec: Spec, token: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...spec.headers };
    if (spec.auth === 'valid' && !('authorization' in headers)) headers.authorization = `Bearer ${token}`;
    if (spec.auth === 'invalid' && !('authorization' in headers)) headers.authorization = `Bearer ${token.slice(0, -4)}AAAA`;
    if (spec.body !== undefined) headers['content-length'] = String(Buffer.byteLength(spec.body));
    const req = http.request({ host: base.hostname, port: base.port, method: spec.method, path: spec.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(spec.body);
  });
}

function sendRaw(base: URL, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(base.port), base.hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(parseRaw(Buffer.concat(chunks))) : reject(err),
    );
    socket.on('end', () => resolve(parseRaw(Buffer.concat(chunks))));
    socket.end(bytes);
  });
}

/** Status and body of a raw HTTP/1.1 response (Content-Length or chunked). */
function parseRaw(data: Buffer): Answer {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const type = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1];
  let body = end < 0 ? '' : data.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8');
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined) body = Buffer.from(body, 'utf8').subarray(0, Number(length)).toString('utf8');
  else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    let out = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, nl), 16);
      if (!size) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  }
  return { status, type, body };
}

// --- what the answers must be ----------------------------------------------------------------------

function problem(spec: Spec, a: Answer): string | undefined {
  // status 0: the server closed the connection without answering (only raw garbage may get that).
  if (a.status === 0) return spec.raw ? undefined : 'no answer';
  if (a.status >= 500) return `${a.status} ${a.body.slice(0, 300)}`;
  if (a.status < 400 || spec.method === 'HEAD') return undefined;
  let body: { resourceType?: string; error?: string; issue?: unknown[] };
  try {
    body = JSON.parse(a.body);
  } catch {
    return `${a.status} body is not JSON: ${a.body.slice(0, 200)}`;
  }
  const token = /^\/auth\/token(\/|\?|$)/i.test(spec.path) && !spec.raw;
  if (token && a.status !== 431 && a.status !== 414) {
    return typeof body.error === 'string' ? undefined : `${a.status} token endpoint answered without an OAuth error: ${a.body.slice(0, 200)}`;
  }
  // Ingest answers a refused batch with its Parameters (the transaction Bundle and the per-record OperationOutcome).
  if (/^\/ingest\//.test(spec.path) && body.resourceType === 'Parameters') {
    const outcome = (body as { parameter?: { name?: string; resource?: { resourceType?: string } }[] }).parameter?.find((p) => p.name === 'outcome');
    return outcome?.resource?.resourceType === 'OperationOutcome' ? undefined : `${a.status} ingest Parameters without an outcome`;
  }
  return body.resourceType === 'OperationOutcome' && Array.isArray(body.issue) ? undefined : `${a.status} not an OperationOutcome: ${a.body.slice(0, 200)}`;
}

// --- generators ------------------------------------------------------------------------------------

const TYPES = [
  'Patient',
  'Encounter',
  'Observation',
  'QuestionnaireResponse',
  'EpisodeOfCare',
  'ChargeItem',
  'Bundle',
  'ConceptMap',
  'Group',
  'AuditEvent',
  'Nope',
  'patient',
];
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];
const CONTENT_TYPES = [
  ...JSON_TYPES,
  'text/csv',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'x-application/hl7-v2+er7',
  'application/fhir+json; charset=utf-16',
  '',
  ';;;',
  'application/fhir+json, text/csv',
  'text/csv; charset=x-garbage',
];

/** Types the `:type` segments of the route table are filled with. */
const TABLE_TYPES = ['Patient', 'Encounter', 'QuestionnaireResponse', 'Bundle', 'Parameters', 'ConceptMap', 'Group'];

/**
 * Every route of the FHIR route table the app serves (method, path), `:type`, `:id` and `:vid`
 * filled in, query-only routes given a query: a route added to the table is fuzzed without an
 * edit here.
 */
function tableRoutes(table: readonly Route[], ids: { patient: string }): Array<[string, string, string?]> {
  const out: Array<[string, string, string?]> = [];
  for (const r of table) {
    for (const t of r.pattern.includes(':type') ? TABLE_TYPES : ['Patient']) {
      // The real patient only for reads: a DELETE or PUT would take it from the checks that follow the fuzz.
      const patient = r.method === 'GET' && (t === 'Patient' || /Patient/.test(r.pattern));
      const fill = (seg: string): string => (seg === ':type' ? t : seg === ':vid' ? '1' : seg === ':id' ? (patient ? ids.patient : 'x1') : seg);
      const path = r.pattern.split('/').map(fill).join('/').replace(/\/$/, '');
      out.push([r.method, `/fhir${path}${r.query ? '?identifier=a' : ''}`, r.pattern.includes(':type') ? t : undefined]);
    }
  }
  return out;
}

/** Every route of the app (method, path), with placeholders filled: the route table's and those outside it. */
function routes(ids: { patient: string; job: string }, table: readonly Route[]): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['GET', '/'],
    ['GET', '/fhir/metadata'],
    ['GET', '/.well-known/smart-configuration'],
    ['GET', '/fhir/.well-known/smart-configuration'],
    ['POST', '/auth/token'],
    ['GET', '/auth/token'],
    ['GET', '/fhir'],
    ['POST', '/fhir'],
    ['GET', '/fhir/_history'],
    ['POST', '/fhir/$validate'],
    ['GET', `/fhir/Patient/${ids.patient}/$everything`],
    ['POST', '/fhir/QuestionnaireResponse/$extract'],
    ['GET', '/fhir/ConceptMap/$translate'],
    ['POST', '/fhir/ConceptMap/$translate'],
    ['GET', '/fhir/ConceptMap/x/$translate'],
    ['GET', '/fhir/$export'],
    ['POST', '/fhir/$export'],
    ['GET', '/fhir/Patient/$export'],
    ['GET', '/fhir/Group/g1/$export'],
    ['GET', `/fhir/bulkstatus/${ids.job}`],
    ['DELETE', `/fhir/bulkstatus/${ids.job}`],
    ['GET', `/fhir/bulkfiles/${ids.job}/Patient-1.ndjson`],
    ['POST', '/ingest/canonical'],
    ['POST', '/ingest/riverbend-csv'],
    ['POST', '/ingest/hl7v2'],
    ['POST', '/ingest/vendor-json'],
    ['POST', '/ingest/unknown-source'],
    ['GET', '/ingest/rejects'],
    ['POST', '/ingest/rejects/$retry'],
    ['GET', '/admin/clients'],
    ['POST', '/admin/clients'],
    ['GET', '/admin/clients/x1'],
    ['DELETE', '/admin/clients/x1'],
  ];
  for (const t of TYPES) {
    out.push(['GET', `/fhir/${t}`], ['POST', `/fhir/${t}`], ['POST', `/fhir/${t}/_search`], ['POST', `/fhir/${t}/$validate`], ['GET', `/fhir/${t}/_history`]);
    out.push(
      ['GET', `/fhir/${t}/x1`],
      ['PUT', `/fhir/${t}/x1`],
      ['DELETE', `/fhir/${t}/x1`],
      ['PATCH', `/fhir/${t}/x1`],
      ['GET', `/fhir/${t}/x1/_history`],
      ['GET', `/fhir/${t}/x1/_history/1`],
    );
    out.push(['PUT', `/fhir/${t}?identifier=a`], ['DELETE', `/fhir/${t}?identifier=a`]);
  }
  const seen = new Set(out.map(([m, p]) => `${m} ${p}`));
  return [
    ...out,
    ...tableRoutes(table, ids)
      .filter(([m, p]) => !seen.has(`${m} ${p}`))
      .map(([m, p]): [string, string] => [m, p]),
  ];
}

const WRONG: unknown[] = [42, -1.5e308, true, null, 'text', '', [], [1, 'a'], {}, { resourceType: 'Patient' }, 'x'.repeat(5000), '\u0000\uD800'];

/**
 * Every element path of a resource, replaced by `perPath` values of the wrong type (taken in turn
 * from WRONG, so every value meets every kind of element). `nullItems`: only null array items
 * (a known validator crash, see the failing test below); otherwise null array items are left out.
 */
function wrongTypes(resource: Record<string, unknown>, perPath = 3, nullItems = false): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let turn = 0;
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (path.length > 0 && path[path.length - 1] !== 'resourceType') {
      const item = typeof path[path.length - 1] === 'number';
      const candidates = nullItems
        ? item
          ? [null]
          : []
        : WRONG.filter(
            (w) => !(item && w === null) && !(typeof w === typeof value && Array.isArray(w) === Array.isArray(value) && w !== null && value !== null),
          );
      const picked = nullItems ? candidates : Array.from({ length: Math.min(perPath, candidates.length) }, () => candidates[turn++ % candidates.length]);
      for (const w of picked) {
        const copy = structuredClone(resource);
        let at: Record<string | number, unknown> = copy;
        for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
        at[path[path.length - 1]] = w;
        out.push(copy);
      }
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(resource, []);
  return out;
}

/** JSON values of every kind, for places that want something else. */
const VALUES: unknown[] = [null, true, 0, -1.5, 1e308, 'x', '', [], [null], [1, 'a', null, true, []], {}, { a: null }, [{}]];

/** Bodies that parse as JSON, of every shape but a resource the route wants: bare values, odd resourceTypes, broken Bundles. */
const GENERIC_SHAPES: unknown[] = [
  ...VALUES,
  ...VALUES.map((v) => ({ resourceType: v })),
  { resourceType: 'Nope' },
  { resourceType: 'Bundle', type: 1 },
  { resourceType: 'Bundle', type: 'transaction', entry: {} },
  { resourceType: 'Bundle', type: 'transaction', entry: [{ request: 'x' }] },
  { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 1, url: [] } }] },
  {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: 1 } }, { request: { method: 'GET', url: null } }, { request: { method: 'POST', url: {} }, resource: {} }],
  },
  { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: {}, resource: 'x', request: { method: 'POST', url: 'Patient' } }] },
  {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient/p1', ifMatch: 1 } }],
  },
  {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient', ifNoneExist: {} } }],
  },
  {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ resource: null, request: { method: 'PUT', url: 'Patient/p1' } }, { request: { method: 'DELETE', url: 'Patient?identifier=' } }],
  },
  {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: { resourceType: 'Patient', id: 'p1' }, request: { method: 'PUT', url: 'Patient/p1', ifMatch: 1 } },
      { resource: {}, request: { method: 'POST', url: 'Patient', ifNoneExist: {} } },
      { request: { method: ['GET'], url: 'Patient' } },
    ],
  },
  { resourceType: 'Parameters', parameter: 'x' },
];

/** Resources with wrong-typed common elements (nested nulls among them), by type, plus a few type-specific ones. */
const TYPED_SHAPES = new Map<string, unknown[]>(
  TABLE_TYPES.map((resourceType) => [
    resourceType,
    [
      { resourceType, id: 1 },
      { resourceType, meta: 'x' },
      { resourceType, meta: { tag: 'x', security: [null, 1], profile: 'x', versionId: {} } },
      { resourceType, meta: { profile: [1, null, {}] } },
      { resourceType, text: 1, contained: 'x' },
      { resourceType, contained: [null, 1, {}, { resourceType: 1 }] },
      { resourceType, extension: [{ url: 1 }, null, 'x'] },
      { resourceType, subject: 'x', patient: { reference: 1 }, managingOrganization: { reference: null } },
      ...(
        {
          Patient: [
            { resourceType, name: {}, identifier: 'x' },
            { resourceType, name: [{ given: [null, 1], family: [] }] },
          ],
          Encounter: [{ resourceType, subject: { reference: 'Patient/' }, serviceProvider: { reference: {} }, episodeOfCare: 'x', class: [null] }],
          QuestionnaireResponse: [
            { resourceType, status: 1, questionnaire: [], item: 'x' },
            { resourceType, status: 'completed', questionnaire: 'x', item: [{ linkId: 1, answer: 'x', item: {} }] },
            { resourceType, status: 'completed', item: [{ linkId: 'a', answer: [null, { valueInteger: 'x' }, { valueCoding: 'x' }] }] },
          ],
          Bundle: [{ resourceType, type: 'transaction', entry: [null] }],
          Parameters: [{ resourceType, parameter: [null, { name: 1 }] }],
          ConceptMap: [
            { resourceType, group: 'x' },
            { resourceType, group: [{ element: 'x' }, { element: [{ target: 'x' }] }] },
          ],
          Group: [
            { resourceType, member: 'x' },
            { resourceType, member: [{ entity: 'x' }, { entity: { reference: 1 } }] },
          ],
        } as Record<string, unknown[]>
      )[resourceType],
    ],
  ]),
);

/** Parameters bodies broken every way an operation reads them: the list, its entries, each name with each kind of wrong value. */
const PARAMETER_NAMES = [
  'resource',
  'profile',
  'mode',
  'questionnaire-response',
  '_type',
  '_since',
  '_outputFormat',
  '_typeFilter',
  'patient',
  'includeAssociatedData',
  'url',
  'code',
  'system',
  'source',
  'target',
  'coding',
  'codeableConcept',
  'conceptMap',
  'reverse',
  'id',
  'feed',
];
const PARAMETERS_SHAPES: unknown[] = [
  ...VALUES.map((parameter) => ({ resourceType: 'Parameters', parameter })),
  ...VALUES.map((v) => ({ resourceType: 'Parameters', parameter: [v] })),
  ...VALUES.filter((v) => typeof v !== 'string').map((name) => ({ resourceType: 'Parameters', parameter: [{ name }] })),
  ...PARAMETER_NAMES.flatMap((name, i) =>
    ['valueString', 'valueCode', 'valueUri', 'valueBoolean', 'valueCoding', 'valueReference', 'resource', 'part']
      .filter((_, k) => (k + i) % 2 === 0)
      .map((key, k) => ({
        resourceType: 'Parameters',
        parameter: [
          { name, [key]: VALUES[(i + k) % VALUES.length] },
          { name, [key]: VALUES[(i + k + 5) % VALUES.length] },
        ],
      })),
  ),
  { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [null] } }] },
  { resourceType: 'Parameters', parameter: [{ name: 'questionnaire-response', resource: { resourceType: 'QuestionnaireResponse', item: 'x' } }] },
  { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Parameters', parameter: 'x' } }] },
];

const deep = (n: number, open: string, close: string, inner = '1'): string => open.repeat(n) + inner + close.repeat(n);

function buildSpecs(ids: { patient: string; job: string }, table: readonly Route[]): Spec[] {
  const specs: Spec[] = [];
  const all = routes(ids, table);
  const patient = JSON.parse(read(`valid/Patient-dana-whitfield.json`)) as Record<string, unknown>;
  const encounter = JSON.parse(read(`valid/Encounter-dana-whitfield-contact-2026-09-15.json`)) as Record<string, unknown>;
  const qr = JSON.parse(read(`valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json`)) as Record<string, unknown>;
  const bundle = JSON.parse(read(`valid/Bundle-peer-support-episode.json`)) as Record<string, unknown>;
  const csv = read('outside/riverbend-csv/contacts.csv');
  const hl7 = read('outside/hl7v2/adt.hl7');
  const vendor = read('outside/vendor-json/payload.json');
  const canonical = JSON.stringify({ resourceType: 'NotAResource' });

  // 1. Wrong JSON types for every element of a few resources: update, create, $validate, $extract.
  for (const [r, where] of [
    [patient, `/fhir/Patient/${ids.patient}`],
    [encounter, '/fhir/Encounter'],
    [qr, '/fhir/QuestionnaireResponse/$extract'],
  ] as const) {
    for (const m of wrongTypes(r, 1)) {
      const method = where.endsWith('Encounter') || where.includes('$') ? 'POST' : 'PUT';
      specs.push({
        label: `wrong type ${where}`,
        method,
        path: where,
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(m),
        auth: 'valid',
      });
    }
  }
  // 2. Broken Bundles.
  const entries = (bundle.entry as Record<string, unknown>[]).slice(0, 5);
  const bundles: unknown[] = [
    { resourceType: 'Bundle' },
    { resourceType: 'Bundle', type: 'transaction', entry: 'x' },
    { resourceType: 'Bundle', type: 'transaction', entry: [null, 1, 'a', []] },
    { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT' } }] },
    { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'FOO', url: 'Patient/1' }, resource: {} }] },
    {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          request: { method: 'POST', url: '/' },
          resource: {
            resourceType: 'Bundle',
            type: 'batch',
            entry: [{ request: { method: 'POST', url: '/' }, resource: { resourceType: 'Bundle', type: 'batch', entry: [] } }],
          },
        },
      ],
    },
    {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 500 }, (_, i) => ({ request: { method: 'GET', url: `Patient/${i}/../../${i}` } })),
    },
    { resourceType: 'Bundle', type: 'transaction', entry: entries.map((e) => ({ ...e, request: { method: 'PUT', url: 'urn:uuid:not-a-path' } })) },
    { resourceType: 'Bundle', type: 'transaction', entry: entries.map((e) => ({ ...e, fullUrl: 42 })) },
    { resourceType: 'Bundle', type: 'transaction', entry: [...entries, ...entries] },
    { resourceType: 'Bundle', type: 'searchset', entry: entries },
    { resourceType: 'Bundle', type: 'transaction', entry: entries.map((e) => ({ ...e, request: { method: 'DELETE', url: 'Patient?_id:missing=true' } })) },
  ];
  for (const b of bundles) {
    for (const path of ['/fhir', '/fhir/$validate', '/fhir/Bundle', '/ingest/canonical']) {
      specs.push({
        label: `bundle ${path}`,
        method: path === '/fhir/Bundle' ? 'PUT' : 'POST',
        path: path === '/fhir/Bundle' ? '/fhir/Bundle/b1' : path,
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(b),
        auth: 'valid',
      });
    }
  }
  for (const m of wrongTypes({ resourceType: 'Bundle', type: 'transaction', entry: [entries[0]] }, 1).slice(0, 80)) {
    specs.push({
      label: 'wrong type Bundle',
      method: 'POST',
      path: '/fhir',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(m),
      auth: 'valid',
    });
  }

  // 3. Deep nesting (10,000 levels) to every JSON body route, and to the form and CSV ones.
  const nests = [
    deep(10_000, '[', ']'),
    deep(10_000, '{"a":', '}'),
    `{"resourceType":"Patient","extension":${deep(10_000, '[', ']')}}`,
    deep(10_000, '[', ']', '').slice(0, 15_000),
  ];
  for (const [method, path] of all.filter(([m]) => m !== 'GET' && m !== 'DELETE')) {
    for (const body of nests) {
      const type = /ingest\/(riverbend|hl7)/.test(path) ? 'text/plain' : path === '/auth/token' ? 'application/x-www-form-urlencoded' : 'application/json';
      specs.push({
        label: `deep ${method} ${path}`,
        method,
        path: path.includes('ingest/riverbend') ? `${path}?feed=contacts` : path,
        headers: { 'content-type': type },
        body,
        auth: 'valid',
      });
    }
  }

  // 4. Random bytes, invalid UTF-8 and bad content types to every route (fast-check, fixed seed).
  // System-wide searches, history and export kick-offs are the costly routes: other categories cover them.
  const routeArb = fc.constantFrom(
    ...all.filter(([m, p]) => !(m === 'GET' && /^\/fhir(\/_history|\/\$export|\/Patient\/\$export|\/Group\/g1\/\$export)?$/.test(p))),
  );
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'binary', maxLength: 500 }).map((s) => Buffer.from(s)),
    fc
      .constantFrom(
        '{"resourceType":"Patient","name":[{"family":"\xC3\x28"}]}',
        '\xFF\xFE{\x00"\x00',
        '{"a":"\uD800"}',
        '\uFEFF\uFEFF{}',
        'null',
        '[]',
        '"x"',
        '1e999',
        '{"resourceType":null}',
        '{"__proto__":{"x":1},"resourceType":"Patient"}',
      )
      .map((s) => Buffer.from(s, 'latin1')),
  );
  const auth = fc.constantFrom<'valid' | 'none' | 'invalid'>('valid', 'valid', 'valid', 'valid', 'none', 'invalid');
  const randomBodies = fc.record({ route: routeArb, body: bytes, type: fc.constantFrom(...CONTENT_TYPES), auth });
  for (const r of fc.sample(randomBodies, { seed: SEED, numRuns: 1200 })) {
    const [method, path] = r.route;
    specs.push({
      label: `bytes ${method} ${path}`,
      method,
      path,
      headers: r.type ? { 'content-type': r.type } : {},
      body: method === 'GET' && r.body.length % 3 ? undefined : r.body,
      auth: r.auth,
    });
  }

  // 5. Paths: traversal, percent-encoding garbage, odd ids, huge query strings.
  const segments = fc.constantFrom(
    '..',
    '%2e%2e',
    '%2E%2E%2F',
    '..%2f..%2f',
    '%',
    '%zz',
    '%C3%28',
    '%00',
    '%FF%FE',
    '%E2%82',
    '~',
    '$',
    '$everything',
    '_history',
    '_search',
    'Patient',
    'metadata',
    'x'.repeat(200),
    '%25%32%65',
    ';',
    '%3B',
    'a%2Fb',
    '\u00e9',
    '%u0041',
  );
  const pathArb = fc.record({
    prefix: fc.constantFrom(
      '/fhir',
      '/ingest',
      '/fhir/Patient',
      '/fhir/bulkfiles',
      '/fhir/bulkstatus',
      '/auth',
      '',
      '/FHIR',
      '//fhir',
      '/.well-known',
      '/fhir/ConceptMap',
    ),
    segs: fc.array(segments, { maxLength: 6 }),
    query: fc.oneof(
      fc.constant(''),
      fc
        .array(
          fc.constantFrom(
            '_count=-1',
            '_count=99999999999',
            '_sort=%zz',
            'name=%',
            '_include=*',
            '_revinclude=:::',
            '_type=Nope',
            '_format=xml',
            '_summary=data',
            'date=ge2026-13-45',
            '_since=yesterday',
            'patient=Patient/../../x',
            '_has:Observation:patient:code=1',
            'a=1&a=2&a=3',
            '%=%',
            '=',
            '&&&',
            '_elements=a.b.c',
            'dryRun=maybe',
            'feed=%00',
          ),
          { maxLength: 5 },
        )
        .map((q) => q.join('&')),
    ),
    method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    auth,
  });
  for (const r of fc.sample(pathArb, { seed: SEED + 1, numRuns: 1450 })) {
    const path = `${r.prefix}/${r.segs.join('/')}${r.query ? `?${r.query}` : ''}`;
    // Bytes outside printable ASCII cannot go through http.request: they go on the socket as they are.
    if (/[^\x21-\x7e]/.test(path)) {
      const raw = Buffer.from(`${r.method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer x\r\n\r\n`, 'utf8');
      specs.push({ label: `path ${r.method} ${path.slice(0, 80)}`, method: r.method, path, raw });
      continue;
    }
    specs.push({
      label: `path ${r.method} ${path.slice(0, 80)}`,
      method: r.method,
      path,
      headers: r.method === 'POST' || r.method === 'PUT' ? { 'content-type': 'application/fhir+json' } : {},
      body: r.method === 'POST' || r.method === 'PUT' ? '{}' : undefined,
      auth: r.auth,
    });
  }
  for (const size of [1000, 8000, 15_000, 20_000, 70_000]) {
    specs.push({ label: `long query ${size}`, method: 'GET', path: `/fhir/Patient?name=${'a'.repeat(size)}`, auth: 'valid' });
    specs.push({
      label: `many params ${size}`,
      method: 'GET',
      path: `/fhir/Encounter?${Array.from({ length: size / 10 }, (_, i) => `p${i}=1`).join('&')}`,
      auth: 'valid',
    });
  }

  // 6. Headers: huge, duplicate, odd Accept and Authorization values.
  for (const route of all.slice(0, 40)) {
    const [method, path] = route;
    specs.push({ label: `64 KiB header ${path}`, method, path, headers: { 'x-big': 'b'.repeat(64 * 1024) }, auth: 'valid' });
    specs.push({ label: `duplicate authorization ${path}`, method, path, headers: { authorization: ['Bearer a', 'Bearer b'] }, auth: 'valid' });
    specs.push({
      label: `duplicate content-type ${path}`,
      method,
      path,
      headers: { 'content-type': ['application/fhir+json', 'text/csv'] },
      body: '{}',
      auth: 'valid',
    });
    specs.push({ label: `accept xml ${path}`, method, path, headers: { accept: 'application/fhir+xml' }, auth: 'valid' });
  }
  const authHeaders = [
    'Basic YTpi',
    'Bearer',
    'Bearer ',
    'Bearer a.b.c',
    'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    `Bearer ${'x'.repeat(9000)}`,
    'bearer\ttoken',
    'Bearer ÿÿÿ',
    'Token abc',
    'Bearer a b',
  ];
  for (const a of authHeaders)
    for (const [method, path] of all.slice(5, 70))
      specs.push({ label: `authorization '${a.slice(0, 20)}' ${path}`, method, path, headers: { authorization: a } });
  const many: Record<string, string> = {};
  for (let i = 0; i < 90; i++) many[`x-h${i}`] = String(i);
  specs.push({ label: 'many headers', method: 'GET', path: '/fhir/Patient', headers: many, auth: 'valid' });

  // 7. Raw bytes on the socket: bad request lines and methods, duplicate Content-Length, bare garbage.
  const rawLines = [
    'FOO /fhir/Patient HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /fhir/Patient HTTP/9.9\r\nHost: x\r\n\r\n',
    'GET  HTTP/1.1\r\n\r\n',
    'GET /fhir/Patient\r\n\r\n',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n',
    'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'GET /fhir/Patient HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n',
    'GET /fhir/Patient HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n',
    'GET /fhir/\x7fPatient HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://elsewhere.example/fhir/Patient HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    'CONNECT peerbridge:443 HTTP/1.1\r\nHost: x\r\n\r\n',
    'TRACE /fhir/Patient HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    `GET /fhir/Patient?${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    '\r\n\r\n\r\n',
    '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
  ];
  for (const line of rawLines) specs.push({ label: `raw ${JSON.stringify(line.slice(0, 40))}`, method: 'RAW', path: '', raw: Buffer.from(line, 'latin1') });
  for (const b of fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { seed: SEED + 2, numRuns: 100 })) {
    specs.push({ label: 'raw random bytes', method: 'RAW', path: '', raw: Buffer.from(b) });
  }

  // 8. Outside-source garbage: mutated samples and random text to each shipped source and feed.
  const mutate = fc.record({
    sample: fc.constantFrom(csv, hl7, vendor, canonical),
    cut: fc.nat(4000),
    insert: fc.constantFrom(
      '\x00',
      '"',
      '""',
      '\r',
      '\n',
      ',',
      '|',
      '^~\\&',
      'MSH|',
      '\uFFFD',
      '\xC3',
      ';',
      '{',
      ']',
      '\\',
      'PID|1||',
      'OBX|'.repeat(50),
      ','.repeat(1000),
    ),
    times: fc.integer({ min: 1, max: 20 }),
    target: fc.constantFrom(
      '/ingest/riverbend-csv?feed=contacts',
      '/ingest/riverbend-csv?feed=clients',
      '/ingest/riverbend-csv?file=staff.csv',
      '/ingest/riverbend-csv',
      '/ingest/hl7v2',
      '/ingest/vendor-json',
      '/ingest/canonical',
      '/ingest/riverbend-csv?feed=nope',
      '/ingest/hl7v2?dryRun=true',
      '/ingest/vendor-json?dryRun=1',
    ),
    auth,
  });
  for (const r of fc.sample(mutate, { seed: SEED + 3, numRuns: 300 })) {
    let text = r.sample;
    for (let i = 0; i < r.times; i++) {
      const at = (r.cut * (i + 1)) % Math.max(1, text.length);
      text = text.slice(0, at) + r.insert + text.slice(at + (i % 3));
    }
    const type = r.target.includes('vendor')
      ? 'application/json'
      : r.target.includes('canonical')
        ? 'application/fhir+json'
        : r.target.includes('hl7')
          ? 'x-application/hl7-v2+er7'
          : 'text/csv';
    specs.push({ label: `ingest garbage ${r.target}`, method: 'POST', path: r.target, headers: { 'content-type': type }, body: text, auth: r.auth });
  }
  for (const lines of fc.sample(fc.array(fc.string({ maxLength: 80 }), { maxLength: 40 }), { seed: SEED + 4, numRuns: 50 })) {
    const body = lines.join('\r\n');
    specs.push({
      label: 'ingest random csv',
      method: 'POST',
      path: '/ingest/riverbend-csv?feed=episodes',
      headers: { 'content-type': 'text/csv' },
      body,
      auth: 'valid',
    });
    specs.push({
      label: 'ingest random hl7',
      method: 'POST',
      path: '/ingest/hl7v2',
      headers: { 'content-type': 'text/plain' },
      body: `MSH|^~\\&|${body}`,
      auth: 'valid',
    });
  }

  // 9. Token endpoint: odd forms.
  const forms = fc.array(
    fc.tuple(fc.constantFrom('grant_type', 'client_assertion', 'client_assertion_type', 'scope', 'client_id', 'x', ''), fc.string({ maxLength: 300 })),
    { maxLength: 8 },
  );
  for (const f of fc.sample(forms, { seed: SEED + 5, numRuns: 200 })) {
    specs.push({
      label: 'token form',
      method: 'POST',
      path: '/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(f).toString(),
    });
  }
  // 10. Form searches with odd fields.
  for (const f of fc.sample(forms, { seed: SEED + 6, numRuns: 100 })) {
    specs.push({
      label: 'form _search',
      method: 'POST',
      path: '/fhir/Encounter/_search',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(f).toString() + '&_include=%zz&patient:Patient.name=x',
      auth: 'valid',
    });
  }

  return specs;
}

/** The routes outside the FHIR route table (auth, ingest, rejects, Bulk Data status and files). */
function otherRoutes(ids: { patient: string; job: string }): Array<[string, string, string?]> {
  return routes(ids, []).filter(([, p]) => !/^\/fhir(\/|$)/.test(p) || /^\/fhir\/(metadata|bulkstatus|bulkfiles|\.well-known)/.test(p));
}

/**
 * Issue 11 item 12: every JSON shape to every route, the route table's (so a new route is covered)
 * and the others. Each body parses; none is what the route wants. Bodies mean nothing to GET and
 * DELETE: two shapes there. A route of one type gets the generic shapes and its type's; routes
 * of any type get them all; operations (`$...`) also get every broken Parameters.
 */
function buildShapeSpecs(ids: { patient: string; job: string }, table: readonly Route[]): Spec[] {
  const specs: Spec[] = [];
  const seen = new Set<string>();
  for (const [method, path, filled] of [...otherRoutes(ids), ...tableRoutes(table, ids)]) {
    if (seen.has(`${method} ${path}`)) continue;
    seen.add(`${method} ${path}`);
    // Type-level operations share one handler across types: Patient's gets every shape, the others their own.
    const typed = path.includes('$') ? (filled !== 'Patient' ? filled : undefined) : TABLE_TYPES.find((t) => path.startsWith(`/fhir/${t}`));
    const shapes =
      method === 'GET' || method === 'DELETE'
        ? [null, {}]
        : typed
          ? [...GENERIC_SHAPES, ...(TYPED_SHAPES.get(typed) ?? [])]
          : [...GENERIC_SHAPES, ...[...TYPED_SHAPES.values()].flat(), ...(path.includes('$') ? PARAMETERS_SHAPES : [])];
    const type = path === '/auth/token' ? 'application/x-www-form-urlencoded' : 'application/json';
    for (const shape of shapes)
      specs.push({ label: `shape ${method} ${path}`, method, path, headers: { 'content-type': type }, body: JSON.stringify(shape), auth: 'valid' });
  }
  if (process.env.FUZZ_REPORT) {
    const n = new Map<string, number>();
    for (const sp of specs) n.set(sp.label, (n.get(sp.label) ?? 0) + 1);
    console.log(JSON.stringify([...n]));
  }
  return specs;
}

/** Sends the specs, 8 at a time; what failed (`problem`), the statuses, and time spent per kind of request. */
async function fire(
  app: FullApp,
  specs: Spec[],
  token: string,
): Promise<{ failures: string[]; statuses: Map<number, number>; sent: number; seconds: number; timing: Record<string, number> }> {
  const base = new URL(app.base);
  const failures: string[] = [];
  let next = 0;
  let sent = 0;
  const timing: Record<string, number> = {};
  const statuses = new Map<number, number>();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < specs.length; i = next++) {
      const spec = specs[i];
      const started = Date.now();
      try {
        const answer = spec.raw ? await sendRaw(base, spec.raw) : await send(base, spec, token);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const p = problem(spec, answer);
        if (p) failures.push(`${spec.label}: ${p}`);
      } catch (err) {
        // A connection the server reset is allowed for huge headers only (Node may close before reading them all).
        const code = (err as NodeJS.ErrnoException).code;
        if (!(code === 'ECONNRESET' || code === 'EPIPE') || !/64 KiB|long query|many params/.test(spec.label))
          failures.push(`${spec.label}: ${(err as Error).message}`);
      }
      sent++;
      const kind = spec.label.startsWith('deep')
        ? `${spec.label} ${String(spec.body).slice(0, 2)}${String(spec.body).length}`
        : spec.label.split(' ').slice(0, 2).join(' ');
      timing[kind] = (timing[kind] ?? 0) + (Date.now() - started);
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  return { failures, statuses, sent, seconds: (Date.now() - t0) / 1000, timing };
}

// --- the test --------------------------------------------------------------------------------------

describe('fuzz: malformed requests across every route', () => {
  let app: FullApp;
  let token: string;
  let patientId: string;
  let jobId = 'no-job';
  beforeAll(async () => {
    app = await openFullApp('pglite', { flushMs: 200 });
    token = (await app.token(['system/*.cruds'], 'Fuzzer', [ORG])).token;
    const res = await fetch(`${app.base}/fhir/Patient`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', managingOrganization: { reference: `Organization/${ORG}` } } satisfies Patient),
    });
    patientId = ((await res.json()) as Patient).id as string;
  }, 120_000);
  afterAll(() => app?.close());

  test('no 5xx, no crash, every 4xx an OperationOutcome (or OAuth error); valid requests still work', async () => {
    const kick = await fetch(`${app.base}/fhir/$export`, { headers: { authorization: `Bearer ${token}`, prefer: 'respond-async' } });
    await kick.text();
    const job = /bulkstatus\/([^/?]+)/.exec(kick.headers.get('content-location') ?? '')?.[1] ?? 'no-job';
    const specs = buildSpecs({ patient: patientId, job }, app.routes);
    jobId = job;
    expect(specs.length).toBeGreaterThanOrEqual(5000);
    const kinds = new Map<string, number>();
    for (const sp of specs) kinds.set(sp.label.split(' ')[0], (kinds.get(sp.label.split(' ')[0]) ?? 0) + 1);
    if (process.env.FUZZ_REPORT) console.log(JSON.stringify([...kinds]));
    const { failures, statuses, sent, seconds, timing } = await fire(app, specs, token);
    console.log(
      `fuzz: ${sent} requests in ${seconds.toFixed(1)} s, ${failures.length} failures; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    // The valid token got past authentication for most requests: handlers were reached, not only the 401 gate.
    expect([...statuses].filter(([st]) => st !== 401).reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(sent / 2);
    if (process.env.FUZZ_REPORT) {
      const byLabel = new Map<string, number>();
      for (const f of failures) byLabel.set(f.slice(0, 60), (byLabel.get(f.slice(0, 60)) ?? 0) + 1);
      writeFileSync(
        process.env.FUZZ_REPORT,
        JSON.stringify(
          { byLabel: [...byLabel], failures: failures.slice(0, 400), logs: app.logs.filter((l) => l.level === 'error').slice(0, 50), timing },
          null,
          1,
        ),
      );
    }
    expect(failures.slice(0, 25)).toEqual([]);
    expect(app.server.listening).toBe(true);

    // Valid requests still succeed.
    const ok = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${app.base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
      await res.text();
      return res.status;
    };
    expect(await ok(`/fhir/Patient/${patientId}`)).toBe(200);
    expect(await ok('/fhir/Encounter?_count=5')).toBe(200);
    expect(await ok('/fhir/metadata')).toBe(200);
    expect(
      await ok('/fhir/Patient', {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', managingOrganization: { reference: `Organization/${ORG}` } }),
      }),
    ).toBe(201);
    expect(
      await ok('/ingest/riverbend-csv?feed=organizations&dryRun=true', {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: read('outside/riverbend-csv/organizations.csv'),
      }),
    ).toBe(200);
    expect((await app.token(['system/*.read'], 'After the fuzz')).token).toMatch(/^ey/);
    await app.audit.flush();
    expect(app.audit.writer.stats.dropped).toBe(0);
  }, 240_000);

  test('every JSON shape to every route: below 500, every 4xx an OperationOutcome', async () => {
    const specs = buildShapeSpecs({ patient: patientId, job: jobId }, app.routes);
    // The route table is read from the app: every interaction and operation it serves is here.
    const covers = (r: Route, sp: Spec): boolean =>
      sp.method === r.method &&
      new RegExp(
        `^/fhir${r.pattern
          .replace(/\$/g, '\\$')
          .replace(/:[a-z]+/g, '[^/?]+')
          .replace(/\/$/, '')}(\\?|$)`,
      ).test(sp.path);
    expect(app.routes.filter((r) => !specs.some((sp) => covers(r, sp))).map((r) => `${r.method} ${r.pattern}`)).toEqual([]);
    const { failures, statuses, sent, seconds } = await fire(app, specs, token);
    console.log(
      `fuzz shapes: ${sent} requests in ${seconds.toFixed(1)} s, ${failures.length} failures; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    if (process.env.FUZZ_REPORT)
      writeFileSync(
        `${process.env.FUZZ_REPORT}.shapes`,
        JSON.stringify({ failures: failures.slice(0, 400), logs: app.logs.filter((l) => l.level === 'error').slice(0, 50) }, null, 1),
      );
    expect(failures.slice(0, 25)).toEqual([]);
    expect(app.logs.filter((l) => l.level === 'error').map((l) => `${l.message} ${said(l.meta?.error).split('\n')[0]}`)).toEqual([]);
  }, 240_000);

  /**
   * A null array item (`"coding": [null]`, `"answer": [null]`) crashed the validator (walker.ts
   * checkBinding / inValueSet, questionnaire-rules.ts answerKey) and the request answered 500.
   */
  test('null array items in a resource answer 4xx, not 500', async () => {
    const base = new URL(app.base);
    const encounter = JSON.parse(read('valid/Encounter-dana-whitfield-contact-2026-09-15.json')) as Record<string, unknown>;
    const qr = JSON.parse(read('valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json')) as Record<string, unknown>;
    const statuses: number[] = [];
    for (const [r, path] of [
      [encounter, '/fhir/Encounter'],
      [qr, '/fhir/QuestionnaireResponse/$extract'],
    ] as const) {
      for (const m of wrongTypes(r, 0, true).slice(0, 60)) {
        const a = await send(
          base,
          { label: 'null item', method: 'POST', path, headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(m), auth: 'valid' },
          token,
        );
        statuses.push(a.status);
      }
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  }, 120_000);
});
