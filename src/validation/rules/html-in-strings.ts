/**
 * A string or markdown value holding what looks like an HTML tag (`<script>`, `<a href=...>`,
 * `<img ...>`) is an error, as the reference validator reports it with its security checks: such
 * text is a script-injection risk wherever it is rendered as HTML without escaping. Narrative
 * (xhtml) is checked by its own rules (src/validation/narrative.ts). Like the reference, a tag is
 * a `<`, a letter, word characters and optional attributes up to a `>` before the next `<`
 * (so `a < b`, `<5 mg` and `x<y>z` alone are not tags); a value without `<` costs one indexOf.
 */
import type { Report } from './types';

const TAG = /^[a-zA-Z]\w*(?:\s+[^<>]*)?\/?$/;

/** True when a text contains something that looks like an HTML start tag followed by more markup. */
export function looksLikeHtml(text: string): boolean {
  let i = text.indexOf('<');
  while (i >= 0) {
    const next = text.indexOf('<', i + 1);
    const close = text.indexOf('>', i + 1);
    if (close > i && (next < 0 || close < next) && TAG.test(text.slice(i + 1, close))) {
      // The reference requires more markup after the tag (a closing tag or another tag) ...
      if (next > close || /^(?:script|img|iframe|object|embed|svg|link|meta|style|input|form|body|html|base)\b/i.test(text.slice(i + 1, close))) {
        // ... except for tags that act on their own.
        return true;
      }
    }
    i = next;
  }
  return false;
}

/** A string or markdown value. */
export function checkHtmlInString(value: string, type: string, path: string, report: Report): void {
  if (value.indexOf('<') >= 0 && looksLikeHtml(value)) {
    report(
      'error',
      'security',
      `The ${type} value contains text that looks like embedded HTML tags; it may be unsafe wherever it is shown as HTML (use the narrative for markup)`,
      path,
    );
  }
}
