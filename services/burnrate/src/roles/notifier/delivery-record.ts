import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import type { AggregateKeys } from '../../redis/aggregate-keys.js';
import { createOutboxRelay } from '../../redis/outbox-relay.js';
import type { Component } from '../../runtime/lifecycle.js';

/** One delivery attempt: a row of ClickHouse `alert_deliveries`. */
export interface DeliveryRecord {
  /** `<job id>#<attempt>`: unique per attempt, so a relayed-twice record is stored once. */
  attempt_id: string;
  message_id: string;
  alert_id: string;
  destination: string;
  kind: string;
  attempt: number;
  outcome: 'delivered' | 'retrying' | 'failed' | 'refused' | 'disabled' | 'skipped';
  /** HTTP status, 0 when there was no answer. */
  status: number;
  error: string;
  duration_ms: number;
  /** Epoch ms the attempt started. */
  at: number;
}

/** Delivery attempts, recorded in a Redis stream as they happen, relayed to ClickHouse in batches. */
export function createDeliveryRecorder(
  o: { database: string; retryLogIntervalMs: number; claimIdleMs?: number },
  deps: { redis: Redis; keys: AggregateKeys; clickhouse: ClickHouseClient; logger: Logger },
): Component {
  return createOutboxRelay(
    {
      stream: deps.keys.deliveryOutbox,
      group: 'relay',
      name: 'delivery-relay',
      retryLogIntervalMs: o.retryLogIntervalMs,
      ...(o.claimIdleMs === undefined ? {} : { claimIdleMs: o.claimIdleMs }),
    },
    {
      redis: deps.redis,
      logger: deps.logger,
      async handle(entries) {
        const values = entries.map((e) => JSON.parse(e.fields.record!) as DeliveryRecord);
        try {
          await deps.clickhouse.insert({
            table: `${o.database}.alert_deliveries`,
            values,
            format: 'JSONEachRow',
          });
        } catch (error) {
          throw classifyClickHouseError(error, `recording ${values.length} delivery attempts`);
        }
      },
    },
  );
}
