// @ts-check
import { field, formatDate, formatNumber, h, replace } from './dom.js';
import { errorAlert } from './views.js';
import { accountHref, adminApi, hashPath, showIssuedKey } from './backoffice-common.js';
import { renderAccountDetail } from './backoffice-account.js';

/** @typedef {import('../types').Account} Account */

const PAGE_SIZE = 25;

/**
 * The operator's accounts: `#accounts` lists them (paged, searchable by id or name), creates one
 * and issues a key for any (shown once: Easel keeps only its hash); `#accounts/<id>` is one account.
 * @param {import('../types').ScreenContext} ctx
 */
export async function renderOperator(ctx) {
  const [accountId, ...rest] = hashPath('#accounts');
  if (accountId) return renderAccountDetail(ctx, accountId, rest);
  return renderAccountList(ctx);
}

/** @param {import('../types').ScreenContext} ctx */
async function renderAccountList(ctx) {
  const { main, signal } = ctx;
  const api = adminApi(ctx);
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
    h('div', { class: 'row' }, field('account-name', 'Name', name), field('account-plan', 'Plan', plan)),
    createError,
    h('div', { class: 'actions' }, create),
  );

  const search = h('input', {
    id: 'account-search',
    name: 'q',
    type: 'search',
    maxlength: 200,
    autocomplete: 'off',
    'aria-describedby': 'account-search-help',
  });
  const clear = h('button', { type: 'button', id: 'clear-search', hidden: true }, 'Show all');
  const searchForm = h(
    'form',
    { role: 'search', class: 'search', 'aria-label': 'Accounts', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'account-search' }, 'Find an account'),
      h('div', { class: 'row' }, search, h('button', { type: 'submit' }, 'Search'), clear),
      h('p', { id: 'account-search-help', class: 'help' }, 'An account id, or part of its name.'),
    ),
  );
  const summary = h('p', { id: 'accounts-summary', role: 'status', class: 'help' });
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
      searchForm,
      summary,
      list,
      h('div', { class: 'actions' }, more),
    ),
  );

  const tbody = h('tbody');
  /** @type {string | null} */
  let cursor = null;
  let query = '';
  let shown = 0;

  /** @param {Account} account */
  const issueKey = async (account) => {
    try {
      const key = /** @type {import('../types').IssuedKey} */ (
        await api('POST', `/admin/v1/accounts/${encodeURIComponent(account.id)}/keys`, {})
      );
      showIssuedKey(issued, account.name, key, () => name.focus());
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
        h(
          'div',
          {},
          h('a', { href: accountHref(account.id) }, account.name),
          h('br'),
          h('code', { class: 'small' }, account.id),
        ),
      ),
      h('td', { 'data-label': 'Plan' }, account.plan),
      h(
        'td',
        { 'data-label': 'Status' },
        h('span', { class: `badge badge-${account.status}` }, account.status),
      ),
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
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) params.set('cursor', cursor);
    if (query) params.set('q', query);
    try {
      const page = /** @type {import('../types').Page<Account>} */ (
        await api('GET', `/admin/v1/accounts?${params}`)
      );
      tbody.append(...page.data.map(row));
      shown += page.data.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      const plural = shown === 1 ? 'account' : 'accounts';
      summary.textContent = query
        ? `${shown}${cursor ? '+' : ''} ${plural} ${shown === 1 && !cursor ? 'matches' : 'match'} “${query}”.`
        : `${shown}${cursor ? '+' : ''} ${plural}.`;
    } catch (err) {
      if (!signal.aborted) list.append(errorAlert(err));
    }
  };
  /** @param {string} q */
  const reload = async (q) => {
    query = q;
    cursor = null;
    shown = 0;
    tbody.replaceChildren();
    clear.hidden = !q;
    await load();
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
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void reload(search.value.trim());
  });
  clear.addEventListener('click', () => {
    search.value = '';
    void reload('').then(() => search.focus());
  });

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
