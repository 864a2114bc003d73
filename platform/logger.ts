import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Credentials never reach a log line: authorization headers, API keys,
 * secrets and prompts are redacted wherever they appear in a logged object.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'easel', ...bindings },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'key',
        'api_key',
        'apiKey',
        'token',
        'secret',
        'credentials',
        '*.apiKey',
        '*.api_key',
        '*.secret',
        '*.token',
        'prompt',
        '*.prompt',
        'negative_prompt',
        '*.negative_prompt',
      ],
      censor: '[redacted]',
    },
  });
}
