// @ts-check
import { field, formatDate, formatNumber, h, replace } from './dom.js';
import { errorAlert } from './views.js';
import { adminApi, appendLedgerRows, ledgerTable, showIssuedKey } from './backoffice-common.js';

/** @typedef {import('../types').AdminAccount} AdminAccount */
/** @typedef {import('../types').RateLimits} RateLimits */

const LEDGER_PAGE = 25;

/** The overridable limits, in the order the form shows them. */
const LIMITS = /** @type {const} */ ([
  { field: 'requests_per_second', id: 'override-rps', label: 'Requests per second' },
  { field: 'concurrent_jobs', id: 'override-concurrent', label: 'Concurrent jobs' },
  { field: 'reads_per_second', id: 'override-reads', label: 'Reads per second' },
]);

/**
 * One account for the operator: its balance and limits; its plan, status and limit overrides to
 * change; its keys to issue and revoke; credits to grant; and its ledger, newest first
 * (`#accounts/<id>/entry/<seq>` opens the ledger at that movement).
 * @param {import('../types').ScreenContext} ctx
 * @param {string} accountId
 * @param {string[]} rest what follows the id in the location hash
 */
export async function renderAccountDetail(ctx, accountId, rest) {
  const { main, signal } = ctx;
  const api = adminApi(ctx);
  const path = `/admin/v1/accounts/${encodeURIComponent(accountId)}`;
  const focusSeq = rest[0] === 'entry' && /^\d+$/.test(rest[1] ?? '') ? Number(rest[1]) : undefined;
  const [account, plans] = await Promise.all([
    api('GET', path).then((a) => /** @type {AdminAccount} */ (a)),
    api('GET', '/v1/plans').then((p) => /** @type {import('../types').PlanList} */ (p)),
  ]);

  let current = account;
  const title = h('h1', { id: 'account-title' }, account.name);
  const summary = h('section', { class: 'card', id: 'account-summary', 'aria-labelledby': 'summary-title' });
  const notice = h('div', { id: 'account-notice', role: 'status', 'aria-live': 'polite' });

  /** @param {AdminAccount} a */
  const showSummary = (a) => {
    title.textContent = a.name;
    const overrides = a.rate_limit_overrides ?? {};
    /** @param {keyof RateLimits} field */
    const limit = (field) => {
      const value = a.rate_limits[field];
      const overridden = overrides[field] !== undefined;
      return h(
        'dd',
        { id: `limit-${field}` },
        value === undefined ? '—' : formatNumber(value),
        overridden ? h('span', { class: 'badge badge-override' }, 'override') : null,
      );
    };
    replace(
      summary,
      h('h2', { id: 'summary-title' }, 'Balance and limits'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Account id'),
        h('dd', {}, h('code', {}, a.id)),
        h('dt', {}, 'Status'),
        h('dd', { id: 'account-status' }, h('span', { class: `badge badge-${a.status}` }, a.status)),
        h('dt', {}, 'Plan'),
        h('dd', { id: 'account-plan-now' }, a.plan),
        h('dt', {}, 'Available'),
        h('dd', { id: 'account-available' }, formatNumber(a.balance.available)),
        h('dt', {}, 'Held'),
        h(
          'dd',
          {},
          `${formatNumber(a.balance.held)} (${formatNumber(a.running_jobs)} running job${a.running_jobs === 1 ? '' : 's'})`,
        ),
        h('dt', {}, 'Plan credits'),
        h('dd', {}, formatNumber(a.balance.plan_credits)),
        h('dt', {}, 'Purchased credits'),
        h('dd', {}, formatNumber(a.balance.purchased_credits)),
        h('dt', {}, 'Captured'),
        h('dd', {}, formatNumber(a.balance.captured)),
        h('dt', {}, 'Period ends'),
        h('dd', {}, formatDate(a.period?.end)),
        h('dt', {}, 'Requests per second'),
        limit('requests_per_second'),
        h('dt', {}, 'Concurrent jobs'),
        limit('concurrent_jobs'),
        h('dt', {}, 'Reads per second'),
        limit('reads_per_second'),
        h('dt', {}, 'Created'),
        h('dd', {}, formatDate(a.created_at)),
      ),
    );
  };

  /**
   * Sends a change, then shows the account as Easel now has it.
   * @param {Record<string, unknown>} patch
   * @param {string} done what to announce
   * @param {HTMLElement} errors where a refusal is explained
   */
  const update = async (patch, done, errors) => {
    replace(errors);
    try {
      current = /** @type {AdminAccount} */ (await api('PATCH', path, patch));
      showSummary(current);
      showStatus(current);
      showOverrides(current);
      replace(notice, h('p', { class: 'alert alert-success' }, done));
      // A plan change moves credits (the old period's expire, the new plan's are granted).
      if ('plan' in patch) await loadLedger(true);
      return true;
    } catch (err) {
      if (!signal.aborted) replace(errors, errorAlert(err));
      return false;
    }
  };

  // Plan
  const planSelect = h(
    'select',
    { id: 'plan-select', name: 'plan' },
    plans.data.map((p) =>
      h(
        'option',
        { value: p.id, ...(p.id === account.plan && { selected: true }) },
        `${p.id} (${formatNumber(p.monthly_credits)} credits a month)`,
      ),
    ),
  );
  const planErrors = h('div');
  const planForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'plan-title', novalidate: true },
    h('h2', { id: 'plan-title' }, 'Plan'),
    field('plan-select', 'Plan', planSelect),
    h(
      'p',
      { class: 'help' },
      'A new plan starts a new billing period: its monthly credits are granted now, the old period’s expire.',
    ),
    planErrors,
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'change-plan' }, 'Change plan')),
  );
  planForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void update({ plan: planSelect.value }, `Plan changed to ${planSelect.value}.`, planErrors);
  });

  // Status
  const statusText = h('p', { id: 'status-help', class: 'help' });
  const statusButton = h('button', {
    type: 'button',
    id: 'toggle-status',
    'aria-describedby': 'status-help',
  });
  const statusErrors = h('div');
  /** @param {AdminAccount} a */
  const showStatus = (a) => {
    const suspended = a.status === 'suspended';
    statusButton.textContent = suspended ? 'Reactivate account' : 'Suspend account';
    statusButton.className = suspended ? 'primary' : 'danger';
    statusText.textContent = suspended
      ? 'Suspended: its keys are refused until it is reactivated. Its balance is kept.'
      : 'Active. Suspending refuses its keys at once; its balance and running jobs are kept.';
  };
  statusButton.addEventListener('click', () => {
    const next = current.status === 'suspended' ? 'active' : 'suspended';
    statusButton.disabled = true;
    void update(
      { status: next },
      next === 'suspended' ? 'Account suspended.' : 'Account reactivated.',
      statusErrors,
    ).finally(() => {
      statusButton.disabled = false;
      statusButton.focus();
    });
  });
  const statusCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'status-title' },
    h('h2', { id: 'status-title' }, 'Status'),
    statusText,
    statusErrors,
    h('div', { class: 'actions' }, statusButton),
  );

  // Limit overrides
  const planLimits = () => plans.data.find((p) => p.id === current.plan)?.rate_limits;
  const overrideInputs = LIMITS.map((l) => ({
    ...l,
    input: h('input', {
      id: l.id,
      name: l.field,
      type: 'number',
      min: 1,
      step: 1,
      inputmode: 'numeric',
      'aria-describedby': `${l.id}-help`,
    }),
    help: h('p', { id: `${l.id}-help`, class: 'help' }),
  }));
  /** @param {AdminAccount} a */
  const showOverrides = (a) => {
    const plan = planLimits();
    for (const o of overrideInputs) {
      const value = a.rate_limit_overrides?.[o.field];
      o.input.value = value === undefined ? '' : String(value);
      o.input.removeAttribute('aria-invalid');
      const planValue = plan?.[o.field];
      o.help.textContent =
        planValue === undefined ? 'Empty: the plan’s.' : `Empty: the plan’s (${formatNumber(planValue)}).`;
    }
  };
  const overrideErrors = h('div', { id: 'override-errors' });
  const overrideForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'overrides-title', novalidate: true },
    h('h2', { id: 'overrides-title' }, 'Limit overrides'),
    h(
      'p',
      { class: 'help' },
      'For enterprise customers: these replace the plan’s limits for this account only.',
    ),
    h(
      'div',
      { class: 'row limits' },
      overrideInputs.map((o) =>
        h('div', { class: 'field' }, h('label', { for: o.id }, o.label), o.input, o.help),
      ),
    ),
    overrideErrors,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', id: 'save-overrides' }, 'Save overrides'),
      h('button', { type: 'button', id: 'clear-overrides' }, 'Use the plan’s limits'),
    ),
  );
  overrideForm.addEventListener('submit', (event) => {
    event.preventDefault();
    // An empty limit is sent as null: that limit is the plan's again.
    /** @type {Record<string, number | null>} */
    const limits = {};
    for (const o of overrideInputs) {
      o.input.removeAttribute('aria-invalid');
      const text = o.input.value.trim();
      limits[o.field] = null;
      if (text === '') continue;
      const value = Number(text);
      if (!Number.isInteger(value) || value < 1) {
        o.input.setAttribute('aria-invalid', 'true');
        replace(
          overrideErrors,
          h('p', { class: 'field-error', role: 'alert' }, `${o.label}: a whole number, 1 or more.`),
        );
        o.input.focus();
        return;
      }
      limits[o.field] = value;
    }
    void update(
      { rate_limits: Object.values(limits).some((v) => v !== null) ? limits : null },
      'Limit overrides saved.',
      overrideErrors,
    );
  });
  overrideForm.querySelector('#clear-overrides')?.addEventListener('click', () => {
    void update({ rate_limits: null }, 'The plan’s limits apply again.', overrideErrors);
  });

  // Keys
  const keysBody = h('tbody');
  const keysErrors = h('div');
  const issued = h('div', { id: 'issued-key', 'aria-live': 'polite' });
  const keyName = h('input', { id: 'key-name', name: 'name', maxlength: 200, autocomplete: 'off' });
  const loadKeys = async () => {
    const keys = /** @type {{data: import('../types').ApiKeyInfo[]}} */ (await api('GET', `${path}/keys`));
    replace(
      keysBody,
      keys.data.length === 0
        ? h('tr', {}, h('td', { colspan: 5 }, 'No keys yet.'))
        : keys.data.map((k) =>
            h(
              'tr',
              { 'data-key-id': k.id },
              h('td', { 'data-label': 'Key' }, h('code', {}, `${k.prefix}…`)),
              h('td', { 'data-label': 'Name' }, k.name ?? '—'),
              h('td', { 'data-label': 'Issued' }, formatDate(k.created_at)),
              h(
                'td',
                { 'data-label': 'State' },
                k.revoked_at
                  ? h('span', { class: 'badge badge-suspended' }, `revoked ${formatDate(k.revoked_at)}`)
                  : h('span', { class: 'badge badge-active' }, 'active'),
              ),
              h(
                'td',
                { 'data-label': 'Revoke' },
                k.revoked_at
                  ? '—'
                  : h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        'aria-label': `Revoke key ${k.prefix}…`,
                        onclick: () => void revoke(k),
                      },
                      'Revoke',
                    ),
              ),
            ),
          ),
    );
  };
  /** @param {import('../types').ApiKeyInfo} key */
  const revoke = async (key) => {
    replace(keysErrors);
    try {
      await api('DELETE', `/admin/v1/keys/${encodeURIComponent(key.id)}`);
      await loadKeys();
      replace(
        notice,
        h('p', { class: 'alert alert-success' }, `Key ${key.prefix}… revoked: Easel refuses it now.`),
      );
      keyName.focus();
    } catch (err) {
      if (!signal.aborted) replace(keysErrors, errorAlert(err));
    }
  };
  const keyForm = h(
    'form',
    { class: 'actions', novalidate: true, 'aria-label': 'Issue a key' },
    field('key-name', 'Key name (optional)', keyName),
    h('button', { type: 'submit', id: 'issue-key' }, 'Issue key'),
  );
  keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    replace(keysErrors);
    const body = keyName.value.trim() ? { name: keyName.value.trim() } : {};
    api('POST', `${path}/keys`, body)
      .then(async (k) => {
        keyName.value = '';
        showIssuedKey(issued, current.name, /** @type {import('../types').IssuedKey} */ (k), () =>
          keyName.focus(),
        );
        await loadKeys();
      })
      .catch((/** @type {unknown} */ err) => {
        if (!signal.aborted) replace(keysErrors, errorAlert(err));
      });
  });
  const keysCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'keys-title' },
    h('h2', { id: 'keys-title' }, 'API keys'),
    issued,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'keys' },
        h('caption', { class: 'visually-hidden' }, 'API keys'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Key', 'Name', 'Issued', 'State', 'Revoke'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        keysBody,
      ),
    ),
    keysErrors,
    keyForm,
  );

  // Grants
  const grantCredits = h('input', {
    id: 'grant-credits',
    name: 'credits',
    type: 'number',
    min: 1,
    step: 1,
    inputmode: 'numeric',
    required: true,
  });
  const grantReason = h('input', {
    id: 'grant-reason',
    name: 'reason',
    maxlength: 500,
    autocomplete: 'off',
    'aria-describedby': 'grant-help',
  });
  const grantErrors = h('div');
  const grantButton = h('button', { type: 'submit', id: 'grant', class: 'primary' }, 'Grant credits');
  // One idempotency key per intended grant: a retry after a lost answer cannot grant twice.
  let grantKey = crypto.randomUUID();
  const grantForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'grant-title', novalidate: true },
    h('h2', { id: 'grant-title' }, 'Grant credits'),
    h(
      'div',
      { class: 'row' },
      field('grant-credits', 'Credits', grantCredits),
      field('grant-reason', 'Reason', grantReason),
    ),
    h(
      'p',
      { id: 'grant-help', class: 'help' },
      'Granted credits never expire. The reason is kept in the ledger (an invoice or ticket number).',
    ),
    grantErrors,
    h('div', { class: 'actions' }, grantButton),
  );
  grantForm.addEventListener('submit', (event) => {
    event.preventDefault();
    replace(grantErrors);
    const credits = Number(grantCredits.value);
    if (!Number.isInteger(credits) || credits < 1) {
      grantCredits.setAttribute('aria-invalid', 'true');
      replace(
        grantErrors,
        h('p', { class: 'field-error', role: 'alert' }, 'Credits: a whole number, 1 or more.'),
      );
      grantCredits.focus();
      return;
    }
    grantCredits.removeAttribute('aria-invalid');
    grantButton.disabled = true;
    api('POST', `${path}/grants`, {
      credits,
      idempotency_key: `console-${grantKey}`,
      ...(grantReason.value.trim() && { reason: grantReason.value.trim() }),
    })
      .then(async () => {
        grantKey = crypto.randomUUID();
        grantCredits.value = '';
        grantReason.value = '';
        current = /** @type {AdminAccount} */ (await api('GET', path));
        showSummary(current);
        replace(
          notice,
          h('p', { class: 'alert alert-success' }, `${formatNumber(credits)} credits granted.`),
        );
        await loadLedger(true);
        grantCredits.focus();
      })
      .catch((/** @type {unknown} */ err) => {
        if (!signal.aborted) replace(grantErrors, errorAlert(err));
      })
      .finally(() => {
        grantButton.disabled = false;
      });
  });

  // Ledger
  const ledgerBox = h('div');
  const olderButton = h('button', { type: 'button', id: 'older-entries', hidden: true }, 'Older entries');
  const newestButton = h('button', { type: 'button', id: 'newest-entries', hidden: true }, 'Newest entries');
  /** @type {number | null} */
  let nextBefore = null;
  /** @type {HTMLTableSectionElement | null} */
  let ledgerBody = null;
  /**
   * @param {boolean} fromTop the newest page (or the page starting at `highlight`), else the next older one
   * @param {number} [highlight] the sequence number of an entry to open the ledger at, and mark
   */
  const loadLedger = async (fromTop, highlight) => {
    const params = new URLSearchParams({ limit: String(LEDGER_PAGE) });
    const before = fromTop ? (highlight === undefined ? undefined : highlight + 1) : nextBefore;
    if (before) params.set('before', String(before));
    const page = /** @type {import('../types').LedgerPage} */ (await api('GET', `${path}/ledger?${params}`));
    if (fromTop || !ledgerBody) {
      const table = ledgerTable(page.data, { caption: 'Ledger, newest first', id: 'ledger', highlight });
      ledgerBody = table.querySelector('tbody');
      replace(ledgerBox, table);
      newestButton.hidden = highlight === undefined;
    } else {
      appendLedgerRows(ledgerBody, page.data);
    }
    nextBefore = page.next_before;
    olderButton.hidden = nextBefore === null;
  };
  olderButton.addEventListener('click', () => {
    loadLedger(false).catch((/** @type {unknown} */ err) => ledgerBox.append(errorAlert(err)));
  });
  newestButton.addEventListener('click', () => {
    loadLedger(true).catch((/** @type {unknown} */ err) => ledgerBox.append(errorAlert(err)));
  });
  const ledgerCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'ledger-title' },
    h('h2', { id: 'ledger-title' }, 'Ledger'),
    h(
      'p',
      { class: 'help' },
      'Every movement of the account’s credits, with its balances after it. A capture or release settles the reservation it names.',
    ),
    ledgerBox,
    h('div', { class: 'actions pager' }, newestButton, olderButton),
  );

  replace(
    main,
    h('p', {}, h('a', { href: '#accounts' }, '← All accounts')),
    title,
    notice,
    summary,
    h('div', { class: 'backoffice-grid' }, planForm, statusCard),
    overrideForm,
    keysCard,
    grantForm,
    ledgerCard,
  );
  showSummary(account);
  showStatus(account);
  showOverrides(account);
  await Promise.all([loadKeys(), loadLedger(true, focusSeq)]);
  if (focusSeq !== undefined) {
    const row = ledgerBox.querySelector('tr.highlight');
    row?.scrollIntoView({ block: 'center' });
  }
}
