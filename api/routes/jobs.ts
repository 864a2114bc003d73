import { pipeline } from 'node:stream';
import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { InvalidInput, NotFound } from '../../core/errors';
import { ApiError } from '../errors';
import type { ImageStore } from '../../platform/image-store';
import type { ImageUrlSigner } from '../../platform/image-urls';
import { assertActive, type AccountService } from '../../core/accounts/accounts';
import { imagineInputOf } from '../../core/jobs/contract';
import { startJobWorkflow, waitForJob } from '../../core/jobs/job-workflow';
import { isTerminal, type JobRecord, type JobStore } from '../../core/jobs/store';
import { listJobs } from '../../core/jobs/listing';
import type { Ledger } from '../../core/ledger/ledger';
import { presentJob, type ImageLinks, type JobView } from '../../core/jobs/view';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';

const MAX_WAIT_SECONDS = 60;
const CANCEL_WAIT_MS = 10_000;

export const getJobQuery = z.object({ wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).optional() });
export const listJobsQuery = z.object({
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().optional(),
});

export interface JobRouteDeps {
  /** The process is shutting down: long-polls answer at once. */
  draining?: AbortSignal;
  jobs: JobStore;
  ledger: Ledger;
  temporal: Client;
  taskQueue: string;
  imageLinks: ImageLinks;
}

/**
 * The cancel came too late: the job had already finished, or finished its own way while the cancel
 * was on its way to it (a job that succeeded was charged).
 */
function alreadyFinished(job: JobView, cancelRequested: boolean): ApiError {
  const message =
    job.status === 'canceled'
      ? 'This job was already canceled; there is nothing to cancel.'
      : cancelRequested
        ? `This job ${job.status} before the cancel reached it.`
        : `This job already ${job.status}; there is nothing to cancel.`;
  return new ApiError(409, 'job_already_finished', message, { status: job.status, job });
}

/** A page cursor: the ledger sequence number the next page starts below, opaque to clients. */
function encodeCursor(seq: number): string {
  return Buffer.from(`before:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^before:([1-9][0-9]{0,14})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new InvalidInput('Invalid cursor: pass next_cursor from the previous page unchanged.', {
      cursor: 'invalid',
    });
  }
  return Number(match[1]);
}

export function jobRoutes({ jobs, ledger, temporal, taskQueue, imageLinks, draining }: JobRouteDeps): Router {
  const router = Router();

  /** Another account's job is indistinguishable from a missing one. */
  async function ownJob(accountId: string, jobId: string): Promise<JobRecord> {
    const job = await jobs.get(jobId);
    if (!job || job.account_id !== accountId) throw new NotFound('Job');
    return job;
  }

  router.get('/jobs/:id', async (req, res) => {
    const account = currentAccount(req);
    const { wait } = parseInput(getJobQuery, req.query, 'query');
    const left = new AbortController();
    req.on('close', () => left.abort());
    const job = await waitForJob(
      temporal,
      jobs,
      await ownJob(account._id, req.params.id),
      (wait ?? 0) * 1000,
      draining ? AbortSignal.any([left.signal, draining]) : left.signal,
    );
    res.json(presentJob(job, imageLinks));
  });

  router.get('/jobs', async (req, res) => {
    const account = currentAccount(req);
    const query = parseInput(listJobsQuery, req.query, 'query');
    const page = await listJobs(ledger, jobs, account._id, {
      limit: query.limit,
      ...(query.status && { status: query.status }),
      ...(query.cursor && { before: decodeCursor(query.cursor) }),
    });
    // With a status filter a page may hold fewer than `limit` jobs and still have more after it:
    // follow next_cursor until it is null.
    res.json({
      data: page.jobs.map((j) => presentJob(j, imageLinks)),
      has_more: page.next !== null,
      next_cursor: page.next === null ? null : encodeCursor(page.next),
    });
  });

  /**
   * 200 with the canceled job (its credits released); 409 `job_already_finished` with the job when
   * it had finished, or finished otherwise while the cancel reached it (a success is charged); 202
   * with the job when it has not settled within CANCEL_WAIT_MS.
   */
  router.post('/jobs/:id/cancel', async (req, res) => {
    const account = currentAccount(req);
    let job = await ownJob(account._id, req.params.id);
    if (isTerminal(job.status)) throw alreadyFinished(presentJob(job, imageLinks), false);
    const handle = temporal.workflow.getHandle(job._id);
    try {
      await handle.cancel();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // A queued job whose submission stopped before starting its workflow (the unstarted-job
      // sweep would start it later, and charge it): start it now, so that its own workflow
      // settles the cancel and releases the credits.
      await startJobWorkflow(temporal, taskQueue, imagineInputOf(job));
      await handle.cancel();
    }
    // Wait for the workflow to settle, so that the answer tells the outcome: on Temporal's
    // long-poll of the workflow's close, which answers as soon as the job is settled.
    const left = new AbortController();
    // The response's close (not the request's, which a read body also closes) tells the client left.
    res.on('close', () => left.abort());
    job = await waitForJob(temporal, jobs, job, CANCEL_WAIT_MS, left.signal);
    const presented = presentJob(job, imageLinks);
    if (job.status === 'canceled') res.status(200).json(presented);
    else if (isTerminal(job.status)) throw alreadyFinished(presented, true);
    else res.status(202).json(presented);
  });

  return router;
}

/** Stored images, at unguessable URLs that need no credentials (like the upstream URLs they replace). */
export function imageRoutes(deps: {
  images: ImageStore;
  signer: ImageUrlSigner;
  accounts: Pick<AccountService, 'get'>;
}): Router {
  const router = Router();
  router.get('/images/:key', async (req, res) => {
    const query = signedImageQuery.safeParse(req.query);
    const check = query.success ? deps.signer.verify(req.params.key, query.data) : null;
    if (!query.success || !check?.ok) {
      const expired = check?.ok === false && check.reason === 'expired';
      throw new ApiError(
        403,
        expired ? 'image_url_expired' : 'image_url_invalid',
        `${expired ? 'This image URL has expired' : 'This image URL is not valid'}: read the job again (GET /v1/jobs/:id) for a fresh one.`,
      );
    }
    // A suspended account's images stop being served, whatever URLs are still about.
    assertActive(await deps.accounts.get(query.data.account));
    const image = await deps.images.open(req.params.key);
    if (!image) throw new NotFound('Image');
    res.setHeader('Content-Type', image.contentType);
    res.setHeader('Content-Length', String(image.bytes));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // Private: a shared cache must not serve it past its expiry or to someone without the URL.
    const maxAge = Math.max(0, Math.floor((check.expiresAt - Date.now()) / 1000));
    res.setHeader('Cache-Control', `private, max-age=${maxAge}`);
    // pipeline, not pipe: a client that leaves closes the store's stream (an S3 connection) too.
    pipeline(image.stream, res, () => undefined);
  });
  return router;
}

export const signedImageQuery = z.object({
  account: z.string().min(1).max(100),
  expires: z.coerce.number().int().positive(),
  signature: z.string().min(1).max(100),
});
