// @ts-check
import { ApiError, call } from './api.js';
import { formatNumber, formatUsd, h, replace } from './dom.js';
import { errorAlert, imageGrid, isTerminal, jobFailure, statusBadge } from './views.js';

/** @typedef {import('../types').Job} Job */
/** @typedef {import('../types').Account} Account */

/**
 * The long-poll answers as soon as the job ends, but not when its progress or queue position
 * changes: a few seconds' wait keeps the bar moving at a fraction of a plan's read limit.
 */
const WAIT_SECONDS = 3;
const ASPECT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9', '9:21'];
/** The request fields the API may name in `details.fields`, and the input that holds each. */
const FIELD_INPUTS = /** @type {const} */ ({
  model: 'model',
  task: 'task',
  prompt: 'prompt',
  negative_prompt: 'negative-prompt',
  aspect_ratio: 'aspect-ratio',
  n: 'n',
  seed: 'seed',
});

/**
 * @param {string} id
 * @param {string} text
 * @param {HTMLElement} control
 * @param {string} [help]
 */
function field(id, text, control, help) {
  if (help) control.setAttribute('aria-describedby', `${id}-help`);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, text),
    control,
    help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null,
    h('p', { id: `${id}-error`, class: 'field-error', hidden: true }),
  );
}

/** @param {import('../types').ScreenContext} ctx */
export async function renderPlayground(ctx) {
  const { session, main, signal } = ctx;
  /** @type {(method: string, path: string, body?: unknown) => Promise<unknown>} */
  const api = (method, path, body) => call(session.token, method, path, { body, signal });
  const [models, firstAccount] = /** @type {[import('../types').ModelList, Account]} */ (
    await Promise.all([api('GET', '/v1/models'), api('GET', '/v1/account')])
  );
  let account = firstAccount;

  const model = h(
    'select',
    { id: 'model', name: 'model' },
    h('option', { value: 'auto' }, 'auto — Easel picks the model for a task'),
    models.data.map((m) =>
      h('option', { value: m.id }, `${m.id} — ${m.credits} credit${m.credits === 1 ? '' : 's'} per image`),
    ),
  );
  const first = models.data[0];
  if (first) model.value = first.id;
  // With a named model the task is optional: said, the usage page shows what auto routing would
  // have charged for the job. With auto it picks the model, so "not said" is not offered.
  const noTask = h('option', { value: '' }, 'not said');
  const taskNames = Object.keys(models.auto.tasks);
  const task = h(
    'select',
    { id: 'task', name: 'task' },
    noTask,
    Object.entries(models.auto.tasks).map(([name, target]) =>
      h('option', { value: name }, `${name} (${target})`),
    ),
  );
  const taskField = field('task', 'Task', task, models.auto.description);
  const taskLabel = /** @type {HTMLLabelElement} */ (taskField.querySelector('label'));
  const taskHelp = /** @type {HTMLElement} */ (taskField.querySelector('#task-help'));
  // A task auto needed and filled in is not carried over to a model named afterwards; one the
  // user picked is.
  let taskPicked = false;
  task.addEventListener('change', () => (taskPicked = task.value !== ''));
  const showTaskFor = (/** @type {boolean} */ auto) => {
    noTask.hidden = noTask.disabled = auto;
    if (auto && task.value === '') task.value = taskNames[0] ?? '';
    if (!auto && !taskPicked) task.value = '';
    taskLabel.textContent = auto ? 'Task' : 'Task (optional)';
    taskHelp.textContent = auto
      ? models.auto.description
      : 'What the image is for: the usage page then shows what auto routing would have charged for it.';
  };
  const modelHelp = h('p', { id: 'model-help', class: 'help' });
  model.setAttribute('aria-describedby', 'model-help');
  const prompt = h('textarea', { id: 'prompt', name: 'prompt', rows: 4, maxlength: 4000, required: true });
  const negative = h('textarea', {
    id: 'negative-prompt',
    name: 'negative_prompt',
    rows: 2,
    maxlength: 2000,
  });
  const aspect = h(
    'select',
    { id: 'aspect-ratio', name: 'aspect_ratio' },
    ASPECT_RATIOS.map((r) => h('option', { value: r }, r)),
  );
  const n = h('input', {
    id: 'n',
    name: 'n',
    type: 'number',
    min: 1,
    max: 4,
    step: 1,
    value: 1,
    inputmode: 'numeric',
  });
  const seed = h('input', {
    id: 'seed',
    name: 'seed',
    type: 'number',
    min: 0,
    max: 4294967295,
    step: 1,
    inputmode: 'numeric',
    placeholder: 'random',
  });
  const price = h('p', { id: 'price', class: 'price', 'aria-live': 'polite' }, 'Working out the price…');
  const submitError = h('div', { id: 'submit-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Generate');
  const form = h(
    'form',
    { class: 'card playground-form', 'aria-labelledby': 'playground-title', novalidate: true },
    h('h1', { id: 'playground-title' }, 'Playground'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'model' }, 'Model'),
      model,
      modelHelp,
      h('p', { id: 'model-error', class: 'field-error', hidden: true }),
    ),
    taskField,
    field('prompt', 'Prompt', prompt),
    field('negative-prompt', 'Negative prompt (optional)', negative, 'What the image should not show.'),
    h(
      'div',
      { class: 'row' },
      field('aspect-ratio', 'Aspect ratio', aspect),
      field('n', 'Images', n),
      field('seed', 'Seed', seed),
    ),
    price,
    submitError,
    h('div', { class: 'actions' }, submit),
  );
  const jobPanel = h('section', {
    class: 'card job',
    id: 'job',
    'aria-labelledby': 'job-title',
    hidden: true,
  });
  replace(main, h('div', { class: 'playground' }, form, jobPanel));

  const selectedModel = () => models.data.find((m) => m.id === model.value);
  const count = () => Number(n.value);

  let estimateSeq = 0;
  const updatePrice = async () => {
    const seq = ++estimateSeq;
    const m = selectedModel();
    showTaskFor(model.value === 'auto');
    modelHelp.textContent = m ? `Best for: ${m.best_for}` : '';
    modelHelp.hidden = !m;
    if (!Number.isInteger(count()) || count() < 1 || count() > 4) {
      price.textContent = 'Choose between 1 and 4 images to see the price.';
      return;
    }
    try {
      const estimate = /** @type {import('../types').Estimate} */ (
        await api('POST', '/v1/estimate', {
          ...(model.value === 'auto' ? { task: task.value } : { model: model.value }),
          count: count(),
        })
      );
      if (seq !== estimateSeq) return;
      const onPlan = estimate.plans.find((p) => p.plan === account.plan);
      const usd = onPlan
        ? `${formatUsd(onPlan.usd)} on your ${account.plan} plan`
        : `${account.plan} credits have no USD price`;
      const routed = model.value === 'auto' ? `; auto picks ${estimate.model}` : '';
      const enough = estimate.credits <= account.balance.available;
      replace(
        price,
        h('strong', {}, `${formatNumber(estimate.credits)} credit${estimate.credits === 1 ? '' : 's'}`),
        ` (${estimate.credits_per_image} per image${routed}) · ${usd} · `,
        h(
          'span',
          { class: enough ? '' : 'warn' },
          `${formatNumber(account.balance.available)} available${enough ? '' : ': not enough'}`,
        ),
      );
    } catch (err) {
      if (signal.aborted || seq !== estimateSeq) return;
      replace(price, errorAlert(err));
    }
  };
  for (const control of [model, task, n]) control.addEventListener('change', () => void updatePrice());
  n.addEventListener('input', () => void updatePrice());
  await updatePrice();

  const clearFieldErrors = () => {
    for (const id of Object.values(FIELD_INPUTS)) {
      document.getElementById(id)?.removeAttribute('aria-invalid');
      const error = document.getElementById(`${id}-error`);
      if (error) error.hidden = true;
    }
    replace(submitError);
  };

  /** @param {unknown} err */
  const showSubmitError = (err) => {
    replace(submitError, errorAlert(err));
    if (err instanceof ApiError && err.code === 'invalid_request' && err.details.fields) {
      let focused = false;
      for (const [name, problem] of Object.entries(
        /** @type {Record<string, unknown>} */ (err.details.fields),
      )) {
        const id = FIELD_INPUTS[/** @type {keyof typeof FIELD_INPUTS} */ (name)];
        if (!id) continue;
        const input = document.getElementById(id);
        const error = document.getElementById(`${id}-error`);
        input?.setAttribute('aria-invalid', 'true');
        input?.setAttribute('aria-errormessage', `${id}-error`);
        if (error) {
          error.textContent = String(problem);
          error.hidden = false;
        }
        if (!focused && input) {
          input.focus();
          focused = true;
        }
      }
    }
  };

  /** @type {AbortController | undefined} */
  let following;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearFieldErrors();
    if (!prompt.value.trim()) {
      showSubmitError(
        new ApiError(400, 'invalid_request', 'Write a prompt.', { fields: { prompt: 'Write a prompt.' } }),
      );
      return;
    }
    const body = {
      model: model.value,
      ...(task.value !== '' && { task: task.value }),
      prompt: prompt.value,
      ...(negative.value.trim() && { negative_prompt: negative.value }),
      aspect_ratio: aspect.value,
      n: count(),
      ...(seed.value !== '' && { seed: Number(seed.value) }),
    };
    submit.disabled = true;
    submit.textContent = 'Submitting…';
    api('POST', '/v1/imagine', body)
      .then((job) => {
        following?.abort();
        following = new AbortController();
        void follow(/** @type {Job} */ (job), AbortSignal.any([signal, following.signal]));
      })
      .catch(async (/** @type {unknown} */ err) => {
        if (signal.aborted) return;
        showSubmitError(err);
        // The balance moved since the page loaded (other jobs hold or spent credits): show it now.
        if (err instanceof ApiError && err.code === 'insufficient_credits') {
          account = /** @type {Account} */ (await api('GET', '/v1/account'));
          await updatePrice();
        }
      })
      .finally(() => {
        submit.disabled = false;
        submit.textContent = 'Generate';
      });
  });

  /**
   * Shows the job and long-polls it until it ends (or the screen is left, or another job is
   * submitted).
   * @param {Job} job
   * @param {AbortSignal} jobSignal
   */
  const follow = async (job, jobSignal) => {
    jobPanel.hidden = false;
    const view = jobView(jobPanel, () => cancel(job.id, jobSignal, showJob));
    /** @param {Job} j */
    function showJob(j) {
      job = j;
      view.show(j);
    }
    showJob(job);
    view.focus();
    while (!isTerminal(job) && !jobSignal.aborted) {
      try {
        showJob(
          await call(session.token, 'GET', `/v1/jobs/${encodeURIComponent(job.id)}?wait=${WAIT_SECONDS}`, {
            signal: jobSignal,
          }),
        );
        view.problem(undefined);
      } catch (err) {
        if (jobSignal.aborted) return;
        view.problem(err);
        const seconds = err instanceof ApiError && err.retryAfter ? err.retryAfter : 2;
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      }
    }
    if (jobSignal.aborted) return;
    account = /** @type {Account} */ (await api('GET', '/v1/account'));
    await updatePrice();
  };

  /**
   * @param {string} id
   * @param {AbortSignal} jobSignal
   * @param {(job: Job) => void} showJob
   */
  const cancel = async (id, jobSignal, showJob) => {
    try {
      showJob(
        await call(session.token, 'POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`, { signal: jobSignal }),
      );
    } catch (err) {
      if (jobSignal.aborted) return;
      // It finished first: the answer carries the job as it ended.
      if (
        err instanceof ApiError &&
        err.status === 409 &&
        err.details.job &&
        typeof err.details.job === 'object'
      ) {
        showJob(/** @type {Job} */ (err.details.job));
        return;
      }
      throw err;
    }
  };
}

/**
 * The job panel: status, progress, queue position, cancel, images.
 * @param {HTMLElement} panel
 * @param {() => Promise<void>} onCancel
 */
function jobView(panel, onCancel) {
  const title = h('h2', { id: 'job-title', tabindex: -1 }, 'Job');
  const status = h('p', { class: 'job-status', id: 'job-status', role: 'status', 'aria-live': 'polite' });
  const progress = h('progress', { id: 'job-progress', max: 1, 'aria-label': 'Progress' });
  const details = h('dl', { class: 'facts' });
  const problem = h('div', { class: 'job-problem' });
  const cancelButton = h('button', { type: 'button', id: 'cancel', class: 'danger' }, 'Cancel job');
  const images = h('div', { class: 'job-images' });
  cancelButton.addEventListener('click', () => {
    cancelButton.disabled = true;
    cancelButton.textContent = 'Canceling…';
    onCancel()
      .catch((/** @type {unknown} */ err) => replace(problem, errorAlert(err)))
      .finally(() => {
        cancelButton.textContent = 'Cancel job';
      });
  });
  replace(
    panel,
    title,
    status,
    progress,
    details,
    problem,
    h('div', { class: 'actions' }, cancelButton),
    images,
  );
  let shownImages = '';
  return {
    focus: () => title.focus(),
    /** @param {unknown} err */
    problem: (err) => (err === undefined ? replace(problem) : replace(problem, errorAlert(err))),
    /** @param {Job} job */
    show(job) {
      panel.dataset.status = job.status;
      panel.dataset.jobId = job.id;
      const words = {
        queued:
          job.queue_position !== null && job.queue_position !== undefined
            ? `Queued: position ${job.queue_position + 1} in line.`
            : 'Queued.',
        running: job.progress !== null ? `Running: ${Math.round(job.progress * 100)}% done.` : 'Running.',
        succeeded: `Done: ${job.images.length} image${job.images.length === 1 ? '' : 's'}.`,
        failed: `Failed. ${jobFailure(job)}`,
        canceled:
          job.credits_charged > 0
            ? `Canceled; ${job.credits_charged} credits were charged.`
            : 'Canceled: the credits are back in your balance.',
      }[job.status];
      replace(status, statusBadge(job.status), ' ', words);
      if (job.status === 'queued' || job.status === 'running') {
        progress.hidden = false;
        if (job.progress === null) progress.removeAttribute('value');
        else progress.value = job.progress;
      } else {
        progress.hidden = true;
      }
      replace(
        details,
        h('dt', {}, 'Job'),
        h('dd', {}, h('code', {}, job.id)),
        h('dt', {}, 'Model'),
        h(
          'dd',
          {},
          job.model === job.requested_model ? job.model : `${job.model} (asked: ${job.requested_model})`,
        ),
        job.task ? h('dt', {}, 'Task') : null,
        job.task ? h('dd', {}, job.task) : null,
        h('dt', {}, 'Provider'),
        h('dd', {}, job.provider ?? '—'),
        h('dt', {}, 'Credits'),
        h('dd', {}, isTerminal(job) ? `${job.credits_charged} charged` : `${job.credits_reserved} reserved`),
        job.sandbox ? h('dt', {}, 'Note') : null,
        job.sandbox ? h('dd', {}, job.notice ?? 'Sandbox: placeholder images.') : null,
      );
      cancelButton.hidden = isTerminal(job);
      if (!isTerminal(job)) cancelButton.disabled = false;
      const imageKey = job.images.map((i) => i.url).join(' ');
      if (imageKey !== shownImages) {
        shownImages = imageKey;
        replace(images, job.images.length > 0 ? imageGrid(job) : null);
      }
    },
  };
}
