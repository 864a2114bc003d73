/**
 * `npm start`: Easel with embedded defaults. The dev stack (FerretDB + Temporal dev server, unless
 * MONGODB_URI / TEMPORAL_ADDRESS point elsewhere), then API and worker in this one process, and a
 * demo account whose key is printed with a ready-to-paste request.
 */
import type { ProviderConfig } from '../routing/deployments';
import fs from 'node:fs';
import path from 'node:path';
import { randomToken } from '../platform/ids';
import { runProcess } from './process';
import { persistedSecret, startEasel, type Easel } from './runtime';

const DEMO_ACCOUNT_ID = 'acct_demo';

runProcess('easel', async (env, logger) => {
  if (env.NODE_ENV !== 'production' && !env.EASEL_ADMIN_TOKEN) {
    env = { ...env, EASEL_ADMIN_TOKEN: persistedSecret(env, 'admin-token', () => `adm_${randomToken(32)}`) };
  }
  if (env.NODE_ENV !== 'production' && !env.EASEL_METRICS_TOKEN) {
    env = {
      ...env,
      EASEL_METRICS_TOKEN: persistedSecret(env, 'metrics-token', () => `met_${randomToken(32)}`),
    };
  }
  const started = Date.now();
  const easel = await startEasel({ env, role: 'all', logger });
  const demoKey = await ensureDemoAccount(easel, env.EASEL_DATA_DIR);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const url = easel.baseUrl!;
  console.log(`
Easel is running at ${url} (started in ${seconds} s)
${easel.devStack?.temporalUiUrl ? `Temporal web UI:  ${easel.devStack.temporalUiUrl}\n` : ''}
Demo account:     ${DEMO_ACCOUNT_ID}
Demo API key:     ${demoKey}
Admin token:      ${env.EASEL_ADMIN_TOKEN}
Metrics token:    ${env.EASEL_METRICS_TOKEN} (Authorization: Bearer … on /metrics)

${modelsServed(easel.providers)}

Generate an image:
  curl -s ${url}/v1/imagine -H "Authorization: Bearer ${demoKey}" -H "Content-Type: application/json" \\
    -d '{"model":"flux-2-dev","prompt":"a lighthouse at dawn, watercolor"}'

Then follow the job (its id is in the answer above):
  curl -s "${url}/v1/jobs/<job id>?wait=30" -H "Authorization: Bearer ${demoKey}"

Ctrl-C stops Easel and the dev stack.
`);
  return easel;
});

/** Which catalog models real providers serve, and which the sandbox stands in for. */
function modelsServed(providers: ProviderConfig): string {
  const real = providers.deployments
    .filter((d) => d.type !== 'sandbox')
    .flatMap((d) => Object.keys(d.models).map((m) => `${m} (${d.id})`));
  const lines = [
    `Real providers:   ${real.length > 0 ? real.join(', ') : 'none (set a vendor key, see README)'}`,
  ];
  if (providers.sandboxModels.length > 0 || providers.sandboxOnly) {
    lines.push(`Sandbox serves:   ${providers.sandboxModels.join(', ')}`);
  }
  return lines.join('\n');
}

/** Creates the demo account and key on first run; later runs print the saved key again. */
async function ensureDemoAccount(easel: Easel, dataDir: string): Promise<string> {
  const keyFile = path.join(path.resolve(dataDir), 'demo-api-key');
  if (!(await easel.accounts.exists(DEMO_ACCOUNT_ID))) {
    await easel.accounts.create({ id: DEMO_ACCOUNT_ID, name: 'Demo', plan: 'hobby' });
  }
  const saved = fs.existsSync(keyFile) ? fs.readFileSync(keyFile, 'utf8').trim() : '';
  // The database may have been reset under a saved key: only reuse a key that still works.
  if (saved && (await easel.accounts.authenticate(saved))) return saved;
  const issued = await easel.accounts.issueKey(DEMO_ACCOUNT_ID, 'demo');
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  fs.writeFileSync(keyFile, `${issued.key}\n`, { mode: 0o600 });
  return issued.key;
}
