import { sleep } from '../platform/abort';
import { contentTypeOf, imageDimensions, type ImageStore } from '../platform/image-store';
import { DownloadFailed, OutboundRefused, type OutboundPolicy } from '../platform/outbound';
import type { StoredImage } from '../core/jobs/store';
import { dimensionsFor, ProviderError, type AspectRatio, type UpstreamImage } from '../providers/types';

const DOWNLOAD_TIMEOUT_MS = 60_000;

export interface MaterialiseOptions {
  store: Pick<ImageStore, 'put'>;
  /** The deployment's outbound policy: checked addresses and redirects, an image content type. */
  outbound: OutboundPolicy;
  /** The largest image downloaded; a larger one fails the attempt. */
  maxBytes: number;
  /** The size to record when neither the bytes nor the upstream tell it. */
  aspectRatio: AspectRatio;
  signal: AbortSignal;
}

/**
 * Copies an upstream's images into Easel's store (upstream URLs expire within minutes to an
 * hour): inline bytes are stored as they are, URLs are downloaded first. The content type and
 * size come from the bytes themselves where they can. A download the outbound policy refuses
 * (a non-public address, too many redirects, not an image, past the size cap) fails the attempt
 * as an upstream error, so routing tries the next deployment and the job fails cleanly otherwise.
 */
export async function materialiseImages(
  images: UpstreamImage[],
  options: MaterialiseOptions,
): Promise<StoredImage[]> {
  const fallbackSize = dimensionsFor(options.aspectRatio);
  const stored: StoredImage[] = [];
  for (const image of images) {
    let bytes: Uint8Array;
    let declaredType: string | undefined;
    if (image.kind === 'bytes') {
      bytes = image.data;
      declaredType = image.contentType;
    } else {
      const downloaded = await download(image.url, options);
      bytes = downloaded.bytes;
      declaredType = image.contentType ?? downloaded.contentType;
    }
    const contentType = contentTypeOf(bytes) ?? declaredType ?? 'image/png';
    const size = imageDimensions(bytes) ?? {
      width: image.width ?? fallbackSize.width,
      height: image.height ?? fallbackSize.height,
    };
    const key = await options.store.put(bytes, contentType);
    stored.push({
      key,
      ...size,
      content_type: contentType,
      bytes: bytes.byteLength,
      ...(image.role && image.role !== 'image' && { role: image.role }),
    });
  }
  return stored;
}

/** Tries of one download: an upstream's CDN that stumbles once is tried again before giving up. */
const DOWNLOAD_TRIES = 3;
const DOWNLOAD_RETRY_MS = 500;

async function download(
  url: string,
  options: MaterialiseOptions,
): Promise<{ bytes: Uint8Array; contentType: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await options.outbound.downloadImage(url, {
        maxBytes: options.maxBytes,
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]),
      });
    } catch (err) {
      // Gone (404/410: an expired result URL), refused or cut off by the policy: no second try.
      // Every failure is the upstream's, never the request's: routing goes on to the next deployment.
      if (err instanceof DownloadFailed) {
        if (err.status < 500 || attempt >= DOWNLOAD_TRIES)
          throw new ProviderError(
            'error',
            `image download failed with HTTP ${err.status}${err.status === 404 || err.status === 410 ? ' (the upstream result URL expired or is gone)' : ''}`,
            { status: err.status, upstreamCode: 'download_failed' },
          );
      } else if (err instanceof OutboundRefused) {
        throw new ProviderError('error', `image download ${err.message}`, {
          upstreamCode: 'download_refused',
        });
      } else if (options.signal.aborted || attempt >= DOWNLOAD_TRIES) {
        throw err;
      }
      await sleep(DOWNLOAD_RETRY_MS * attempt, options.signal);
    }
  }
}
