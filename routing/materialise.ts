import { contentTypeOf, imageDimensions, type ImageStore } from '../platform/image-store';
import type { StoredImage } from '../core/jobs/store';
import { dimensionsFor, ProviderError, type AspectRatio, type UpstreamImage } from '../providers/types';

const DOWNLOAD_TIMEOUT_MS = 60_000;

export interface MaterialiseOptions {
  store: ImageStore;
  fetch?: typeof fetch;
  /** The size to record when neither the bytes nor the upstream tell it. */
  aspectRatio: AspectRatio;
  signal: AbortSignal;
}

/**
 * Copies an upstream's images into Easel's store (upstream URLs expire within minutes to an
 * hour): inline bytes are stored as they are, URLs are downloaded first. The content type and
 * size come from the bytes themselves where they can.
 */
export async function materialiseImages(
  images: UpstreamImage[],
  options: MaterialiseOptions,
): Promise<StoredImage[]> {
  const fetchImpl = options.fetch ?? fetch;
  const fallbackSize = dimensionsFor(options.aspectRatio);
  const stored: StoredImage[] = [];
  for (const image of images) {
    let bytes: Uint8Array;
    let declaredType: string | undefined;
    if (image.kind === 'bytes') {
      bytes = image.data;
      declaredType = image.contentType;
    } else {
      const res = await fetchImpl(image.url, {
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]),
      });
      if (!res.ok)
        throw new ProviderError(
          res.status >= 500 ? 'error' : 'rejected',
          `image download failed with HTTP ${res.status}`,
        );
      bytes = new Uint8Array(await res.arrayBuffer());
      declaredType = image.contentType ?? res.headers.get('content-type') ?? undefined;
    }
    const contentType = contentTypeOf(bytes) ?? declaredType ?? 'image/png';
    const size = imageDimensions(bytes) ?? {
      width: image.width ?? fallbackSize.width,
      height: image.height ?? fallbackSize.height,
    };
    const key = await options.store.put(bytes, contentType);
    stored.push({ key, ...size, content_type: contentType, bytes: bytes.byteLength });
  }
  return stored;
}
