/**
 * The session cookie's pieces without a store: reading the cookie among others, the CSRF
 * comparison, and the caller a session makes (role scopes, organizations, `*`, user name).
 */
import type { Request } from 'express';
import { allows } from '../../src/auth/scopes';
import { csrfMatches, readCookie, sessionAuth, sessionUser } from '../../src/users/session-auth';

const req = (headers: Record<string, string | string[]>): Request => ({ headers }) as unknown as Request;

test('readCookie finds pb_session among other cookies, first one wins, quotes stripped; absent or oversized headers give undefined', () => {
  expect(readCookie(req({ cookie: 'a=1; pb_session=abc; b=2' }), 'pb_session')).toBe('abc');
  expect(readCookie(req({ cookie: 'pb_session="q"; pb_session=second' }), 'pb_session')).toBe('q');
  expect(readCookie(req({ cookie: 'xpb_session=no' }), 'pb_session')).toBeUndefined();
  expect(readCookie(req({}), 'pb_session')).toBeUndefined();
  expect(readCookie(req({ cookie: `pb_session=${'x'.repeat(9000)}` }), 'pb_session')).toBeUndefined();
});

test('csrfMatches compares the X-CSRF-Token header with the session token exactly', () => {
  expect(csrfMatches(req({ 'x-csrf-token': 'token-1' }), 'token-1')).toBe(true);
  expect(csrfMatches(req({ 'x-csrf-token': 'token-2' }), 'token-1')).toBe(false);
  expect(csrfMatches(req({ 'x-csrf-token': 'token-10' }), 'token-1')).toBe(false);
  expect(csrfMatches(req({}), 'token-1')).toBe(false);
  expect(csrfMatches(req({ 'x-csrf-token': ['token-1', 'x'] }), 'token-1')).toBe(true);
});

test('sessionAuth: the role scopes, organizations ("*" = all), a user clientId, AuditEvent hidden', () => {
  const viewer = sessionAuth({ userName: 'ana', organizations: ['org-a'], role: 'viewer' });
  expect(viewer).toMatchObject({
    clientId: 'user:ana',
    clientName: 'ana',
    userName: 'ana',
    organizations: ['org-a'],
    allOrganizations: false,
    scope: 'system/*.rs',
  });
  expect(viewer.hiddenTypes).toEqual(['AuditEvent']);
  expect(allows(viewer.scopes, { type: 'Patient', interaction: 'r' })).toBe(true);
  expect(allows(viewer.scopes, { type: 'Patient', interaction: 'c' })).toBe(false);
  const analyst = sessionAuth({ userName: 'bo', organizations: ['*', 'org-b'], role: 'analyst' });
  expect(analyst).toMatchObject({ organizations: ['org-b'], allOrganizations: true });
  expect(['c', 'r', 'u', 's'].every((i) => allows(analyst.scopes, { type: '*', interaction: i as 'c' }))).toBe(true);
  expect(allows(analyst.scopes, { type: 'Patient', interaction: 'd' })).toBe(false);
  const admin = sessionAuth({ userName: 'cy', organizations: ['org-a'], role: 'admin' });
  expect(allows(admin.scopes, { type: 'Patient', interaction: 'd' })).toBe(true);
  expect(allows(admin.scopes, { type: 'Client', interaction: 's' })).toBe(false);
  expect(allows(admin.scopes, { type: 'AuditEvent', interaction: 's' })).toBe(false);
  expect(sessionUser({ userName: 'bo', organizations: ['*'], role: 'analyst' })).toEqual({
    name: 'bo',
    organizations: ['*'],
    role: 'analyst',
    scopes: 'system/*.crus',
  });
});
