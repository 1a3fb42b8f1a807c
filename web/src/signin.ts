/**
 * /signin: a user name and password (`POST /console/session`, src/users); the server sets the
 * session cookie (HttpOnly, SameSite=Strict) and answers the CSRF token. Then back to `?next=`.
 */
import { api, ApiError, setCsrfToken, type Session } from './api';
import { fill, h } from './dom';

/** Only a path of this site: never an absolute URL (no open redirect). */
function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '/';
  return /^\/(?!\/)[^\\]*$/.test(next) ? next : '/';
}

export function signinPage(main: HTMLElement, _session: Session): void {
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const note = h('p', { id: 'signin-error', role: 'alert', className: 'error' });
  const form = h(
    'form',
    { className: 'signin', method: 'post' },
    h('div', { className: 'field' }, h('label', { for: 'username' }, 'User name'), user),
    h('div', { className: 'field' }, h('label', { for: 'password' }, 'Password'), pass),
    note,
    h('button', { type: 'submit', className: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    note.textContent = '';
    api<{ csrfToken?: string }>('POST', '/console/session', JSON.stringify({ username: user.value, password: pass.value }), 'application/json').then(
      (s) => {
        setCsrfToken(s.csrfToken);
        location.assign(nextPath());
      },
      (err: unknown) => {
        note.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong user name or password.' : (err as Error).message;
        pass.value = '';
        pass.focus();
      },
    );
  });
  fill(main, h('h1', {}, 'Sign in'), h('p', { className: 'muted' }, 'Accounts are made by an administrator with peerbridge users add.'), form);
}
