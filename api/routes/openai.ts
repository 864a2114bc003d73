import { createHash } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { ApiError } from '../errors';
import type { ImageStore } from '../../platform/image-store';
import type { Account } from '../../core/accounts/accounts';
import { waitForJob } from '../../core/jobs/job-workflow';
import type { JobRecord, JobStore, StoredImage } from '../../core/jobs/store';
import type { ImageLinks } from '../../core/jobs/view';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';
import type { ImagineBody, JobSubmitter, UploadedInputs } from './imagine';
import { readEditRequest, type EditInput } from './openai-edits';
import {
  aspectRatioFor,
  imageOptionFields,
  moderationField,
  openAiError,
  responseFormatFor,
  type OpenAiError,
} from './openai-images';

export { aspectRatioForSize } from './openai-images';

/**
 * `POST /v1/images/generations` and `POST /v1/images/edits`, shaped like OpenAI's Images API so
 * that the official `openai` clients (and tools built on them) work against Easel unchanged: the
 * same credits, limits, routing and ledger as `/v1/imagine`, but synchronous — the answer waits
 * for the images, or streams them as OpenAI's server-sent events with `stream: true`. Every
 * parameter is honoured or refused with OpenAI's error shape; none is ignored.
 */

export const generationsBody = z.strictObject({
  ...imageOptionFields,
  moderation: moderationField,
  style: z.never({ error: 'style is a DALL·E 3 parameter no model here takes' }).optional(),
});

/** The default wait for a job before the answer is a 504 naming it (EASEL_SYNC_WAIT_SECONDS). */
export const DEFAULT_SYNC_WAIT_MS = 5 * 60_000;
/** How long before a client's own timeout the 504 is sent, so that it arrives first. */
const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

/**
 * How long, from the request's arrival, to wait for the job: at most `ceilingMs`, and less than
 * the timeout the client announces (Python's client sends its read timeout as
 * `X-Stainless-Read-Timeout`; Node's sends `X-Stainless-Timeout` for a per-request timeout only;
 * in seconds). A client that times out first retries on its own — a second job, a second charge —
 * while a 504 with `x-should-retry: false` is not retried.
 */
export function syncWaitFor(req: Request, ceilingMs: number): number {
  const announced = ['x-stainless-timeout', 'x-stainless-read-timeout']
    .map((name) => Number(req.header(name)))
    .find((seconds) => Number.isFinite(seconds) && seconds > 0);
  if (announced === undefined) return ceilingMs;
  return Math.min(ceilingMs, Math.max(1_000, announced * 1000 - CLIENT_TIMEOUT_MARGIN_MS));
}

export function openAiRoutes(deps: {
  submitter: JobSubmitter;
  jobs: JobStore;
  temporal: Client;
  images: ImageStore;
  imageLinks: ImageLinks;
  /** How long an answer waits for its job; then 504 `timeout` with the job's id. */
  syncWaitMs?: number;
  /**
   * Aborted just before a shutdown's grace period ends: waits still open answer then (a 504 with
   * the job's id, which the clients do not retry) rather than being cut, which they would retry.
   */
  closing?: AbortSignal;
}): Router {
  const router = Router();
  const syncWaitMs = deps.syncWaitMs ?? DEFAULT_SYNC_WAIT_MS;

  /** The job's images as OpenAI's `data` items. */
  const imageData = (job: JobRecord, format: 'url' | 'b64_json') =>
    Promise.all(
      job.images.map(async (image) => {
        if (format === 'url') return { url: deps.imageLinks.url(image.key, job.account_id) };
        const bytes = await deps.images.read(image.key);
        if (!bytes)
          throw new ApiError(500, 'image_missing', `An image of job ${job._id} is missing from the store.`);
        return { b64_json: bytes.toString('base64') };
      }),
    );

  /** A job that did not succeed, as the error an OpenAI client raises. */
  const failure = (job: JobRecord): OpenAiError => {
    if (job.status === 'queued' || job.status === 'running') {
      // The job keeps running and will be charged once: a retry would submit a second one.
      return openAiError(
        504,
        `The images are not ready yet; follow job ${job._id} at GET /v1/jobs/${job._id}.`,
        { type: 'server_error', code: 'timeout', job_id: job._id },
        { 'x-should-retry': 'false' },
      );
    }
    const code = job.error?.code ?? job.status;
    if (code === 'content_policy') {
      return openAiError(400, job.error?.message ?? 'The request was refused by the safety system.', {
        code: 'moderation_blocked',
        job_id: job._id,
      });
    }
    if (code === 'rejected') {
      return openAiError(400, job.error?.message ?? 'The provider refused the request.', {
        code,
        job_id: job._id,
      });
    }
    return openAiError(502, job.error?.message ?? `The job ${job.status}.`, {
      type: 'server_error',
      code,
      job_id: job._id,
    });
  };

  /**
   * Waits for an accepted job and answers as OpenAI does: the images (as `format`), or with
   * `stream`, OpenAI's image events — no partial images (no upstream sends them), then one
   * completed event per image; a failure is an `error` event.
   */
  async function answer(
    res: Response,
    accepted: JobRecord,
    how: {
      format: 'url' | 'b64_json';
      stream: boolean;
      events: 'image_generation' | 'image_edit';
      /** When the answer is due (the client's clock started when it sent the request). */
      deadline: number;
    },
  ): Promise<void> {
    const waitMs = Math.max(0, how.deadline - Date.now());
    const left = new AbortController();
    res.on('close', () => left.abort());
    const stop = deps.closing ? AbortSignal.any([left.signal, deps.closing]) : left.signal;

    if (how.stream) {
      res.status(200).setHeader('Content-Type', 'text/event-stream').setHeader('Cache-Control', 'no-cache');
      res.flushHeaders();
      const job = await waitForJob(deps.temporal, deps.jobs, accepted, waitMs, stop);
      if (job.status !== 'succeeded') {
        const err = failure(job);
        res.write(
          `event: error\ndata: ${JSON.stringify({ type: 'error', error: { message: err.message, ...err.body } })}\n\n`,
        );
        res.end();
        return;
      }
      const created = Math.floor((job.completed_at ?? new Date()).getTime() / 1000);
      for (const [i, item] of (await imageData(job, 'b64_json')).entries()) {
        const event = {
          type: `${how.events}.completed`,
          b64_json: (item as { b64_json: string }).b64_json,
          created_at: created,
          size: `${job.images[i]!.width}x${job.images[i]!.height}`,
          output_format: job.images[i]!.content_type.replace('image/', ''),
          quality: 'auto',
          background: 'auto',
          usage: {
            input_tokens: 0,
            output_tokens: 0,
            total_tokens: 0,
            input_tokens_details: { text_tokens: 0, image_tokens: 0 },
          },
        };
        res.write(`event: ${how.events}.completed\ndata: ${JSON.stringify(event)}\n\n`);
      }
      res.end();
      return;
    }

    const job = await waitForJob(deps.temporal, deps.jobs, accepted, waitMs, stop);
    if (job.status !== 'succeeded') throw failure(job);
    const usage = job.attempts.find((a) => a.outcome === 'success')?.upstream_usage;
    res.json({
      created: Math.floor((job.completed_at ?? new Date()).getTime() / 1000),
      data: await imageData(job, how.format),
      ...(job.images[0] && {
        size: `${job.images[0].width}x${job.images[0].height}`,
        output_format: job.images[0].content_type.replace('image/', ''),
      }),
      ...(usage && { usage }),
      // Easel's own fields, ignored by OpenAI clients.
      easel: { job_id: job._id, model: job.model, credits_charged: job.credits_charged },
    });
  }

  /** The job an OpenAI request asks for, in /v1/imagine's terms. */
  const jobBody = (body: {
    model: string;
    prompt: string;
    n: number;
    size: string;
    output_format?: ImagineBody['output_format'];
    user?: string | undefined;
  }): ImagineBody => ({
    model: body.model,
    prompt: body.prompt,
    n: body.n,
    aspect_ratio: aspectRatioFor(body.model, body.size),
    ...(body.output_format !== undefined && { output_format: body.output_format }),
    ...(body.user && { metadata: { user: body.user } }),
  });

  router.post('/images/generations', async (req, res) => {
    const deadline = Date.now() + syncWaitFor(req, syncWaitMs);
    const account = currentAccount(req);
    deps.submitter.checkRequestRate(account);
    const body = parseInput(generationsBody, req.body);
    const format = responseFormatFor(body);
    const accepted = await deps.submitter.accept(account, jobBody(body), deps.submitter.contextOf(req));
    await answer(res, accepted, { format, stream: body.stream, events: 'image_generation', deadline });
  });

  /**
   * Uploaded files are stored as input images of the account and reach the providers as Easel's
   * own signed URLs in the job's image_urls and mask_url (the worker reads those from the store;
   * URL-taking hosts fetch them from EASEL_PUBLIC_URL). The job document lists them as its
   * input_images, which are never charged nor returned as its images.
   */
  router.post('/images/edits', async (req, res) => {
    const deadline = Date.now() + syncWaitFor(req, syncWaitMs);
    const account = currentAccount(req);
    deps.submitter.checkRequestRate(account);
    const edit = await readEditRequest(req);
    const format = responseFormatFor(edit.options);
    // Made before anything is stored: a size the model cannot take stores nothing.
    const request = jobBody(edit.options);
    const stored = await storeInputs(account, edit.images, edit.mask);
    let accepted: JobRecord;
    try {
      accepted = await deps.submitter.accept(
        account,
        { ...request, ...stored.references },
        { ...deps.submitter.contextOf(req), ...(stored.uploads && { uploads: stored.uploads }) },
      );
    } catch (err) {
      await stored.discard();
      throw err;
    }
    // A repeated Idempotency-Key answers with the earlier job, which has its own copies.
    const kept = new Set((accepted.input_images ?? []).map((i) => i.key));
    if (stored.keys.some((key) => !kept.has(key))) await stored.discard();
    await answer(res, accepted, { format, stream: edit.options.stream, events: 'image_edit', deadline });
  });

  /** Stores an edit's uploads; URLs are passed on as they are. */
  async function storeInputs(account: Account, images: EditInput[], mask: EditInput | undefined) {
    const stored: StoredImage[] = [];
    const discard = () =>
      Promise.all(stored.map((image) => deps.images.delete(image.key).catch(() => undefined)));
    const place = async (input: EditInput): Promise<{ url: string; hashedAs: string }> => {
      if (input.kind === 'url') return { url: input.url, hashedAs: input.url };
      const key = await deps.images.put(input.bytes, input.contentType);
      stored.push({
        key,
        width: input.width,
        height: input.height,
        content_type: input.contentType,
        bytes: input.bytes.length,
      });
      return {
        url: deps.imageLinks.url(key, account._id),
        hashedAs: `sha256:${createHash('sha256').update(input.bytes).digest('hex')}`,
      };
    };
    try {
      const placed: Awaited<ReturnType<typeof place>>[] = [];
      for (const image of images) placed.push(await place(image));
      const placedMask = mask && (await place(mask));
      const references = {
        image_urls: placed.map((p) => p.url),
        ...(placedMask && { mask_url: placedMask.url }),
      };
      const uploads: UploadedInputs | undefined =
        stored.length > 0
          ? {
              images: stored,
              hashedAs: {
                image_urls: placed.map((p) => p.hashedAs),
                ...(placedMask && { mask_url: placedMask.hashedAs }),
              },
            }
          : undefined;
      return { references, uploads, keys: stored.map((s) => s.key), discard };
    } catch (err) {
      await discard();
      throw err;
    }
  }

  return router;
}
