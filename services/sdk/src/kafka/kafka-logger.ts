import type { logCreator } from 'kafkajs';
import type { Logger } from '../logger.js';

const LEVEL_NAMES: Record<number, string> = { 1: 'error', 2: 'warn', 4: 'info', 5: 'debug' };

/**
 * Routes KafkaJS's own log lines to the caller's logger at debug level. KafkaJS logs every failed
 * attempt at error level, so during a broker outage it would flood the service's error log with
 * lines the emitter already reports once, classified (see the emitter's warn/error lines).
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...extra } = log;
      logger.debug(
        { kafkajs: namespace, kafkajsLevel: LEVEL_NAMES[level] ?? level, ...extra },
        String(message),
      );
    };
}
