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
