import kafkajs from 'kafkajs';
import { ProduceError } from '../errors.js';

const {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;

// Protocol errors (by Kafka error type) that say the batch is too big for the broker or topic.
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
// The broker lost track of this producer id's sequence numbers (e.g. after its state expired or a
// batch outcome became unknown): a fresh producer id resolves it; a resend may duplicate, which
// event_id deduplication downstream absorbs.
const RESET_PRODUCER = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

/**
 * KafkaJS wraps the error that matters: its retrier rejects with KafkaJSNumberOfRetriesExceeded
 * (retries used up) or a plain KafkaJSNonRetriableError whose `cause` is the real failure. The
 * root decides whether a later attempt can succeed.
 */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 8; depth++) {
    const isWrapper =
      current instanceof KafkaJSNumberOfRetriesExceeded ||
      (current instanceof KafkaJSNonRetriableError && current.constructor === KafkaJSNonRetriableError);
    const cause = isWrapper ? (current as Error).cause : undefined;
    if (!(cause instanceof Error) || cause === current) return current;
    current = cause;
  }
  return current;
}

/** Turns whatever KafkaJS threw from producer.send()/connect() into a ProduceError. */
export function classifyKafkaError(error: unknown, topic: string): ProduceError {
  if (error instanceof ProduceError) return error;
  const root = rootCause(error);
  const detail = root instanceof Error ? root.message : String(root);
  if (root instanceof KafkaJSProtocolError) {
    const type = String(root.type);
    const code = `kafka_${type.toLowerCase()}`;
    if (TOO_LARGE.has(type)) {
      return new ProduceError(code, `Kafka refused a batch as too large for topic ${topic} (${type}).`, {
        retriable: false,
        tooLarge: true,
        cause: error,
      });
    }
    if (RESET_PRODUCER.has(type)) {
      return new ProduceError(
        code,
        `Kafka rejected the producer's sequence state (${type}); starting a new producer.`,
        {
          retriable: true,
          resetProducer: true,
          cause: error,
        },
      );
    }
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
      return new ProduceError(
        'kafka_topic_not_found',
        `Kafka does not know topic ${topic}: create it (auto-creation is usually off) or fix the emitter's topic option.`,
        { retriable: true, cause: error },
      );
    }
    return new ProduceError(code, `Kafka answered ${type} for topic ${topic}: ${detail}`, {
      retriable: root.retriable,
      cause: error,
    });
  }
  if (root instanceof KafkaJSConnectionError) {
    return new ProduceError('kafka_unavailable', `No connection to the Kafka brokers: ${detail}`, {
      retriable: true,
      cause: error,
    });
  }
  if (root instanceof KafkaJSRequestTimeoutError) {
    return new ProduceError('kafka_timeout', `A Kafka request timed out: ${detail}`, {
      retriable: true,
      cause: error,
    });
  }
  if (root instanceof KafkaJSError) {
    return new ProduceError('kafka_error', `Sending to Kafka failed: ${detail}`, {
      retriable: root.retriable,
      cause: error,
    });
  }
  // Not from KafkaJS (a TypeError from bad input, say): a retry would fail the same way.
  return new ProduceError('kafka_client_error', `The Kafka client failed: ${detail}`, {
    retriable: false,
    cause: error,
  });
}
