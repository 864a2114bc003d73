// @ts-check
import { explain } from './api.js';
import { formatNumber, h } from './dom.js';

/** @typedef {import('../types').Job} Job */

/**
 * An error explained in words, announced to screen readers.
 * @param {unknown} err
 */
export function errorAlert(err) {
  const { title, lines } = explain(err);
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h('strong', {}, title),
    ...lines.map((line) => h('p', {}, line)),
  );
}

/** @param {Job['status']} status */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, status);
}

/** @param {Job} job */
export function isTerminal(job) {
  return job.status === 'succeeded' || job.status === 'failed' || job.status === 'canceled';
}

/**
 * What a failed job's error means for the customer.
 * @param {Job} job
 */
export function jobFailure(job) {
  if (!job.error) return 'The job failed.';
  const charged =
    job.credits_charged > 0
      ? `${formatNumber(job.credits_charged)} credits were charged.`
      : 'Nothing was charged: the credits are back in your balance.';
  if (job.error.code === 'content_policy') {
    return `The provider refused this prompt under its content policy. ${charged} Rephrase the prompt and try again.`;
  }
  return `${job.error.message} ${charged}`;
}

/**
 * The job's images at their real aspect ratio, each with a download link.
 * @param {Job} job
 * @param {{thumbnail?: boolean}} [options]
 */
export function imageGrid(job, options = {}) {
  return h(
    'ul',
    { class: options.thumbnail ? 'images thumbnails' : 'images', 'aria-label': 'Images' },
    job.images.map((image, i) => {
      const label = `Image ${i + 1} of ${job.images.length}: ${job.prompt}`;
      const img = h('img', {
        src: image.url,
        alt: label,
        width: image.width,
        height: image.height,
        loading: options.thumbnail ? 'lazy' : 'eager',
        decoding: 'async',
      });
      img.style.aspectRatio = `${image.width} / ${image.height}`;
      if (options.thumbnail) return h('li', {}, img);
      const extension = image.content_type.split('/')[1] ?? 'png';
      return h(
        'li',
        {},
        h(
          'figure',
          {},
          img,
          h(
            'figcaption',
            {},
            `${image.width}×${image.height}${image.role === 'image' ? '' : ` (${image.role})`} `,
            h(
              'a',
              { href: image.url, download: `${job.id}-${i + 1}.${extension}` },
              `Download image ${i + 1}`,
            ),
          ),
        ),
      );
    }),
  );
}
