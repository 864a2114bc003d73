// @ts-check
import { call } from './api.js';
import { formatDate, formatNumber, h, replace } from './dom.js';

/** @param {import('../types').ScreenContext} ctx */
export async function renderAccount(ctx) {
  const { session, main, signal } = ctx;
  const account = /** @type {import('../types').Account} */ (
    await call(session.token, 'GET', '/v1/account', { signal })
  );
  const { balance, rate_limits: limits } = account;
  /** @param {string} term @param {string | Node} value */
  const fact = (term, value) => [h('dt', {}, term), h('dd', {}, value)];
  replace(
    main,
    h(
      'section',
      { class: 'card account', id: 'account', 'aria-labelledby': 'account-title' },
      h('h1', { id: 'account-title' }, account.name),
      h(
        'div',
        { class: 'balance' },
        h(
          'p',
          { class: 'big' },
          h('span', { id: 'balance-available' }, formatNumber(balance.available)),
          ' credits available',
        ),
        h(
          'p',
          {},
          `${formatNumber(balance.held)} held by running jobs · ${formatNumber(balance.captured)} spent`,
        ),
      ),
      h(
        'dl',
        { class: 'facts' },
        fact('Plan', account.plan),
        fact('Status', account.status),
        fact('Plan credits', formatNumber(balance.plan_credits)),
        fact('Purchased credits', formatNumber(balance.purchased_credits)),
        fact('Granted', formatNumber(balance.granted)),
        fact('Expired', formatNumber(balance.expired)),
        fact('Period ends', account.period ? formatDate(account.period.end) : 'No billing period (trial)'),
        fact('Requests per second', String(limits.requests_per_second)),
        fact('Concurrent jobs', `${account.running_jobs} running of ${limits.concurrent_jobs}`),
        limits.reads_per_second !== undefined
          ? fact('Reads per second', String(limits.reads_per_second))
          : [],
        fact('Account id', h('code', {}, account.id)),
      ),
    ),
  );
}
