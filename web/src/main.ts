/**
 * The PeerBridge web console (issue 14): one page shell (dist/web/index.html) for every path;
 * this module reads the session, draws the header and routes by `location.pathname`.
 * The validator's editor (CodeMirror) is a separate chunk, loaded by /validate only.
 */
import './style.css';
import { ApiError, loadSession, setCsrfToken, api, type Session } from './api';
import { fill, h } from './dom';

type Page = (main: HTMLElement, session: Session, params: Record<string, string>) => Promise<void> | void;

const ROUTES: { pattern: RegExp; title: string; load: () => Promise<Page> }[] = [
  { pattern: /^\/validate\/?$/, title: 'Validate', load: () => import('./validate').then((m) => m.validatePage) },
  { pattern: /^\/people\/?$/, title: 'People', load: () => import('./people').then((m) => m.peoplePage) },
  { pattern: /^\/people\/(?<id>[A-Za-z0-9\-.]{1,64})\/?$/, title: 'Person', load: () => import('./person').then((m) => m.personPage) },
  { pattern: /^\/ingest\/?$/, title: 'Ingest', load: () => import('./ingest').then((m) => m.ingestPage) },
  { pattern: /^\/signin\/?$/, title: 'Sign in', load: () => import('./signin').then((m) => m.signinPage) },
  { pattern: /^\/$/, title: 'Home', load: async () => homePage },
];

const NAV = [
  ['/validate', 'Validate'],
  ['/people', 'People'],
  ['/ingest', 'Ingest'],
] as const;

function header(session: Session | undefined, path: string): HTMLElement {
  const signOut = async (): Promise<void> => {
    await api('DELETE', '/console/session').catch(() => undefined);
    setCsrfToken(undefined);
    location.assign('/signin');
  };
  return h(
    'header',
    { className: 'top' },
    h('a', { className: 'skip', href: '#main' }, 'Skip to content'),
    h('a', { className: 'brand', href: '/' }, 'PeerBridge'),
    h(
      'nav',
      { 'aria-label': 'Console' },
      h(
        'ul',
        {},
        NAV.map(([href, label]) => h('li', {}, h('a', { href, 'aria-current': path === href || path.startsWith(`${href}/`) ? 'page' : undefined }, label))),
      ),
    ),
    session?.user
      ? h(
          'div',
          { className: 'who' },
          h('span', {}, `${session.user.name} (${session.user.role})`),
          h('button', { type: 'button', className: 'link', onclick: () => void signOut() }, 'Sign out'),
        )
      : null,
  );
}

function homePage(main: HTMLElement): void {
  fill(
    main,
    h('h1', {}, 'PeerBridge console'),
    h(
      'ul',
      { className: 'cards' },
      h(
        'li',
        {},
        h('a', { href: '/validate' }, h('strong', {}, 'Validate'), h('span', {}, 'Paste or drop FHIR JSON and see each issue at its line, as you type.')),
      ),
      h(
        'li',
        {},
        h('a', { href: '/people' }, h('strong', {}, 'People'), h('span', {}, "A person's episode, contacts, recovery plan and recovery capital over time.")),
      ),
      h(
        'li',
        {},
        h('a', { href: '/ingest' }, h('strong', {}, 'Ingest'), h('span', {}, 'Upload an export, check the dry run, commit it, and work the rejects queue.')),
      ),
    ),
  );
}

async function start(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement;
  const path = location.pathname;
  const route = ROUTES.find((r) => r.pattern.test(path));
  const main = h('main', { id: 'main', tabindex: '-1' });
  let session: Session | undefined;
  if (path !== '/signin') {
    try {
      const s = await loadSession();
      if (s === 'signed-out') {
        location.assign(`/signin?next=${encodeURIComponent(path + location.search)}`);
        return;
      }
      session = s;
    } catch (e) {
      fill(root, header(undefined, path), main);
      fill(main, h('p', { className: 'error', role: 'alert' }, `The server did not answer: ${(e as Error).message}`));
      return;
    }
  }
  const banner = session?.authDisabled
    ? h(
        'div',
        { className: 'banner warn', role: 'alert', 'data-testid': 'auth-disabled' },
        h('strong', {}, 'Sign-in is off (AUTH_DISABLED=true). '),
        'Anyone who can reach this server sees and changes every record. For a local trial only.',
      )
    : null;
  fill(root, header(session, path), banner, main);
  if (!route) {
    document.title = 'Not found · PeerBridge';
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '/' }, 'Go to the console home.')));
    return;
  }
  document.title = `${route.title} · PeerBridge`;
  const params = (route.pattern.exec(path)?.groups ?? {}) as Record<string, string>;
  try {
    const page = await route.load();
    await page(main, session ?? { user: null, authDisabled: false }, params);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      location.assign(`/signin?next=${encodeURIComponent(path)}`);
      return;
    }
    main.append(h('p', { className: 'error', role: 'alert' }, (e as Error).message));
  }
}

void start();
