/**
 * glibc malloc settings for Easel's processes, set by the image (infra/deploy/Dockerfile's
 * runtime ENV, which a test keeps equal to these) and by the benchmark for the processes it
 * measures. glibc reads them at process start, so a process cannot set them for itself.
 *
 * Why: image bytes, HTTP bodies and the Temporal core's buffers are native allocations of tens
 * to hundreds of KB. glibc's default raises its mmap threshold after such blocks are freed, so
 * later ones come from the main heap, which returns memory to the system only from its top: a
 * worker's `[heap]` held ≈ 225 MB after a few hundred jobs, mostly free. A fixed threshold keeps
 * every block of 64 KB or more in its own mapping, unmapped when freed ([heap] ≈ 40–50 MB,
 * worker RSS ≈ 60 MB lower, no CPU measured on the bench: docs/benchmarks.md).
 */
export const GLIBC_MALLOC_ENV = {
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '131072',
} as const;
