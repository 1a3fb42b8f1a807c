/**
 * A small DOM builder: elements from tag, attributes and children, never from HTML text (no
 * innerHTML anywhere in the console, so no record text is ever parsed as markup).
 */
export type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | undefined | null | ((e: Event) => void);
export type Attrs = Record<string, Attr>;

function apply(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name === 'className' ? 'class' : name, value === true ? '' : String(value));
  }
}

function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element. */
export function s(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A date-time as the reader's locale writes it; the text itself when it is not a date. */
export function when(text: string | undefined): string {
  if (!text) return '';
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(text)) return text;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
