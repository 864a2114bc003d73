import fs from 'node:fs';
import { REPO_ROOT } from '../infra/devstack/devstack';
import { round } from './stats';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that are read here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
  startTime: number;
  samples: number[];
  /** Microseconds since the previous sample. */
  timeDeltas: number[];
}

/** Main-thread CPU time spent in one area of the code: a package, a folder of Easel, V8 itself. */
export interface CpuArea {
  area: string;
  ms: number;
  pct: number;
}

const REPO = `${REPO_ROOT}/`;

function areaOf(functionName: string, url: string): string | null {
  if (url === '') {
    if (functionName === '(idle)') return null;
    return functionName.startsWith('(') ? functionName : `built-in ${functionName || '(anonymous)'}`;
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? url);
  }
  if (url.startsWith('node:')) return 'node internals';
  // Temporal runs workflows from a webpack bundle inside a vm context.
  if (url.includes('workflow-bundle')) return 'workflow bundle (workflows/ + SDK)';
  if (url.startsWith('evalmachine')) return 'workflow vm glue';
  const file = url.replace(/^file:\/\//, '');
  if (file.startsWith(REPO)) {
    // The build's dist/<folder>/ is the sources' <folder>/.
    const parts = file.slice(REPO.length).split('/');
    return `easel ${parts[0] === 'dist' ? parts[1] : parts[0]}/`;
  }
  return url;
}

/**
 * Self time per area over every thread of one process (`node --cpu-prof` writes one profile per
 * thread: the main one, module-loader and workflow threads), leaving out idle time and the first
 * `skipMs` after the process started (start-up: module loading, the workflow bundle).
 */
export function cpuByArea(files: string[], skipMs: number, top = 14): CpuArea[] {
  const profiles = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as CpuProfile);
  // Every thread's profile uses the process's monotonic clock, in microseconds.
  const from = Math.min(...profiles.map((p) => p.startTime)) + skipMs * 1000;
  const byArea = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (at < from) return;
      const frame = frames.get(id);
      const area = frame ? areaOf(frame.functionName, frame.url) : null;
      if (area === null) return;
      byArea.set(area, (byArea.get(area) ?? 0) + delta);
      total += delta;
    });
  }
  return [...byArea]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([area, us]) => ({ area, ms: round(us / 1000), pct: round((100 * us) / total) }));
}
