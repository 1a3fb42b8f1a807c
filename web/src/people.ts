/**
 * /people: search people (`GET /fhir/Patient` by name, identifier, birth date) and open one.
 * The search runs as the signed-in user: the same access rules as the API.
 */
import { getJson, type Session } from './api';
import { fill, h } from './dom';
import { personName, isPart2, text, type AnyResource } from './person-data';

interface SearchBundle {
  total?: number;
  entry?: { resource?: AnyResource; search?: { mode?: string } }[];
}

export async function peoplePage(main: HTMLElement, _session: Session): Promise<void> {
  const q = new URLSearchParams(location.search);
  const field = (id: string, text: string, type = 'text', hint = ''): HTMLElement =>
    h(
      'div',
      { className: 'field' },
      h('label', { for: id }, text),
      h('input', { id, name: id, type, value: q.get(id) ?? '', 'aria-describedby': hint ? `${id}-hint` : undefined }),
      hint ? h('small', { id: `${id}-hint` }, hint) : null,
    );
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { className: 'search', role: 'search', action: '/people', method: 'get' },
    field('name', 'Name'),
    field('identifier', 'Identifier', 'text', 'MRN or system|value'),
    field('birthdate', 'Birth date', 'date'),
    h('button', { type: 'submit' }, 'Search'),
  );
  fill(main, h('h1', {}, 'People'), form, results);

  const params = new URLSearchParams();
  for (const k of ['name', 'identifier', 'birthdate']) {
    const v = q.get(k)?.trim();
    if (v) params.set(k, v);
  }
  params.set('_count', '50');
  fill(results, h('p', { className: 'muted' }, 'Searching…'));
  const bundle = await getJson<SearchBundle>(`/fhir/Patient?${params.toString()}`);
  const people = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient').map((e) => e.resource as AnyResource);
  if (people.length === 0) {
    fill(results, h('p', {}, 'No one found.'));
    return;
  }
  fill(
    results,
    h('p', {}, `${bundle.total ?? people.length} found${(bundle.total ?? 0) > people.length ? `, the first ${people.length} shown` : ''}.`),
    h(
      'table',
      { className: 'data' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Birth date', 'Identifiers', ''].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        people.map((p) =>
          h(
            'tr',
            {},
            h('td', {}, h('a', { href: `/people/${encodeURIComponent(p.id ?? '')}` }, personName(p) || p.id || '')),
            h('td', {}, text(p.birthDate)),
            h(
              'td',
              {},
              ((p.identifier as { value?: string }[] | undefined) ?? [])
                .map((i) => i.value)
                .filter(Boolean)
                .join(', '),
            ),
            h('td', {}, isPart2(p) ? h('span', { className: 'tag part2' }, '42 CFR Part 2') : ''),
          ),
        ),
      ),
    ),
  );
}
