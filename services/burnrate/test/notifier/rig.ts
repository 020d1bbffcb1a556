import { type AlertPayload, parseAlertingConfig } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import { type JobState, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createAddressGuard } from '../../src/delivery/address-guard.js';
import { createHttpTransport } from '../../src/delivery/http-transport.js';
import { type AggregateKeys, aggregateKeys } from '../../src/redis/aggregate-keys.js';
import type { AlertJob } from '../../src/roles/aggregator/alert-relay.js';
import { createDeliveryRecorder, type DeliveryRecord } from '../../src/roles/notifier/delivery-record.js';
import { createNotifier, type DeliveryJob } from '../../src/roles/notifier/notifier.js';
import { bullPrefix } from '../../src/runtime/alerting-roles.js';
import type { Component } from '../../src/runtime/lifecycle.js';
import { pollUntil, recordFatal, silentLogger, uniquePrefix } from '../fixtures.js';

/** The notifier with its real pieces: BullMQ queues on the test Redis, the recorder, the HTTP transport. */
export interface NotifierRigOptions {
  redis: Redis;
  clickhouse: { client: ClickHouseClient; database: string };
  /** The alerting file's `destinations`, as written in it; `rig.destinations` may be changed later. */
  destinations: unknown[];
  /** NOTIFIER_ALLOWED_NETWORKS; 127.0.0.1/32 unless given (the receivers listen there). */
  allowNetworks?: string[];
  attempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  lockMs?: number;
  timeoutMs?: number;
  /** The topic prefix; a fresh one by default. */
  prefix?: string;
}

export interface NotifierRig {
  prefix: string;
  keys: AggregateKeys;
  alerts: Queue<AlertJob>;
  deliveries: Queue<DeliveryJob>;
  /** What the alerting file lists now (the notifier reads it on every job, as after a reload). */
  destinations: unknown[];
  /** Queues an alert exactly as the relay does. */
  send(payload: AlertPayload): Promise<void>;
  /** Polls the delivery job of (message, destination) until it is in one of `states`; returns its state. */
  settled(messageId: string, destination: string, states?: JobState[], timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** The job options createApp gives the deliveries queue, with test-sized attempts. */
const deliveryJobOptions = (attempts: number) => ({
  attempts,
  backoff: { type: 'custom' },
  removeOnComplete: { age: 3_600 },
  removeOnFail: { age: 3_600 },
});

export async function startNotifierRig(o: NotifierRigOptions): Promise<NotifierRig> {
  const prefix = o.prefix ?? uniquePrefix();
  const keys = aggregateKeys(prefix);
  const bull = bullPrefix(prefix);
  const alerts = new Queue<AlertJob>('alerts', { connection: o.redis, prefix: bull });
  const deliveries = new Queue<DeliveryJob>('deliveries', {
    connection: o.redis,
    prefix: bull,
    defaultJobOptions: deliveryJobOptions(o.attempts ?? 5),
  });
  const transport = createHttpTransport({
    guard: createAddressGuard({ allowNetworks: o.allowNetworks ?? ['127.0.0.1/32'] }),
    timeoutMs: o.timeoutMs ?? 5_000,
    userAgent: 'burnrate-notifier',
  });
  const rig: NotifierRig = {
    prefix,
    keys,
    alerts,
    deliveries,
    destinations: o.destinations,
    async send(payload) {
      await alerts.add(payload.type, { payload }, { jobId: payload.id });
    },
    async settled(messageId, destination, states = ['completed', 'failed'], timeoutMs = 20_000) {
      return pollUntil(
        async () => (await deliveries.getJobState(`${messageId}.${destination}`)) as string,
        (state) => (states as string[]).includes(state),
        timeoutMs,
      );
    },
    stop: async () => {},
  };
  const recorder = createDeliveryRecorder(
    { database: o.clickhouse.database, retryLogIntervalMs: 10_000 },
    { redis: o.redis, keys, clickhouse: o.clickhouse.client, logger: silentLogger },
  );
  const notifier = createNotifier(
    {
      concurrency: 4,
      backoffBaseMs: o.backoffBaseMs ?? 200,
      backoffMaxMs: o.backoffMaxMs ?? 2_000,
      lockMs: o.lockMs ?? 30_000,
      prefix: bull,
    },
    {
      redis: o.redis,
      keys,
      deliveries,
      transport,
      alerting: () => parseAlertingConfig({ destinations: rig.destinations }, 'test'),
      clock: Date.now,
      logger: silentLogger,
      fatal: recordFatal,
    },
  );
  const started: Component[] = [];
  for (const c of [recorder, notifier]) {
    await c.start();
    started.push(c);
  }
  rig.stop = async () => {
    for (const c of started.reverse()) await c.stop();
    await Promise.all([alerts.close(), deliveries.close()]);
    await deleteKeys(o.redis, prefix);
  };
  return rig;
}

/** Removes every key under a test's unique prefix (never FLUSHDB: the Redis is shared). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  if (!/^t[0-9a-f]{8}\.$/.test(prefix)) throw new Error(`refusing to delete keys under "${prefix}"`);
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
}

/** A row of alert_deliveries as the tests read it back. */
export type DeliveryRow = Pick<
  DeliveryRecord,
  'attempt_id' | 'message_id' | 'destination' | 'kind' | 'outcome' | 'error'
> & { attempt: number; status: number };

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The recorded attempts for some messages (FINAL: a record relayed twice counts once), oldest first. */
export async function deliveryRows(
  ch: { client: ClickHouseClient; database: string },
  messageIds: string[],
): Promise<DeliveryRow[]> {
  const rs = await ch.client.query({
    query: `SELECT attempt_id, message_id, destination, kind, attempt, outcome, status, error
            FROM ${ch.database}.alert_deliveries FINAL
            WHERE message_id IN (${messageIds.map(quote).join(', ')})
            ORDER BY at, attempt, destination`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<DeliveryRow>();
  return rows.map((r) => ({ ...r, attempt: Number(r.attempt), status: Number(r.status) }));
}

/** Polls alert_deliveries until `done` holds for the rows of these messages. */
export function pollRows(
  ch: { client: ClickHouseClient; database: string },
  messageIds: string[],
  done: (rows: DeliveryRow[]) => boolean,
  timeoutMs = 20_000,
): Promise<DeliveryRow[]> {
  return pollUntil(() => deliveryRows(ch, messageIds), done, timeoutMs);
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
