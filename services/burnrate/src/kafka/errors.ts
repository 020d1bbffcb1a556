import { BurnrateError } from '@burnrate/core';

/** The error and its causes, outermost first (KafkaJS wraps the broker's error once its retries ran out). */
export function chain(error: unknown): Array<{ name?: string; message?: string; type?: string }> {
  const out: Array<{ name?: string; message?: string; type?: string }> = [];
  let current = error as
    | { name?: string; message?: string; type?: string; cause?: unknown; originalError?: unknown }
    | undefined;
  for (let depth = 0; current && depth < 8; depth++) {
    out.push(current);
    current = (current.cause ?? current.originalError) as typeof current;
  }
  return out;
}

/**
 * Turns a KafkaJS failure to reach the cluster into one sentence naming KAFKA_BROKERS, classified by
 * KafkaJS's error class names (never by message text). Other errors pass through unchanged.
 */
export function classifyKafkaError(error: unknown, brokers: string[]): unknown {
  const links = chain(error);
  const connection = links.find(
    (e) => e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError',
  );
  if (!connection) return error;
  return new BurnrateError(
    'kafka_unreachable',
    `Kafka did not answer at ${brokers.join(',')} (KAFKA_BROKERS): ${connection.message}. Start the broker (npm run stack -- up) or fix KAFKA_BROKERS.`,
    { retriable: true, field: 'KAFKA_BROKERS', cause: error },
  );
}

/**
 * Reading a topic did not finish in time (the broker is down or slow, or the topic cannot be read):
 * one sentence naming the topic. Retriable: the same read may succeed once Kafka answers.
 */
export class KafkaReadTimeoutError extends BurnrateError {
  readonly topic: string;

  constructor(topic: string, message: string, cause?: unknown) {
    super('kafka_read_timeout', message, { retriable: true, cause });
    this.topic = topic;
  }
}
