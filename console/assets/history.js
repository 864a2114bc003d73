// @ts-check
import { call } from './api.js';
import { formatDate, h, replace } from './dom.js';
import { errorAlert, imageGrid, isTerminal, statusBadge } from './views.js';

/** @typedef {import('../types').Job} Job */

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'];
const PAGE_SIZE = 10;

/** @param {import('../types').ScreenContext} ctx */
export async function renderHistory(ctx) {
  const { session, main, signal } = ctx;
  const status = h(
    'select',
    { id: 'status-filter', name: 'status' },
    h('option', { value: '' }, 'All'),
    STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const table = h('div', { class: 'table-wrap', id: 'history' });
  const pageInfo = h('p', { class: 'help', id: 'page-info', 'aria-live': 'polite' });
  const previous = h('button', { type: 'button', id: 'previous-page' }, 'Previous page');
  const next = h('button', { type: 'button', id: 'next-page' }, 'Next page');
  replace(
    main,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'history-title' },
      h('h1', { id: 'history-title' }, 'History'),
      h('div', { class: 'field inline' }, h('label', { for: 'status-filter' }, 'Status'), status),
      table,
      h('div', { class: 'actions pager' }, previous, pageInfo, next),
    ),
  );

  /** The cursors of the pages before this one (the first page's is null). */
  /** @type {Array<string | null>} */
  let cursors = [];
  /** @type {string | null} */
  let cursor = null;
  /** @type {string | null} */
  let nextCursor = null;

  const load = async () => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status.value) query.set('status', status.value);
    if (cursor) query.set('cursor', cursor);
    table.setAttribute('aria-busy', 'true');
    try {
      const page = /** @type {import('../types').Page<Job>} */ (
        await call(session.token, 'GET', `/v1/jobs?${query.toString()}`, { signal })
      );
      nextCursor = page.next_cursor;
      replace(table, page.data.length > 0 ? jobsTable(page.data) : h('p', {}, 'No jobs here yet.'));
      pageInfo.textContent = `Page ${cursors.length + 1}`;
      previous.disabled = cursors.length === 0;
      next.disabled = !nextCursor;
    } catch (err) {
      if (!signal.aborted) replace(table, errorAlert(err));
    } finally {
      table.removeAttribute('aria-busy');
    }
  };
  status.addEventListener('change', () => {
    cursors = [];
    cursor = null;
    void load();
  });
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors.push(cursor);
    cursor = nextCursor;
    void load();
  });
  previous.addEventListener('click', () => {
    if (cursors.length === 0) return;
    cursor = cursors.pop() ?? null;
    void load();
  });
  await load();
}

/** @param {Job[]} jobs */
function jobsTable(jobs) {
  return h(
    'table',
    { class: 'jobs' },
    h('caption', { class: 'visually-hidden' }, 'Your jobs, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Images', 'Status', 'Prompt', 'Model', 'Provider', 'Credits', 'Created'].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      jobs.map((job) =>
        h(
          'tr',
          { 'data-job-id': job.id },
          h(
            'td',
            { 'data-label': 'Images' },
            job.images.length > 0 ? imageGrid(job, { thumbnail: true }) : '—',
          ),
          h('td', { 'data-label': 'Status' }, statusBadge(job.status)),
          h('td', { 'data-label': 'Prompt', class: 'prompt' }, job.prompt),
          h('td', { 'data-label': 'Model' }, job.model),
          h('td', { 'data-label': 'Provider' }, job.provider ?? '—'),
          h(
            'td',
            { 'data-label': 'Credits' },
            isTerminal(job) ? `${job.credits_charged}` : `${job.credits_reserved} held`,
          ),
          h('td', { 'data-label': 'Created' }, formatDate(job.created_at)),
        ),
      ),
    ),
  );
}
