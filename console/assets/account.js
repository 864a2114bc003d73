// @ts-check
import { call } from './api.js';
import { formatDate, formatNumber, formatUsd, h, replace } from './dom.js';
import { errorAlert } from './views.js';
import { webhookSecretCard } from './webhooks.js';

/** @param {import('../types').ScreenContext} ctx */
export async function renderAccount(ctx) {
  const { session, main, signal } = ctx;
  const [account, plans, webhooks] = await Promise.all([
    /** @type {Promise<import('../types').Account>} */ (
      call(session.token, 'GET', '/v1/account', { signal })
    ),
    /** @type {Promise<import('../types').PlanList>} */ (call(session.token, 'GET', '/v1/plans', { signal })),
    // The account's facts still show when the secret cannot be read.
    webhookSecretCard(ctx).catch((/** @type {unknown} */ err) => {
      if (signal.aborted) throw err;
      return h('section', { class: 'card', id: 'webhooks' }, errorAlert(err));
    }),
  ]);
  const { balance, rate_limits: limits } = account;
  const plan = plans.data.find((p) => p.id === account.plan);
  /** @param {string} term @param {string | Node} value @param {string} [id] */
  const fact = (term, value, id) => [h('dt', {}, term), h('dd', id ? { id } : {}, value)];
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
        fact('Plan', account.plan, 'account-plan'),
        plan && plan.monthly_credits > 0
          ? fact(
              'Plan terms',
              `${formatUsd(plan.price_usd)} a period for ${formatNumber(plan.monthly_credits)} credits`,
              'plan-terms',
            )
          : [],
        fact('Status', account.status),
        fact(
          'Plan credits',
          `${formatNumber(balance.plan_credits)}${account.period ? ' (expire at the period end)' : ''}`,
        ),
        fact('Purchased credits', `${formatNumber(balance.purchased_credits)} (never expire)`),
        fact('Granted', formatNumber(balance.granted)),
        fact('Expired', formatNumber(balance.expired)),
        account.period ? fact('Period started', formatDate(account.period.start), 'period-start') : [],
        fact(
          'Period ends',
          account.period ? formatDate(account.period.end) : 'No billing period (trial)',
          'period-end',
        ),
        fact('Requests per second', String(limits.requests_per_second), 'limit-rps'),
        fact('Concurrent jobs', `${account.running_jobs} running of ${limits.concurrent_jobs}`, 'limit-jobs'),
        limits.reads_per_second !== undefined
          ? fact('Reads per second', String(limits.reads_per_second), 'limit-reads')
          : [],
        fact('Account id', h('code', {}, account.id)),
      ),
    ),
    webhooks,
  );
}
