import { createHmac } from 'node:crypto';
import { tokensEqual } from './ids';

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
    // Rounded up to the minute, so that reads within one minute sign the same URL (caches hit).
    const expires = Math.ceil((this.clock() / 1000 + this.ttlSeconds) / 60) * 60;
    const query = new URLSearchParams({
      account: accountId,
      expires: String(expires),
      signature: this.signature(key, accountId, expires),
    });
    return `${this.baseUrl()}/images/${encodeURIComponent(key)}?${query.toString()}`;
  }

  verify(key: string, query: SignedImageQuery): ImageUrlCheck {
    const expected = this.signature(key, query.account, query.expires);
    if (!tokensEqual(query.signature, expected)) return { ok: false, reason: 'invalid' };
    if (query.expires * 1000 <= this.clock()) return { ok: false, reason: 'expired' };
    return { ok: true, expiresAt: query.expires * 1000 };
  }
}
