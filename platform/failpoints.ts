/**
 * Named steps of a multi-step write where a test injects a fault, to prove that a failure or a
 * crash between two steps loses nothing. Off unless EASEL_FAILPOINTS is set (never in
 * production); then a request's `Easel-Failpoint: <step>=<fault>[, …]` header arms them for that
 * request only.
 */
export const FAILPOINTS = ['submit.after_reserve', 'submit.job_write', 'submit.after_job_write'] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

/** `fail`: the step throws, as a failed database write would; `exit`: the process dies there. */
export type Fault = 'fail' | 'exit';

export class InjectedFault extends Error {
  constructor(readonly failpoint: Failpoint) {
    super(`injected fault at ${failpoint}`);
    this.name = 'InjectedFault';
  }
}

export interface Failpoints {
  /** Passes unless a fault is armed at this step. */
  reach(point: Failpoint): Promise<void>;
}

export const NO_FAILPOINTS: Failpoints = { reach: async () => {} };

/** Parses the header's value; throws on a step or fault it does not know (a test's typo). */
export function parseFailpoints(header: string): Failpoints {
  const armed = new Map<Failpoint, Fault>();
  for (const part of header.split(',')) {
    const [point, fault] = part.trim().split('=');
    if (!FAILPOINTS.includes(point as Failpoint) || (fault !== 'fail' && fault !== 'exit')) {
      throw new Error(`Easel-Failpoint: "${part.trim()}" is not <${FAILPOINTS.join('|')}>=<fail|exit>`);
    }
    armed.set(point as Failpoint, fault);
  }
  return {
    reach: async (point) => {
      const fault = armed.get(point);
      if (fault === 'fail') throw new InjectedFault(point);
      if (fault === 'exit') {
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => {}); // the signal lands before anything else runs
      }
    },
  };
}
