/**
 * Helpers of the browser tests (test/web): Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH)
 * through playwright-core, skipped with a notice when it is absent; screenshots to
 * test-output/screenshots/ (and the README's to docs/images/ with PEERBRIDGE_DOC_IMAGES=1); axe-core's serious and critical violations; pasting into the editor.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

// Functions passed to page.evaluate run in the page: its globals, typed loosely here (the test program has no DOM lib).
declare const document: any;
declare const DataTransfer: any;
declare const ClipboardEvent: any;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SHOTS = join(__dirname, '..', '..', 'test-output', 'screenshots');

if (!HAVE_CHROMIUM) {
  console.warn(`Browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}
/** `describe` when Chromium is there, else `describe.skip`. */
export const describeBrowser = HAVE_CHROMIUM ? describe : describe.skip;

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

// The axe-core source, evaluated in the page over the DevTools protocol (not subject to the page's CSP).
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is. */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: number }[]> {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }> };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

const DOC_IMAGES = join(__dirname, '..', '..', 'docs', 'images');

/**
 * A full-page screenshot to test-output/screenshots/<name>.png; with PEERBRIDGE_DOC_IMAGES=1, also
 * the README's picture of the page (docs/images/console-<name>.png: the first 1280x800, or `part`).
 */
export async function shot(page: Page, name: string, part?: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (process.env.PEERBRIDGE_DOC_IMAGES === '1') {
    const path = join(DOC_IMAGES, `console-${name}.png`);
    if (part) await page.locator(part).first().screenshot({ path });
    else await page.screenshot({ path, clip: { x: 0, y: 0, width: 1280, height: 800 } });
  }
}

/** Pastes text into the editor as the clipboard would (a paste event CodeMirror reads), replacing all of it when `replace`. */
export async function paste(page: Page, text: string, replace = false): Promise<void> {
  await page.click('.cm-content');
  if (replace) await page.keyboard.press('Control+A');
  await page.evaluate((t) => {
    const data = new DataTransfer();
    data.setData('text/plain', t);
    document.querySelector('.cm-content')?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}
