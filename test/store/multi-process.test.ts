/**
 * Several server processes on one PostgreSQL (issue 11, item 15): three real `src/server.ts`
 * processes, each on its own port, share a fresh database. Concurrent transaction Bundles that
 * PUT the same ids in different orders, and concurrent `If-Match` updates of one resource, must
 * never answer 5xx, lose an update or write a version twice: the writes must look as if they
 * ran one after another. PostgreSQL only (skipped with PEERBRIDGE_TEST_PG=off): PGlite has one
 * connection and one process.
 */
import type { Bundle, BundleEntry, Patient } from '@medplum/fhirtypes';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { freePort } from '../support/free-port';
import { PROJECT_ROOT } from '../../src/validation';
import { createTestDatabase, DRIVERS } from '../support/stores';

const SERVERS = 3;
const BUNDLES = 9;
const IDS = 20;

interface Server {
  child: ChildProcess;
  base: string;
  output: string;
}

async function startServer(databaseUrl: string): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, AUTH_DISABLED: 'true', NODE_ENV: 'test' };
  delete env.BASE_URL;
  delete env.MLLP_PORT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server: Server = { child, base: `http://127.0.0.1:${port}/fhir`, output: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (server.output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (server.output += d));
  return server;
}

/** Resolves when the server answers /fhir/metadata; rejects with its output when it exits or takes too long. */
async function ready(server: Server, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (server.child.exitCode !== null) {
      throw new Error(`server exited with ${server.child.exitCode}:\n${server.output}`);
    }
    try {
      const res = await fetch(`${server.base}/metadata`);
      if (res.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server not ready after ${timeoutMs} ms:\n${server.output}`);
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      resolve();
      return;
    }
    const kill = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    server.child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    server.child.kill('SIGTERM');
  });
}

/** A small seeded PRNG (mulberry32), so a failing shuffle can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...init.headers } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const patient = (id: string, writer: string): Patient => ({ resourceType: 'Patient', id, name: [{ family: writer }] });

/** A transaction Bundle of one PUT per id, in the given order; every Patient names its writer. */
const putBundle = (ids: string[], writer: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  // No fullUrl: a relative one ('Patient/x') identifies nothing and is refused since issue 12.
  entry: ids.map((id): BundleEntry => ({ resource: patient(id, writer), request: { method: 'PUT', url: `Patient/${id}` } })),
});

/** Every version of Patient/id, oldest first: [versionId, writer]. */
async function versions(base: string, id: string): Promise<[number, string][]> {
  const { status, body } = await send(`${base}/Patient/${id}/_history?_count=1000`);
  expect(status).toBe(200);
  return ((body as Bundle).entry ?? [])
    .map((e): [number, string] => [Number(e.resource?.meta?.versionId), (e.resource as Patient).name?.[0]?.family ?? ''])
    .sort((a, b) => a[0] - b[0]);
}

const describePg = DRIVERS.includes('pg') ? describe : describe.skip;

describePg('three server processes on one PostgreSQL', () => {
  let servers: Server[] = [];
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    servers = await Promise.all(Array.from({ length: SERVERS }, () => startServer(db.url)));
    await Promise.all(servers.map((s) => ready(s, 50_000)));
  }, 60_000);

  // Each test looks at its own log lines only.
  beforeEach(() => servers.forEach((s) => (s.output = '')));

  /** The servers' error log lines (5xx are logged; 4xx are not), first 300 characters of each. */
  const errorsLogged = (): string[] =>
    servers.flatMap((s) =>
      s.output
        .split('\n')
        .filter((l) => l.includes('"level":"error"'))
        .map((l) => l.slice(0, 300)),
    );

  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await drop?.();
  }, 30_000);

  /**
   * Sends BUNDLES transactions at once (spread over the servers), each PUTting every id in its
   * own order; checks no 5xx and that the committed ones look serial: each id has versions
   * `from+1 .. from+wins` without gaps or repeats, version v of every id is the same writer's,
   * and each winner's answer names that version.
   */
  async function concurrentTransactions(ids: string[], from: number, round: string, seed: number): Promise<number> {
    const rnd = random(seed);
    const writers = Array.from({ length: BUNDLES }, (_, k) => `${round}-writer-${k}`);
    const answers = await Promise.all(
      writers.map((writer, k) => send(servers[k % SERVERS].base, { method: 'POST', body: JSON.stringify(putBundle(shuffled(ids, rnd), writer)) })),
    );
    const statuses = answers.map((a) => a.status);
    expect({ serverErrors: statuses.filter((s) => s >= 500), logged: errorsLogged() }).toEqual({ serverErrors: [], logged: [] });
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    for (const a of answers.filter((x) => x.status === 409)) {
      expect(a.body.resourceType).toBe('OperationOutcome');
    }
    const winners = writers.filter((_, k) => statuses[k] === 200);
    expect(winners.length).toBeGreaterThan(0);

    const byVersion = new Map<number, string>();
    for (const id of ids) {
      const list = await versions(servers[0].base, id);
      expect(list.map(([v]) => v)).toEqual(Array.from({ length: from + winners.length }, (_, i) => i + 1));
      for (const [v, writer] of list.filter(([v]) => v > from)) {
        // One serial order for every id: version v is the same transaction's everywhere.
        expect(writer).toBe(byVersion.get(v) ?? writer);
        byVersion.set(v, writer);
      }
    }
    expect([...byVersion.values()].sort()).toEqual([...winners].sort());
    answers.forEach((a, k) => {
      if (a.status !== 200) return;
      const etags = new Set((a.body as Bundle).entry?.map((e) => e.response?.etag));
      expect(etags.size).toBe(1);
      const [v] = [...etags].map((e) => Number(/W\/"(\d+)"/.exec(e ?? '')?.[1]));
      expect(byVersion.get(v)).toBe(writers[k]);
    });
    // Every id exists once, and its current content is the last committed writer's.
    const found = await send(`${servers[1].base}/Patient?_id=${ids.join(',')}&_count=100`);
    expect(found.status).toBe(200);
    const current = ((found.body as Bundle).entry ?? []).map((e) => e.resource as Patient);
    expect(current.map((p) => p.id).sort()).toEqual([...ids].sort());
    const last = byVersion.get(from + winners.length);
    expect(current.every((p) => p.name?.[0]?.family === last)).toBe(true);
    return from + winners.length;
  }

  test(`${BUNDLES} concurrent transactions of ${IDS} PUTs over the same new ids, then over the same existing ids: no 5xx, one serial order`, async () => {
    const ids = Array.from({ length: IDS }, () => randomUUID());
    const after = await concurrentTransactions(ids, 0, 'new', 11);
    await concurrentTransactions(ids, after, 'existing', 12);
  }, 60_000);

  test('concurrent If-Match updates: one winner per version, 412 for the others, history without gaps', async () => {
    const id = randomUUID();
    const created = await send(`${servers[0].base}/Patient/${id}`, { method: 'PUT', body: JSON.stringify(patient(id, 'first')) });
    expect(created.status).toBe(201);
    const rounds = 5;
    const winners: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const reads = await Promise.all(servers.map((s) => send(`${s.base}/Patient/${id}`)));
      const seen = reads.map((x) => (x.body as Patient).meta?.versionId);
      expect(new Set(seen)).toEqual(new Set([String(r + 1)]));
      const clients = Array.from({ length: BUNDLES }, (_, c) => `round-${r}-client-${c}`);
      const answers = await Promise.all(
        clients.map((writer, c) =>
          send(`${servers[c % SERVERS].base}/Patient/${id}`, {
            method: 'PUT',
            headers: { 'if-match': `W/"${r + 1}"` },
            body: JSON.stringify(patient(id, writer)),
          }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect({ serverErrors: statuses.filter((s) => s >= 500), logged: errorsLogged() }).toEqual({ serverErrors: [], logged: [] });
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(clients.length - 1);
      const won = clients[statuses.indexOf(200)];
      expect((answers[statuses.indexOf(200)].body as Patient).meta?.versionId).toBe(String(r + 2));
      winners.push(won);
    }
    const list = await versions(servers[2].base, id);
    expect(list).toEqual([[1, 'first'], ...winners.map((w, r): [number, string] => [r + 2, w])]);
    const read = await send(`${servers[1].base}/Patient/${id}`);
    expect((read.body as Patient).name?.[0]?.family).toBe(winners[rounds - 1]);
  }, 60_000);
});
