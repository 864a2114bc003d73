// @ts-check
import { call } from './api.js';
import { field, formatNumber, formatUsd, h, replace } from './dom.js';
import { errorAlert } from './views.js';

/** @typedef {import('../types').UsageReport} UsageReport */
/** @typedef {import('../types').UsageRow} UsageRow */

const DAY_MS = 24 * 3600_000;
const DEFAULT_DAYS = 30;
const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element. Like `h`, text is set as text; presentation goes through classes in the style
 * sheet, since the page's policy forbids inline styles.
 * @param {string} tag
 * @param {Record<string, string | number>} [attributes]
 * @param {...(Node | string)} children
 * @returns {SVGElement}
 */
function s(tag, attributes = {}, ...children) {
  const element = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** @param {Date} date */
const isoDay = (date) => date.toISOString().slice(0, 10);

/** @param {string} day `YYYY-MM-DD` */
function shortDay(day) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
}

/** @param {number} n @param {string} one @param {string} [many] */
const plural = (n, one, many = `${one}s`) => `${formatNumber(n)} ${n === 1 ? one : many}`;

/**
 * The smallest of 1, 2, 5 × 10^k at least `max`: the top of an axis with round ticks.
 * @param {number} max
 */
function axisTop(max) {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((top) => top >= max) ?? 10 * magnitude;
}

/**
 * Draws `draw(width)` into `box` at the box's own width, and again whenever that width changes,
 * so that the chart's text keeps its size at any screen width instead of scaling with a viewBox.
 * @param {HTMLElement} box
 * @param {(width: number) => SVGElement} draw
 * @param {AbortSignal} signal
 */
function drawAtWidth(box, draw, signal) {
  let drawn = 0;
  const redraw = () => {
    const width = Math.max(260, Math.floor(box.clientWidth));
    if (width === drawn) return;
    drawn = width;
    box.replaceChildren(draw(width));
  };
  redraw();
  const observer = new ResizeObserver(redraw);
  observer.observe(box);
  signal.addEventListener('abort', () => observer.disconnect(), { once: true });
}

/**
 * Credits charged per day of the window, one column a day (days without usage included, so that
 * the axis is time).
 * @param {Array<{day: string, row: UsageRow | undefined}>} days
 * @param {number} width
 */
function dayChart(days, width) {
  const height = 220;
  const margin = { top: 20, right: 8, bottom: 28, left: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const top = axisTop(Math.max(0, ...days.map((d) => d.row?.credits_charged ?? 0)));
  const step = plotWidth / Math.max(1, days.length);
  const y = (/** @type {number} */ v) => margin.top + plotHeight - (v / top) * plotHeight;
  const total = days.reduce((sum, d) => sum + (d.row?.credits_charged ?? 0), 0);
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  const svg = s('svg', {
    class: 'chart',
    id: 'day-chart-svg',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Credits charged by day, ${first} to ${last}: ${plural(total, 'credit')} in all. The table below has each day’s numbers.`,
  });
  // Credits are whole: the middle tick only where it is one.
  for (const tick of top % 2 === 0 ? [0, top / 2, top] : [0, top]) {
    svg.append(
      s('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }),
      s(
        'text',
        { class: 'axis', x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' },
        formatNumber(tick),
      ),
    );
  }
  days.forEach(({ day, row }, i) => {
    const credits = row?.credits_charged ?? 0;
    const barWidth = Math.max(1, Math.min(48, step * 0.7));
    const x = margin.left + i * step + (step - barWidth) / 2;
    if (credits > 0) {
      svg.append(
        s(
          'rect',
          {
            class: 'bar',
            'data-day': day,
            'data-credits': credits,
            x,
            y: y(credits),
            width: barWidth,
            height: y(0) - y(credits),
          },
          s(
            'title',
            {},
            `${day}: ${plural(credits, 'credit')} charged, ${plural(row?.images ?? 0, 'image')}`,
          ),
        ),
      );
      // The value over its column, where columns are wide enough to hold it.
      if (step >= 22) {
        svg.append(
          s(
            'text',
            { class: 'value', x: x + barWidth / 2, y: y(credits) - 5, 'text-anchor': 'middle' },
            String(credits),
          ),
        );
      }
    }
  });
  const labelled =
    days.length <= 8 || width >= 640
      ? [0, Math.floor((days.length - 1) / 2), days.length - 1]
      : [0, days.length - 1];
  for (const i of new Set(labelled)) {
    const day = days[i]?.day;
    if (!day) continue;
    const anchor = i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle';
    const x =
      i === 0 ? margin.left : i === days.length - 1 ? width - margin.right : margin.left + (i + 0.5) * step;
    svg.append(s('text', { class: 'axis', x, y: height - 8, 'text-anchor': anchor }, shortDay(day)));
  }
  return svg;
}

/**
 * Horizontal bars, one a row, each labelled with its value.
 * @param {Array<{label: string, value: number, kind: string, data: Record<string, string>}>} bars
 * @param {number} width
 * @param {string} description
 */
function barChart(bars, width, description) {
  const rowHeight = 32;
  const labelWidth = Math.min(140, Math.floor(width * 0.36));
  const valueRoom = 48;
  const height = bars.length * rowHeight + 8;
  const top = Math.max(1, ...bars.map((b) => b.value));
  const barRoom = width - labelWidth - valueRoom - 8;
  const svg = s('svg', {
    class: 'chart',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': description,
  });
  bars.forEach((bar, i) => {
    const y = 4 + i * rowHeight;
    const length = (bar.value / top) * barRoom;
    const dataAttributes = Object.fromEntries(Object.entries(bar.data).map(([k, v]) => [`data-${k}`, v]));
    svg.append(
      s(
        'text',
        { class: 'label', x: labelWidth - 8, y: y + rowHeight / 2 + 4, 'text-anchor': 'end' },
        bar.label,
      ),
      s(
        'rect',
        {
          class: `bar ${bar.kind}`,
          ...dataAttributes,
          x: labelWidth,
          y: y + 5,
          width: Math.max(bar.value > 0 ? 2 : 0, length),
          height: rowHeight - 10,
        },
        s('title', {}, `${bar.label}: ${plural(bar.value, 'credit')}`),
      ),
      s(
        'text',
        { class: 'value', x: labelWidth + length + 6, y: y + rowHeight / 2 + 4 },
        formatNumber(bar.value),
      ),
    );
  });
  return svg;
}

/**
 * A table of rows keyed by day or model: the chart's numbers, for reading and for screen readers.
 * @param {string} id
 * @param {string} caption
 * @param {string} keyLabel
 * @param {Array<{key: string, row: UsageRow}>} rows
 */
function usageTable(id, caption, keyLabel, rows) {
  const columns = [
    keyLabel,
    'Credits charged',
    'Images',
    'Jobs succeeded',
    'Failed or canceled',
    'Credits not charged',
    'USD',
    'Auto would have charged',
  ];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'usage', id },
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map(({ key, row }) =>
          h(
            'tr',
            { 'data-key': key },
            h('th', { scope: 'row', 'data-label': keyLabel }, key),
            h('td', { 'data-label': 'Credits charged' }, formatNumber(row.credits_charged)),
            h('td', { 'data-label': 'Images' }, formatNumber(row.images)),
            h('td', { 'data-label': 'Jobs succeeded' }, formatNumber(row.jobs_succeeded)),
            h(
              'td',
              { 'data-label': 'Failed or canceled' },
              formatNumber(row.jobs_failed + row.jobs_canceled),
            ),
            h('td', { 'data-label': 'Credits not charged' }, formatNumber(row.credits_not_charged)),
            h('td', { 'data-label': 'USD' }, formatUsd(row.usd)),
            h(
              'td',
              { 'data-label': 'Auto would have charged' },
              row.auto.jobs_with_task > 0
                ? `${formatNumber(row.auto.credits_with_auto)} for ${plural(row.auto.jobs_with_task, 'job')} with a task (charged ${formatNumber(row.auto.credits_charged)})`
                : '—',
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * What `auto` would have charged, in words. The API compares only succeeded jobs that named a
 * task: a task is what auto routes by, so for a job without one there is nothing to compare.
 * @param {UsageRow['auto']} auto
 */
function autoSummary(auto) {
  if (auto.jobs_with_task === 0) {
    return 'None of these jobs named a task, so there is nothing to compare: auto picks a model from a task, and Easel does not guess the task of a job that gave none.';
  }
  const difference = auto.credits_saved;
  const verdict =
    difference > 0
      ? `Auto would have saved ${plural(difference, 'credit')}.`
      : difference < 0
        ? `Auto would have cost ${plural(-difference, 'credit')} more.`
        : 'Auto would have charged the same.';
  return `${plural(auto.jobs_with_task, 'succeeded job')} named a task. They were charged ${plural(auto.credits_charged, 'credit')}; routing them by task with auto would have charged ${plural(auto.credits_with_auto, 'credit')}. ${verdict}`;
}

/**
 * Usage over a window of whole UTC days: totals, credits by day and by model as charts (each with
 * a table of its numbers), and what `auto` routing would have charged.
 * @param {import('../types').ScreenContext} ctx
 */
export async function renderUsage(ctx) {
  const { session, main, signal } = ctx;
  const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const from = h('input', {
    id: 'usage-from',
    name: 'from',
    type: 'date',
    required: true,
    value: isoDay(new Date(today.getTime() - (DEFAULT_DAYS - 1) * DAY_MS)),
  });
  const through = h('input', {
    id: 'usage-through',
    name: 'through',
    type: 'date',
    required: true,
    value: isoDay(today),
    'aria-describedby': 'usage-window-help',
  });
  const windowError = h('p', { id: 'usage-window-error', class: 'field-error', role: 'alert', hidden: true });
  const show = h('button', { type: 'submit', class: 'primary' }, 'Show usage');
  const form = h(
    'form',
    { class: 'usage-window', novalidate: true, 'aria-label': 'Usage window' },
    field('usage-from', 'From', from),
    field('usage-through', 'Through', through),
    h('div', { class: 'field' }, show),
  );
  const report = h('div', { id: 'usage' });
  // One short line is announced when a report arrives, rather than the whole report.
  const status = h('p', { id: 'usage-status', class: 'visually-hidden', role: 'status' });
  replace(
    main,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'usage-title' },
      h('h1', { id: 'usage-title' }, 'Usage'),
      form,
      h(
        'p',
        { id: 'usage-window-help', class: 'help' },
        'Whole days in UTC, both ends included. Jobs still queued or running count once they end.',
      ),
      windowError,
      status,
      report,
    ),
  );

  /** @type {AbortController | undefined} */
  let drawing;
  signal.addEventListener('abort', () => drawing?.abort(), { once: true });
  const load = async () => {
    windowError.hidden = true;
    from.removeAttribute('aria-invalid');
    if (!from.value || !through.value || from.value > through.value) {
      windowError.textContent = 'Pick a first day on or before the last day.';
      windowError.hidden = false;
      from.setAttribute('aria-invalid', 'true');
      from.focus();
      return;
    }
    const to = isoDay(new Date(Date.parse(`${through.value}T00:00:00Z`) + DAY_MS));
    const query = (/** @type {'day' | 'model'} */ groupBy) =>
      `/v1/usage?${new URLSearchParams({ group_by: groupBy, from: from.value, to }).toString()}`;
    report.setAttribute('aria-busy', 'true');
    show.disabled = true;
    try {
      const [byDay, byModel] = await Promise.all([
        /** @type {Promise<UsageReport>} */ (call(session.token, 'GET', query('day'), { signal })),
        /** @type {Promise<UsageReport>} */ (call(session.token, 'GET', query('model'), { signal })),
      ]);
      // The charts of the window shown before stop redrawing themselves.
      drawing?.abort();
      drawing = new AbortController();
      showReport(report, byDay, byModel, drawing.signal);
      status.textContent = `Usage from ${from.value} through ${through.value}: ${plural(byDay.total.credits_charged, 'credit')} charged.`;
    } catch (err) {
      if (!signal.aborted) replace(report, errorAlert(err));
    } finally {
      report.removeAttribute('aria-busy');
      show.disabled = false;
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  await load();
}

/**
 * @param {HTMLElement} report
 * @param {UsageReport} byDay
 * @param {UsageReport} byModel
 * @param {AbortSignal} signal
 */
function showReport(report, byDay, byModel, signal) {
  const total = byDay.total;
  const rowsByDay = new Map(byDay.data.map((r) => [r.day ?? '', r]));
  /** @type {Array<{day: string, row: UsageRow | undefined}>} */
  const days = [];
  for (let t = Date.parse(byDay.from); t < Date.parse(byDay.to); t += DAY_MS) {
    const day = isoDay(new Date(t));
    days.push({ day, row: rowsByDay.get(day) });
  }
  const models = byModel.data
    .map((r) => ({ key: r.model ?? '', row: r }))
    .sort((a, b) => b.row.credits_charged - a.row.credits_charged || (a.key < b.key ? -1 : 1));
  /** @param {string} term @param {string} value @param {string} id */
  const fact = (term, value, id) => [h('dt', {}, term), h('dd', { id }, value)];
  const dayBox = h('div', { class: 'chart-box', id: 'day-chart' });
  const modelBox = h('div', { class: 'chart-box', id: 'model-chart' });
  const autoBox = h('div', { class: 'chart-box', id: 'auto-chart' });
  const lastDay = days[days.length - 1]?.day ?? '';
  replace(
    report,
    h(
      'dl',
      { class: 'facts usage-totals', id: 'usage-totals' },
      fact('Credits charged', formatNumber(total.credits_charged), 'usage-credits'),
      fact('On your plan', `${formatUsd(total.usd)} (${byDay.plan})`, 'usage-usd'),
      fact('Images delivered', formatNumber(total.images), 'usage-images'),
      fact('Jobs succeeded', formatNumber(total.jobs_succeeded), 'usage-succeeded'),
      fact(
        'Failed or canceled',
        `${formatNumber(total.jobs_failed + total.jobs_canceled)} (${plural(total.credits_not_charged, 'credit')} reserved, then released: not charged)`,
        'usage-not-charged',
      ),
    ),
    h(
      'section',
      { class: 'usage-part', 'aria-labelledby': 'auto-title' },
      h('h2', { id: 'auto-title' }, 'What auto routing would have charged'),
      h('p', { id: 'auto-summary' }, autoSummary(total.auto)),
      total.auto.jobs_with_task > 0 ? autoBox : null,
    ),
    h(
      'section',
      { class: 'usage-part', 'aria-labelledby': 'by-day-title' },
      h('h2', { id: 'by-day-title' }, 'Credits by day'),
      h('figure', {}, dayBox),
      days.some((d) => d.row)
        ? usageTable(
            'usage-by-day',
            `Usage by day, ${days[0]?.day ?? ''} to ${lastDay}`,
            'Day',
            days.flatMap((d) => (d.row ? [{ key: d.day, row: d.row }] : [])),
          )
        : h('p', {}, 'No jobs ended in these days.'),
    ),
    h(
      'section',
      { class: 'usage-part', 'aria-labelledby': 'by-model-title' },
      h('h2', { id: 'by-model-title' }, 'Credits by model'),
      models.length > 0
        ? [h('figure', {}, modelBox), usageTable('usage-by-model', 'Usage by model', 'Model', models)]
        : h('p', {}, 'No jobs ended in these days.'),
    ),
  );
  drawAtWidth(dayBox, (width) => dayChart(days, width), signal);
  if (models.length > 0) {
    drawAtWidth(
      modelBox,
      (width) =>
        barChart(
          models.map(({ key, row }) => ({
            label: key,
            value: row.credits_charged,
            kind: 'charged',
            data: { model: key, credits: String(row.credits_charged) },
          })),
          width,
          `Credits charged by model: ${models.map(({ key, row }) => `${key} ${formatNumber(row.credits_charged)}`).join(', ')}.`,
        ),
      signal,
    );
  }
  if (total.auto.jobs_with_task > 0) {
    const { auto } = total;
    drawAtWidth(
      autoBox,
      (width) =>
        barChart(
          [
            { label: 'Charged', value: auto.credits_charged, kind: 'charged', data: { series: 'charged' } },
            { label: 'With auto', value: auto.credits_with_auto, kind: 'auto', data: { series: 'auto' } },
          ],
          width,
          `Jobs that named a task: charged ${plural(auto.credits_charged, 'credit')}, with auto ${plural(auto.credits_with_auto, 'credit')}.`,
        ),
      signal,
    );
  }
}
