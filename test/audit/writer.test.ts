/**
 * The audit writer: batches of at most `batchSize` through `updateMany`, written after `flushMs`
 * or at once when a batch is full; bounded while the store fails (dropped events counted and
 * logged as a count, never their content), retried after it recovers, and flushed on close.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { AuditWriter } from '../../src/audit';

const event = (i: number): AuditEvent => ({
  resourceType: 'AuditEvent',
  id: `e${i}`,
  type: { code: 'rest' },
  recorded: new Date().toISOString(),
  agent: [],
  source: { observer: {} },
});

class FakeRepo {
  batches: AuditEvent[][] = [];
  failing = false;
  async updateMany<T>(resources: T[]): Promise<{ resource: T; created: boolean }[]> {
    if (this.failing) throw Object.assign(new Error('connection refused to a store holding Patient Dana'), { code: '08006' });
    this.batches.push(resources as unknown as AuditEvent[]);
    return resources.map((resource) => ({ resource, created: true }));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('writes in batches: a full batch at once, the rest after flushMs', async () => {
  const repo = new FakeRepo();
  const writer = new AuditWriter(repo, { flushMs: 100, batchSize: 10 });
  for (let i = 0; i < 25; i++) writer.record(event(i));
  await sleep(20);
  expect(repo.batches.map((b) => b.length)).toEqual([10, 10, 5].slice(0, repo.batches.length));
  expect(repo.batches.length).toBeGreaterThanOrEqual(1);
  await sleep(150);
  expect(repo.batches.map((b) => b.length)).toEqual([10, 10, 5]);
  expect(repo.batches.flat().map((e) => e.id)).toEqual(Array.from({ length: 25 }, (_, i) => `e${i}`));
  expect(writer.stats).toMatchObject({ written: 25, dropped: 0, queued: 0 });
  await writer.close();
});

test('bounded while the store is down: keeps maxQueued, counts and logs the dropped, retries when it is back', async () => {
  const repo = new FakeRepo();
  const logs: { message: string; meta?: Record<string, unknown> }[] = [];
  const writer = new AuditWriter(repo, { flushMs: 10, batchSize: 5, maxQueued: 20, maxRetryMs: 40, log: (_l, message, meta) => logs.push({ message, meta }) });
  repo.failing = true;
  for (let i = 0; i < 50; i++) writer.record(event(i));
  await sleep(60);
  expect(writer.stats.queued).toBeLessThanOrEqual(20);
  expect(writer.stats.dropped).toBe(30);
  expect(writer.stats.failedWrites).toBeGreaterThan(0);
  const text = JSON.stringify(logs);
  expect(text).toMatch(/dropped/);
  expect(text).not.toMatch(/Dana|connection refused/);
  expect(logs.some((l) => l.meta?.code === '08006')).toBe(true);
  repo.failing = false;
  await sleep(120);
  expect(writer.stats).toMatchObject({ written: 20, queued: 0 });
  // The oldest were kept, in order.
  expect(repo.batches.flat().map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`));
  await writer.close();
});

test('close writes what is queued; events recorded after close are still written', async () => {
  const repo = new FakeRepo();
  const writer = new AuditWriter(repo, { flushMs: 10_000, batchSize: 100 });
  for (let i = 0; i < 7; i++) writer.record(event(i));
  expect(repo.batches).toHaveLength(0);
  await writer.close();
  expect(repo.batches.flat()).toHaveLength(7);
  writer.record(event(99));
  await writer.flush();
  expect(repo.batches.flat().map((e) => e.id)).toContain('e99');
});

test('close with the store down: what cannot be written is counted as dropped', async () => {
  const repo = new FakeRepo();
  const logs: string[] = [];
  const writer = new AuditWriter(repo, { flushMs: 10_000, log: (_l, m) => logs.push(m) });
  repo.failing = true;
  for (let i = 0; i < 3; i++) writer.record(event(i));
  await writer.close();
  expect(writer.stats).toMatchObject({ dropped: 3, queued: 0 });
  expect(logs.some((m) => /dropped/.test(m))).toBe(true);
});

test('back-pressure: from highWater queued events on, room() waits for a write, or times out while the store is down', async () => {
  const repo = new FakeRepo();
  const writer = new AuditWriter(repo, { flushMs: 30, batchSize: 100, highWater: 5, maxQueued: 10 });
  for (let i = 0; i < 4; i++) writer.record(event(i));
  expect(writer.room(1000)).toBeUndefined();
  writer.record(event(4));
  const waited = writer.room(1000);
  expect(waited).toBeInstanceOf(Promise);
  await expect(waited).resolves.toBe(true); // the timer's write made room
  expect(writer.stats.queued).toBe(0);
  repo.failing = true;
  for (let i = 0; i < 6; i++) writer.record(event(10 + i));
  const started = Date.now();
  await expect(writer.room(80)).resolves.toBe(false);
  expect(Date.now() - started).toBeGreaterThanOrEqual(70);
  repo.failing = false;
  await writer.close();
  expect(writer.stats).toMatchObject({ dropped: 0, queued: 0, written: 11 });
});

test('back-pressure over HTTP: a request waits for room, or is answered 503 with Retry-After and an OperationOutcome', async () => {
  const express = (await import('express')).default;
  const request = (await import('supertest')).default;
  const { auditMiddleware } = await import('../../src/audit');
  const { errorHandler } = await import('../../src/http/errors');
  let room: Promise<boolean> | undefined;
  const recorded: AuditEvent[] = [];
  const app = express();
  app.use(auditMiddleware({ record: (e) => recorded.push(e), isResourceType: () => true, source: { site: 'x', uri: 'urn:x' }, room: () => room }));
  app.get('/fhir/Patient/:id', (_req, res) => {
    res.json({ resourceType: 'Patient' });
  });
  app.use(errorHandler(undefined));
  room = Promise.resolve(true);
  expect((await request(app).get('/fhir/Patient/p1')).status).toBe(200);
  room = Promise.resolve(false);
  const refused = await request(app).get('/fhir/Patient/p1');
  expect(refused.status).toBe(503);
  expect(refused.headers['retry-after']).toBe('5');
  expect(refused.body.resourceType).toBe('OperationOutcome');
  expect(refused.body.issue[0].diagnostics ?? refused.body.issue[0].details?.text).toMatch(/audit trail is behind/);
  // The refusal is audited too.
  expect(recorded).toHaveLength(2);
});
