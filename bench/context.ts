import type { EaselClient } from './easel-client';
import type { BenchSettings } from './settings';
import type { BenchTarget } from './target';

/** What every section gets: the settings, the Easel under test, the benchmark account's client. */
export interface SectionContext {
  settings: BenchSettings;
  target: BenchTarget;
  client: EaselClient;
  log: (message: string) => void;
}
