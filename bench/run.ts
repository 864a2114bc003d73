/**
 * `npm run bench`: how fast Easel is, side by side with bare Temporal. Starts a throw-away dev
 * stack and Easel (API and worker as separate processes) unless EASEL_URL names a running one;
 * prints a table and writes bench/results/latest.json. See docs/benchmarks.md.
 */
import path from 'node:path';
import type { SectionContext } from './context';
import { createBenchAccount } from './easel-client';
import { buildReport, writeJson, type Measurements } from './report';
import { formatReport } from './report-tables';
import { describeCode } from './provenance';
import { benchAccept } from './sections/accept';
import { benchBaseline } from './sections/baseline';
import { benchEndToEnd } from './sections/e2e';
import { benchLedger } from './sections/ledger';
import { benchMemory } from './sections/memory';
import { runProfile } from './sections/profile';
import { readSettings, type BenchSettings } from './settings';
import { stopOnInterrupt } from './shutdown';
import { remoteTarget, startLocalTarget, type BenchTarget } from './target';

const RESULTS_DIR = path.join(__dirname, 'results');
/** Far more than any run spends (flux-2-dev costs 1 credit a job). */
const BENCH_CREDITS = 50_000_000;

const started = Date.now();
const log = (message: string): void => {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[bench ${seconds} s] ${message}`);
};

/**
 * A section's context. Each section that runs jobs gets fresh API and worker processes on an
 * empty database (when this benchmark started Easel): on FerretDB, lookups get slower as tables
 * grow, so a section would otherwise pay for the jobs of the sections before it.
 */
async function sectionContext(
  settings: BenchSettings,
  target: BenchTarget,
  section: string,
  fresh: boolean,
): Promise<SectionContext> {
  if (fresh && target.freshEasel) {
    log(`${section}: fresh API and worker on an empty database`);
    await target.freshEasel(`easel_${section}`);
  }
  const { client } = await createBenchAccount(target.baseUrl, target.adminToken, BENCH_CREDITS);
  return { settings, target, client, log };
}

async function measure(settings: BenchSettings, target: BenchTarget): Promise<Measurements> {
  const m: Measurements = {
    target: settings.remote?.url ?? 'local dev stack (FerretDB + Temporal dev server)',
    errors: {},
  };
  /** A failing section is reported in the results; the sections after it still run. */
  const section = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (err) {
      m.errors[name] = err instanceof Error ? err.message : String(err);
      log(`${name}: FAILED — ${m.errors[name]}`);
    }
  };
  const e2e = await sectionContext(settings, target, 'e2e', false);
  await section('e2e', async () => void (m.e2e = await benchEndToEnd(e2e)));
  if (target.temporal) {
    const temporal = target.temporal;
    await section('baseline', async () => void (m.baseline = await benchBaseline(e2e, temporal)));
  } else log('baseline: skipped (set BENCH_TEMPORAL_ADDRESS)');
  await section(
    'accept',
    async () => void (m.accept = await benchAccept(await sectionContext(settings, target, 'accept', true))),
  );
  if (target.ledgerMongoUri) {
    const uri = target.ledgerMongoUri;
    await section('ledger', async () => void (m.ledger = await benchLedger(e2e, uri)));
  } else log('ledger: skipped (set BENCH_MONGODB_URI to a scratch database)');
  await section(
    'memory',
    async () => void (m.memory = await benchMemory(await sectionContext(settings, target, 'memory', true))),
  );
  return m;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const code = describeCode();
  log(settings.quick ? 'quick run (BENCH_QUICK=1): every section shrunk' : 'full run');
  if (settings.profile) {
    await runProfile(settings, log, RESULTS_DIR);
    return;
  }
  const target = settings.remote
    ? remoteTarget(settings.remote)
    : await startLocalTarget({ log, workerNice: settings.workerNice, build: settings.build });
  stopOnInterrupt(() => target.stop(), log);
  let measurements: Measurements;
  try {
    measurements = await measure(settings, target);
  } finally {
    await target.stop();
  }
  const report = buildReport(settings, measurements, code);
  const name = `${settings.quick ? 'quick' : 'latest'}.json`;
  const file = path.join(RESULTS_DIR, name);
  writeJson(file, report);
  console.log(`\n${formatReport(report)}\n\nwritten to ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err); // with its cause (a refused connection names the address)
    process.exit(1);
  },
);
