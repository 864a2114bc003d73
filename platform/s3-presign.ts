import { createHash, createHmac } from 'node:crypto';

/** What a presigned URL is signed with: an access key (temporary ones carry a session token). */
export interface S3SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** S3 refuses a presigned URL valid for longer than seven days. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

/**
 * An AWS Signature Version 4 presigned GET URL (query-string authentication), computed
 * synchronously. The SDK's presigner is async all the way down, but image URLs are made while a
 * job view is built (`ImageLinks.url`), so with credentials already resolved the signing is done
 * here: the same canonical request, string to sign and key derivation as the SDK's
 * `@aws-sdk/s3-request-presigner` (a unit test compares the two URLs byte for byte).
 *
 * `objectUrl` is the object's URL without a query, e.g. `https://bucket.s3.eu-west-1.amazonaws.com/key`
 * or `http://127.0.0.1:9000/bucket/key`, its path already encoded (`encodeS3Path`).
 */
export function presignS3Get(options: {
  objectUrl: string;
  region: string;
  credentials: S3SigningCredentials;
  /** When the signature is made (the URL is valid from then). */
  signedAt: Date;
  expiresInSeconds: number;
}): string {
  const { region, credentials } = options;
  const url = new URL(options.objectUrl);
  const amzDate = options.signedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const params: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(
      Math.min(MAX_PRESIGNED_SECONDS, Math.max(1, Math.floor(options.expiresInSeconds))),
    ),
    ...(credentials.sessionToken !== undefined && { 'X-Amz-Security-Token': credentials.sessionToken }),
    'X-Amz-SignedHeaders': 'host',
    'x-id': 'GetObject',
  };
  const canonicalRequest = [
    'GET',
    url.pathname,
    canonicalQuery(params),
    `host:${url.host}`,
    '',
    'host',
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `${url.origin}${url.pathname}?${canonicalQuery({ ...params, 'X-Amz-Signature': signature })}`;
}

function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((name) => `${rfc3986(name)}=${rfc3986(params[name]!)}`)
    .join('&');
}

/** An object key as a URL path: each segment percent-encoded as SigV4 wants, `/` kept. */
export function encodeS3Path(key: string): string {
  return key.split('/').map(rfc3986).join('/');
}

/** SigV4's URI encoding: RFC 3986 unreserved characters stay, everything else is %XX. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}
