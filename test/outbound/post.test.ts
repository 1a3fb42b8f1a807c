/** The wait before a retry: Retry-After in seconds or as an HTTP date (capped), else backoff with jitter. */
import { delay } from '../../src/outbound/post';

test('Retry-After in seconds and as an HTTP date', () => {
  expect(delay(0, '3')).toBe(3000);
  expect(delay(4, '0')).toBe(0);
  const at = new Date(Date.now() + 5000).toUTCString();
  expect(delay(0, at)).toBeGreaterThan(3500);
  expect(delay(0, at)).toBeLessThanOrEqual(5000);
  expect(delay(0, new Date(Date.now() - 60_000).toUTCString())).toBe(0);
});

test('a Retry-After past the cap waits the cap', () => {
  expect(delay(0, '86400')).toBe(15 * 60_000);
  expect(delay(0, '120', { maxRetryAfterMs: 1000 })).toBe(1000);
});

test('without Retry-After (or an unreadable one): exponential backoff, half to all of it, at most maxDelayMs', () => {
  for (let attempt = 0; attempt < 10; attempt++) {
    const full = Math.min(60_000, 1000 * 2 ** attempt);
    const d = delay(attempt, attempt % 2 ? 'soon' : undefined);
    expect(d).toBeGreaterThanOrEqual(full / 2);
    expect(d).toBeLessThanOrEqual(full);
  }
});
