import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

/** One pino logger per node; headers that carry keys are never written. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.pin', '*.secret', '*.passphrase'],
      censor: '[redacted]',
    },
  });
}
