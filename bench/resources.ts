import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { cpuMs } from './processes';
import { round } from './stats';
import type { ProcessName } from './target';

/** A process the benchmark accounts CPU to: Easel's, the dev stack's, or its own load generator. */
export type Accounted = ProcessName | 'bench';

interface CpuSnapshot {
  atMs: number;
  cpuMs: Partial<Record<Accounted, number>>;
  machine: { busy: number; total: number } | null;
}

/** CPU time spent during a section, per process, and how busy the machine's cores were. */
export interface CpuUse {
  /** CPU ms per unit of work (a job, a request), by process. */
  ms_per_unit: Partial<Record<Accounted, number>>;
  /** Share of all cores' time that these processes used, in %. */
  cores_busy_pct: number;
  /**
   * Share of all cores' time used by anything else on the machine (other users' tests, builds),
   * in %: a noisy neighbour makes the section's figures pessimistic.
   */
  other_processes_pct: number | null;
}

/** Busy and total CPU ticks of the whole machine (/proc/stat), null where unreadable. */
function machineTicks(): CpuSnapshot['machine'] {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const ticks = fields.slice(0, 8).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function snapshot(pids: Partial<Record<ProcessName, number>>): CpuSnapshot {
  const usage = process.cpuUsage();
  const out: CpuSnapshot['cpuMs'] = { bench: (usage.user + usage.system) / 1000 };
  for (const [name, pid] of Object.entries(pids) as Array<[ProcessName, number]>) {
    const ms = cpuMs(pid);
    if (ms !== null) out[name] = ms;
  }
  return { atMs: performance.now(), cpuMs: out, machine: machineTicks() };
}

/** Starts measuring; the returned function ends the measurement for `units` units of work. */
export function measureCpu(pids: Partial<Record<ProcessName, number>>): (units: number) => CpuUse {
  const before = snapshot(pids);
  return (units) => {
    const after = snapshot(pids);
    const perUnit: CpuUse['ms_per_unit'] = {};
    let total = 0;
    for (const name of Object.keys(after.cpuMs) as Accounted[]) {
      const start = before.cpuMs[name];
      const end = after.cpuMs[name];
      if (start === undefined || end === undefined) continue;
      total += end - start;
      perUnit[name] = round((end - start) / Math.max(1, units), 2);
    }
    const wallMs = after.atMs - before.atMs;
    const busyPct = (100 * total) / (wallMs * os.cpus().length);
    const machine =
      before.machine && after.machine
        ? (100 * (after.machine.busy - before.machine.busy)) / (after.machine.total - before.machine.total)
        : null;
    return {
      ms_per_unit: perUnit,
      cores_busy_pct: round(busyPct),
      other_processes_pct: machine === null ? null : round(Math.max(0, machine - busyPct)),
    };
  };
}
