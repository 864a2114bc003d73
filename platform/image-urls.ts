import { createHmac } from 'node:crypto';
import { tokensEqual } from './ids';
import { contentTypeOf, type ImageStore } from './image-store';

/**
 * Signed, expiring image URLs: `/images/<key>?account=<id>&expires=<unix s>&signature=<hmac>`.
 * Like the hosted image APIs' result URLs they need no credentials, but they stop working after
 * their time to live, and they name the account so that a suspended account's images stop being
 * served. Every read of a job (and every webhook) signs them anew.
 */
export interface SignedImageQuery {
  account: string;
  expires: number;
  signature: string;
}

export type ImageUrlCheck = { ok: true; expiresAt: number } | { ok: false; reason: 'expired' | 'invalid' };

export class ImageUrlSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    private readonly baseUrl: () => string,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  private signature(key: string, account: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${key}\n${account}\n${expires}`).digest('base64url');
  }

  /** A URL for one stored image of `accountId`, valid for the configured time from now. */
  url(key: string, accountId: string): string {
    const expires = this.expiry();
    const query = new URLSearchParams({
      account: accountId,
      expires: String(expires),
      signature: this.signature(key, accountId, expires),
    });
    return `${this.baseUrl()}/images/${encodeURIComponent(key)}?${query.toString()}`;
  }

  /** When a URL signed now expires (unix s). */
  protected expiry(): number {
    // Rounded up to the minute, so that reads within one minute sign the same URL (caches hit).
    return Math.ceil((this.clock() / 1000 + this.ttlSeconds) / 60) * 60;
  }

  verify(key: string, query: SignedImageQuery): ImageUrlCheck {
    const expected = this.signature(key, query.account, query.expires);
    if (!tokensEqual(query.signature, expected)) return { ok: false, reason: 'invalid' };
    if (query.expires * 1000 <= this.clock()) return { ok: false, reason: 'expired' };
    return { ok: true, expiresAt: query.expires * 1000 };
  }

  /**
   * The stored image an URL of this Easel names, when it is one whose signature holds and whose
   * time is not up: what `GET /images/:key` would serve for it. Undefined for any other URL.
   */
  ownImage(url: string): { key: string; account?: string } | undefined {
    const base = `${this.baseUrl()}/images/`;
    if (!url.startsWith(base)) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    const key = decodeURIComponent(parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1));
    const account = parsed.searchParams.get('account');
    const expires = Number(parsed.searchParams.get('expires'));
    const signature = parsed.searchParams.get('signature');
    if (!account || !signature || !Number.isInteger(expires)) return undefined;
    return this.verify(key, { account, expires, signature }).ok ? { key, account } : undefined;
  }
}

/** URLs straight to the image store, which it signs itself (S3 presigned URLs). */
export interface DirectImageLinks {
  /** A URL of the image valid until `expires` (unix s); undefined when the store cannot sign now. */
  url(key: string, expires: number): string | undefined;
  /** The key of a URL `url` made that is still valid; undefined for any other URL. */
  keyOf(url: string): string | undefined;
}

/**
 * EASEL_IMAGE_DELIVERY=presigned: answers and webhooks link to the store itself, with the same
 * time to live as Easel's own URLs, so image bytes never pass through the API. Such a URL names
 * no account: a suspended account's images stay reachable until their URLs expire. Easel's own
 * URLs still verify (those handed out before the switch, and the fallback while the store cannot
 * sign, e.g. before its credentials resolve).
 */
export class DirectImageUrlSigner extends ImageUrlSigner {
  constructor(
    secret: string,
    ttlSeconds: number,
    baseUrl: () => string,
    private readonly direct: DirectImageLinks,
    clock: () => number = () => Date.now(),
  ) {
    super(secret, ttlSeconds, baseUrl, clock);
  }

  override url(key: string, accountId: string): string {
    return this.direct.url(key, this.expiry()) ?? super.url(key, accountId);
  }

  override ownImage(url: string): { key: string; account?: string } | undefined {
    const own = super.ownImage(url);
    if (own) return own;
    const key = this.direct.keyOf(url);
    return key === undefined ? undefined : { key };
  }
}

/**
 * Reads Easel's own image URLs (the uploads of `POST /v1/images/edits`, earlier results) from the
 * image store instead of downloading them: the outbound policy refuses Easel's own private
 * address, and a read is cheaper than a round trip. Undefined for every other URL, and for one
 * whose signature fails or expired (the HTTP route would refuse it just the same).
 */
export function ownImageReader(
  signer: ImageUrlSigner,
  store: Pick<ImageStore, 'read'>,
): (url: string) => Promise<{ bytes: Uint8Array; contentType: string } | undefined> {
  return async (url) => {
    const own = signer.ownImage(url);
    if (!own) return undefined;
    const bytes = await store.read(own.key);
    // Only PNG, JPEG and WebP are ever stored; the bytes say which.
    return bytes ? { bytes, contentType: contentTypeOf(bytes) ?? 'application/octet-stream' } : undefined;
  };
}
