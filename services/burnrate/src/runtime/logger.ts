import { type DestinationStream, type Logger, pino } from 'pino';

/** Secrets never reach the logs, whatever object they are nested in. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_ANALYST_PASSWORD',
  '*.CLICKHOUSE_PASSWORD',
  '*.CLICKHOUSE_ANALYST_PASSWORD',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-clickhouse-key"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: 'burnrate' }, redact: { paths: REDACT, censor: '[redacted]' } },
    destination ?? pino.destination({ sync: false }),
  );
}

export type { Logger };
