// @ts-check
/**
 * Builds elements from plain values: text is always set as text, never parsed as HTML, so no
 * answer of the API can inject markup.
 */

/**
 * @typedef {string | number | boolean | null | undefined | EventListener} AttributeValue
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * `h('button', {type: 'button', onclick: cancel}, 'Cancel')`. Attributes whose value is false,
 * null or undefined are left out; `on…` attributes take listeners.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttributeValue>} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') {
      element.addEventListener(name.replace(/^on/, ''), value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/**
 * @param {Element} parent
 * @param {Array<Child | Child[]>} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's children.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * A labelled form field: the label (for the control's id) above its control, and any help after.
 * @param {string} controlId
 * @param {string} label
 * @param {...(Child | Child[])} rest the control, then any help text or hint
 */
export function field(controlId, label, ...rest) {
  return h('div', { class: 'field' }, h('label', { for: controlId }, label), ...rest);
}

/** @param {number} n */
export function formatNumber(n) {
  return new Intl.NumberFormat('en-US').format(n);
}

/** @param {number} usd */
export function formatUsd(usd) {
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 2,
    maximumFractionDigits: usd < 1 ? 4 : 2,
  }).format(usd);
}

/** @param {string | null | undefined} iso */
export function formatDate(iso) {
  if (!iso) return '—';
  return (
    new Date(iso).toLocaleString('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }) + ' UTC'
  );
}
