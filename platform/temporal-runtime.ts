import {
  makeTelemetryFilterString,
  Runtime,
  type Logger as TemporalLogger,
  type LogLevel,
  type LogMetadata,
} from '@temporalio/worker';
import type { Logger } from './logger';
import { startOnFreePort } from './net';

let installed: { metricsUrl?: string } | undefined;

/**
 * Installs the Temporal SDK runtime once per process, and returns where its Prometheus metrics
 * are (served by the SDK's core on a loopback port; Easel's /metrics appends them).
 *
 * Routes the Temporal SDK's logs (worker, workflows, activities) into our JSON logger, once per
 * process. The worker's own lifecycle chatter (bundling, state changes) drops to debug; workflow
 * and activity lines keep their level and carry the workflow id (the job id for jobs).
 */
export function installTemporalRuntime(
  logger: Logger,
  options: { metricsPort?: number } = {},
): { metricsUrl?: string } {
  if (installed) return installed;
  const metricsAddress = options.metricsPort !== undefined ? `127.0.0.1:${options.metricsPort}` : undefined;
  const write = (level: LogLevel, message: string, meta: LogMetadata = {}): void => {
    const fields: Record<string, unknown> = { ...meta };
    const chatter = fields.sdkComponent !== 'activity' && fields.sdkComponent !== 'workflow';
    delete fields.taskToken; // a credential-like blob, useless in logs
    const job = typeof fields.workflowId === 'string' ? { job_id: fields.workflowId } : {};
    switch (level) {
      case 'TRACE':
        logger.trace({ ...fields, ...job }, message);
        return;
      case 'DEBUG':
        logger.debug({ ...fields, ...job }, message);
        return;
      case 'INFO':
        if (chatter) logger.debug({ ...fields, ...job }, message);
        else logger.info({ ...fields, ...job }, message);
        return;
      case 'WARN':
        logger.warn({ ...fields, ...job }, message);
        return;
      case 'ERROR':
        logger.error({ ...fields, ...job }, message);
        return;
    }
  };
  const adapter: TemporalLogger = {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
  Runtime.install({
    logger: adapter,
    // The Rust core's own lines (e.g. an activity completing after its job was cancelled) join the
    // same JSON stream instead of colored text on stderr.
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} },
      ...(metricsAddress && {
        metrics: {
          prometheus: {
            bindAddress: metricsAddress,
            countersTotalSuffix: true,
            unitSuffix: true,
            useSecondsForDurations: true,
          },
        },
      }),
    },
  });
  // Only once it is in: an install that threw (its metrics port taken) may be tried again.
  installed = metricsAddress ? { metricsUrl: `http://${metricsAddress}/metrics` } : {};
  return installed;
}

/**
 * installTemporalRuntime with the SDK's metrics on a free loopback port. The SDK's core binds the
 * port itself when the runtime is installed, so another socket can take it first ("Address already
 * in use"): the install is then tried on a fresh port (a failed install may be repeated).
 */
export async function installTemporalRuntimeWithMetrics(
  logger: Logger,
  pickPort?: () => Promise<number>,
): Promise<{ metricsUrl?: string }> {
  return startOnFreePort((metricsPort) => installTemporalRuntime(logger, { metricsPort }), {
    ...(pickPort && { pickPort }),
    onTaken: (port) =>
      logger.warn({ port }, 'Temporal SDK metrics port taken before it was bound; trying another'),
  });
}
