import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { ApiError } from '../errors';
import type { ImageStore } from '../../platform/image-store';
import { waitForJob } from '../../core/jobs/job-workflow';
import type { JobStore } from '../../core/jobs/store';
import type { ImageLinks } from '../../core/jobs/view';
import { ASPECT_RATIOS, type AspectRatio } from '../../providers/types';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';
import type { JobSubmitter } from './imagine';

/**
 * `POST /v1/images/generations`, shaped like OpenAI's Images API so that the official `openai`
 * client (and tools built on it) work against Easel unchanged: the same credits, limits, routing
 * and ledger as `/v1/imagine`, but synchronous — the answer waits for the images.
 */
const generationsBody = z.object({
  model: z.string().min(1).default('gpt-image-1'),
  prompt: z.string().trim().min(1).max(4_000),
  n: z.number().int().min(1).max(4).default(1),
  size: z
    .string()
    .regex(/^(auto|\d{2,5}x\d{2,5})$/, 'use WIDTHxHEIGHT (e.g. 1024x1024) or auto')
    .default('auto'),
  response_format: z.enum(['url', 'b64_json']).default('url'),
  // Accepted for compatibility; the upstream model decides these.
  quality: z.string().optional(),
  style: z.string().optional(),
  background: z.string().optional(),
  output_format: z.string().optional(),
  moderation: z.string().optional(),
  user: z.string().max(256).optional(),
});

const SYNC_WAIT_MS = 5 * 60_000;

/** The catalog aspect ratio closest to a WIDTHxHEIGHT size (compared on a log scale). */
export function aspectRatioForSize(size: string): AspectRatio {
  if (size === 'auto') return '1:1';
  const logRatio = (a: number, b: number): number => Math.log(a / b);
  const [w, h] = size.split('x').map(Number) as [number, number];
  const distance = (ratio: AspectRatio): number => {
    const [a, b] = ratio.split(':').map(Number) as [number, number];
    return Math.abs(logRatio(a, b) - logRatio(w, h));
  };
  return ASPECT_RATIOS.reduce((best, ratio) => (distance(ratio) < distance(best) ? ratio : best));
}

export function openAiRoutes(deps: {
  submitter: JobSubmitter;
  jobs: JobStore;
  temporal: Client;
  images: ImageStore;
  imageLinks: ImageLinks;
}): Router {
  const router = Router();
  router.post('/images/generations', async (req, res) => {
    const account = currentAccount(req);
    deps.submitter.checkRequestRate(account);
    const body = parseInput(generationsBody, req.body);
    const accepted = await deps.submitter.accept(
      account,
      {
        model: body.model,
        prompt: body.prompt,
        n: body.n,
        aspect_ratio: aspectRatioForSize(body.size),
        ...(body.user && { metadata: { user: body.user } }),
      },
      deps.submitter.contextOf(req),
    );
    const left = new AbortController();
    res.on('close', () => left.abort());
    const job = await waitForJob(deps.temporal, deps.jobs, accepted, SYNC_WAIT_MS, left.signal);
    if (job.status !== 'succeeded') {
      if (job.status === 'queued' || job.status === 'running') {
        throw new ApiError(
          504,
          'timeout',
          `The images are not ready yet; follow job ${job._id} at GET /v1/jobs/${job._id}.`,
          { job_id: job._id },
        );
      }
      const code = job.error?.code ?? job.status;
      const status = code === 'content_policy' || code === 'rejected' ? 400 : 502;
      throw new ApiError(
        status,
        code === 'content_policy' ? 'content_policy_violation' : code,
        job.error?.message ?? `The job ${job.status}.`,
        {
          job_id: job._id,
        },
      );
    }
    const data = await Promise.all(
      job.images.map(async (image) => {
        if (body.response_format === 'url') return { url: deps.imageLinks.url(image.key, job.account_id) };
        const bytes = await deps.images.read(image.key);
        return { b64_json: bytes ? bytes.toString('base64') : '' };
      }),
    );
    res.json({
      created: Math.floor((job.completed_at ?? new Date()).getTime() / 1000),
      data,
      // Easel's own fields, ignored by OpenAI clients.
      easel: { job_id: job._id, model: job.model, credits_charged: job.credits_charged },
    });
  });
  return router;
}
