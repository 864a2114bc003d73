// @ts-check
import { formatDate, formatNumber, h, replace } from './dom.js';
import { errorAlert, imageGrid, statusBadge } from './views.js';
import { accountHref, adminApi, entryHref, hashPath, ledgerTable } from './backoffice-common.js';

/** @typedef {import('../types').AdminJob} AdminJob */

/**
 * Any account's job by id (`#jobs/<id>`): what it asked and ran, every attempt on a provider, and
 * the ledger movements of its credits.
 * @param {import('../types').ScreenContext} ctx
 */
export async function renderJobLookup(ctx) {
  const { main } = ctx;
  const api = adminApi(ctx);
  const [jobId] = hashPath('#jobs');

  const input = h('input', {
    id: 'job-id',
    name: 'id',
    required: true,
    maxlength: 200,
    autocomplete: 'off',
    spellcheck: 'false',
    value: jobId ?? '',
    'aria-describedby': 'job-id-help',
  });
  const lookupError = h('div');
  const form = h(
    'form',
    { class: 'card search', role: 'search', 'aria-labelledby': 'job-lookup-title', novalidate: true },
    h('h2', { id: 'job-lookup-title' }, 'Open a job'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'job-id' }, 'Job id'),
      h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Open job')),
      h(
        'p',
        { id: 'job-id-help', class: 'help' },
        'Any account’s job: from a support request, a webhook, a log line or the audit.',
      ),
    ),
    lookupError,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (!id) {
      replace(lookupError, h('p', { class: 'field-error', role: 'alert' }, 'Enter a job id.'));
      input.focus();
      return;
    }
    location.hash = `#jobs/${encodeURIComponent(id)}`;
  });
  const result = h('div', { id: 'job-result' });
  replace(main, h('h1', { class: 'visually-hidden' }, 'Jobs'), form, result);
  if (!jobId) {
    input.focus();
    return;
  }
  try {
    const job = /** @type {AdminJob} */ (await api('GET', `/admin/v1/jobs/${encodeURIComponent(jobId)}`));
    replace(result, jobDetail(job));
  } catch (err) {
    if (ctx.signal.aborted) return;
    replace(result, errorAlert(err));
  }
}

/** @param {AdminJob} job */
function jobDetail(job) {
  const model =
    job.model === job.requested_model ? job.model : `${job.model} (asked: ${job.requested_model})`;
  return h(
    'div',
    { id: 'admin-job', 'data-job-id': job.id },
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'job-title' },
      h('h2', { id: 'job-title' }, 'Job ', h('code', {}, job.id)),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Status'),
        h('dd', { id: 'job-status' }, statusBadge(job.status)),
        h('dt', {}, 'Account'),
        h('dd', {}, h('a', { href: accountHref(job.account_id) }, h('code', {}, job.account_id))),
        h('dt', {}, 'Model'),
        h('dd', {}, model),
        h('dt', {}, 'Provider'),
        h('dd', {}, job.provider ?? '—'),
        h('dt', {}, 'Prompt'),
        h('dd', {}, job.prompt),
        h('dt', {}, 'Images asked'),
        h('dd', {}, `${job.n} at ${job.aspect_ratio}`),
        h('dt', {}, 'Credits'),
        h(
          'dd',
          { id: 'job-credits' },
          `${formatNumber(job.credits_reserved)} reserved, ${formatNumber(job.credits_charged)} charged`,
        ),
        h('dt', {}, 'Reservation'),
        h(
          'dd',
          {},
          h(
            'a',
            { href: entryHref(job.account_id, job.reservation.seq) },
            `ledger entry #${job.reservation.seq}`,
          ),
        ),
        h('dt', {}, 'Idempotency key'),
        h('dd', {}, job.idempotency_key ? h('code', {}, job.idempotency_key) : '—'),
        h('dt', {}, 'Submitted'),
        h('dd', {}, formatDate(job.created_at)),
        h('dt', {}, 'Finished'),
        h('dd', {}, formatDate(job.completed_at)),
        job.error ? h('dt', {}, 'Error') : null,
        job.error ? h('dd', {}, h('code', {}, job.error.code), ` ${job.error.message}`) : null,
      ),
      job.images.length > 0 ? imageGrid(job, { thumbnail: true }) : null,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'attempts-title' },
      h('h2', { id: 'attempts-title' }, 'Attempts'),
      job.attempts.length === 0
        ? h('p', {}, 'No provider was called yet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'job-attempts' },
              h('caption', { class: 'visually-hidden' }, 'Attempts, in order'),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Provider', 'Model', 'Outcome', 'Duration', 'Error'].map((c) =>
                    h('th', { scope: 'col' }, c),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                job.attempts.map((a) =>
                  h(
                    'tr',
                    {},
                    h('td', { 'data-label': 'Provider' }, a.provider),
                    h('td', { 'data-label': 'Model' }, a.model),
                    h('td', { 'data-label': 'Outcome' }, a.outcome),
                    h('td', { 'data-label': 'Duration' }, `${formatNumber(a.duration_ms)} ms`),
                    h('td', { 'data-label': 'Error' }, a.error ?? '—'),
                  ),
                ),
              ),
            ),
          ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'movements-title' },
      h('h2', { id: 'movements-title' }, 'Ledger movements'),
      ledgerTable(job.ledger.slice().reverse(), { caption: 'The job’s ledger movements', id: 'job-ledger' }),
    ),
  );
}
