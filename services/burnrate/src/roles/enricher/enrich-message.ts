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
  /**
   * The fact row as JSON array text in FACT_COLUMNS order, with what the enricher counts. Throws a
   * BurnrateError (e.g. `money_overflow`) for an event that cannot be priced: it is dead-lettered.
   */
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

/**
 * Most bytes of key and base64 payload one dead letter carries. A record near the broker's message
 * limit (1 MiB by default) would make a dead letter a third larger than that limit, which the broker
 * refuses: the transaction fails, the enricher stops, and the same record stops it again after every
 * restart. Such a letter keeps no payload and says where the record still is.
 */
export const MAX_DEAD_LETTER_RECORD_BYTES = 256 * 1024;

/** A dead letter for record `m`, as a row in DEAD_LETTER_COLUMNS order. */
export function deadLetter(
  m: KafkaMessage,
  topic: string,
  partition: number,
  reason: string,
  field: string,
  message: string,
): EnrichOutcome {
  let key = m.key?.toString('utf8') ?? null;
  let payload = m.value ? m.value.toString('base64') : '';
  let text = message;
  if ((key?.length ?? 0) + payload.length > MAX_DEAD_LETTER_RECORD_BYTES) {
    text = `${message} The record (key ${m.key?.length ?? 0} bytes, value ${m.value?.length ?? 0} bytes) is too large to keep in a dead letter; it is at ${topic} partition ${partition} offset ${m.offset} for as long as that topic's retention keeps it.`;
    payload = '';
    if (key !== null && key.length > MAX_DEAD_LETTER_RECORD_BYTES) key = null;
  }
  return {
    kind: 'dead',
    offset: m.offset,
    reason,
    key,
    value: JSON.stringify([
      Number(m.timestamp),
      reason,
      field,
      text,
      topic,
      partition,
      m.offset,
      key ?? '',
      payload,
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
  let fact: ReturnType<EnrichStage['enrich']>;
  try {
    fact = stage.enrich(event, { topic, partition, offset: m.offset, ingestedAtMs });
  } catch (error) {
    // A valid event can still not be priced: counts whose cost passes 2^53 nano-USD (money_overflow).
    // Thrown on, it would stop the partition, and the same record would stop it after every restart.
    if (!(error instanceof BurnrateError)) throw error;
    const reason = error.code === 'invalid_event' ? 'invalid_value' : error.code;
    return deadLetter(m, topic, partition, reason, error.field ?? '', error.message);
  }
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
