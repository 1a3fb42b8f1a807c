/**
 * The web console in a real browser (issue 14): Chromium (Debian's /usr/bin/chromium, headless)
 * driven by playwright-core against a server this test starts (test/web/console-server.ts), with
 * AUTH_DISABLED behaviour (no auth module). Screenshots of each page go to
 * test-output/screenshots/ (git-ignored); the measured figures (validate-as-you-type latency,
 * first-load sizes) to test-output/console-figures.json and the log.
 *
 * Skipped, saying so, when /usr/bin/chromium is absent (.ci/run installs it). Signed in:
 * console-signin.browser.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, describeBrowser, launch, paste, shot } from './browser';
import { BAD_CSV, MINI_SOURCE, startConsoleServer, type ConsoleServer } from './console-server';
import { DRIVERS } from '../support/stores';

// Functions passed to page.evaluate run in the page: its globals, typed loosely here (the test program has no DOM lib).
declare const document: any;

const ROOT = join(__dirname, '..', '..');
const FIGURES = join(ROOT, 'test-output', 'console-figures.json');
const EXAMPLES = join(ROOT, 'examples', 'valid');

export const INVALID_PATIENT = `{
  "resourceType": "Patient",
  "id": "console-check",
  "gender": "femal",
  "birthDate": "1984-02-11"
}`;

const figures: Record<string, unknown> = {};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describeBrowser('web console in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  }, 60000);
  afterAll(async () => {
    await browser?.close();
    if (Object.keys(figures).length) {
      mkdirSync(join(ROOT, 'test-output'), { recursive: true });
      writeFileSync(FIGURES, JSON.stringify(figures, null, 2) + '\n');
      console.log(`console figures (${FIGURES}):\n${JSON.stringify(figures, null, 2)}`);
    }
  });

  describe.each(DRIVERS)('on %s', (driver) => {
    let server: ConsoleServer;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      server = await startConsoleServer(driver);
      // The shipped example: Dana Whitfield's episode, a 26-entry transaction Bundle.
      const bundle = readFileSync(join(EXAMPLES, 'Bundle-peer-support-episode.json'), 'utf8');
      const res = await fetch(`${server.url}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: bundle });
      expect(res.status).toBe(200);
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      // Any CSP violation or script error fails the run (checked in the last test).
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
    }, 120000);
    afterAll(async () => {
      await context?.close();
      await server?.close();
    });

    test('/validate: an invalid resource shows its issue at its line; fixing it clears it', async () => {
      await page.goto(`${server.url}/validate`);
      await page.waitForSelector('.cm-content');
      await expect(page.locator('[data-testid=auth-disabled]').isVisible()).resolves.toBe(true);
      await paste(page, INVALID_PATIENT);
      const issue = page.locator('ol.issues li.error button[data-line="4"]');
      await issue.first().waitFor({ timeout: 10000 });
      expect(await issue.first().textContent()).toMatch(/femal/);
      // Marked in the editor at that line (a lint mark), and clicking the issue puts the cursor there.
      await page.waitForSelector('.cm-lintRange-error');
      await issue.first().click();
      const cursorLine = await page.evaluate(() => {
        const sel = document.getSelection();
        const line = sel?.anchorNode?.parentElement?.closest('.cm-line');
        return line ? Array.from(document.querySelectorAll('.cm-content .cm-line')).indexOf(line) + 1 : -1;
      });
      expect(cursorLine).toBe(4);
      if (driver === 'pglite') {
        await shot(page, 'validate');
        expect(await axeViolations(page)).toEqual([]);
      }
      // Fix it: the error goes away.
      await paste(page, INVALID_PATIENT.replace('"femal"', '"female"'), true);
      await page.waitForFunction(
        () => document.querySelectorAll('ol.issues li.error').length === 0 && /Valid/.test(document.getElementById('validate-status')?.textContent ?? ''),
      );
      expect(await page.locator('ol.issues li.error').count()).toBe(0);
    });

    test('/validate: several files opened or dropped are each validated, one tab each', async () => {
      await page.goto(`${server.url}/validate`);
      await page.waitForSelector('.cm-content');
      const patient = readFileSync(join(EXAMPLES, 'Patient-dana-whitfield.json'));
      await page.setInputFiles('#files', [
        { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(INVALID_PATIENT) },
        { name: 'Patient-dana-whitfield.json', mimeType: 'application/json', buffer: patient },
      ]);
      await page.waitForFunction(() => document.querySelectorAll('.tabs .tab').length === 3);
      const tabs = await page.locator('.tabs .tab').allTextContents();
      expect(tabs).toEqual(['Pasted', 'bad.json1 errors', 'Patient-dana-whitfield.jsonvalid']);
      // The first file opened is shown, its issue listed.
      await page.waitForSelector('ol.issues li.error button[data-line="4"]');
      // Dropped on the editor: opened as documents, not inserted into the text.
      await page.evaluate(
        (text) => {
          const data = new (globalThis as any).DataTransfer();
          data.items.add(new (globalThis as any).File([text], 'dropped.json', { type: 'application/json' }));
          const target = document.querySelector('.cm-content');
          const DragEvent = (globalThis as any).DragEvent;
          target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
          target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        },
        INVALID_PATIENT.replace('"femal"', '"female"'),
      );
      await page.waitForFunction(() => document.querySelectorAll('.tabs .tab').length === 4);
      expect(await page.locator('.tabs .tab[aria-pressed=true]').textContent()).toBe('dropped.jsonvalid');
      expect(await page.evaluate(() => document.querySelector('.cm-content').textContent)).toContain('"female"');
    });

    test('/validate: the 26-entry example Bundle is validated as you type within the target', async () => {
      await page.goto(`${server.url}/validate`);
      await page.waitForSelector('.cm-content');
      const bundle = readFileSync(join(EXAMPLES, 'Bundle-peer-support-episode.json'), 'utf8');
      await paste(page, bundle);
      await page.waitForFunction(() => Number(document.getElementById('main')?.dataset.validations ?? 0) >= 1, undefined, { timeout: 20000 });
      const roundTrips: number[] = [];
      const keyToMarks: number[] = [];
      const serverMs: number[] = [];
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('End'); // after the opening brace: a space there keeps the JSON the same
      for (let n = 0; n < 12; n++) {
        const before = await page.evaluate(() => Number(document.getElementById('main')?.dataset.validations ?? 0));
        const started = Date.now();
        await page.keyboard.press(n % 2 === 0 ? 'Space' : 'Backspace');
        await page.waitForFunction((b) => Number(document.getElementById('main')?.dataset.validations ?? 0) > b, before, { polling: 'raf' });
        keyToMarks.push(Date.now() - started);
        const d = await page.evaluate(() => ({ ...document.getElementById('main')?.dataset }));
        roundTrips.push(Number(d.validatedMs));
        serverMs.push(Number(d.serverMs));
      }
      const steady = roundTrips.slice(2);
      figures[`validateAsYouType_${driver}`] = {
        what: '26-entry example Bundle (examples/valid/Bundle-peer-support-episode.json), one keystroke at a time, 10 measured after 2 warm-up',
        medianRequestToMarksMs: median(steady),
        maxRequestToMarksMs: Math.max(...steady),
        medianValidatorMs: median(serverMs.slice(2)),
        medianKeystrokeToMarksMsIncludingDebounce: median(keyToMarks.slice(2)),
        debounceMs: 150,
      };
      // The target is under 100 ms end to end (request, validation, marks). The validator's share is
      // CPU-bound and this machine may be shared, so the test holds the console's own share (network,
      // JSON, drawing the marks) to it and the whole to a bound that catches a regression, not a busy CI.
      expect(median(steady) - median(serverMs.slice(2))).toBeLessThan(100);
      expect(median(steady)).toBeLessThan(1000);
      const errors = await page.locator('ol.issues li.error').allTextContents();
      expect(errors).toEqual([]);
    }, 60000);

    test('/people: search finds the example person; her page shows the timeline, plan and the stored recovery capital totals', async () => {
      await page.goto(`${server.url}/people`);
      await page.fill('#name', 'Whitfield');
      await Promise.all([page.waitForURL(/\/people\?/), page.click('form.search button[type=submit]')]);
      const link = page.locator('#results a[href="/people/dana-whitfield"]');
      await link.waitFor();
      if (driver === 'pglite') {
        await shot(page, 'people');
        expect(await axeViolations(page)).toEqual([]);
      }
      await Promise.all([page.waitForURL(/\/people\/dana-whitfield$/), link.click()]);
      await page.waitForSelector('[data-testid=capital-chart]');

      // The chart's points are the stored totals, in time order.
      const res = await fetch(`${server.url}/fhir/Observation?subject=Patient/dana-whitfield&_count=100`);
      const stored = (
        (await res.json()) as { entry?: { resource: { code: { coding: { code: string }[] }; valueInteger?: number; effectiveDateTime: string } }[] }
      ).entry
        ?.map((e) => e.resource)
        .filter((o) => o.code.coding.some((c) => c.code === 'recovery-capital-total'))
        .sort((a, b) => Date.parse(a.effectiveDateTime) - Date.parse(b.effectiveDateTime))
        .map((o) => o.valueInteger);
      expect(stored?.length).toBeGreaterThanOrEqual(2);
      const points = await page.$$eval('[data-testid=capital-chart] circle[data-total]', (cs) => cs.map((c) => Number(c.getAttribute('data-total'))));
      expect(points).toEqual(stored);
      const change = (stored as number[])[1] - (stored as number[])[0];
      await expect(page.locator('svg .change').first().textContent()).resolves.toBe(change > 0 ? `+${change}` : String(change));

      const text = (await page.textContent('main')) ?? '';
      expect(text).toMatch(/Eligibility review: Admission/);
      expect(text).toMatch(/service-B/); // a deciding criterion
      expect(text).toMatch(/Finish my WRAP plan/); // a goal
      expect(text).toMatch(/In-person encounter|In person/); // a contact's mode
      // The 23 items of the latest two administrations, side by side.
      const itemRows = await page.locator('table:has(caption:text-matches("23 items")) tbody tr').count();
      expect(itemRows).toBe(23);
      await expect(page.locator('[data-testid=part2-banner]').count()).resolves.toBe(0);
      if (driver === 'pglite') {
        await shot(page, 'person');
        await shot(page, 'person-capital', 'section:has(#capital-title)');
        expect(await axeViolations(page)).toEqual([]);
        // A tablet.
        await page.setViewportSize({ width: 820, height: 1180 });
        await shot(page, 'person-tablet');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow).toBeLessThanOrEqual(0);
        await page.setViewportSize({ width: 1280, height: 900 });
      }
    });

    test('/people/:id of no one is a "not found" page', async () => {
      await page.goto(`${server.url}/people/nobody-here`);
      await page.waitForSelector('[data-testid=not-found]');
    });

    test('/ingest: a bad CSV shows its dry run per kind; committed, its rejects are listed with raw input; fixed, a retry clears them', async () => {
      await page.goto(`${server.url}/ingest`);
      await page.selectOption('#source', MINI_SOURCE);
      await page.setInputFiles('#export-file', { name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(BAD_CSV) });
      await page.click('#dry-run');
      const report = page.locator('.file-report[data-file="contacts.csv"]');
      await report.waitFor();
      expect(await report.locator('.counts').textContent()).toMatch(/Read 3 · accepted 1 · rejected 2/);
      expect(await report.locator('table.by-kind tbody tr').first().textContent()).toMatch(/contact312/);
      await page.click('#commit');
      await page.waitForFunction(() => /2 kept in the rejects queue/.test(document.getElementById('report')?.textContent ?? ''));
      await page.selectOption('#f-source', MINI_SOURCE);
      await page.click('#reject-filters button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('li.reject').length === 2);
      // Raw input and issues of one reject.
      const tele = page.locator('li.reject', { hasText: 'TELE' }).first();
      await tele.locator('summary').click();
      expect(await tele.locator('pre.raw').textContent()).toContain('C-3,E-1,P-1,09/29/2026,9:00 AM,60,TELE,S-1');
      // Filter by reason (server side).
      await page.fill('#f-reason', '4O');
      await page.click('#reject-filters button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('li.reject').length === 1);
      await page.fill('#f-reason', '');
      await page.click('#reject-filters button[type=submit]');
      await page.waitForFunction(() => document.querySelectorAll('li.reject').length === 2);
      if (driver === 'pglite') {
        await page.locator('li.reject', { hasText: 'TELE' }).first().locator('summary').click();
        await shot(page, 'ingest');
        expect(await axeViolations(page)).toEqual([]);
      }
      // The mapping is fixed (TELE added): retrying that one record clears it; the other stays.
      server.fixMapping();
      const teleId = await page.locator('li.reject', { hasText: 'TELE' }).first().getAttribute('data-id');
      await page.locator(`li.reject[data-id="${teleId}"] input.pick`).check();
      await page.click('#retry-selected');
      await page.waitForFunction(() => /1 went through/.test(document.getElementById('retry-note')?.textContent ?? ''));
      await page.waitForFunction(() => document.querySelectorAll('li.reject').length === 1);
      const stored = await fetch(`${server.url}/fhir/Encounter?_count=50`).then((r) => r.json() as Promise<{ entry?: { resource: { id: string } }[] }>);
      expect(stored.entry?.length).toBe(5); // 3 from the example Bundle, C-1, and now C-3
      // Retry all: the typo is still a typo.
      await page.click('#retry-all');
      await page.waitForFunction(() => /0 went through, 1 still rejected/.test(document.getElementById('retry-note')?.textContent ?? ''));
    });

    test('pages are served with a strict CSP and hashed, long-cached assets; no CSP violation or script error happened', async () => {
      const res = await fetch(`${server.url}/validate`);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const asset = await fetch(`${server.url}/console/assets/${server.manifest.main}`);
      expect(asset.headers.get('cache-control')).toMatch(/max-age=31536000, immutable/);
      expect(problems.filter((p) => !/Failed to load resource: the server responded with a status of 404/.test(p))).toEqual([]);
    });

    test('first load: the JS and CSS each page loads before the editor, gzip-compressed, is under 500 kB', async () => {
      if (driver !== 'pglite') return;
      const gzipOf = new Map(server.manifest.files.map((f) => [f.file, f]));
      const sizes: Record<string, unknown> = {};
      for (const path of ['/validate', '/people', '/people/dana-whitfield', '/ingest']) {
        const p = await context.newPage();
        const loaded: string[] = [];
        p.on('response', (r) => {
          const m = /\/console\/assets\/([^?]+)$/.exec(r.url());
          if (m) loaded.push(m[1]);
        });
        await p.goto(`${server.url}${path}`, { waitUntil: 'networkidle' });
        const before = loaded.filter((f) => !gzipOf.get(f)?.editor);
        const gzip = before.reduce((n, f) => n + (gzipOf.get(f)?.gzip ?? 0), 0);
        const editor = loaded.filter((f) => gzipOf.get(f)?.editor).reduce((n, f) => n + (gzipOf.get(f)?.gzip ?? 0), 0);
        sizes[path] = { beforeEditorGzipBytes: gzip, files: before.length, ...(editor ? { editorChunkGzipBytes: editor } : {}) };
        expect(gzip).toBeLessThan(500 * 1024);
        await p.close();
      }
      figures.firstLoad = sizes;
    });
  });
});
