import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { contentTypeOfKey, isImageKey, newImageKey, type ImageStore } from './image-store';
import type { DirectImageLinks } from './image-urls';
import { encodeS3Path, presignS3Get, type S3SigningCredentials } from './s3-presign';

export interface S3ImageStoreOptions {
  bucket: string;
  /** Prepended to every key as given (`easel/` puts the images in that folder). */
  prefix?: string;
  /** An S3-compatible server's URL; unset, AWS S3 in the region the SDK resolves. */
  endpoint?: string;
  /** `host/bucket/key` URLs instead of `bucket.host/key` (most S3-compatible servers want this). */
  forcePathStyle?: boolean;
  /** Tests: explicit region and credentials; otherwise the SDK's default chain (env, profile, IRSA…). */
  region?: string;
  credentials?: S3SigningCredentials;
  clock?: () => number;
}

const CHECK_TIMEOUT_MS = 5_000;
const CREDENTIALS_RETRY_MS = 10_000;

/** Re-resolve the credentials behind presigned URLs this long before they expire. */
const CREDENTIALS_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Images in an S3 bucket (or an S3-compatible server's), one object per image under the prefix,
 * with its content type. Reads stream the object's body through; a missing object is null, like
 * the local store; any other failure (credentials, bucket, network) throws, after the SDK's own
 * retries, so that it is a 500 and a failed `/readyz`, not a 404.
 */
export class S3ImageStore implements ImageStore {
  readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: string | undefined;
  private readonly forcePathStyle: boolean;
  private readonly client: S3Client;
  private readonly clock: () => number;
  private signing?: { credentials: S3SigningCredentials; expiresAt?: number; region: string };
  private refreshing?: Promise<void>;
  private lastRefresh = 0;

  constructor(options: S3ImageStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.endpoint = options.endpoint;
    this.forcePathStyle = options.forcePathStyle ?? false;
    this.clock = options.clock ?? (() => Date.now());
    this.client = new S3Client({
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      forcePathStyle: this.forcePathStyle,
      ...(options.region !== undefined && { region: options.region }),
      ...(options.credentials && { credentials: options.credentials }),
      // Checksums only where S3 requires them: many S3-compatible servers reject the newer
      // flexible-checksum headers, and a presigned GET must not ask for a checksum mode.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(bytes: Uint8Array, contentType: string): Promise<string> {
    const key = newImageKey(contentType);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: bytes,
        ContentType: contentType,
        ContentLength: bytes.byteLength,
      }),
    );
    return key;
  }

  async open(
    key: string,
  ): Promise<{ stream: NodeJS.ReadableStream; contentType: string; bytes: number } | null> {
    const object = await this.get(key);
    if (!object?.Body) return null;
    return {
      // In Node the body is the HTTP response itself: piped on, never held whole in memory.
      stream: object.Body as Readable,
      contentType: object.ContentType ?? contentTypeOfKey(key),
      bytes: object.ContentLength ?? 0,
    };
  }

  async read(key: string): Promise<Buffer | null> {
    const object = await this.get(key);
    if (!object?.Body) return null;
    return Buffer.from(await object.Body.transformToByteArray());
  }

  async delete(key: string): Promise<void> {
    if (!isImageKey(key)) return;
    // S3 answers 204 for a key that is not there too.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  /** The bucket answers with these credentials (and, for presigned delivery, they are fresh). */
  async check(): Promise<void> {
    try {
      // Bounded: a load balancer's probe must get an answer even when the endpoint does not.
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
    } catch (err) {
      throw new Error(`S3 bucket "${this.bucket}": ${describe(err)}`);
    }
    await this.refreshSigning();
  }

  /**
   * Presigned GET URLs straight to the bucket (EASEL_IMAGE_DELIVERY=presigned), signed
   * synchronously with credentials resolved beforehand: this resolves them once (a failure is
   * left to `/readyz`), and afterwards re-resolves them in the background before they expire.
   * Until credentials are known it signs nothing, and the caller falls back to Easel's own URLs.
   */
  async presignedLinks(): Promise<DirectImageLinks> {
    await this.refreshSigning().catch(() => undefined);
    return {
      url: (key, expires) => {
        const signing = this.currentSigning();
        if (!signing) return undefined;
        const base = this.objectBaseUrl(signing.region);
        // Signed at the start of the minute: reads within one minute give the same URL (caches hit).
        const signedAt = Math.floor(this.clock() / 60_000) * 60_000;
        return presignS3Get({
          objectUrl: `${base}/${encodeS3Path(this.objectKey(key))}`,
          region: signing.region,
          credentials: signing.credentials,
          signedAt: new Date(signedAt),
          expiresInSeconds: expires - signedAt / 1000,
        });
      },
      keyOf: (url) => {
        const signing = this.currentSigning();
        if (!signing) return undefined;
        const base = this.objectBaseUrl(signing.region);
        const prefix = `${base}/${encodeS3Path(this.prefix)}`;
        if (!url.startsWith(prefix)) return undefined;
        const key = decodeURIComponent(url.slice(prefix.length).split('?')[0] ?? '');
        if (!isImageKey(key)) return undefined;
        const query = new URL(url).searchParams;
        const amzDate = query.get('X-Amz-Date') ?? '';
        const signedAt = Date.parse(
          amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
        );
        const expiresIn = Number(query.get('X-Amz-Expires'));
        if (!Number.isFinite(signedAt) || !Number.isInteger(expiresIn)) return undefined;
        if (signedAt + expiresIn * 1000 <= this.clock()) return undefined;
        // Ours only if signing it again gives the same URL (the credentials may have changed since).
        const again = presignS3Get({
          objectUrl: `${base}/${encodeS3Path(this.objectKey(key))}`,
          region: signing.region,
          credentials: signing.credentials,
          signedAt: new Date(signedAt),
          expiresInSeconds: expiresIn,
        });
        return again === url ? key : undefined;
      },
    };
  }

  private async get(key: string): Promise<GetObjectCommandOutput | null> {
    if (!isImageKey(key)) return null;
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private objectKey(key: string): string {
    return `${this.prefix}${key}`;
  }

  /**
   * The signing credentials, kicking off a refresh when they are about to expire, or (at most
   * every CREDENTIALS_RETRY_MS) when they could not be resolved yet.
   */
  private currentSigning(): typeof this.signing {
    const now = this.clock();
    const expiresAt = this.signing?.expiresAt;
    const stale = this.signing
      ? expiresAt !== undefined && expiresAt - now < CREDENTIALS_REFRESH_MARGIN_MS
      : now - this.lastRefresh >= CREDENTIALS_RETRY_MS;
    if (stale) void this.refreshSigning().catch(() => undefined);
    return expiresAt !== undefined && expiresAt <= now ? undefined : this.signing;
  }

  private refreshSigning(): Promise<void> {
    this.lastRefresh = this.clock();
    this.refreshing ??= (async () => {
      try {
        const [credentials, region] = await Promise.all([
          this.client.config.credentials(),
          this.client.config.region(),
        ]);
        this.signing = {
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            ...(credentials.sessionToken !== undefined && { sessionToken: credentials.sessionToken }),
          },
          ...(credentials.expiration && { expiresAt: credentials.expiration.getTime() }),
          region,
        };
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Where the bucket's objects are, as the SDK addresses them: path style or virtual host. */
  private objectBaseUrl(region: string): string {
    const url = new URL(this.endpoint ?? `https://s3.${region}.amazonaws.com`);
    const path = url.pathname.replace(/\/$/, '');
    // A bucket name with dots cannot be a host name under the endpoint's TLS certificate.
    if (this.forcePathStyle || this.bucket.includes('.')) return `${url.origin}${path}/${this.bucket}`;
    return `${url.protocol}//${this.bucket}.${url.host}${path}`;
  }
}

/** The object is not there; a missing bucket is a misconfiguration (500), not a missing image. */
function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket');
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  // HeadBucket answers have no body: the SDK's message is then just the status's name.
  return [e?.name, status && `HTTP ${status}`, e?.message].filter(Boolean).join(': ');
}
