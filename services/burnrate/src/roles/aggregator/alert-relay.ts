import {
  type AlertingConfig,
  type AlertPayload,
  BurnrateError,
  type RoutedAlert,
  routeAlert,
} from '@burnrate/core';
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

/** What routing looks at in a payload. */
export function routedAlert(p: AlertPayload): RoutedAlert {
  return {
    event: p.type === 'alert.fired' ? 'fired' : 'resolved',
    rule: p.rule,
    severity: p.severity,
    customer_id: p.customer?.id ?? null,
    plan_kind: p.customer?.plan_kind ?? null,
  };
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
  o: { database: string; retryLogIntervalMs: number; claimIdleMs?: number },
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
      ...(o.claimIdleMs === undefined ? {} : { claimIdleMs: o.claimIdleMs }),
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
        try {
          await deps.queue.addBulk(
            payloads.map((payload) => ({
              name: payload.type,
              data: { payload },
              opts: { jobId: payload.id },
            })),
          );
        } catch (error) {
          // Redis (which holds the queue) is unreachable: the entries stay in the outbox.
          throw new BurnrateError(
            'queue_unavailable',
            `The alerts queue could not take ${payloads.length} alerts.`,
            {
              retriable: true,
              cause: error,
            },
          );
        }
      },
    },
  );
}

/** Outcomes after which a destination is done with a message. */
const FINAL_OUTCOMES = ['delivered', 'failed', 'refused', 'disabled', 'skipped'];

/**
 * After Redis lost its data, the alerts queue is gone with it: every message on record in ClickHouse
 * (the last `sinceMs`) that some destination it routes to has not finished with is queued again, with
 * the finished destinations skipped. Queue jobs are keyed by message id, so this adds nothing when
 * nothing was lost. Returns how many messages were queued.
 */
export async function requeueUnfinished(
  o: { database: string; sinceMs: number },
  deps: { clickhouse: ClickHouseClient; queue: Queue<AlertJob>; alerting: () => AlertingConfig },
): Promise<number> {
  let rows: Array<{ payload: string; done: string[] }>;
  try {
    const rs = await deps.clickhouse.query({
      query: `SELECT any(a.payload) AS payload,
                     groupUniqArrayIf(d.destination, d.outcome IN {final:Array(String)}) AS done
              FROM (SELECT message_id, payload FROM ${o.database}.alerts FINAL WHERE at >= fromUnixTimestamp64Milli({since:Int64})) AS a
              LEFT JOIN (SELECT message_id, destination, outcome FROM ${o.database}.alert_deliveries FINAL
                         WHERE at >= fromUnixTimestamp64Milli({since:Int64})) AS d
                ON d.message_id = a.message_id
              GROUP BY a.message_id`,
      query_params: { since: o.sinceMs, final: FINAL_OUTCOMES },
      format: 'JSONEachRow',
    });
    rows = await rs.json();
  } catch (error) {
    throw classifyClickHouseError(error, 'reading the alerts to queue again');
  }
  const destinations = deps.alerting().destinations;
  const jobs = rows.flatMap(({ payload: text, done }) => {
    const payload = JSON.parse(text) as AlertPayload;
    const routed = routeAlert(destinations, routedAlert(payload));
    if (routed.every((d) => done.includes(d.name))) return [];
    return [{ name: payload.type, data: { payload, skipDestinations: done }, opts: { jobId: payload.id } }];
  });
  if (jobs.length > 0) await deps.queue.addBulk(jobs);
  return jobs.length;
}
