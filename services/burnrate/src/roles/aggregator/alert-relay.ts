import type { AlertPayload } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import type { AggregateKeys } from '../../redis/aggregate-keys.js';
import { createOutboxRelay } from '../../redis/outbox-relay.js';
import type { Component } from '../../runtime/lifecycle.js';

/** What a job on the alerts queue carries. */
export interface AlertJob {
  payload: AlertPayload;
  /** Destinations that already have a final outcome for this message (a re-queue after data loss). */
  skipDestinations?: string[];
}

/** One row of the ClickHouse `alerts` table. */
export function alertRow(p: AlertPayload) {
  return {
    message_id: p.id,
    alert_id: p.alert_id,
    event: p.type === 'alert.fired' ? 'fired' : 'resolved',
    rule: p.rule,
    severity: p.severity,
    subject: p.subject,
    customer_id: p.customer?.id ?? '',
    threshold: p.threshold,
    period: p.period,
    value: p.numbers.value,
    limit_value: p.numbers.limit,
    unit: p.numbers.unit,
    summary: p.summary,
    at: Date.parse(p.at),
    payload: JSON.stringify(p),
  };
}

/**
 * The alert outbox → ClickHouse `alerts` (the record analysts and the rebuild read) → the BullMQ
 * alerts queue with jobId = message id (so a message relayed twice is queued once). The ClickHouse
 * row is written first: whatever on-call receives is on record.
 */
export function createAlertRelay(
  o: { database: string; retryLogIntervalMs: number },
  deps: {
    redis: Redis;
    keys: AggregateKeys;
    clickhouse: ClickHouseClient;
    queue: Queue<AlertJob>;
    logger: Logger;
  },
): Component {
  return createOutboxRelay(
    {
      stream: deps.keys.alertOutbox,
      group: 'relay',
      name: 'alert-relay',
      retryLogIntervalMs: o.retryLogIntervalMs,
    },
    {
      redis: deps.redis,
      logger: deps.logger,
      async handle(entries) {
        const payloads = entries.map((e) => JSON.parse(e.fields.payload!) as AlertPayload);
        try {
          await deps.clickhouse.insert({
            table: `${o.database}.alerts`,
            values: payloads.map(alertRow),
            format: 'JSONEachRow',
          });
        } catch (error) {
          throw classifyClickHouseError(error, `storing ${payloads.length} alerts`);
        }
        await deps.queue.addBulk(
          payloads.map((payload) => ({ name: payload.type, data: { payload }, opts: { jobId: payload.id } })),
        );
      },
    },
  );
}
