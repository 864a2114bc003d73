/**
 * Helpers every adapter needs the same way: reading its deployment options, the error of an
 * aborted call, and upstream job ids that carry what a later poll needs (so that a worker that
 * restarts can resume polling from the id alone).
 */
import type { z } from 'zod';
import { abortReason } from '../platform/abort';
import { ProviderError } from './types';

/** Parses a deployment's adapter options; the error names the deployment and each bad option. */
export function parseAdapterOptions<S extends z.ZodType>(
  schema: S,
  options: Record<string, unknown>,
  type: string,
  deploymentId: string,
): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown option(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `option "${issue.path.join('.')}": ${issue.message}`;
  });
  throw new Error(`deployment "${deploymentId}" (${type}): ${problems.join('; ')}`);
}

/** The error of a call aborted by the job's cancellation or the attempt's timeout. */
export function abortedCall(signal: AbortSignal, what: string): ProviderError {
  return new ProviderError('timeout', `${what}: call aborted (${abortReason(signal).message})`, {
    upstreamCode: 'aborted',
  });
}

/** `<prefix><base64url JSON>`: an upstream job id that carries its own state. */
export function encodeJobId(prefix: string, state: unknown): string {
  return prefix + Buffer.from(JSON.stringify(state)).toString('base64url');
}

/** Reads back an id made by encodeJobId; anything else is refused as malformed. */
export function decodeJobId<S extends z.ZodType>(
  prefix: string,
  schema: S,
  upstreamJobId: string,
  type: string,
): z.output<S> {
  const malformed = (): ProviderError =>
    new ProviderError('rejected', `${type}: malformed upstream job id "${upstreamJobId.slice(0, 40)}"`, {
      upstreamCode: 'malformed_job_id',
    });
  if (!upstreamJobId.startsWith(prefix)) throw malformed();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(upstreamJobId.slice(prefix.length), 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw malformed();
  return parsed.data;
}

/** The largest reference image an adapter fetches when no outbound policy gives it a cap. */
const FALLBACK_MAX_IMAGE_BYTES = 50 * 1024 * 1024;

/**
 * Fetches a reference image as bytes with the adapter's fetch: the fallback for
 * `ProviderSettings.fetchImage` (production passes the outbound policy's download, with its
 * address checks and size cap). A failure is the caller's problem (`rejected`): the URL is theirs.
 */
export function fetchImageBytes(
  fetchImpl: typeof fetch,
  type: string,
): (url: string, signal: AbortSignal) => Promise<{ bytes: Uint8Array; contentType: string }> {
  return async (url, signal) => {
    let response: Response;
    try {
      response = await fetchImpl(url, { signal });
    } catch {
      if (signal.aborted) throw abortedCall(signal, `${type}: fetch reference image`);
      throw new ProviderError('rejected', `${type}: reference image ${url} could not be fetched`, {
        upstreamCode: 'reference_image_unreachable',
      });
    }
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!response.ok || !contentType.startsWith('image/')) {
      throw new ProviderError(
        'rejected',
        `${type}: reference image ${url} answered HTTP ${response.status}${contentType ? ` (${contentType})` : ''}, not an image`,
        { upstreamCode: 'reference_image_invalid' },
      );
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > FALLBACK_MAX_IMAGE_BYTES) {
      throw new ProviderError('rejected', `${type}: reference image ${url} is larger than the cap`, {
        upstreamCode: 'reference_image_too_large',
      });
    }
    return { bytes, contentType };
  };
}
