/**
 * Runs `task` every `intervalMs` until the returned stop is called: one run at a time (a slow
 * run delays the next instead of overlapping it), failures handed to `onError`. The timer does
 * not keep the process alive. Stopping waits for a run in progress.
 */
export function runPeriodically(
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: (err: unknown) => void,
): () => Promise<void> {
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    current = current.then(task).catch(onError);
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}
