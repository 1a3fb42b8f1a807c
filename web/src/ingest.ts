/**
 * /ingest: upload an export for a mapping (`POST /ingest/{source}?dryRun=true`, then without),
 * the dry-run report per record kind, and the rejects queue (`GET /ingest/rejects` with filters;
 * `POST /ingest/rejects/$retry` for one, a selection or all). Everything as the signed-in user.
 */
import { api, ApiError, getJson, loadConfig, postFhir, type Session } from './api';
import { fill, h, when } from './dom';

interface Param {
  name: string;
  valueInteger?: number;
  valueString?: string;
  valueCode?: string;
  valueInstant?: string;
  valueBoolean?: boolean;
  resource?: { resourceType: string; issue?: Issue[] };
  part?: Param[];
}
interface Parameters {
  resourceType: 'Parameters';
  id?: string;
  parameter?: Param[];
}
interface Issue {
  severity: string;
  code?: string;
  details?: { text?: string };
  diagnostics?: string;
  expression?: string[];
}

type HasParams = { parameter?: Param[] };
const get = (p: HasParams, name: string): Param | undefined => p.parameter?.find((x) => x.name === name);
const int = (p: HasParams, name: string): number | undefined => get(p, name)?.valueInteger;
const str = (p: HasParams, name: string): string | undefined => {
  const v = get(p, name);
  return v?.valueString ?? v?.valueCode ?? v?.valueInstant;
};

/** The media type of an export, from its file name. */
function mediaType(file: File): string {
  if (/\.csv$/i.test(file.name)) return 'text/csv';
  if (/\.json$/i.test(file.name)) return 'application/json';
  if (/\.(hl7|er7)$/i.test(file.name)) return 'x-application/hl7-v2+er7';
  return file.type || 'text/plain';
}

const issueText = (i: Issue): string => [i.details?.text, i.diagnostics].filter(Boolean).join(' — ');

export async function ingestPage(main: HTMLElement, _session: Session): Promise<void> {
  const config = await loadConfig();
  const sources = config.mappings;
  const source = h(
    'select',
    { id: 'source', name: 'source' },
    sources.map((m) => h('option', { value: m }, m)),
  );
  const file = h('input', { id: 'export-file', type: 'file', multiple: true, accept: '.csv,.json,.hl7,.txt' });
  const report = h('div', { id: 'report', 'aria-live': 'polite' });
  const dryRun = h('button', { type: 'button', id: 'dry-run' }, 'Dry run');
  const commit = h('button', { type: 'button', id: 'commit', className: 'primary', disabled: true }, 'Commit');

  const fSource = h(
    'select',
    { id: 'f-source' },
    sources.map((m) => h('option', { value: m }, m)),
  );
  const fKind = h('input', { id: 'f-kind', type: 'text', placeholder: 'contact, person…' });
  const fReason = h('input', { id: 'f-reason', type: 'text' });
  const fSince = h('input', { id: 'f-since', type: 'date' });
  const fUntil = h('input', { id: 'f-until', type: 'date' });
  const fStatus = h(
    'select',
    { id: 'f-status' },
    ['open', 'resolved', 'all'].map((s) => h('option', { value: s }, s)),
  );
  const queue = h('div', { id: 'rejects', 'aria-live': 'polite' });
  const retryNote = h('p', { id: 'retry-note', role: 'status' });

  fill(
    main,
    h('h1', {}, 'Ingest'),
    h(
      'section',
      { 'aria-labelledby': 'upload-title' },
      h('h2', { id: 'upload-title' }, 'Upload an export'),
      h('div', { className: 'toolbar' }, h('label', { for: 'source' }, 'Mapping '), source, h('label', { for: 'export-file' }, 'Files '), file, dryRun, commit),
      h(
        'p',
        { className: 'muted' },
        'A dry run translates and validates without storing anything; Commit stores the accepted records and keeps the rejected ones in the queue below. The file name picks the feed (contacts.csv, clients.csv…).',
      ),
      report,
    ),
    h(
      'section',
      { 'aria-labelledby': 'rejects-title' },
      h('h2', { id: 'rejects-title' }, 'Rejects'),
      h(
        'form',
        { className: 'filters-form', id: 'reject-filters' },
        h('div', { className: 'field' }, h('label', { for: 'f-source' }, 'Source'), fSource),
        h('div', { className: 'field' }, h('label', { for: 'f-kind' }, 'Kind'), fKind),
        h('div', { className: 'field' }, h('label', { for: 'f-reason' }, 'Reason contains'), fReason),
        h('div', { className: 'field' }, h('label', { for: 'f-since' }, 'Received from'), fSince),
        h('div', { className: 'field' }, h('label', { for: 'f-until' }, 'Received before'), fUntil),
        h('div', { className: 'field' }, h('label', { for: 'f-status' }, 'Status'), fStatus),
        h('button', { type: 'submit' }, 'Filter'),
      ),
      h(
        'div',
        { className: 'toolbar' },
        h('button', { type: 'button', id: 'retry-selected', onclick: () => void retry('selected') }, 'Retry selected'),
        h('button', { type: 'button', id: 'retry-all', onclick: () => void retry('all') }, 'Retry all open'),
      ),
      retryNote,
      queue,
    ),
  );

  async function upload(dry: boolean): Promise<void> {
    const chosen = Array.from(file.files ?? []);
    if (chosen.length === 0) {
      fill(report, h('p', { className: 'error', role: 'alert' }, 'Choose one or more files first.'));
      return;
    }
    fill(report, h('p', { className: 'muted' }, dry ? 'Dry run…' : 'Storing…'));
    const parts: Node[] = [];
    let ok = true;
    for (const f of chosen) {
      const q = new URLSearchParams({ file: f.name, ...(dry ? { dryRun: 'true' } : {}) });
      let answer: Parameters;
      try {
        answer = await api<Parameters>('POST', `/ingest/${encodeURIComponent(source.value)}?${q.toString()}`, await f.text(), mediaType(f));
      } catch (e) {
        if (e instanceof ApiError && (e.body as Parameters | undefined)?.resourceType === 'Parameters') answer = e.body as Parameters;
        else {
          ok = false;
          parts.push(h('article', { className: 'file-report' }, h('h3', {}, f.name), h('p', { className: 'error', role: 'alert' }, (e as Error).message)));
          continue;
        }
      }
      parts.push(fileReport(f.name, answer, dry));
    }
    fill(report, h('h3', { className: 'visually-hidden' }, dry ? 'Dry-run report' : 'Stored'), parts);
    commit.disabled = !(dry && ok);
    if (!dry) {
      fSource.value = source.value;
      await loadRejects();
    }
  }

  function fileReport(name: string, p: Parameters, dry: boolean): HTMLElement {
    const kinds = (p.parameter ?? []).filter((x) => x.name === 'byKind');
    const issues = get(p, 'outcome')?.resource?.issue ?? [];
    return h(
      'article',
      { className: 'file-report', 'data-file': name },
      h('h3', {}, `${name}${dry ? ' (dry run)' : ''}`),
      h(
        'p',
        { className: 'counts' },
        `Read ${int(p, 'read') ?? 0} · accepted ${int(p, 'accepted') ?? 0} · rejected ${int(p, 'rejected') ?? 0} · ${int(p, 'resources') ?? 0} resources`,
        int(p, 'rejectsKept') ? ` · ${int(p, 'rejectsKept')} kept in the rejects queue` : '',
      ),
      kinds.length
        ? h(
            'table',
            { className: 'data by-kind' },
            h('caption', {}, 'Per record kind'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Kind', 'Read', 'Accepted', 'Rejected'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              kinds.map((k) =>
                h(
                  'tr',
                  {},
                  h('td', {}, str({ parameter: k.part }, 'kind') ?? ''),
                  ['read', 'accepted', 'rejected'].map((n) => h('td', {}, int({ parameter: k.part }, n) ?? 0)),
                ),
              ),
            ),
          )
        : null,
      issues.length
        ? h(
            'details',
            {},
            h('summary', {}, `${issues.length} issues`),
            h(
              'ul',
              { className: 'outcome' },
              issues
                .slice(0, 200)
                .map((i) => h('li', { className: i.severity }, h('span', { className: `badge ${i.severity}` }, i.severity), ' ', issueText(i))),
            ),
          )
        : null,
    );
  }

  function rejectItem(r: Parameters): HTMLElement {
    const id = r.id ?? str(r, 'id') ?? '';
    const issues = get(r, 'outcome')?.resource?.issue ?? [];
    const raw = str(r, 'raw');
    const header = str(r, 'header');
    const box = h('input', { type: 'checkbox', className: 'pick', value: id, id: `pick-${id}`, 'aria-label': `Select reject ${str(r, 'where') ?? id}` });
    return h(
      'li',
      { className: 'reject', 'data-id': id, 'data-status': str(r, 'status') },
      box,
      h(
        'details',
        {},
        h(
          'summary',
          {},
          h('span', { className: 'tag' }, str(r, 'kind') ?? 'record'),
          ` ${str(r, 'input') ?? ''} ${str(r, 'where') ?? ''} · `,
          issues[0] ? issueText(issues[0]) : '',
          h('span', { className: 'muted' }, ` · ${str(r, 'status')} · ${int(r, 'attempts') ?? 0} attempts · received ${when(str(r, 'receivedAt'))}`),
        ),
        h('h4', {}, 'Issues'),
        h(
          'ul',
          { className: 'outcome' },
          issues.map((i) =>
            h(
              'li',
              {},
              h('span', { className: `badge ${i.severity}` }, i.severity),
              ' ',
              issueText(i),
              i.expression?.length ? h('code', {}, ` ${i.expression.join(', ')}`) : null,
            ),
          ),
        ),
        h('h4', {}, 'Raw input'),
        get(r, 'withheld')?.valueBoolean
          ? h('p', { className: 'muted' }, 'Withheld (42 CFR Part 2, not released to you).')
          : h('pre', { className: 'raw', tabindex: '0' }, [header, raw].filter((x) => x !== undefined).join('\n')),
        str(r, 'status') === 'open' ? h('button', { type: 'button', className: 'retry-one', onclick: () => void retry([id]) }, 'Retry this record') : null,
      ),
    );
  }

  async function loadRejects(): Promise<void> {
    if (!fSource.value) {
      fill(queue, h('p', {}, 'No ingest sources on this server.'));
      return;
    }
    const q = new URLSearchParams({ source: fSource.value, status: fStatus.value, _count: '200' });
    if (fKind.value.trim()) q.set('kind', fKind.value.trim());
    if (fReason.value.trim()) q.set('reason', fReason.value.trim());
    if (fSince.value) q.set('since', fSince.value);
    if (fUntil.value) q.set('until', fUntil.value);
    fill(queue, h('p', { className: 'muted' }, 'Loading…'));
    const bundle = await getJson<{ total?: number; entry?: { resource?: Parameters }[] }>(`/ingest/rejects?${q.toString()}`);
    const items = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    fill(
      queue,
      h(
        'p',
        { id: 'rejects-total' },
        `${bundle.total ?? items.length} rejects${(bundle.total ?? 0) > items.length ? `, the newest ${items.length} shown` : ''}.`,
      ),
      items.length ? h('ul', { className: 'reject-list' }, items.map(rejectItem)) : null,
    );
  }

  async function retry(which: string[] | 'selected' | 'all'): Promise<void> {
    const ids =
      which === 'all' ? [] : which === 'selected' ? Array.from(queue.querySelectorAll<HTMLInputElement>('input.pick:checked')).map((b) => b.value) : which;
    if (which === 'selected' && ids.length === 0) {
      retryNote.textContent = 'Select rejects to retry first.';
      return;
    }
    retryNote.textContent = 'Retrying…';
    const body = {
      resourceType: 'Parameters',
      parameter: [{ name: 'source', valueString: fSource.value }, ...ids.map((id) => ({ name: 'id', valueString: id }))],
    };
    try {
      const answer = await postFhir<Parameters>('/ingest/rejects/$retry', body);
      retryNote.textContent = `Retried ${int(answer, 'retried') ?? 0}: ${int(answer, 'resolved') ?? 0} went through, ${int(answer, 'stillRejected') ?? 0} still rejected.`;
    } catch (e) {
      const b = e instanceof ApiError ? (e.body as Parameters | undefined) : undefined;
      retryNote.textContent =
        b?.resourceType === 'Parameters'
          ? `Retried ${int(b, 'retried') ?? 0}: ${int(b, 'resolved') ?? 0} went through, ${int(b, 'stillRejected') ?? 0} still rejected.`
          : `Retry failed: ${(e as Error).message}`;
    }
    await loadRejects();
  }

  dryRun.addEventListener('click', () => void upload(true));
  commit.addEventListener('click', () => void upload(false));
  file.addEventListener('change', () => (commit.disabled = true));
  source.addEventListener('change', () => (commit.disabled = true));
  main.querySelector('#reject-filters')?.addEventListener('submit', (e) => {
    e.preventDefault();
    void loadRejects();
  });
  await loadRejects();
}
