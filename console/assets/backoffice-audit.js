// @ts-check
import { formatNumber, h, replace } from './dom.js';
import { errorAlert } from './views.js';
import { accountHref, adminApi, entryHref, jobHref } from './backoffice-common.js';

/** @typedef {import('../types').AuditViolation} AuditViolation */

/**
 * The audit: every ledger invariant and the books, checked on demand. Each violation links to its
 * account, its job and its ledger movement; a reservation still holding credits can be released
 * here, with a reason that the ledger keeps.
 * @param {import('../types').ScreenContext} ctx
 */
export function renderAudit(ctx) {
  const { main, signal } = ctx;
  const api = adminApi(ctx);
  const run = h('button', { type: 'button', id: 'run-audit', class: 'primary' }, 'Run the audit');
  const result = h('div', { id: 'audit-result', 'aria-live': 'polite' });
  replace(
    main,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'audit-title' },
      h('h1', { id: 'audit-title' }, 'Audit'),
      h(
        'p',
        { class: 'help' },
        'Checks every account: available and held never below zero, granted − expired = available + held + captured, ' +
          'one reservation per job settled exactly once, and each job’s credits as its movements say.',
      ),
      h('div', { class: 'actions' }, run),
    ),
    result,
  );

  const audit = async () => {
    run.disabled = true;
    run.textContent = 'Auditing…';
    try {
      const report = /** @type {import('../types').AuditReport} */ (await api('POST', '/admin/v1/audit'));
      showReport(report);
    } catch (err) {
      if (!signal.aborted) replace(result, errorAlert(err));
    } finally {
      run.disabled = false;
      run.textContent = 'Run the audit again';
    }
  };

  /** @param {import('../types').AuditReport} report */
  const showReport = (report) => {
    const checked = `${formatNumber(report.accounts_checked)} account${report.accounts_checked === 1 ? '' : 's'} checked`;
    if (report.violations.length === 0) {
      replace(
        result,
        h('p', { class: 'alert alert-success', id: 'audit-summary' }, `${checked}: the books are sound.`),
      );
      return;
    }
    const n = report.violations.length;
    replace(
      result,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'violations-title' },
        h('h2', { id: 'violations-title' }, 'Violations'),
        h(
          'p',
          { class: 'alert alert-error', id: 'audit-summary' },
          `${checked}: ${formatNumber(n)} violation${n === 1 ? '' : 's'}.`,
        ),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'violations' },
            h('caption', { class: 'visually-hidden' }, 'Violations'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Problem', 'Account', 'Job', 'Movement', 'Repair'].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h('tbody', {}, report.violations.map(violationRow)),
          ),
        ),
      ),
    );
  };

  /** @param {AuditViolation} v */
  const violationRow = (v) =>
    h(
      'tr',
      { ...(v.job_id !== undefined && { 'data-job-id': v.job_id }) },
      h('td', { 'data-label': 'Problem' }, v.problem),
      h(
        'td',
        { 'data-label': 'Account' },
        h('a', { href: accountHref(v.account_id), class: 'account-link' }, h('code', {}, v.account_id)),
      ),
      h(
        'td',
        { 'data-label': 'Job' },
        v.job_id !== undefined
          ? h('a', { href: jobHref(v.job_id), class: 'job-link' }, h('code', {}, v.job_id))
          : '—',
      ),
      h(
        'td',
        { 'data-label': 'Movement' },
        v.entry_seq !== undefined
          ? h(
              'a',
              { href: entryHref(v.account_id, v.entry_seq), class: 'entry-link' },
              `ledger entry #${v.entry_seq}`,
            )
          : '—',
      ),
      h(
        'td',
        { 'data-label': 'Repair' },
        v.holds_credits && v.entry_seq !== undefined ? releaseForm(v, v.entry_seq) : '—',
      ),
    );

  /**
   * @param {AuditViolation} v
   * @param {number} seq
   */
  const releaseForm = (v, seq) => {
    const id = `release-reason-${seq}-${v.account_id}`;
    const reason = h('input', { id, name: 'reason', required: true, maxlength: 500, autocomplete: 'off' });
    const errors = h('div');
    const form = h(
      'form',
      { class: 'release', novalidate: true },
      h('label', { for: id }, `Reason for releasing entry #${seq}`),
      reason,
      errors,
      h('button', { type: 'submit', class: 'danger' }, 'Release the credits'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!reason.value.trim()) {
        reason.setAttribute('aria-invalid', 'true');
        replace(errors, h('p', { class: 'field-error', role: 'alert' }, 'Say why (a ticket number).'));
        reason.focus();
        return;
      }
      api('POST', `/admin/v1/accounts/${encodeURIComponent(v.account_id)}/reservations/${seq}/release`, {
        reason: reason.value.trim(),
      })
        .then(() => {
          replace(form, h('p', { class: 'alert alert-success', role: 'status' }, `Entry #${seq} released.`));
        })
        .catch((/** @type {unknown} */ err) => {
          if (!signal.aborted) replace(errors, errorAlert(err));
        });
    });
    return form;
  };

  run.addEventListener('click', () => void audit());
  run.focus();
}
