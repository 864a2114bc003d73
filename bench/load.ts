import { performance } from 'node:perf_hooks';
import { sleep } from './stats';

/** One request's outcome: `'ok'`, or a label (an HTTP status, an error name) that is counted. */
export type Outcome = string;

export interface LoadResult {
  /** Latencies of the `ok` calls, in ms. */
  latenciesMs: number[];
  /** How many calls ended with each outcome (`ok` included). */
  outcomes: Record<string, number>;
  /** From the first scheduled call to the last answer. */
  elapsedMs: number;
}

function recorder(): { record(outcome: Outcome, ms: number): void; result(elapsedMs: number): LoadResult } {
  const latenciesMs: number[] = [];
  const outcomes: Record<string, number> = {};
  return {
    record(outcome, ms) {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome === 'ok') latenciesMs.push(ms);
    },
    result: (elapsedMs) => ({ latenciesMs, outcomes, elapsedMs }),
  };
}

/** An error's most specific name: undici's code (`UND_ERR_HEADERS_TIMEOUT`) rather than `TypeError`. */
function errorLabel(err: unknown): string {
  if (!(err instanceof Error)) return 'error';
  const cause = err.cause as { code?: unknown; name?: unknown } | undefined;
  const label = cause?.code ?? cause?.name;
  return typeof label === 'string' ? label : err.name;
}

async function outcomeOf(call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call();
  } catch (err) {
    return errorLabel(err);
  }
}

/**
 * Fixed-rate open loop: a call is due every 1/rate s whatever the earlier ones are doing. Latency
 * counts from when a call was due, not when the timer fired, so a stalled client or server shows
 * up in the percentiles instead of silently lowering the rate (no coordinated omission).
 */
export async function openLoop(
  call: () => Promise<Outcome>,
  options: { rate: number; seconds: number },
): Promise<LoadResult> {
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const rec = recorder();
  const inFlight: Array<Promise<void>> = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(outcomeOf(call).then((outcome) => rec.record(outcome, performance.now() - due)));
  }
  await Promise.all(inFlight);
  return rec.result(performance.now() - start);
}

/** Closed loop: `concurrency` callers, each starting its next call when the last one answers. */
export async function closedLoop(
  call: () => Promise<Outcome>,
  options: { concurrency: number; seconds: number },
): Promise<LoadResult> {
  const rec = recorder();
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  const caller = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      const outcome = await outcomeOf(call);
      rec.record(outcome, performance.now() - begun);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  return rec.result(performance.now() - start);
}

/** Runs `task(0..count-1)` with at most `concurrency` at a time (a closed loop over a fixed count). */
export async function forEachConcurrently(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, runner));
}
