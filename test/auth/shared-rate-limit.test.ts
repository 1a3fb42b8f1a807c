/**
 * The rate limit shared through PostgreSQL (src/auth/shared-rate-limit.ts): two processes' limiters
 * (here two limiters and two apps on separate connections to one database) hold one client to one
 * budget, without a database round trip per request.
 */
import express from 'express';
import request from 'supertest';
import { limitWith, rateLimit, SharedRateLimiter } from '../../src/auth';
import { migrateAuth } from '../../src/auth/schema';
import { openStore, type SqlRepository } from '../../src/store';
import { createTestDatabase } from '../support/stores';

const PG = process.env.PEERBRIDGE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const maybe = PG === 'off' ? describe.skip : describe;

maybe('rate limits shared through PostgreSQL', () => {
  let db: { url: string; drop: () => Promise<void> };
  let a: SqlRepository;
  let b: SqlRepository;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await openStore({ DATABASE_URL: db.url });
    b = await openStore({ DATABASE_URL: db.url });
    await migrateAuth(a.driver);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  test('what one process took is charged to the other; the rate refills the shared row', async () => {
    // 10 tokens, refilled at 1 per 1000 s: no refill during the test.
    const one = new SharedRateLimiter(0.001, 10, a.driver, 't1');
    const two = new SharedRateLimiter(0.001, 10, b.driver, 't1');
    for (let i = 0; i < 8; i++) expect(one.take('client:x')).toBe(0);
    await one.sync();
    // The other process has not seen the key yet: its first take is optimistic, then it learns.
    expect(two.take('client:x')).toBe(0);
    await two.sync();
    expect(two.take('client:x')).toBe(0);
    expect(two.take('client:x')).toBeGreaterThan(0);
    await two.sync();
    await one.sync();
    // 10 taken in all between the two: the first process is refused too.
    expect(one.take('client:x')).toBeGreaterThan(0);
    // Another key and another scope are other rows.
    expect(one.take('client:y')).toBe(0);
    expect(new SharedRateLimiter(0.001, 10, b.driver, 't2').take('client:x')).toBe(0);
    const { rows } = await a.driver.query<{ key: string; tokens: number }>("SELECT key, tokens FROM auth_rate_limit WHERE key = 't1:client:x'");
    expect(rows[0].tokens).toBeLessThan(1);
  });

  test('a debt taken in a burst on both processes holds both back until the rate has refilled it', async () => {
    const one = new SharedRateLimiter(0.001, 5, a.driver, 't3');
    const two = new SharedRateLimiter(0.001, 5, b.driver, 't3');
    // Both start with a full local view and take 5 each before reconciling: the tolerance of one interval.
    for (let i = 0; i < 5; i++) {
      expect(one.take('k')).toBe(0);
      expect(two.take('k')).toBe(0);
    }
    await one.sync();
    await two.sync();
    await one.sync();
    // The row is 5 in debt: neither may take again until 6 tokens have been refilled.
    expect(one.take('k')).toBeGreaterThan(0);
    expect(two.take('k')).toBeGreaterThan(0);
    const { rows } = await a.driver.query<{ tokens: number }>("SELECT tokens FROM auth_rate_limit WHERE key = 't3:k'");
    expect(rows[0].tokens).toBeCloseTo(-5, 1);
  });

  test('two apps on one database: the limit holds across them (background reconciliation, no round trip per request)', async () => {
    const appOf = (repo: SqlRepository): express.Express => {
      const app = express();
      app.use(rateLimit({ rate: 0.01, burst: 6, key: () => 'ip:test', shared: { driver: repo.driver, scope: 'fhir-test', intervalMs: 30 } }));
      app.get('/x', (_req, res) => {
        res.send('ok');
      });
      return app;
    };
    const first = appOf(a);
    const second = appOf(b);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(first).get('/x')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    // Let both reconcile (the second learns the key on its first request, then every 30 ms).
    statuses.length = 0;
    statuses.push((await request(second).get('/x')).status);
    await new Promise((r) => setTimeout(r, 400));
    for (let i = 0; i < 6; i++) statuses.push((await request(second).get('/x')).status);
    // Without sharing the second app would answer 200 six more times; shared, at most the optimistic first one passes.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.slice(1).every((s) => s === 429)).toBe(true);
  });

  test('on PGlite the limiter stays in the process (one process store): the database is never asked', async () => {
    const query = jest.fn();
    const fake = { name: 'pglite', query } as unknown as SqlRepository['driver'];
    const app = express();
    app.use(rateLimit({ rate: 0.01, burst: 1, key: () => 'k', shared: { driver: fake, scope: 'x', intervalMs: 10 } }));
    app.get('/x', (_req, res) => {
      res.send('ok');
    });
    expect((await request(app).get('/x')).status).toBe(200);
    expect((await request(app).get('/x')).status).toBe(429);
    await new Promise((r) => setTimeout(r, 50));
    expect(query).not.toHaveBeenCalled();
  });

  test('limitWith answers 429 with Retry-After from a given limiter', async () => {
    const limiter = new SharedRateLimiter(0.5, 1, a.driver, 't4');
    const app = express();
    app.use(limitWith(limiter, { key: () => 'k' }));
    app.get('/x', (_req, res) => {
      res.send('ok');
    });
    expect((await request(app).get('/x')).status).toBe(200);
    const refused = await request(app).get('/x');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('2');
  });
});
