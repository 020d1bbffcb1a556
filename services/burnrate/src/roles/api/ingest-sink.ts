import { ValidationError } from '@burnrate/core';
import { createEmitter, type EmitInput, type Emitter, FlushTimeoutError } from '@burnrate/sdk';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Component } from '../../runtime/lifecycle.js';
import { HttpError } from './http.js';

/** What happened to one event of a request. */
export type SinkResult = { event_id: string } | { event_id: string | null; field: string; error: string };

export interface IngestSink extends Component {
  /**
   * Validates each event exactly as the client library's emit() does, queues the valid ones and
   * resolves once Kafka has acknowledged them (acks=all). Rejections name the field.
   * @throws HttpError 429 when the queue has no room for the request, 503 when Kafka does not
   *   acknowledge in time (the body lists the event_ids, so a retry with them is deduplicated).
   */
  submit(inputs: Array<EmitInput | ValidationError>): Promise<SinkResult[]>;
}

/**
 * The ingest path to `usage.events`: the client library's own emitter, so HTTP and OTLP events are
 * built, validated and encoded (Avro single-object, keyed by customer_ref) exactly as a service's
 * are, and concurrent requests share its batches.
 */
export function createIngestSink(
  config: { topic: string; ackTimeoutMs: number; maxQueueEvents: number; lingerMs: number },
  deps: { kafka: Kafka; logger: Logger },
): IngestSink {
  const log = deps.logger.child({ component: 'ingest-sink' });
  let emitter: Emitter | undefined;
  // Events Kafka refused for good (non-retriable errors), until the request that sent them looks.
  const refused = new Map<string, string>();

  return {
    name: 'ingest-sink',
    async start() {
      emitter = await createEmitter({
        kafka: deps.kafka,
        topic: config.topic,
        service: 'unknown_service',
        lingerMs: config.lingerMs,
        maxQueueEvents: config.maxQueueEvents,
        logger: log,
        onError: (failure) => {
          for (const id of failure.eventIds) refused.set(id, failure.error.message);
          // Bounded: the oldest go first (a request reads its own right after its flush).
          for (const id of refused.keys()) {
            if (refused.size <= 100_000) break;
            refused.delete(id);
          }
        },
      });
    },
    async stop() {
      const report = await emitter?.close({ timeoutMs: config.ackTimeoutMs });
      if (report && !report.complete) {
        log.warn(
          { undelivered: report.undelivered.count },
          'events accepted but not acknowledged at shutdown',
        );
      }
    },
    async submit(inputs) {
      const e = emitter;
      if (!e) throw new HttpError(503, 'not_ready', 'The API is starting; retry in a moment.', undefined, 1);
      if (e.stats().queued + inputs.length > config.maxQueueEvents) {
        throw new HttpError(
          429,
          'overloaded',
          'Too many events are waiting for Kafka (INGEST_MAX_QUEUE_EVENTS); retry in a second.',
          undefined,
          1,
        );
      }
      const results: SinkResult[] = inputs.map((input) => {
        if (input instanceof ValidationError)
          return { event_id: null, field: input.field ?? 'event', error: input.message };
        try {
          return { event_id: e.emit(input) };
        } catch (error) {
          if (error instanceof ValidationError) {
            const id = typeof input.event_id === 'string' ? input.event_id : null;
            return { event_id: id, field: error.field ?? 'event', error: error.message };
          }
          throw error;
        }
      });
      try {
        // Nothing of this request queued: nothing to wait for (others' events are not its business).
        if (results.some((r) => !('field' in r))) await e.flush({ timeoutMs: config.ackTimeoutMs });
      } catch (error) {
        if (!(error instanceof FlushTimeoutError)) throw error;
        throw new HttpError(
          503,
          'kafka_unavailable',
          `Kafka did not acknowledge the events within ${config.ackTimeoutMs} ms (INGEST_ACK_TIMEOUT_MS); retry with the same event_ids (the pipeline drops duplicates).`,
          undefined,
          1,
          { event_ids: results.map((r) => r.event_id) },
        );
      }
      return results.map((r) => {
        if ('field' in r) return r;
        const reason = refused.get(r.event_id);
        if (reason === undefined) return r;
        refused.delete(r.event_id);
        return { event_id: r.event_id, field: 'event', error: `Kafka refused the event: ${reason}` };
      });
    },
  };
}
