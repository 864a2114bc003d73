// @ts-check
import { call } from './api.js';
import { formatDate, formatNumber, h, replace } from './dom.js';

/** @typedef {import('../types').LedgerEntry} LedgerEntry */

/**
 * The admin API with the signed-in token, stopped when the screen is left.
 * @param {import('../types').ScreenContext} ctx
 * @returns {(method: string, path: string, body?: unknown) => Promise<unknown>}
 */
export function adminApi(ctx) {
  return (method, path, body) => call(ctx.session.token, method, path, { body, signal: ctx.signal });
}

/**
 * What follows `prefix/` in the location hash, split at `/` and decoded: `#accounts/acct_1/entry/7`
 * with prefix `#accounts` gives `['acct_1', 'entry', '7']`.
 * @param {string} prefix
 * @returns {string[]}
 */
export function hashPath(prefix) {
  if (!location.hash.startsWith(`${prefix}/`)) return [];
  return location.hash
    .slice(prefix.length + 1)
    .split('/')
    .map((part) => decodeURIComponent(part));
}

/** @param {string} accountId */
export function accountHref(accountId) {
  return `#accounts/${encodeURIComponent(accountId)}`;
}

/** @param {string} jobId */
export function jobHref(jobId) {
  return `#jobs/${encodeURIComponent(jobId)}`;
}

/**
 * @param {string} accountId
 * @param {number} seq
 */
export function entryHref(accountId, seq) {
  return `${accountHref(accountId)}/entry/${seq}`;
}

/**
 * A new API key, shown once: Easel keeps only its hash, so the notice says so and offers a copy.
 * @param {HTMLElement} box where the notice goes (a polite live region)
 * @param {string} accountName
 * @param {import('../types').IssuedKey} key
 * @param {() => void} onDone called when the operator closes the notice
 */
export function showIssuedKey(box, accountName, key, onDone) {
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
    replace(box);
    onDone();
  });
  replace(
    box,
    h(
      'div',
      { class: 'alert alert-success', role: 'status' },
      h('strong', {}, `New API key for ${accountName}`),
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
}

/**
 * Ledger movements, newest first, as a table: each with the balances after it, its job linked.
 * @param {LedgerEntry[]} entries
 * @param {{caption: string, id?: string, highlight?: number}} options
 */
export function ledgerTable(entries, options) {
  const tbody = h('tbody');
  appendLedgerRows(tbody, entries, options.highlight);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { ...(options.id && { id: options.id }) },
      h('caption', { class: 'visually-hidden' }, options.caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['#', 'When', 'Movement', 'Credits', 'Job', 'Reason', 'Available after', 'Held after'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      tbody,
    ),
  );
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {LedgerEntry[]} entries
 * @param {number} [highlight] the sequence number of the entry to mark (and scroll to)
 */
export function appendLedgerRows(tbody, entries, highlight) {
  tbody.append(
    ...entries.map((e) =>
      h(
        'tr',
        {
          'data-seq': e.seq,
          ...(e.seq === highlight && { class: 'highlight', 'aria-current': 'true' }),
        },
        h('td', { 'data-label': '#' }, String(e.seq)),
        h('td', { 'data-label': 'When' }, formatDate(e.created_at)),
        // One element: the narrow layout puts each child of a cell in its own grid row.
        h(
          'td',
          { 'data-label': 'Movement' },
          h('span', {}, e.kind, e.settles === undefined ? '' : ` of #${e.settles}`),
        ),
        h('td', { 'data-label': 'Credits' }, formatNumber(e.credits)),
        h(
          'td',
          { 'data-label': 'Job' },
          e.job_id ? h('a', { href: jobHref(e.job_id) }, h('code', { class: 'small' }, e.job_id)) : '—',
        ),
        h('td', { 'data-label': 'Reason' }, e.reason ?? '—'),
        h('td', { 'data-label': 'Available after' }, formatNumber(e.balances.available)),
        h('td', { 'data-label': 'Held after' }, formatNumber(e.balances.held)),
      ),
    ),
  );
}
