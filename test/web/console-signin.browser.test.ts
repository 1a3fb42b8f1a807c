/**
 * The web console signed in (issue 14 items 4 and 5), in Chromium: a server with auth on and
 * console users (test/web/console-server.ts `signIn`), the two tenants of test/access/fixtures.ts.
 * A page asks for sign-in; a user signs in and sees their organization's person, not another's
 * (404 "not found" page) and not another's rejects; state-changing requests carry the CSRF token;
 * sign-out ends the session. Screenshot of the sign-in page to test-output/screenshots/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, describeBrowser, launch, paste, shot } from './browser';
import { A, B, BAD_CSV, MINI_SOURCE, startConsoleServer, USERS, type ConsoleServer } from './console-server';
import { DRIVERS } from '../support/stores';

declare const document: any;

describeBrowser('web console with sign-in, in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  }, 60000);
  afterAll(() => browser?.close());

  describe.each(DRIVERS)('on %s', (driver) => {
    let server: ConsoleServer;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      server = await startConsoleServer(driver, { signIn: true });
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/.test(m.text())) problems.push(m.text());
      });
    }, 120000);
    afterAll(async () => {
      await context?.close();
      await server?.close();
    });

    async function signIn(user: { name: string; password: string }, next = '/people'): Promise<void> {
      await page.goto(`${server.url}${next}`);
      await page.waitForURL(/\/signin\?next=/);
      await page.fill('#username', user.name);
      await page.fill('#password', user.password);
      await Promise.all([page.waitForURL((u) => u.pathname === next), page.click('form.signin button[type=submit]')]);
      await page.waitForSelector(`header .who:has-text("${user.name}")`);
    }

    async function signOut(): Promise<void> {
      await Promise.all([page.waitForURL(/\/signin/), page.click('header .who button')]);
    }

    test('a page asks for sign-in; a wrong password is refused; the right one signs in, with no AUTH_DISABLED banner', async () => {
      await page.goto(`${server.url}/people`);
      await page.waitForURL(/\/signin\?next=%2Fpeople/);
      if (driver === 'pglite') {
        await shot(page, 'signin');
        expect(await axeViolations(page)).toEqual([]);
      }
      await page.fill('#username', 'ana');
      await page.fill('#password', 'not the password at all');
      await page.click('form.signin button[type=submit]');
      await page.waitForFunction(() => /Wrong user name or password/.test(document.getElementById('signin-error')?.textContent ?? ''));
      await signIn(USERS.ana);
      expect(await page.locator('[data-testid=auth-disabled]').count()).toBe(0);
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === 'pb_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    });

    test("a user of organization A opens A's person, gets the not-found page for B's, and validates (POST with the CSRF token)", async () => {
      await page.goto(`${server.url}/people/${A.patient}`);
      await page.waitForSelector('main h1');
      expect(await page.textContent('main h1')).toMatch(/Dana/);
      await page.goto(`${server.url}/people/${B.patient}`);
      await page.waitForSelector('[data-testid=not-found]');
      // B's person is not in A's search either.
      await page.goto(`${server.url}/people?name=`);
      await page.waitForSelector('#results table, #results p:not(.muted)');
      expect(await page.locator(`#results a[href="/people/${B.patient}"]`).count()).toBe(0);
      // The validator's POST is cookie-authenticated: it carries X-CSRF-Token.
      await page.goto(`${server.url}/validate`);
      await page.waitForSelector('.cm-content');
      await paste(page, '{\n  "resourceType": "Patient",\n  "gender": "femal"\n}');
      await page.waitForSelector('ol.issues li.error button[data-line="3"]');
    });

    test("a user of organization B sees B's Part 2 person with the banner, ingests a bad CSV and sees its rejects; A's user does not", async () => {
      await signOut();
      await signIn(USERS.lee, '/ingest');
      await page.goto(`${server.url}/people/${B.patient}`);
      await page.waitForSelector('[data-testid=part2-banner]');
      await page.goto(`${server.url}/people/${A.patient}`);
      await page.waitForSelector('[data-testid=not-found]');

      await page.goto(`${server.url}/ingest`);
      await page.selectOption('#source', MINI_SOURCE);
      // Only the bad rows: a user's ingest may not PUT new records at ids of the source's choosing (assigned ids only).
      const badOnly = BAD_CSV.split('\n')
        .filter((l, i) => i === 0 || !l.startsWith('C-1,'))
        .join('\n');
      await page.setInputFiles('#export-file', { name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(badOnly) });
      await page.click('#dry-run');
      await page.waitForSelector('.file-report[data-file="contacts.csv"]');
      await page.click('#commit');
      await page.waitForFunction(() => /2 kept in the rejects queue/.test(document.getElementById('report')?.textContent ?? ''));
      await page.selectOption('#f-source', MINI_SOURCE);
      await page.click('#reject-filters button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('li.reject').length === 2);
      // Retry (a POST with the CSRF token): nothing fixed, both stay.
      await page.click('#retry-all');
      await page.waitForFunction(() => /0 went through, 2 still rejected/.test(document.getElementById('retry-note')?.textContent ?? ''));

      await signOut();
      await signIn(USERS.ana, '/ingest');
      await page.selectOption('#f-source', MINI_SOURCE);
      await page.click('#reject-filters button[type=submit]');
      await page.waitForFunction(() => /^0 rejects/.test(document.getElementById('rejects-total')?.textContent ?? ''));
      expect(await page.locator('li.reject').count()).toBe(0);
    });

    test('signed out, the session is gone: the API answers 401 to its old cookie', async () => {
      const cookie = (await context.cookies()).find((c) => c.name === 'pb_session');
      expect(cookie).toBeDefined();
      await signOut();
      const res = await fetch(`${server.url}/fhir/Patient?_count=1`, { headers: { Cookie: `pb_session=${cookie?.value}` } });
      expect(res.status).toBe(401);
      expect(problems).toEqual([]);
    });
  });
});
