/**
 * Rate limits: the token bucket (burst, refill, Retry-After), 429 with Retry-After and an
 * OperationOutcome, one bucket per client, the per-IP limit on the token endpoint, and off at 0.
 */
import express from 'express';
import request from 'supertest';
import { clientOrIp, DISABLED_AUTH, rateLimit, RateLimiter } from '../../src/auth';
import { openDriver } from '../../src/store';
import { openTestAuth, testApp } from './helpers';

describe('RateLimiter', () => {
  test('a burst, then one request per 1/rate seconds; Retry-After is the wait for one token', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    now += 500; // half a second: one token back
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0); // another key has its own bucket
  });

  test('a slow rate gives a longer Retry-After', () => {
    const limiter = new RateLimiter(0.1, 1, () => 0);
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(10);
  });

  test('idle buckets are dropped when the map grows', () => {
    let now = 0;
    const limiter = new RateLimiter(1000, 1, () => now);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`k${i}`);
    }
    expect(limiter.size).toBe(10_000);
    now += 1000;
    limiter.take('new');
    expect(limiter.size).toBe(1);
  });
});

describe('rateLimit middleware', () => {
  const app = (rate: number, burst: number, format?: 'oauth') => {
    const a = express();
    a.use((req, res, next) => {
      const client = req.headers['x-client'];
      if (client) {
        res.locals.auth = { clientId: String(client), allOrganizations: false };
      }
      next();
    });
    a.use(rateLimit({ rate, burst, format, now: () => 0 }));
    a.get('/fhir/Patient', (_req, res) => res.json({ ok: true }));
    return a;
  };

  test('429 with Retry-After and an OperationOutcome over the limit, per client', async () => {
    const a = app(1, 2);
    const as = (client: string) => request(a).get('/fhir/Patient').set('x-client', client);
    expect((await as('one')).status).toBe(200);
    expect((await as('one')).status).toBe(200);
    const over = await as('one');
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('1');
    expect(over.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(over.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled' }] });
    expect((await as('two')).status).toBe(200);
    // Unauthenticated requests share the IP's bucket, apart from the clients'.
    expect((await request(a).get('/fhir/Patient')).status).toBe(200);
  });

  test('OAuth format for the token endpoint; rate 0 is off', async () => {
    const oauth = app(1, 1, 'oauth');
    await request(oauth).get('/fhir/Patient');
    const over = await request(oauth).get('/fhir/Patient');
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/try again in 1 second/) });
    const off = app(0, 1);
    for (let i = 0; i < 5; i++) {
      expect((await request(off).get('/fhir/Patient')).status).toBe(200);
    }
  });
});

describe('the token endpoint is limited per IP address', () => {
  test('AUTH_TOKEN_RATE_PER_MINUTE=6 lets one request through at once, then 429 in OAuth form', async () => {
    const driver = await openDriver({ memory: true });
    try {
      const app = testApp(await openTestAuth(driver, { AUTH_TOKEN_RATE_PER_MINUTE: 6 }));
      expect((await request(app).post('/auth/token').type('form').send('grant_type=client_credentials')).status).toBe(400);
      const over = await request(app).post('/auth/token').type('form').send('grant_type=client_credentials');
      expect(over.status).toBe(429);
      expect(over.headers['retry-after']).toBe('10');
      expect(over.body.error).toBe('temporarily_unavailable');
    } finally {
      await driver.close();
    }
  });
});

describe('clientOrIp', () => {
  const req = { ip: '10.0.0.7' } as unknown as Parameters<typeof clientOrIp>[0];
  const res = (auth: unknown) => ({ locals: { auth } }) as unknown as Parameters<typeof clientOrIp>[1];
  it.each([
    ['no caller', undefined, 'ip:10.0.0.7'],
    ['a client of some organizations', { clientId: 'c1', allOrganizations: false }, 'client:c1'],
    ["a client registered for '*'", { clientId: 'c2', allOrganizations: true }, 'client:c2'],
    ['AUTH_DISABLED', DISABLED_AUTH, 'ip:10.0.0.7'],
  ])('%s', (_name, auth, key) => {
    expect(clientOrIp(req, res(auth))).toBe(key);
  });
});
