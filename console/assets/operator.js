// @ts-check
import { call } from './api.js';
import { formatDate, formatNumber, h, replace } from './dom.js';
import { errorAlert } from './views.js';

/** @typedef {import('../types').Account} Account */

const PAGE_SIZE = 25;

/**
 * The operator's accounts: a paged list, a form to create one, and a key issued for any of them
 * (shown once: Easel keeps only its hash).
 * @param {import('../types').ScreenContext} ctx
 */
export async function renderOperator(ctx) {
  const { session, main, signal } = ctx;
  /** @type {(method: string, path: string, body?: unknown) => Promise<unknown>} */
  const api = (method, path, body) => call(session.token, method, path, { body, signal });
  const plans = /** @type {import('../types').PlanList} */ (await api('GET', '/v1/plans'));

  const name = h('input', {
    id: 'account-name',
    name: 'name',
    required: true,
    maxlength: 200,
    autocomplete: 'off',
  });
  const plan = h(
    'select',
    { id: 'account-plan', name: 'plan' },
    plans.data.map((p) =>
      h('option', { value: p.id, ...(p.id === plans.default_plan && { selected: true }) }, p.id),
    ),
  );
  const createError = h('div');
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create account');
  const issued = h('div', { id: 'issued-key', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'create-title', novalidate: true },
    h('h2', { id: 'create-title' }, 'Create an account'),
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'account-name' }, 'Name'), name),
      h('div', { class: 'field' }, h('label', { for: 'account-plan' }, 'Plan'), plan),
    ),
    createError,
    h('div', { class: 'actions' }, create),
  );
  const list = h('div', { class: 'table-wrap', id: 'accounts' });
  const more = h('button', { type: 'button', id: 'more-accounts', hidden: true }, 'Show more accounts');
  replace(
    main,
    h('h1', { class: 'visually-hidden' }, 'Accounts'),
    issued,
    form,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'accounts-title' },
      h('h2', { id: 'accounts-title' }, 'Accounts'),
      list,
      h('div', { class: 'actions' }, more),
    ),
  );

  const tbody = h('tbody');
  /** @type {string | null} */
  let cursor = null;

  /** @param {Account} account */
  const issueKey = async (account) => {
    try {
      const key = /** @type {import('../types').IssuedKey} */ (
        await api('POST', `/admin/v1/accounts/${encodeURIComponent(account.id)}/keys`, {})
      );
      const value = h('input', {
        id: 'new-key',
        readonly: true,
        value: key.key,
        'aria-describedby': 'new-key-help',
      });
      const copy = h('button', { type: 'button' }, 'Copy');
      copy.addEventListener('click', () => {
        value.select();
        void navigator.clipboard?.writeText(key.key).then(() => (copy.textContent = 'Copied'));
      });
      const done = h('button', { type: 'button', id: 'key-handed-over' }, 'Done: forget this key');
      done.addEventListener('click', () => {
        replace(issued);
        name.focus();
      });
      replace(
        issued,
        h(
          'div',
          { class: 'alert alert-success', role: 'status' },
          h('strong', {}, `New API key for ${account.name}`),
          h(
            'p',
            { id: 'new-key-help' },
            'Shown only now: Easel keeps only its hash. Hand it over and close this notice.',
          ),
          h('label', { for: 'new-key' }, 'API key'),
          h('div', { class: 'row' }, value, copy),
          h('div', { class: 'actions' }, done),
        ),
      );
      value.focus();
      value.select();
    } catch (err) {
      replace(issued, errorAlert(err));
    }
  };

  /** @param {Account} account */
  const row = (account) =>
    h(
      'tr',
      { 'data-account-id': account.id },
      h(
        'td',
        { 'data-label': 'Name' },
        h('div', {}, account.name, h('br'), h('code', { class: 'small' }, account.id)),
      ),
      h('td', { 'data-label': 'Plan' }, account.plan),
      h('td', { 'data-label': 'Status' }, account.status),
      h('td', { 'data-label': 'Available' }, formatNumber(account.balance.available)),
      h('td', { 'data-label': 'Held' }, formatNumber(account.balance.held)),
      h('td', { 'data-label': 'Created' }, formatDate(account.created_at)),
      h(
        'td',
        { 'data-label': 'Key' },
        h(
          'button',
          {
            type: 'button',
            onclick: () => void issueKey(account),
            'aria-label': `Issue an API key for ${account.name}`,
          },
          'Issue key',
        ),
      ),
    );

  const load = async () => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    try {
      const page = /** @type {import('../types').Page<Account>} */ (
        await api('GET', `/admin/v1/accounts?${query}`)
      );
      tbody.append(...page.data.map(row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      if (!signal.aborted) list.append(errorAlert(err));
    }
  };
  replace(
    list,
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, 'Accounts'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Plan', 'Status', 'Available', 'Held', 'Created', 'Key'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      tbody,
    ),
  );
  more.addEventListener('click', () => void load());

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    replace(createError);
    if (!name.value.trim()) {
      replace(createError, h('p', { class: 'field-error', role: 'alert' }, 'Give the account a name.'));
      name.focus();
      return;
    }
    create.disabled = true;
    api('POST', '/admin/v1/accounts', { name: name.value.trim(), plan: plan.value })
      .then((created) => {
        const account = /** @type {Account} */ (created);
        tbody.prepend(row(account));
        name.value = '';
        return issueKey(account);
      })
      .catch((/** @type {unknown} */ err) => replace(createError, errorAlert(err)))
      .finally(() => {
        create.disabled = false;
      });
  });
  await load();
}
