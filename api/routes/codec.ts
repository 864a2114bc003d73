import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ApiError } from '../errors';
import { requireAdmin } from '../middleware';
import { parseInput } from '../validation';

/** Proto3 JSON carries bytes as base64 (either alphabet). */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

export const payloadsBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() }))
    .max(10_000),
});

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

const fromJson = ({ metadata, data }: z.infer<typeof payloadsBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]): [string, Uint8Array] => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]): [string, string] => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});

/**
 * The Temporal remote codec server protocol (what the Temporal UI's "codec server" setting and
 * `temporal … --codec-endpoint` call): `POST /encode` and `POST /decode` of
 * `{payloads: [{metadata: {k: base64}, data: base64}]}`, also under a namespace segment
 * (`/<namespace>/decode`, the CLI's endpoint templating). Decoding shows prompts and metadata, so
 * it takes the admin token; the browser's preflight (which carries no token) is answered for the
 * configured origins only. A payload the codec refuses (unknown key, failed authentication) is a
 * 400, as the protocol says.
 */
export function codecRoutes(options: {
  codec: PayloadCodec;
  adminToken: string | undefined;
  /** Origins of the Temporal UI allowed to call these routes from a browser. */
  allowedOrigins: readonly string[];
}): Router {
  const router = Router();
  const allowed = new Set(options.allowedOrigins);

  router.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      // The UI's "include cross-origin credentials" setting needs this; the token is still required.
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method === 'OPTIONS') {
      if (origin && allowed.has(origin)) {
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  });
  router.use(requireAdmin(options.adminToken));

  const convert =
    (direction: 'encode' | 'decode') =>
    async (req: Request, res: Response): Promise<void> => {
      const { payloads } = parseInput(payloadsBody, req.body);
      let converted: Payload[];
      try {
        converted = await options.codec[direction](payloads.map(fromJson));
      } catch (err) {
        throw new ApiError(400, 'codec_refused', (err as Error).message);
      }
      res.setHeader('Cache-Control', 'no-store');
      res.json({ payloads: converted.map(toJson) });
    };
  router.post(['/encode', '/:namespace/encode'], convert('encode'));
  router.post(['/decode', '/:namespace/decode'], convert('decode'));
  return router;
}
