import type { JobAttempt, JobStore } from '../core/jobs/store';

/**
 * The job document's writer for one activity run. FerretDB v1 applies an update by reading and
 * rewriting the whole document without a lock, so two concurrent writes to one job can lose one
 * (a late progress update could even undo the settlement). Writes go one after another, and the
 * activity finishes them all before it returns.
 */
export class JobWriter {
  private chain: Promise<void> = Promise.resolve();
  private lastProgress: number | undefined;
  private lastQueuePosition: number | null | undefined;

  constructor(
    private readonly jobs: Pick<JobStore, 'update' | 'addAttempt'>,
    private readonly jobId: string,
  ) {}

  update(set: Parameters<JobStore['update']>[1]): Promise<void> {
    this.chain = this.chain.then(() => this.jobs.update(this.jobId, set));
    return this.chain;
  }

  /**
   * Records upstream progress when it moved. Completion (1) is left to the settlement, which
   * writes it with the images: one write per job fewer.
   */
  progress(progress: number): Promise<void> {
    if (progress >= 1 || progress === this.lastProgress) return this.chain;
    this.lastProgress = progress;
    return this.update({ progress });
  }

  /** Records the upstream queue position when it moved. */
  queuePosition(position: number | null): Promise<void> {
    if (position === this.lastQueuePosition) return this.chain;
    this.lastQueuePosition = position;
    return this.update({ queue_position: position });
  }

  addAttempt(attempt: JobAttempt): Promise<void> {
    this.chain = this.chain.then(() => this.jobs.addAttempt(this.jobId, attempt));
    return this.chain;
  }

  async drain(): Promise<void> {
    await this.chain.catch(() => undefined);
  }
}
