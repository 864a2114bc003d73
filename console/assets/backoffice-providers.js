// @ts-check
import { formatNumber, h, replace } from './dom.js';
import { errorAlert } from './views.js';
import { adminApi } from './backoffice-common.js';

/** @typedef {import('../types').DeploymentStatus} DeploymentStatus */
/** @typedef {import('../types').WorkerDeploymentStatus} WorkerDeploymentStatus */

/** Workers publish their breakers every few seconds and at once on a change: read about as often. */
export const REFRESH_MS = 2_000;

/** @type {Record<import('../types').BreakerState, string>} */
const BREAKER_WORDS = { closed: 'closed', half_open: 'half-open', open: 'open' };

/**
 * The provider board: every deployment, and each live worker's view of it (breakers are per worker
 * process): breaker state, latency, error rate, fallbacks, the last error. It reads the board
 * again every REFRESH_MS while shown (pausable), and announces breaker changes to screen readers.
 * @param {import('../types').ScreenContext} ctx
 */
export async function renderProviderBoard(ctx) {
  const { main, signal } = ctx;
  const api = adminApi(ctx);
  const updated = h('p', { id: 'board-updated', class: 'help' }, 'Reading the board…');
  const pause = h(
    'button',
    { type: 'button', id: 'pause-board', 'aria-pressed': 'false' },
    'Pause live updates',
  );
  const changes = h('div', { id: 'board-changes', class: 'visually-hidden', 'aria-live': 'polite' });
  const note = h('p', { class: 'help' });
  const board = h('div', { id: 'board' });
  const problem = h('div');
  replace(
    main,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'board-title' },
      h('h1', { id: 'board-title' }, 'Providers'),
      note,
      h('div', { class: 'actions' }, pause, updated),
    ),
    changes,
    problem,
    board,
  );

  let paused = false;
  /** @type {Map<string, string>} each worker's last shown breaker state, by deployment and worker */
  const seen = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  const refresh = async () => {
    try {
      const status = /** @type {import('../types').ProviderStatus} */ (
        await api('GET', '/admin/v1/providers')
      );
      if (signal.aborted) return;
      replace(problem);
      note.textContent =
        `${status.note} Latency is the weighted mean of recent successful calls; the error rate is that of ` +
        `the breaker's rolling window, what it opens on; the calls run since each worker started. ` +
        `Default strategy: ${status.default_strategy}.` +
        (status.sandbox_only ? ' Only the built-in sandbox is configured.' : '');
      announceChanges(status.deployments);
      replace(board, status.deployments.map(deploymentCard));
      updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB', { timeZone: 'UTC' })} UTC, every ${REFRESH_MS / 1000} s.`;
    } catch (err) {
      if (signal.aborted) return;
      replace(problem, errorAlert(err));
    } finally {
      if (!signal.aborted && !paused) timer = setTimeout(() => void refresh(), REFRESH_MS);
    }
  };

  /** @param {DeploymentStatus[]} deployments */
  const announceChanges = (deployments) => {
    const lines = [];
    for (const d of deployments) {
      for (const w of d.workers) {
        if (!w.state) continue;
        const key = `${d.id}\u0000${w.worker}`;
        const before = seen.get(key);
        if (before !== undefined && before !== w.state) {
          lines.push(`${d.id}: breaker ${BREAKER_WORDS[w.state]} on worker ${w.worker}.`);
        }
        seen.set(key, w.state);
      }
    }
    if (lines.length > 0) changes.textContent = lines.join(' ');
  };

  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume live updates' : 'Pause live updates';
    clearTimeout(timer);
    if (!paused) void refresh();
  });
  signal.addEventListener('abort', () => clearTimeout(timer));
  await refresh();
}

/** @param {DeploymentStatus} d */
function deploymentCard(d) {
  const models = Object.keys(d.models);
  const titleId = `deployment-${d.id}`;
  return h(
    'section',
    { class: 'card deployment', 'data-deployment': d.id, 'aria-labelledby': titleId },
    h('h2', { id: titleId }, d.id, ' ', h('span', { class: 'help' }, `(${d.type})`)),
    h(
      'p',
      { class: 'help' },
      `Weight ${d.weight}, priority ${d.priority}, timeout ${formatNumber(d.timeout_ms)} ms. ` +
        `Models: ${models.join(', ') || 'none'}.`,
    ),
    d.workers.length === 0
      ? h('p', { class: 'warn' }, 'No live worker reports on this deployment: is a worker running?')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h('caption', { class: 'visually-hidden' }, `${d.id}, as each worker sees it`),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'Worker',
                  'Breaker',
                  'Latency',
                  'Recent error rate',
                  'Calls since start',
                  'Fallbacks',
                  'Last error',
                ].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h('tbody', {}, d.workers.map(workerRow)),
          ),
        ),
  );
}

/**
 * The error rate of the breaker's window (what it opens on), with what it is a share of.
 * @param {WorkerDeploymentStatus} w
 */
function recentErrors(w) {
  if (!w.recent) return '—';
  const seconds = `${formatNumber(Math.round(w.recent.windowMs / 1000))} s`;
  const refused = w.recent.refused > 0 ? `; ${formatNumber(w.recent.refused)} refused unsent` : '';
  if (w.errorRate === undefined || w.errorRate === null) return `no call in the last ${seconds}${refused}`;
  return `${Math.round(w.errorRate * 100)}% of ${formatNumber(w.recent.calls)} in the last ${seconds}${refused}`;
}

/** @param {WorkerDeploymentStatus} w */
function workerRow(w) {
  const calls = (w.successes ?? 0) + (w.failures ?? 0);
  const cooling = w.coolingDownUntil !== undefined && w.coolingDownUntil > Date.now();
  return h(
    'tr',
    { 'data-worker': w.worker },
    h('td', { 'data-label': 'Worker' }, h('code', { class: 'small' }, w.worker)),
    h(
      'td',
      { 'data-label': 'Breaker', class: 'breaker' },
      w.state
        ? h('span', { class: `badge badge-breaker-${w.state}` }, BREAKER_WORDS[w.state])
        : 'not known to this worker',
      cooling ? h('span', { class: 'help' }, ' cooling down after a 429') : null,
    ),
    h(
      'td',
      { 'data-label': 'Latency', class: 'latency' },
      w.latencyMs === undefined ? '—' : `${formatNumber(Math.round(w.latencyMs))} ms`,
    ),
    h('td', { 'data-label': 'Recent error rate', class: 'error-rate' }, recentErrors(w)),
    h(
      'td',
      { 'data-label': 'Calls since start', class: 'calls' },
      `${formatNumber(calls)} (${formatNumber(w.failures ?? 0)} failed)`,
    ),
    h(
      'td',
      { 'data-label': 'Fallbacks', class: 'fallbacks' },
      `${formatNumber(w.fallbacksFrom ?? 0)} away, ${formatNumber(w.fallbacksTo ?? 0)} taken over`,
    ),
    h('td', { 'data-label': 'Last error', class: 'last-error' }, w.lastError ?? '—'),
  );
}
