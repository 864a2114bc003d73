import { ConfigurationError, parseEnvironment, type Environment } from '../platform/config';
import { createLogger, type Logger } from '../platform/logger';
import type { Easel } from './runtime';

/**
 * Runs an entry point: parses the environment (exiting with the bad variable named), starts,
 * and on SIGINT/SIGTERM stops everything in order (API, worker, connections, dev stack).
 */
export function runProcess(name: string, start: (env: Environment, logger: Logger) => Promise<Easel>): void {
  let env: Environment;
  try {
    env = parseEnvironment();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  }
  const logger = createLogger(env.LOG_LEVEL, { process: name });
  start(env, logger).then(
    (easel) => {
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        easel.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
    },
    (err: unknown) => {
      if (err instanceof ConfigurationError) {
        console.error(err.message);
      } else {
        logger.fatal({ err }, 'start-up failed');
      }
      process.exit(1);
    },
  );
}
