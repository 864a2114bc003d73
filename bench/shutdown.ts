/**
 * Runs `stop` on Ctrl-C or SIGTERM before exiting: the dev stack's servers run in process groups
 * of their own and would outlive the benchmark otherwise.
 */
export function stopOnInterrupt(stop: () => Promise<void>, log: (m: string) => void): () => void {
  const onSignal = (): void => {
    log('interrupted: stopping Easel and the dev stack');
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
