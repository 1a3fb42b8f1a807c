/**
 * A string or markdown value holding what looks like an HTML tag (`<script>`, `<a href=...>`,
 * `<img ...>`) is an error, as the reference validator reports it with its security checks: such
 * text is a script-injection risk wherever it is rendered as HTML without escaping. Narrative
 * (xhtml) is checked by its own rules (src/validation/narrative.ts). Like the reference, a tag is
 * a `<`, a name and optional attributes up to a `>` before the next `<`, with more markup after
 * it; unlike it, the name must be an HTML element's (R4's own texts hold `IVL<TS>`, `<n>`), and
 * tags that act alone (`<img onerror=...>`, `<script>`) count by themselves. A value without `<`
 * costs one indexOf.
 */
import type { Report } from './types';

/** HTML element names (WHATWG), so that `IVL<TS>` or `<n>` in plain text is not taken for markup. */
const HTML_ELEMENTS = new Set(
  (
    'a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite code col colgroup data ' +
    'datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 ' +
    'head header hr html i iframe img input ins kbd label legend li link main map mark meta meter nav noscript object ol optgroup ' +
    'option output p param picture pre progress q s samp script section select small source span strong style sub summary sup svg ' +
    'table tbody td template textarea tfoot th thead time title tr track u ul var video wbr'
  ).split(' '),
);

/** Tags that act on their own, without markup after them. */
const ACTIVE = new Set(['script', 'img', 'iframe', 'object', 'embed', 'svg', 'link', 'meta', 'style', 'input', 'form', 'body', 'html', 'base', 'frame', 'frameset']);

const TAG = /^([a-zA-Z][a-zA-Z0-9]*)(?:\s+[^<>]*)?\/?$/;

/** True when a text contains something that looks like an HTML start tag (followed by more markup, unless it acts alone). */
export function looksLikeHtml(text: string): boolean {
  let i = text.indexOf('<');
  while (i >= 0) {
    const next = text.indexOf('<', i + 1);
    const close = text.indexOf('>', i + 1);
    if (close > i && (next < 0 || close < next)) {
      const m = TAG.exec(text.slice(i + 1, close));
      const name = m?.[1].toLowerCase();
      if (name && HTML_ELEMENTS.has(name) && (next > close || ACTIVE.has(name))) {
        return true;
      }
    }
    i = next;
  }
  return false;
}

/** Markdown code fences and code spans. */
const CODE = /```[\s\S]*?(?:```|$)|`[^`]*`/g;

/** A string or markdown value. */
export function checkHtmlInString(value: string, type: string, path: string, report: Report): void {
  if (value.indexOf('<') < 0) {
    return;
  }
  // Markdown code spans and fences are shown as text, never as markup.
  const text = type === 'markdown' && value.includes('`') ? value.replace(CODE, '') : value;
  if (looksLikeHtml(text)) {
    report(
      'error',
      'security',
      `The ${type} value contains text that looks like embedded HTML tags; it may be unsafe wherever it is shown as HTML (use the narrative for markup)`,
      path,
    );
  }
}
