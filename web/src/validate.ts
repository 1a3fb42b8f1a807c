/**
 * /validate: paste, open or drop FHIR JSON; validated as you type (debounced) by the server
 * (`POST /console/api/validate`, which stores and logs nothing of the text), each issue listed and
 * marked in the editor at its line and column. Several files: one tab each.
 */
import { csrfHeaders, loadConfig, type Session } from './api';
import { fill, h } from './dom';
import type { Editor, Mark } from './editor';

interface Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  text: string;
  expression?: string;
  line?: number;
  col?: number;
  resource: string;
}

interface Result {
  valid: boolean;
  issues: Issue[];
  ms: number;
}

interface Doc {
  name: string;
  text: string;
  result?: Result;
}

type Level = 'error' | 'warning' | 'information';
const LEVELS: Level[] = ['error', 'warning', 'information'];
const levelOf = (s: Issue['severity']): Level => (s === 'fatal' ? 'error' : s);
const markSeverity = (l: Level): Mark['severity'] => (l === 'information' ? 'info' : l);

/** Wait after the last keystroke before validating. */
export const DEBOUNCE_MS = 150;

export async function validatePage(main: HTMLElement, _session: Session): Promise<void> {
  const config = await loadConfig();
  const docs: Doc[] = [{ name: 'Pasted', text: '' }];
  let current = 0;
  const shown = new Set<Level>(LEVELS);
  let timer: number | undefined;
  let inflight: AbortController | undefined;
  let seq = 0;

  const profile = h(
    'select',
    { id: 'profile', onchange: () => void validateNow() },
    h('option', { value: '' }, 'Profiles named in meta.profile'),
    [...new Set(config.profiles.map((p) => p.type))].map((type) =>
      h(
        'optgroup',
        { label: type },
        config.profiles.filter((p) => p.type === type).map((p) => h('option', { value: p.url }, `${p.title} (${p.url})`)),
      ),
    ),
  );
  const files = h('input', { type: 'file', id: 'files', multiple: true, accept: '.json,application/json,application/fhir+json', className: 'visually-hidden' });
  const status = h('p', { className: 'status', role: 'status', 'aria-live': 'polite', id: 'validate-status' });
  const tabs = h('div', { className: 'tabs', role: 'group', 'aria-label': 'Documents' });
  const filters = h('fieldset', { className: 'filters' }, h('legend', {}, 'Show'));
  const list = h('ol', { className: 'issues', id: 'issues', 'aria-label': 'Issues' });
  const editorBox = h('div', { className: 'editor', id: 'editor' }, h('p', { className: 'muted' }, 'Loading the editor…'));
  const drop = h(
    'div',
    { className: 'dropzone', id: 'dropzone' },
    editorBox,
    h('div', { className: 'drop-hint', 'aria-hidden': 'true' }, 'Drop JSON files to validate them'),
  );

  fill(
    main,
    h('h1', {}, 'Validate FHIR JSON'),
    h(
      'p',
      { className: 'lead' },
      'Paste a resource or Bundle, or open or drop files. Validated as you type against base R4, the PeerBridge profiles',
      config.packages.length > 1 ? ' and the implementation guides loaded' : '',
      '. Nothing you paste is stored or logged.',
    ),
    h(
      'div',
      { className: 'toolbar' },
      h('label', { for: 'profile' }, 'Profile '),
      profile,
      // The input is hidden visually but keeps the keyboard focus; its label is the button seen (style.css).
      files,
      h('label', { for: 'files', className: 'button' }, 'Open files…'),
    ),
    tabs,
    h(
      'div',
      { className: 'split' },
      drop,
      h('section', { className: 'results', 'aria-labelledby': 'issues-title' }, h('h2', { id: 'issues-title' }, 'Issues'), status, filters, list),
    ),
  );

  const { createEditor } = await import('./editor');
  editorBox.replaceChildren();
  const editor: Editor = createEditor(editorBox, docs[0].text, () => schedule(), 'FHIR JSON to validate');

  function schedule(): void {
    docs[current].text = editor.text();
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void validateNow(), DEBOUNCE_MS);
  }

  async function validate(text: string, signal?: AbortSignal): Promise<Result> {
    const q = profile.value ? `?profile=${encodeURIComponent(profile.value)}` : '';
    const res = await fetch(`/console/api/validate${q}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...csrfHeaders() },
      body: text,
      signal,
      credentials: 'same-origin',
    });
    const body = (await res.json()) as Result & { issue?: { details?: { text?: string } }[] };
    if (!res.ok) {
      return {
        valid: false,
        ms: 0,
        issues: [{ severity: 'error', code: 'exception', text: body.issue?.[0]?.details?.text ?? `HTTP ${res.status}`, resource: '' }],
      };
    }
    return body;
  }

  async function validateNow(): Promise<void> {
    window.clearTimeout(timer);
    const doc = docs[current];
    doc.text = editor.text();
    inflight?.abort();
    if (!doc.text.trim()) {
      doc.result = undefined;
      render();
      return;
    }
    const mine = ++seq;
    inflight = new AbortController();
    const started = performance.now();
    status.textContent = 'Validating…';
    try {
      const result = await validate(doc.text, inflight.signal);
      if (mine !== seq) return;
      doc.result = result;
      render();
      const ms = Math.round(performance.now() - started);
      main.dataset.validatedMs = String(ms);
      main.dataset.serverMs = String(result.ms);
      main.dataset.validations = String(Number(main.dataset.validations ?? '0') + 1);
      status.textContent = `${summary(result)} · checked in ${ms} ms (validator ${result.ms} ms)`;
    } catch (e) {
      if ((e as Error).name !== 'AbortError') status.textContent = `Could not validate: ${(e as Error).message}`;
    }
  }

  function summary(r: Result): string {
    const n = (l: Level): number => r.issues.filter((i) => levelOf(i.severity) === l).length;
    if (r.issues.length === 0) return 'Valid: no issues';
    return `${r.valid ? 'Valid' : 'Not valid'}: ${n('error')} errors, ${n('warning')} warnings, ${n('information')} notes`;
  }

  function render(): void {
    const doc = docs[current];
    const issues = doc.result?.issues ?? [];
    // The editor marks every issue that has a position; the list shows the severities chosen.
    editor.mark(
      issues
        .filter((i) => i.line !== undefined && shown.has(levelOf(i.severity)))
        .map((i) => ({ line: i.line as number, col: i.col ?? 1, severity: markSeverity(levelOf(i.severity)), message: i.text })),
    );
    fill(
      filters,
      h('legend', {}, 'Show'),
      LEVELS.map((l) => {
        const id = `show-${l}`;
        const count = issues.filter((i) => levelOf(i.severity) === l).length;
        return h(
          'span',
          { className: 'check' },
          h('input', {
            type: 'checkbox',
            id,
            checked: shown.has(l),
            onchange: (e: Event) => {
              if ((e.target as HTMLInputElement).checked) shown.add(l);
              else shown.delete(l);
              render();
            },
          }),
          h('label', { for: id }, `${l === 'information' ? 'notes' : `${l}s`} (${count})`),
        );
      }),
    );
    fill(
      list,
      issues
        .filter((i) => shown.has(levelOf(i.severity)))
        .map((i) =>
          h(
            'li',
            { className: `issue ${levelOf(i.severity)}` },
            h(
              'button',
              {
                type: 'button',
                'data-line': i.line,
                'data-col': i.col,
                disabled: i.line === undefined,
                onclick: () => editor.goTo(i.line ?? 1, i.col ?? 1),
              },
              h('span', { className: `badge ${levelOf(i.severity)}` }, levelOf(i.severity)),
              h('span', { className: 'where' }, i.line !== undefined ? `${i.line}:${i.col ?? 1}` : '–'),
              h('span', { className: 'text' }, i.text),
              i.expression || i.resource ? h('span', { className: 'path' }, [i.resource, i.expression].filter(Boolean).join(' · ')) : null,
            ),
          ),
        ),
    );
    if (!doc.result) status.textContent = doc.text.trim() ? '' : 'Paste FHIR JSON, or open or drop files.';
    else if (!status.textContent?.includes('checked in')) status.textContent = summary(doc.result);
    renderTabs();
  }

  function renderTabs(): void {
    fill(
      tabs,
      docs.map((d, n) => {
        const errors = d.result?.issues.filter((i) => levelOf(i.severity) === 'error').length;
        return h(
          'button',
          {
            type: 'button',
            className: 'tab',
            'aria-pressed': n === current ? 'true' : 'false',
            onclick: () => {
              if (n === current) return;
              docs[current].text = editor.text();
              current = n;
              seq++;
              editor.setText(d.text);
              window.clearTimeout(timer);
              status.textContent = d.result ? summary(d.result) : '';
              render();
            },
          },
          d.name,
          d.result ? h('span', { className: `count ${errors ? 'error' : 'ok'}` }, errors ? `${errors} errors` : 'valid') : null,
        );
      }),
    );
  }

  async function openFiles(list: FileList | File[]): Promise<void> {
    const added: Doc[] = [];
    for (const f of Array.from(list)) {
      const doc: Doc = { name: f.name, text: await f.text() };
      docs.push(doc);
      added.push(doc);
    }
    if (added.length === 0) return;
    // Each file is validated; the first one opened is shown.
    for (const d of added) d.result = await validate(d.text);
    current = docs.indexOf(added[0]);
    seq++;
    editor.setText(added[0].text);
    window.clearTimeout(timer);
    status.textContent = summary(added[0].result as Result);
    render();
  }

  files.addEventListener('change', () => {
    if (files.files) void openFiles(files.files).then(() => (files.value = ''));
  });
  // Capture: files dropped on the editor open as documents instead of being inserted into it by CodeMirror.
  const hasFiles = (e: DragEvent): boolean => Array.from(e.dataTransfer?.types ?? []).includes('Files');
  drop.addEventListener(
    'dragover',
    (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      drop.classList.add('over');
    },
    true,
  );
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener(
    'drop',
    (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      drop.classList.remove('over');
      if (e.dataTransfer?.files.length) void openFiles(e.dataTransfer.files);
    },
    true,
  );
  render();
}
