import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const RUNTIME_MODULE = path.resolve(__dirname, '../../platform/temporal-runtime.ts');
const NET_MODULE = path.resolve(__dirname, '../../platform/net.ts');

/**
 * In a child process: the SDK's runtime is installed once per process, and its core binds the
 * metrics port natively. The child holds a port, hands it out first, and reports where the
 * metrics ended up and what they answer.
 */
const script = `
  const net = require('node:net');
  const { installTemporalRuntimeWithMetrics } = require(${JSON.stringify(RUNTIME_MODULE)});
  const { freePort } = require(${JSON.stringify(NET_MODULE)});
  const { createLogger } = require(${JSON.stringify(path.resolve(__dirname, '../../platform/logger.ts'))});
  (async () => {
    const holder = net.createServer();
    await new Promise((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = holder.address().port;
    const handedOut = [taken];
    const pickPort = () => (handedOut.length > 0 ? Promise.resolve(handedOut.shift()) : freePort());
    const { metricsUrl } = await installTemporalRuntimeWithMetrics(createLogger('error'), pickPort);
    const res = await fetch(metricsUrl);
    process.stdout.write(JSON.stringify({ taken, metricsUrl, status: res.status }) + '\\n');
    holder.close();
    process.exit(0);
  })().catch((err) => { console.error(err); process.exit(1); });
`;

describe("the Temporal SDK's metrics port", () => {
  it('is picked anew when another socket took the free one before the SDK bound it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
      timeout: 60_000,
    });
    const report = JSON.parse(stdout.trim()) as { taken: number; metricsUrl: string; status: number };
    const port = Number(new URL(report.metricsUrl).port);
    expect(port).not.toBe(report.taken);
    expect(port).toBeGreaterThan(0);
    expect(report.status).toBe(200);
  }, 60_000);
});
