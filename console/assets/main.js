// @ts-check
import { ApiError, call, explain } from './api.js';
import { h, replace } from './dom.js';
import { clearSession, loadSession, saveSession } from './session.js';
import { renderPlayground } from './playground.js';
import { renderHistory } from './history.js';
import { renderAccount } from './account.js';
import { renderUsage } from './usage.js';
import { renderOperator } from './operator.js';
import { renderJobLookup } from './backoffice-jobs.js';
import { renderAudit } from './backoffice-audit.js';
import { renderProviderBoard } from './backoffice-providers.js';

/** @typedef {import('../types').Session} Session */
/** @typedef {(ctx: import('../types').ScreenContext) => void | Promise<void>} Screen */

/** @type {Record<Session['role'], Array<{hash: string, label: string, render: Screen}>>} */
const SCREENS = {
  customer: [
    { hash: '#playground', label: 'Playground', render: renderPlayground },
    { hash: '#history', label: 'History', render: renderHistory },
    { hash: '#usage', label: 'Usage', render: renderUsage },
    { hash: '#account', label: 'Account', render: renderAccount },
  ],
  operator: [
    { hash: '#accounts', label: 'Accounts', render: renderOperator },
    { hash: '#jobs', label: 'Jobs', render: renderJobLookup },
    { hash: '#audit', label: 'Audit', render: renderAudit },
    { hash: '#providers', label: 'Providers', render: renderProviderBoard },
  ],
};

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));

/** @type {AbortController | undefined} */
let current;

/**
 * Which credential this is: an API key answers GET /v1/account, the admin token answers
 * GET /admin/v1/accounts; each is refused by the other.
 * @param {string} token
 * @returns {Promise<Session['role']>}
 */
async function detectRole(token) {
  try {
    await call(token, 'GET', '/v1/account');
    return 'customer';
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }
  try {
    await call(token, 'GET', '/admin/v1/accounts?limit=1');
    return 'operator';
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 503)) {
      throw new ApiError(
        401,
        'not_signed_in',
        'Easel accepts neither an API key nor the admin token like this one. Check that it was copied whole ' +
          '(an API key starts with ek_), and that it has not been revoked.',
        {},
      );
    }
    throw err;
  }
}

/** @param {string} [notice] */
function renderSignIn(notice) {
  current?.abort();
  nav.hidden = true;
  replace(nav);
  replace(who);
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help sign-in-error',
  });
  const error = h('div', { id: 'sign-in-error', class: 'alert alert-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title', novalidate: true },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    notice ? h('p', { class: 'alert alert-info', role: 'status' }, notice) : null,
    h('label', { for: 'token' }, 'API key or admin token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'A customer API key opens the playground; the admin token opens the accounts back office. ' +
        'It is kept in this tab only and forgotten when the tab closes.',
    ),
    error,
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      showError(error, 'Enter an API key or the admin token.');
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = 'Signing in…';
    detectRole(token)
      .then((role) => {
        saveSession({ token, role });
        location.hash = SCREENS[role][0]?.hash ?? '';
        route();
      })
      .catch((/** @type {unknown} */ err) => {
        const { title, lines } = explain(err);
        showError(error, [title, ...lines].join(' '));
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      })
      .finally(() => {
        button.disabled = false;
        button.textContent = 'Sign in';
      });
  });
  replace(main, form);
  input.focus();
}

/**
 * @param {HTMLElement} box
 * @param {string} message
 */
function showError(box, message) {
  box.textContent = message;
  box.hidden = false;
}

/** @param {string} [message] */
function signOut(message) {
  clearSession();
  history.replaceState(null, '', location.pathname);
  renderSignIn(message);
}

function route() {
  const session = loadSession();
  if (!session) {
    renderSignIn();
    return;
  }
  const screens = SCREENS[session.role];
  // `#accounts/acct_…` is the accounts screen showing one account: a screen owns its sub-paths.
  const screen =
    screens.find((s) => s.hash === location.hash || location.hash.startsWith(`${s.hash}/`)) ?? screens[0];
  if (!screen) return;
  current?.abort();
  current = new AbortController();
  nav.hidden = false;
  replace(
    nav,
    h(
      'ul',
      {},
      screens.map((s) =>
        h('li', {}, h('a', { href: s.hash, ...(s === screen && { 'aria-current': 'page' }) }, s.label)),
      ),
    ),
  );
  replace(
    who,
    h('span', { class: 'role' }, session.role === 'operator' ? 'Operator' : 'Customer'),
    h('button', { type: 'button', class: 'link', onclick: () => signOut('Signed out.') }, 'Sign out'),
  );
  document.title = `${screen.label} · Easel console`;
  main.replaceChildren();
  const signal = current.signal;
  Promise.resolve(screen.render({ session, main, signal, signOut })).catch((/** @type {unknown} */ err) => {
    if (signal.aborted) return;
    if (err instanceof ApiError && err.status === 401) {
      signOut('Easel no longer accepts this key: sign in again.');
      return;
    }
    const { title, lines } = explain(err);
    main.append(
      h(
        'div',
        { class: 'alert alert-error', role: 'alert' },
        h('strong', {}, title),
        ...lines.map((l) => h('p', {}, l)),
      ),
    );
  });
}

// The skip link moves the focus to the screen's content; followed as a link, its #main would be
// taken for a route and change the screen.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => {
  route();
  main.focus();
});
route();
