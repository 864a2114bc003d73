import type { JobStore } from '../core/jobs/store';
import type { ImageStore } from '../platform/image-store';

export interface RetentionDeps {
  jobs: Pick<JobStore, 'withImagesEndedBefore' | 'withInputImagesEndedBefore' | 'update'>;
  images: Pick<ImageStore, 'delete'>;
}

/** Jobs handled per activity call: the workflow calls again while there are more. */
const BATCH = 200;

export function createRetentionActivities(deps: RetentionDeps) {
  return {
    /**
     * Deletes the images of up to BATCH succeeded jobs that ended before `before` (ISO time) and
     * marks each job with when, then the uploaded input images of up to BATCH settled jobs of any
     * outcome (a failed edit's uploads too); returns how many jobs it handled. Files go first: a
     * crash in between leaves a job that is handled again, never a file nobody will delete.
     */
    async deleteExpiredImages(before: string): Promise<number> {
      const expired = await deps.jobs.withImagesEndedBefore(new Date(before), BATCH);
      for (const job of expired) {
        for (const image of [...job.images, ...(job.input_images ?? [])]) await deps.images.delete(image.key);
        await deps.jobs.update(job._id, {
          images: [],
          images_deleted_at: new Date(),
          ...(job.input_images && { input_images: null }),
        });
      }
      const inputs = await deps.jobs.withInputImagesEndedBefore(new Date(before), BATCH);
      for (const job of inputs) {
        for (const image of job.input_images ?? []) await deps.images.delete(image.key);
        await deps.jobs.update(job._id, { input_images: null });
      }
      return expired.length + inputs.length;
    },
  };
}
