import { isRetriable } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { DEAD_LETTER_COLUMNS, FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../../facts/columns.js';
import { unpackRows } from '../../kafka/pack-rows.js';
import type { TopicNames } from '../../kafka/topics.js';
import { backoffMs, sleep, ThrottledLog } from '../../runtime/retry.js';
import { ReplayGuard } from './replay-guard.js';
import { insertOrIsolate, insertRows, type SinkRow } from './sink.js';

export interface LedgerOptions {
  kafka: Kafka;
  clickhouse: ClickHouseClient;
  database: string;
  topics: TopicNames;
  groupId: string;
  /** How long the broker may hold a fetch to fill a batch; the ledger's main batching knob. */
  fetchWaitMs: number;
  /** How long a dead instance keeps its partitions before the group reassigns them. */
  sessionTimeoutMs?: number;
  /** Upper bound of one fetch per partition, so one insert stays a bounded size. */
  maxBatchBytes: number;
  /** Off only for the negative-control test: no replay guard and no insert deduplication token. */
  dedup: boolean;
  /**
   * Testing only: wait this long between a durable insert and the offset commit, so crash tests
   * can land their kills in the window where stored rows are not yet committed.
   */
  commitDelayMs?: number;
  /** While ClickHouse is down, one warning per this interval (not one per retry). */
  retryLogIntervalMs: number;
  logger: Logger;
}

export interface LedgerStats {
  rowsWritten: number;
  rowsSkippedAsReplay: number;
  rowsRejected: number;
  batches: number;
}

/**
 * Kafka → ClickHouse with effectively-once facts. For each partition batch: skip offsets already
 * stored (ReplayGuard), insert the rest as one block with a deterministic deduplication token, and
 * only then commit the Kafka offset. While ClickHouse is unreachable the batch is retried with
 * backoff inside eachBatch, so kafkajs fetches nothing more and commits nothing (backpressure).
 */
export function createLedger(o: LedgerOptions) {
  const log = o.logger.child({ role: 'ledger' });
  const consumer = o.kafka.consumer({
    groupId: o.groupId,
    readUncommitted: false,
    maxWaitTimeInMs: o.fetchWaitMs,
    minBytes: 64 * 1024,
    maxBytesPerPartition: o.maxBatchBytes,
    maxBytes: o.maxBatchBytes * 4,
    sessionTimeout: o.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.max(500, Math.floor((o.sessionTimeoutMs ?? 30_000) / 10)),
  });
  const guard = new ReplayGuard(o.clickhouse, o.database);
  const outage = new ThrottledLog(log, o.retryLogIntervalMs);
  const tables: Record<string, { table: string; columns: readonly string[] }> = {
    [o.topics.enriched]: {
      table: `${o.database}.usage_events`,
      columns: [...FACT_COLUMNS, ...KAFKA_POSITION_COLUMNS],
    },
    [o.topics.dlq]: {
      table: `${o.database}.dead_letters`,
      columns: [...DEAD_LETTER_COLUMNS, ...KAFKA_POSITION_COLUMNS],
    },
  };
  const stats: LedgerStats = { rowsWritten: 0, rowsSkippedAsReplay: 0, rowsRejected: 0, batches: 0 };
  let running = false;

  async function handleBatch({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> {
    const { table, columns } = tables[batch.topic]!;
    const first = BigInt(batch.firstOffset() ?? batch.lastOffset());
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return;
      try {
        const present = o.dedup
          ? await guard.present(table.split('.')[1]!, batch.topic, batch.partition, first)
          : undefined;
        const rows: SinkRow[] = [];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (present?.has(offset)) {
            stats.rowsSkippedAsReplay += m.value ? unpackRows(m.value).length : 0;
            continue;
          }
          if (!m.value) continue;
          const position = `,${JSON.stringify(batch.topic)},${batch.partition},${m.offset}]`;
          for (const line of unpackRows(m.value)) rows.push({ offset, json: withPosition(line, position) });
        }
        // With dedup off (negative control) even ClickHouse's hash-based block deduplication is off.
        const tokenFor = (rs: SinkRow[]) =>
          !o.dedup
            ? false
            : rs.length > 0
              ? `${batch.topic}/${batch.partition}/${rs[0]!.offset}-${rs.at(-1)!.offset}/${rs.length}`
              : undefined;
        // A rebalance in progress makes heartbeat() throw: do not write for a partition we may be losing.
        await heartbeat();
        const rejected = await insertOrIsolate(o.clickhouse, table, columns, rows, tokenFor);
        if (rejected.length > 0) await deadLetterRejected(rejected, batch.topic, batch.partition);
        for (const r of rows) present?.add(r.offset);
        stats.rowsWritten += rows.length - rejected.length;
        stats.rowsRejected += rejected.length;
        stats.batches++;
        outage.recovered('ClickHouse is reachable again; the ledger resumed');
        break;
      } catch (error) {
        if (!isRetriable(error)) throw error;
        outage.warn(
          { err: error, topic: batch.topic, partition: batch.partition },
          'ClickHouse is unavailable; the ledger holds its batch and retries (nothing is committed)',
        );
        await sleep(backoffMs(attempt, 200, 5_000));
        await heartbeat();
      }
    }
    if (o.commitDelayMs) await sleep(o.commitDelayMs);
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    resolveOffset(batch.lastOffset());
  }

  async function deadLetterRejected(
    rejected: Awaited<ReturnType<typeof insertOrIsolate>>,
    topic: string,
    partition: number,
  ) {
    log.error(
      { count: rejected.length, topic, partition, reason: rejected[0]!.error.message },
      'ClickHouse rejected rows; they go to dead_letters',
    );
    // DEAD_LETTER_COLUMNS order, then the position columns.
    const rows: SinkRow[] = rejected.map(({ row, error }) => ({
      offset: row.offset,
      json: JSON.stringify([
        Date.now(),
        'sink_rejected',
        '',
        error.message.slice(0, 2000),
        topic,
        partition,
        row.offset.toString(),
        '',
        Buffer.from(row.json).toString('base64'),
        `${topic}#rejected`,
        partition,
        row.offset.toString(),
      ]),
    }));
    const dlq = tables[o.topics.dlq]!;
    await insertRows(
      o.clickhouse,
      dlq.table,
      dlq.columns,
      rows,
      `rejected/${topic}/${partition}/${rows[0]!.offset}`,
    );
  }

  return {
    stats: (): LedgerStats => ({ ...stats }),
    async start(): Promise<void> {
      consumer.on(consumer.events.GROUP_JOIN, () => guard.reset());
      await consumer.connect();
      await consumer.subscribe({ topics: [o.topics.enriched, o.topics.dlq], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: handleBatch,
      });
      running = true;
      log.info({ topics: Object.keys(tables), groupId: o.groupId }, 'ledger started');
    },
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      await consumer.disconnect();
      log.info(stats, 'ledger stopped');
    },
  };
}

/** Appends the consumed position (`,"topic",partition,offset]`) to a JSON array row without parsing it. */
function withPosition(row: string, position: string): string {
  return row.slice(0, row.lastIndexOf(']')) + position;
}
