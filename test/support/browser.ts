import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type HTTPRequest, type Page } from 'puppeteer-core';

/** Where the console's screenshots go (`test/artifacts/`, ignored by git). */
export const ARTIFACTS = path.resolve(__dirname, '../artifacts/console');

/**
 * Debian's Chromium (infra/console/install-chromium.sh installs it): the binary itself rather than
 * the /usr/bin/chromium wrapper script, or CHROMIUM_PATH.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
  const found = candidates.find((p): p is string => p !== undefined && p !== '' && fs.existsSync(p));
  if (!found)
    throw new Error('no Chromium: run `bash infra/console/install-chromium.sh` (or set CHROMIUM_PATH)');
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI: Chromium's sandbox needs user namespaces it may not get there.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--lang=en-US'],
  });
}

/** A page that records every request it makes, and any console error or uncaught exception. */
export interface WatchedPage {
  page: Page;
  /** Every URL the page requested, in order. */
  requests: string[];
  /** Requests to any origin but `origin` (none should ever be made). */
  foreign(): string[];
  /** Page errors and CSP violations reported to the browser console. */
  errors: string[];
  close(): Promise<void>;
}

export async function openPage(
  browser: Browser,
  origin: string,
  viewport: { width: number; height: number } = { width: 1280, height: 900 },
): Promise<WatchedPage> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(viewport);
  const requests: string[] = [];
  const errors: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request: HTTPRequest) => {
    requests.push(request.url());
    // Nothing may leave the API's origin: refuse it (and the test sees it in `foreign()`).
    if (new URL(request.url()).origin !== origin && !request.url().startsWith('data:')) {
      void request.abort('blockedbyclient');
    } else {
      void request.continue();
    }
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return {
    page,
    requests,
    errors,
    foreign: () =>
      requests.filter(
        (url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin,
      ),
    close: () => context.close(),
  };
}

/** The two widths every screen is looked at: a desktop and a phone. */
export const WIDE = { width: 1280, height: 900 };
export const NARROW = { width: 390, height: 844 };

/**
 * Screenshots of the screen at 1280 and 390 px wide (the page is left at 1280). At both widths
 * every form control must have a label a screen reader can name, and at 390 px nothing may
 * scroll sideways: either fails the test, naming the screen.
 */
export async function snap(page: Page, name: string): Promise<void> {
  for (const viewport of [WIDE, NARROW]) {
    if (page.viewport()?.width !== viewport.width) await page.setViewport(viewport);
    await screenshot(page, name);
    const unlabelled = await unlabelledControls(page);
    if (unlabelled.length > 0)
      throw new Error(`${name} at ${viewport.width} px: controls without a label: ${unlabelled.join(', ')}`);
    const faint = await lowContrastText(page);
    if (faint.length > 0)
      throw new Error(`${name} at ${viewport.width} px: text below WCAG AA contrast: ${faint.join('; ')}`);
  }
  const scrollWidth = Number(await page.evaluate('document.documentElement.scrollWidth'));
  if (scrollWidth > NARROW.width)
    throw new Error(`${name} at ${NARROW.width} px scrolls sideways: ${scrollWidth} px wide`);
  await page.setViewport(WIDE);
}

/** Form controls a screen reader could not name. */
async function unlabelledControls(page: Page): Promise<string[]> {
  return (await page.evaluate(
    `[...document.querySelectorAll('input, select, textarea')].filter((el) => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')).map((el) => el.outerHTML)`,
  )) as string[];
}

/**
 * Visible text whose colour is below WCAG 2 AA contrast with the background it is drawn on: 4.5:1,
 * or 3:1 for large text (24 px, or 18.66 px bold). The background is the element's and its
 * ancestors' colours composited over white; text in SVG charts is read by its fill. Disabled
 * controls and placeholders are exempt, as in WCAG.
 */
async function lowContrastText(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const rgba = (value) => {
      const m = /rgba?\\(([^)]+)\\)/.exec(value);
      if (!m) return null;
      const [r, g, b, a] = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
      return [r, g, b, a === undefined || Number.isNaN(a) ? 1 : a];
    };
    const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c && c[3] > 0) layers.push(c);
        if (c && c[3] === 1) break;
      }
      return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1]);
    };
    const luminance = (c) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const faint = [];
    for (const el of document.querySelectorAll('body *')) {
      const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
      const control = el.matches('input:not([type=checkbox]):not([type=radio]), select, textarea');
      if (!ownText && !(control && el.value)) continue;
      if (el.disabled || el.closest('.visually-hidden, [aria-hidden=true]')) continue;
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility !== 'visible') continue;
      const inSvg = el instanceof SVGElement;
      const color = rgba(inSvg ? style.fill : style.color);
      if (!color) continue;
      const back = background(inSvg ? el.closest('svg') : el);
      const contrast = ratio(over(color, back), back);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (contrast < (large ? 3 : 4.5)) {
        const text = (control ? el.value : el.textContent).replace(/\\s+/g, ' ').trim().slice(0, 40);
        faint.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') + ' "' + text + '" ' + contrast.toFixed(2) + ':1');
      }
    }
    return faint;
  })()`)) as string[];
}

/** The rows of the table under `selector`, each a map from column (its data-label) to the cell's text. */
export async function tableRows(page: Page, selector: string): Promise<Array<Record<string, string>>> {
  return (await page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(`${selector} tbody tr`)})].map((tr) => Object.fromEntries([...tr.cells].map((td) => [td.dataset.label, td.textContent.replace(/\\s+/g, ' ').trim()])))`,
  )) as Array<Record<string, string>>;
}

/** Writes `test/artifacts/console/<name>-<width>.png` of the whole page. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const width = page.viewport()?.width ?? 0;
  const file: `${string}.png` = `${path.join(ARTIFACTS, `${name}-${width}`)}.png`;
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Presses Tab until `selector` has the focus: it must be reachable by keyboard, in the tab order. */
export async function tabTo(page: Page, selector: string, mostPresses = 60): Promise<void> {
  for (let i = 0; i < mostPresses; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
  }
  throw new Error(`${selector} was not reached by ${mostPresses} presses of Tab`);
}

/** The text content of the first element matching `selector` (empty when there is none). */
export async function textOf(page: Page, selector: string): Promise<string> {
  const text = await page.evaluate(
    `(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '').replace(/\\s+/g, ' ').trim()`,
  );
  return String(text);
}

/** Waits until the text of `selector` matches `pattern`, and returns it. */
export async function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp,
  timeout = 30_000,
): Promise<string> {
  await page.waitForFunction(
    `new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)}).test(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`,
    { timeout, polling: 100 },
  );
  return textOf(page, selector);
}

/** An attribute of the first element matching `selector` (null when it has none, or there is none). */
export async function attributeOf(page: Page, selector: string, name: string): Promise<string | null> {
  const value = await page.evaluate(
    `document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)}) ?? null`,
  );
  return typeof value === 'string' ? value : null;
}

/** How many elements match `selector`. */
export async function countOf(page: Page, selector: string): Promise<number> {
  return Number(await page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`));
}

/** Whether the first element matching `selector` is rendered (not hidden by itself or an ancestor). */
export async function isVisible(page: Page, selector: string): Promise<boolean> {
  return (
    (await page.evaluate(
      `document.querySelector(${JSON.stringify(selector)})?.checkVisibility() ?? false`,
    )) === true
  );
}

/** Empties a text input or text area, as a person selecting its text and deleting it would. */
export async function clearInput(page: Page, selector: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.press('Backspace');
  await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).value = ''`);
}
