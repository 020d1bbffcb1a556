import type { Consumer } from 'kafkajs';
import { type Fatal, fatalError } from '../runtime/fatal.js';

/**
 * KafkaJS restarts a crashed consumer only when the cause is retriable; otherwise it disconnects and
 * stays down while the process keeps running. A consumer that will not come back is fatal to its role.
 */
export function stopOnCrash(consumer: Consumer, role: string, fatal: Fatal): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    fatal(fatalError(role, 'its Kafka consumer crashed and will not restart', payload.error));
  });
}
