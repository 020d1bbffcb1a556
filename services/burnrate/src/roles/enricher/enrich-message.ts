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
    }
  | { kind: 'dead'; offset: string; reason: string; key: string | null; value: string };

/** A dead letter for record `m`, as a row in DEAD_LETTER_COLUMNS order. */
export function deadLetter(
  m: KafkaMessage,
  topic: string,
  partition: number,
  reason: string,
  field: string,
  message: string,
): EnrichOutcome {
  const key = m.key?.toString('utf8') ?? null;
  return {
    kind: 'dead',
    offset: m.offset,
    reason,
    key,
    value: JSON.stringify([
      Number(m.timestamp),
      reason,
      field,
      message,
      topic,
      partition,
      m.offset,
      key ?? '',
      m.value ? m.value.toString('base64') : '',
    ]),
  };
}

/** The dead letter for a true duplicate: an event_id already recorded from another Kafka record. */
export function duplicateLetter(
  m: KafkaMessage,
  topic: string,
  partition: number,
  eventId: string,
): EnrichOutcome {
  return deadLetter(
    m,
    topic,
    partition,
    'duplicate_event_id',
    'event_id',
    `event_id ${eventId} was already recorded from another Kafka record; this copy is not counted.`,
  );
}

/**
 * Decode → validate → timeliness → enrich one record; every failure becomes a dead letter. No
 * closures per record: this runs for every event and allocation is most of its cost.
 */
export function enrichMessage(
  stage: EnrichStage,
  m: KafkaMessage,
  topic: string,
  partition: number,
): EnrichOutcome {
  const ingestedAtMs = Number(m.timestamp);
  if (!m.value || m.value.length === 0) {
    return deadLetter(m, topic, partition, 'undecodable', '', 'The record has no value.');
  }
  let event: UsageEvent;
  try {
    event = stage.validate(stage.decode(m.value));
  } catch (error) {
    if (!(error instanceof BurnrateError)) throw error;
    const reason = error.code === 'invalid_event' ? 'invalid_value' : error.code;
    return deadLetter(m, topic, partition, reason, error.field ?? '', error.message);
  }
  const late = stage.timeliness(event, ingestedAtMs);
  if (late) {
    return deadLetter(
      m,
      topic,
      partition,
      late,
      'occurred_at',
      `occurred_at ${new Date(event.occurred_at).toISOString()} is ${late === 'too_old' ? 'older than the late horizon' : 'too far in the future'} for a record ingested at ${new Date(ingestedAtMs).toISOString()}.`,
    );
  }
  const fact = stage.enrich(event, { topic, partition, offset: m.offset, ingestedAtMs });
  return {
    kind: 'enriched',
    offset: m.offset,
    eventId: event.event_id,
    key: fact.customerId,
    value: fact.row,
    unpriced: fact.unpriced,
    unmapped: fact.unmapped,
  };
}
