import type { JobView } from '../../core/jobs/view';
import { sandboxProviders, waitFor, writeConfig } from './config';
import type { TestEasel } from './easel';

/** How long the images of an Easel from `retainingEnv` are kept: short enough to watch them go. */
export const RETENTION_SECONDS = 3;

/** The environment of an Easel on a quick sandbox whose images are kept for RETENTION_SECONDS. */
export function retainingEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }),
    EASEL_IMAGE_RETENTION_DAYS: String(RETENTION_SECONDS / 86_400),
    ...env,
  };
}

/** Submits a flux-2-dev job and long-polls it until it ends (or 20 s pass). */
export async function finishedJob(
  easel: TestEasel,
  token: string,
  body: Record<string, unknown>,
): Promise<JobView> {
  const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
    token,
    body: { model: 'flux-2-dev', ...body },
  });
  return (await easel.call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=20`, { token })).body;
}

/** The job once retention has deleted its images (it says when in `images_deleted_at`). */
export function imagesDeleted(easel: TestEasel, token: string, jobId: string): Promise<JobView> {
  return waitFor(
    () => easel.call<JobView>('GET', `/v1/jobs/${jobId}`, { token }).then((r) => r.body),
    (j) => j.images_deleted_at !== null,
    30_000,
    250,
  );
}
