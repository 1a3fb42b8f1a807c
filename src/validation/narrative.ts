/**
 * Narrative XHTML rules (invariants txt-1 and txt-2), which @medplum/core's FHIRPath engine stubs
 * (`htmlChecks()` always true). https://hl7.org/fhir/R4/narrative.html#xhtml
 *
 * The div must be well-formed XHTML in the XHTML namespace, use only the basic HTML elements and
 * attributes the spec allows (no scripts, forms, event handlers, `javascript:` links), and have
 * non-whitespace content. A small tokenizer is enough: the content model is tiny by design.
 */
import type { IssueCode } from './issues';

export interface NarrativeProblem {
  code: IssueCode;
  message: string;
}

/** Elements allowed by txt-1. */
const ALLOWED_ELEMENTS = new Set(
  (
    'a abbr acronym b big blockquote br caption cite code col colgroup dd dfn div dl dt em h1 h2 h3 h4 h5 h6 hr i ' +
    'img li ol p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul var'
  ).split(' '),
);

/** Attributes allowed by txt-1 (plus xmlns and xml:lang). */
const ALLOWED_ATTRIBUTES = new Set(
  (
    'abbr accesskey align alt axis bgcolor border cellhalign cellpadding cellspacing cellvalign char charoff charset ' +
    'cite class colspan compact coords dir frame headers height href hreflang hspace id lang longdesc name nowrap ' +
    'rel rev rowspan rules scope shape span src start style summary tabindex title type valign value vspace width ' +
    'xmlns xml:lang'
  ).split(' '),
);

const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const VOID_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos', 'nbsp']);

/** Checks a Narrative.div value; returns the problems found (empty when it is fine). */
export function checkNarrative(div: unknown): NarrativeProblem[] {
  if (typeof div !== 'string') {
    return [];
  }
  const problems: NarrativeProblem[] = [];
  const add = (code: IssueCode, message: string): void => {
    if (!problems.some((p) => p.message === message)) {
      problems.push({ code, message });
    }
  };
  const s = div.trim();
  if (!s.startsWith('<div')) {
    add('invalid', 'Narrative must be a single <div> element in the XHTML namespace');
    return problems;
  }
  const stack: string[] = [];
  let text = '';
  let sawImg = false;
  let i = 0;
  let rootClosed = false;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const chunk = lt < 0 ? s.slice(i) : s.slice(i, lt);
    if (chunk) {
      if (rootClosed && chunk.trim()) {
        add('invalid', 'Narrative has content after the closing </div>');
      }
      checkEntities(chunk, add);
      text += chunk;
    }
    if (lt < 0) {
      break;
    }
    if (s.startsWith('<!--', lt)) {
      const end = s.indexOf('-->', lt + 4);
      i = end < 0 ? s.length : end + 3;
      continue;
    }
    if (s.startsWith('<![CDATA[', lt) || s.startsWith('<!', lt) || s.startsWith('<?', lt)) {
      add('security', 'Narrative may not contain CDATA sections, doctype or processing instructions');
      const end = s.indexOf('>', lt);
      i = end < 0 ? s.length : end + 1;
      continue;
    }
    const gt = findTagEnd(s, lt + 1);
    if (gt < 0) {
      add('invalid', 'Narrative XHTML is not well-formed: a tag is not closed');
      break;
    }
    const raw = s.slice(lt + 1, gt);
    i = gt + 1;
    if (raw.startsWith('/')) {
      const name = raw.slice(1).trim();
      const open = stack.pop();
      if (open !== name) {
        add('invalid', `Narrative XHTML is not well-formed: </${name}> closes <${open ?? 'nothing'}>`);
        break;
      }
      if (stack.length === 0) {
        rootClosed = true;
      }
      continue;
    }
    const selfClosing = raw.endsWith('/');
    const body = selfClosing ? raw.slice(0, -1) : raw;
    const m = /^([A-Za-z][\w:.-]*)/.exec(body);
    if (!m) {
      add('invalid', 'Narrative XHTML is not well-formed: bad tag');
      break;
    }
    const name = m[1];
    if (rootClosed) {
      add('invalid', 'Narrative has content after the closing </div>');
    }
    const attrs = parseAttributes(body.slice(name.length));
    if (attrs === undefined) {
      add('invalid', `Narrative XHTML is not well-formed: bad attributes on <${name}>`);
      break;
    }
    if (stack.length === 0 && !rootClosed) {
      if (name !== 'div') {
        add('invalid', 'Narrative must be a single <div> element');
      }
      if (attrs.get('xmlns') !== XHTML_NS) {
        add('invalid', `Narrative <div> must declare xmlns="${XHTML_NS}"`);
      }
    }
    if (!ALLOWED_ELEMENTS.has(name)) {
      add('security', `Narrative may not contain <${name}> (txt-1: only basic HTML elements are allowed)`);
    }
    if (name === 'img') {
      sawImg = true;
    }
    for (const [attr, value] of attrs) {
      if (!ALLOWED_ATTRIBUTES.has(attr)) {
        add('security', `Narrative may not use the attribute '${attr}' on <${name}> (txt-1)`);
      } else if ((attr === 'href' || attr === 'src') && /^\s*(javascript|vbscript|data):/i.test(decodeEntities(value))) {
        if (!(attr === 'src' && /^\s*data:\s*image\//i.test(value))) {
          add('security', `Narrative may not use a script or data URL in '${attr}' (txt-1)`);
        }
      } else if (attr === 'style' && /expression\s*\(|url\s*\(\s*['"]?\s*javascript:/i.test(value)) {
        add('security', 'Narrative style attributes may not contain script (txt-1)');
      }
    }
    if (!selfClosing) {
      stack.push(name);
    } else if (stack.length === 0) {
      rootClosed = true;
    }
  }
  if (stack.length > 0 && !problems.some((p) => p.code === 'invalid')) {
    add('invalid', `Narrative XHTML is not well-formed: <${stack[stack.length - 1]}> is never closed`);
  }
  if (!text.trim() && !sawImg) {
    add('invariant', 'Narrative must have some non-whitespace content (txt-2)');
  }
  return problems;
}

function findTagEnd(s: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) {
        quote = undefined;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return i;
    } else if (c === '<') {
      return -1;
    }
  }
  return -1;
}

function parseAttributes(s: string): Map<string, string> | undefined {
  const attrs = new Map<string, string>();
  const re = /\s+([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;
  let pos = 0;
  while (pos < s.length) {
    if (/^\s*$/.test(s.slice(pos))) {
      break;
    }
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) {
      return undefined;
    }
    const name = m[1].toLowerCase();
    if (attrs.has(name)) {
      return undefined;
    }
    attrs.set(name, m[3] ?? m[4] ?? '');
    pos = re.lastIndex;
  }
  return attrs;
}

function checkEntities(chunk: string, add: (code: IssueCode, message: string) => void): void {
  const re = /&([^;\s]*);?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(chunk))) {
    const name = m[1];
    const ok = m[0].endsWith(';') && (VOID_ENTITIES.has(name) || /^#\d+$/.test(name) || /^#x[0-9a-fA-F]+$/.test(name));
    if (!ok) {
      add('invalid', `Narrative XHTML is not well-formed: bad entity '${m[0]}'`);
    }
  }
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);?/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&#x([0-9a-f]+);?/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&(amp|colon|tab|newline);?/gi, (_, n: string) => ({ amp: '&', colon: ':', tab: '\t', newline: '\n' })[n.toLowerCase()] ?? '');
}
