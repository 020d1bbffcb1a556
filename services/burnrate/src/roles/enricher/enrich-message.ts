import { BurnrateError, type UsageEvent } from '@burnrate/core';
import type { KafkaMessage } from 'kafkajs';

/** What the enricher needs from the domain, bound to the current reference data. */
export interface EnrichStage {
  /** Bytes → event; throws a BurnrateError with code 'undecodable' or 'unknown_schema'. */
  decode(bytes: Buffer): UsageEvent;
  /** Throws a ValidationError naming the field (Avro allows e.g. negative longs; we do not). */
  validate(event: UsageEvent): UsageEvent;
  /** 'too_old' | 'in_future' | null, judged against the Kafka record's timestamp (replay-stable). */
  timeliness(event: UsageEvent, ingestedAtMs: number): string | null;
  /** The fact row as JSON array text in FACT_COLUMNS order, with what the enricher counts. */
  enrich(
    event: UsageEvent,
    meta: { topic: string; partition: number; offset: string; ingestedAtMs: number },
  ): { customerId: string; row: string; unpriced: boolean; unmapped: boolean };
}

export type EnrichOutcome =
  | {
      kind: 'enriched';
      offset: string;
      eventId: string;
      key: string;
      value: string;
      unpriced: boolean;
      unmapped: boolean;
      asDuplicate(): EnrichOutcome;
    }
  | { kind: 'dead'; offset: string; reason: string; key: string | null; value: string };

/** Decode → validate → timeliness → enrich one record; every failure becomes a dead letter. */
export function enrichMessage(
  stage: EnrichStage,
  m: KafkaMessage,
  topic: string,
  partition: number,
): EnrichOutcome {
  const ingestedAtMs = Number(m.timestamp);
  const dead = (reason: string, field: string, message: string): EnrichOutcome => ({
    kind: 'dead',
    offset: m.offset,
    reason,
    key: m.key?.toString('utf8') ?? null,
    // DEAD_LETTER_COLUMNS order.
    value: JSON.stringify([
      ingestedAtMs,
      reason,
      field,
      message,
      topic,
      partition,
      m.offset,
      m.key?.toString('utf8') ?? '',
      m.value ? m.value.toString('base64') : '',
    ]),
  });
  if (!m.value || m.value.length === 0) return dead('undecodable', '', 'The record has no value.');
  let event: UsageEvent;
  try {
    event = stage.validate(stage.decode(m.value));
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    const reason = error.code === 'invalid_event' ? 'invalid_value' : error.code;
    return dead(reason, error.field ?? '', error.message);
  }
  const late = stage.timeliness(event, ingestedAtMs);
  if (late) {
    return dead(
      late,
      'occurred_at',
      `occurred_at ${new Date(event.occurred_at).toISOString()} is ${late === 'too_old' ? 'older than the late horizon' : 'too far in the future'} for a record ingested at ${new Date(ingestedAtMs).toISOString()}.`,
    );
  }
  const fact = stage.enrich(event, { topic, partition, offset: m.offset, ingestedAtMs });
  const outcome: EnrichOutcome = {
    kind: 'enriched',
    offset: m.offset,
    eventId: event.event_id,
    key: fact.customerId,
    value: fact.row,
    unpriced: fact.unpriced,
    unmapped: fact.unmapped,
    asDuplicate: () =>
      dead(
        'duplicate_event_id',
        'event_id',
        `event_id ${event.event_id} was already recorded from another Kafka record; this copy is not counted.`,
      ),
  };
  return outcome;
}
