// @ts-check
import { call } from './api.js';
import { formatDate, h, replace } from './dom.js';
import { errorAlert } from './views.js';

/** @typedef {import('../types').WebhookSecret} WebhookSecret */
/** @typedef {import('../types').RotatedWebhookSecret} RotatedWebhookSecret */

/**
 * The account's webhook signing secret: masked until revealed, and rotated only after a
 * confirmation that says what rotation does to deliveries in flight.
 * @param {import('../types').ScreenContext} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function webhookSecretCard(ctx) {
  const { session, signal } = ctx;
  const current = /** @type {WebhookSecret} */ (
    await call(session.token, 'GET', '/v1/webhooks/secret', { signal })
  );
  // A password field masks the secret and still lets it be selected and copied once revealed.
  const secret = h('input', {
    id: 'webhook-secret',
    name: 'webhook-secret',
    type: 'password',
    readonly: true,
    autocomplete: 'off',
    spellcheck: 'false',
    value: current.secret,
    'aria-describedby': 'webhook-secret-help',
  });
  const reveal = h(
    'button',
    { type: 'button', id: 'reveal-secret', 'aria-pressed': 'false', 'aria-controls': 'webhook-secret' },
    'Reveal',
  );
  reveal.addEventListener('click', () => {
    const shown = secret.type === 'password';
    secret.type = shown ? 'text' : 'password';
    reveal.setAttribute('aria-pressed', String(shown));
    reveal.textContent = shown ? 'Hide' : 'Reveal';
  });
  const created = h('dd', { id: 'webhook-secret-created' }, formatDate(current.created_at));
  const previous = h('dd', { id: 'webhook-previous' });
  /** @param {string[]} until */
  const showPrevious = (until) =>
    replace(
      previous,
      until.length === 0
        ? 'None: only this secret signs deliveries.'
        : until.flatMap((t, i) => [
            i > 0 ? h('br') : null,
            `Still signs, alongside this one, until ${formatDate(t)}`,
          ]),
    );
  showPrevious(current.also_signing_until);
  const outcome = h('div', { id: 'rotate-outcome', role: 'status' });

  const confirm = h('button', { type: 'button', class: 'danger', id: 'confirm-rotate' }, 'Rotate the secret');
  const keep = h('button', { type: 'button', id: 'keep-secret' }, 'Keep the current secret');
  const dialog = h(
    'dialog',
    { id: 'rotate-dialog', 'aria-labelledby': 'rotate-title', 'aria-describedby': 'rotate-what' },
    h('h2', { id: 'rotate-title' }, 'Rotate the webhook signing secret?'),
    h(
      'p',
      { id: 'rotate-what' },
      'A new secret signs every delivery from now on. The current one keeps signing alongside it for 24 hours, ' +
        'so receivers that still check the old one go on accepting deliveries while you deploy the new one.',
    ),
    h('div', { class: 'actions' }, keep, confirm),
  );
  const rotate = h('button', { type: 'button', class: 'danger', id: 'rotate-secret' }, 'Rotate secret…');
  rotate.addEventListener('click', () => {
    dialog.showModal();
    // The safe choice has the focus: Enter right away keeps the secret.
    keep.focus();
  });
  keep.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => rotate.focus());
  confirm.addEventListener('click', () => {
    confirm.disabled = true;
    call(session.token, 'POST', '/v1/webhooks/secret/rotate', { signal })
      .then((/** @type {unknown} */ answer) => {
        const fresh = /** @type {RotatedWebhookSecret} */ (answer);
        secret.value = fresh.secret;
        created.textContent = formatDate(fresh.created_at);
        // Every secret still inside its overlap, the one just replaced first.
        return call(session.token, 'GET', '/v1/webhooks/secret', { signal }).then(
          (/** @type {unknown} */ after) => {
            const now = /** @type {WebhookSecret} */ (after);
            showPrevious(now.also_signing_until);
            replace(
              outcome,
              h(
                'p',
                { class: 'alert alert-success' },
                'Rotated: the new secret is in the field above. ',
                fresh.previous_expires_at
                  ? `The previous one still signs until ${formatDate(fresh.previous_expires_at)}.`
                  : 'There was no previous secret.',
              ),
            );
          },
        );
      })
      .catch((/** @type {unknown} */ err) => {
        if (!signal.aborted) replace(outcome, errorAlert(err));
      })
      .finally(() => {
        confirm.disabled = false;
        if (dialog.open) dialog.close();
      });
  });

  return h(
    'section',
    { class: 'card', id: 'webhooks', 'aria-labelledby': 'webhooks-title' },
    h('h2', { id: 'webhooks-title' }, 'Webhook signing secret'),
    h(
      'p',
      { id: 'webhook-secret-help', class: 'help' },
      'Easel signs each webhook delivery with this secret (Standard Webhooks: the webhook-id, webhook-timestamp ' +
        'and webhook-signature headers). Check the signature with it before trusting a delivery, and keep it secret.',
    ),
    h('label', { for: 'webhook-secret' }, 'Signing secret'),
    h('div', { class: 'row secret' }, secret, reveal),
    h('dl', { class: 'facts' }, h('dt', {}, 'Created'), created, h('dt', {}, 'Previous secret'), previous),
    h('div', { class: 'actions' }, rotate),
    outcome,
    dialog,
  );
}
