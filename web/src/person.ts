/**
 * /people/:id: one person's peer support record from `GET /fhir/Patient/:id/$everything`, read
 * as the signed-in user (the same access rules as the API: 404 when the person is not theirs to
 * see). The episode timeline, eligibility reviews with their deciding criteria, contacts, the
 * recovery plan and goals, recovery capital over time and the 23 items of the latest two
 * administrations side by side.
 */
import { ApiError, getJson, type Session } from './api';
import { capitalChart } from './chart';
import { fill, h, when } from './dom';
import { personRecord, text, type AnyResource, type PersonRecord } from './person-data';

interface Page {
  entry?: { resource?: AnyResource; search?: { mode?: string } }[];
  link?: { relation: string; url: string }[];
}

/** Every page of $everything (at most 50 pages of 1,000). */
async function everything(id: string): Promise<AnyResource[]> {
  const out: AnyResource[] = [];
  let url: string | undefined = `/fhir/Patient/${encodeURIComponent(id)}/$everything?_count=1000`;
  for (let n = 0; url && n < 50; n++) {
    const page: Page = await getJson<Page>(url);
    for (const e of page.entry ?? []) if (e.resource && e.search?.mode !== 'outcome') out.push(e.resource);
    const next = page.link?.find((l) => l.relation === 'next')?.url;
    url = next ? new URL(next, location.href).pathname + new URL(next, location.href).search : undefined;
  }
  return out;
}

const section = (id: string, title: string, ...body: (Node | string | null)[]): HTMLElement =>
  h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...body);

const table = (head: string[], rows: (Node | string | number)[][], caption?: string): HTMLElement =>
  h(
    'div',
    { className: 'table-wrap' },
    h(
      'table',
      { className: 'data' },
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          head.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            r.map((c) => h('td', {}, c)),
          ),
        ),
      ),
    ),
  );

export async function personPage(main: HTMLElement, _session: Session, params: Record<string, string>): Promise<void> {
  fill(main, h('p', { className: 'muted' }, 'Loading…'));
  let resources: AnyResource[];
  try {
    resources = await everything(params.id);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 410)) {
      document.title = 'Not found · PeerBridge';
      fill(
        main,
        h('h1', { 'data-testid': 'not-found' }, 'Person not found'),
        h('p', {}, 'No person with this id, or not one you may see. ', h('a', { href: '/people' }, 'Search people.')),
      );
      return;
    }
    throw e;
  }
  const r = personRecord(resources);
  document.title = `${r.name} · PeerBridge`;
  fill(main, ...render(r));
}

function render(r: PersonRecord): (Node | null)[] {
  const p = r.patient;
  const latest = r.administrations.slice(-2);
  return [
    r.part2
      ? h(
          'div',
          { className: 'banner part2', role: 'note', 'data-testid': 'part2-banner' },
          h('strong', {}, '42 CFR Part 2 record. '),
          'Substance use disorder records: federal law (42 CFR Part 2) prohibits further disclosure without the patient’s written consent.',
        )
      : null,
    h('h1', {}, r.name || 'Person'),
    h(
      'dl',
      { className: 'facts' },
      h('dt', {}, 'Birth date'),
      h('dd', {}, text(p?.birthDate) || '—'),
      h('dt', {}, 'Identifiers'),
      h('dd', {}, ((p?.identifier as { value?: string }[] | undefined) ?? []).map((i) => i.value).join(', ') || '—'),
      h('dt', {}, 'Episodes'),
      h('dd', {}, r.episodes.map((e) => `${e.organization || 'Episode'}: ${e.status}, ${e.start ?? '?'} – ${e.end ?? 'now'}`).join('; ') || '—'),
    ),
    section(
      'timeline-title',
      'Episode timeline',
      r.timeline.length
        ? h(
            'ol',
            { className: 'timeline' },
            r.timeline.map((e) =>
              h(
                'li',
                { className: `event ${e.kind}` },
                h('time', { datetime: e.date }, when(e.date)),
                h('strong', {}, e.title),
                e.detail ? h('span', {}, e.detail) : null,
              ),
            ),
          )
        : h('p', {}, 'No events.'),
    ),
    section(
      'reviews-title',
      'Eligibility reviews',
      r.reviews.length
        ? h(
            'div',
            {},
            r.reviews.map((v) =>
              h(
                'article',
                { className: 'review' },
                h('h3', {}, `${v.type || 'Review'} · ${when(v.date)} · `, h('span', { className: 'determination' }, v.result)),
                h(
                  'ul',
                  { className: 'criteria' },
                  v.criteria.map((c) =>
                    h('li', { className: c.status.replace(' ', '-') }, h('span', { className: 'tag' }, c.status), ` ${c.code}: ${c.display}`),
                  ),
                ),
              ),
            ),
          )
        : h('p', {}, 'No eligibility reviews.'),
    ),
    section(
      'contacts-title',
      'Contacts',
      r.contacts.length
        ? table(
            ['Date', 'Status', 'Mode', 'Place', 'Minutes', 'Units', 'Interventions'],
            r.contacts.map((c) => [
              when(c.date),
              c.noShow ? h('span', { className: 'tag warn' }, 'no-show') : c.status,
              c.mode + (c.group ? ' (group)' : ''),
              [c.place, c.location].filter(Boolean).join(' · '),
              c.minutes ?? '',
              c.units ?? '',
              c.interventions.join(', '),
            ]),
          )
        : h('p', {}, 'No contacts.'),
    ),
    section(
      'plan-title',
      'Recovery plan',
      r.plans.length
        ? h(
            'div',
            {},
            r.plans.map((pl) =>
              h(
                'article',
                { className: 'plan' },
                h('h3', {}, pl.title, pl.status ? h('span', { className: 'tag' }, pl.status) : null),
                h(
                  'p',
                  { className: 'muted' },
                  [
                    pl.start ? `From ${pl.start}${pl.end ? ` to ${pl.end}` : ''}` : '',
                    pl.nextReview ? `next review ${pl.nextReview}` : '',
                    pl.crisisPlan === undefined ? '' : pl.crisisPlan ? 'WRAP / crisis plan in place' : 'no crisis plan yet',
                  ]
                    .filter(Boolean)
                    .join(' · '),
                ),
                table(
                  ['Goal', 'Status', 'Achievement', 'Due'],
                  pl.goals.map((g) => [g.description, g.lifecycle, g.achievement, g.due ?? '']),
                ),
              ),
            ),
          )
        : h('p', {}, 'No recovery plan.'),
    ),
    section(
      'capital-title',
      'Recovery capital',
      r.capital.length ? capitalChart(r.capital) : h('p', {}, 'No recovery capital administrations.'),
      latest.length
        ? table(
            ['#', 'Statement', ...latest.map((a) => a.date.slice(0, 10)), ...(latest.length === 2 ? ['Change'] : [])],
            Array.from({ length: 23 }, (_, i) => {
              const [a, b] = latest.map((x) => x.ratings[i]);
              const change = latest.length === 2 && a !== undefined && b !== undefined ? b - a : undefined;
              return [
                i + 1,
                latest[latest.length - 1].statements[i] ?? '',
                ...latest.map((x) => x.ratings[i] ?? '—'),
                ...(latest.length === 2
                  ? [
                      change === undefined
                        ? ''
                        : h('span', { className: change > 0 ? 'up' : change < 0 ? 'down' : '' }, change > 0 ? `+${change}` : String(change)),
                    ]
                  : []),
              ];
            }),
            latest.length === 2
              ? 'The 23 items of the latest two administrations (5 completely agree … 1 completely disagree)'
              : 'The 23 items of the administration',
          )
        : null,
    ),
  ];
}
