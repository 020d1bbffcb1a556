import { createHash, randomUUID } from 'node:crypto';
import { isRetriable } from '@burnrate/core';
import type { ClickHouseClient } from '@clickhouse/client';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { insertLines } from '../../clickhouse/client.js';
import { classifyClickHouseError } from '../../clickhouse/errors.js';
import { DEAD_LETTER_COLUMNS, FACT_COLUMNS, KAFKA_POSITION_COLUMNS } from '../../facts/columns.js';
import { stopOnCrash } from '../../kafka/crash.js';
import { unpackRows } from '../../kafka/pack-rows.js';
import type { TopicNames } from '../../kafka/topics.js';
import type { Fatal } from '../../runtime/fatal.js';
import type { Component } from '../../runtime/lifecycle.js';
import type { Metrics } from '../../runtime/metrics.js';
import { backoffMs, sleep, ThrottledLog } from '../../runtime/retry.js';
import { bodyToken, buildInsertBody } from './insert-body.js';
import { InsertGroups } from './insert-group.js';
import { ReplayGuard, rowKey } from './replay-guard.js';
import { insertOrIsolate, insertRows, type SinkRow } from './sink.js';

/** The ledger's settings (createApp maps LEDGER_* and CLICKHOUSE_DATABASE onto them). */
export interface LedgerConfig {
  database: string;
  topics: TopicNames;
  groupId: string;
  /** How long the broker may hold a fetch to fill a batch; the ledger's main batching knob. */
  fetchWaitMs: number;
  /** How long a dead instance keeps its partitions before the group reassigns them. */
  sessionTimeoutMs?: number;
  /** Upper bound of one fetch per partition, so one insert stays a bounded size. */
  maxBatchBytes: number;
  /** The broker holds a fetch until this many bytes are ready or fetchWaitMs passes (default 64 KiB). */
  minBatchBytes?: number;
  /** Off only for the negative-control test: no replay guard and no insert deduplication token. */
  dedup: boolean;
  /**
   * Testing only: wait this long between a durable insert and the offset commit, so crash tests
   * can land their kills in the window where stored rows are not yet committed.
   */
  commitDelayMs?: number;
  /**
   * Testing only: `false` skips the heartbeat right before each insert — the check that keeps a
   * frozen instance (a zombie whose partitions moved on) from storing the batch it held.
   */
  fence?: boolean;
  /** Testing only: wait this long between reading a batch and storing it (the window a freeze must hit). */
  insertDelayMs?: number;
  /** While ClickHouse is down, one warning per this interval (not one per retry). */
  retryLogIntervalMs: number;
}

export interface LedgerDeps {
  kafka: Kafka;
  clickhouse: ClickHouseClient;
  logger: Logger;
  /** Called when the ledger cannot go on (its consumer will not restart, ClickHouse refuses for good). */
  fatal: Fatal;
  metrics?: Metrics;
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
export function createLedger(o: LedgerConfig, deps: LedgerDeps): Component & { stats(): LedgerStats } {
  const log = deps.logger.child({ role: 'ledger' });
  const consumer = deps.kafka.consumer({
    groupId: o.groupId,
    readUncommitted: false,
    maxWaitTimeInMs: o.fetchWaitMs,
    minBytes: o.minBatchBytes ?? 64 * 1024,
    maxBytesPerPartition: o.maxBatchBytes,
    maxBytes: o.maxBatchBytes * 4,
    sessionTimeout: o.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.max(500, Math.floor((o.sessionTimeoutMs ?? 30_000) / 10)),
  });
  const guard = new ReplayGuard(deps.clickhouse, o.database);
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
  /** An insert body's buffer, free again once its insert settled; reused by the next one. */
  let spareBuffer: Buffer | undefined;
  const keepSpare = (buffer: Buffer) => {
    if (!spareBuffer || spareBuffer.length < buffer.length) spareBuffer = buffer;
  };

  /** One partition batch waiting in an insert group. */
  interface Part {
    batch: EachBatchPayload['batch'];
    heartbeat: () => Promise<void>;
    isCurrent: () => boolean;
  }

  /**
   * Stores the batches of one group with ONE insert, retrying while ClickHouse is unavailable: the
   * callers wait inside eachBatch meanwhile, so KafkaJS fetches nothing more and nothing is
   * committed (backpressure). Returns false if the group was abandoned (stopping, or rebalanced).
   */
  async function store(
    table: { table: string; columns: readonly string[] },
    parts: Part[],
  ): Promise<boolean> {
    const name = table.table.split('.')[1]!;
    for (let attempt = 0; ; attempt++) {
      if (!parts.every((p) => p.isCurrent())) return false;
      try {
        const present: Array<Set<string> | undefined> = [];
        for (const { batch } of parts) {
          const first = BigInt(batch.firstOffset() ?? batch.lastOffset());
          present.push(o.dedup ? await guard.present(name, batch.topic, batch.partition, first) : undefined);
        }
        const batches = parts.map((p) => p.batch);
        // Usually nothing is stored ahead of the batch: then no row is looked up at all.
        const replayed = present.some((rows) => rows !== undefined && rows.size > 0);
        // The last body's buffer, if no other insert holds it (the partitions of the next fetch may).
        const spare = spareBuffer;
        spareBuffer = undefined;
        const body = buildInsertBody(
          batches,
          replayed ? (part, offset, row) => present[part]?.has(rowKey(offset, row)) === true : undefined,
          spare,
        );
        if (o.insertDelayMs && attempt === 0) await sleep(o.insertDelayMs);
        // A rebalance in progress makes heartbeat() throw: do not write for partitions we may be
        // losing. After a freeze past the session timeout this is what fences the zombie.
        if (o.fence !== false) await parts[0]!.heartbeat();
        const insertStarted = performance.now();
        let rejected: Awaited<ReturnType<typeof insertOrIsolate>> = [];
        try {
          if (body.rows > 0) {
            await insertLines(deps.clickhouse, {
              table: table.table,
              columns: table.columns,
              format: 'JSONCompactEachRow',
              bytes: body.bytes,
              settings: {
                insert_deduplication_token: o.dedup ? bodyToken(batches, body) : randomUUID(),
                // One thread per insert, as ClickHouse's own Kafka engine stores what it reads:
                // parallel parsing and a multi-threaded insert pipeline spent about twice the
                // engine's CPU per row (scripts/bench-peer.ts, by thread).
                ...SINGLE_THREADED_INSERT,
              },
            });
          }
        } catch (error) {
          const e = classifyClickHouseError(error, `an insert of ${body.rows} rows into ${table.table}`);
          if (e.code !== 'clickhouse_rejected_rows') throw e;
          rejected = await isolateRejected(table, parts);
        }
        keepSpare(body.buffer);
        if (rejected.length > 0) await deadLetterRejected(rejected);
        if (o.dedup) {
          for (const { batch } of parts)
            guard.advance(name, batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
        }
        const skipped = body.skipped.length;
        stats.rowsSkippedAsReplay += skipped;
        stats.rowsWritten += body.rows - rejected.length;
        stats.rowsRejected += rejected.length;
        stats.batches += parts.length;
        deps.metrics?.ledgerInsert(name, {
          rows: body.rows,
          skipped,
          rejected: rejected.length,
          seconds: (performance.now() - insertStarted) / 1000,
        });
        outage.recovered('ClickHouse is reachable again; the ledger resumed');
        return true;
      } catch (error) {
        if (!isRetriable(error)) throw error;
        outage.warn(
          { err: error, partitions: parts.map((p) => `${p.batch.topic}/${p.batch.partition}`) },
          'ClickHouse is unavailable; the ledger holds its batch and retries (nothing is committed)',
        );
        await sleep(backoffMs(attempt, 200, 5_000));
        await parts[0]!.heartbeat();
      }
    }
  }

  /**
   * ClickHouse refused the group's insert because of some rows (none of it was stored). Finds them by
   * bisection over the rows one by one, so one bad row costs one dead letter. The replay guard is
   * asked again first: exact per row, whatever the failed attempt did.
   */
  async function isolateRejected(table: { table: string; columns: readonly string[] }, parts: Part[]) {
    const name = table.table.split('.')[1]!;
    guard.reset();
    const rows: SinkRow[] = [];
    for (const { batch } of parts) {
      const first = BigInt(batch.firstOffset() ?? batch.lastOffset());
      const present = o.dedup ? await guard.present(name, batch.topic, batch.partition, first) : undefined;
      collectRows(batch, present, rows);
    }
    return insertOrIsolate(deps.clickhouse, table.table, table.columns, rows, tokenFor);
  }

  /** Adds the rows of a batch, minus rows already stored (a replay); returns how many were skipped. */
  function collectRows(batch: EachBatchPayload['batch'], present: Set<string> | undefined, into: SinkRow[]) {
    // Usually nothing is stored ahead of the batch: then no per-row key is built at all.
    const stored = present && present.size > 0 ? present : undefined;
    let skipped = 0;
    for (const m of batch.messages) {
      if (!m.value) continue;
      const offset = BigInt(m.offset);
      const position = `,${JSON.stringify(batch.topic)},${batch.partition},${m.offset},`;
      const lines = unpackRows(m.value);
      for (let row = 0; row < lines.length; row++) {
        if (stored?.has(rowKey(m.offset, row))) {
          skipped++;
          continue;
        }
        const json = withPosition(lines[row]!, `${position}${row}]`);
        into.push({ topic: batch.topic, partition: batch.partition, offset, row, json });
      }
    }
    return skipped;
  }

  /**
   * The deduplication token of an insert: a digest of the exact Kafka position of every row in it
   * (offset and index within the message), so a retried insert of the same rows is dropped by
   * ClickHouse and no other set of rows can share its token. With dedup off (negative control)
   * even ClickHouse's hash-based block deduplication is defeated.
   */
  function tokenFor(rows: SinkRow[]): string | false | undefined {
    if (!o.dedup) return false;
    if (rows.length === 0) return undefined;
    const hash = createHash('sha256');
    let run = '';
    for (const r of rows) {
      const at = `${r.topic}/${r.partition}`;
      if (at !== run) {
        hash.update(`|${at}|`);
        run = at;
      }
      hash.update(`${r.offset}:${r.row},`);
    }
    return hash.digest('hex');
  }

  const groups = new Map(
    Object.entries(tables).map(([topic, table]) => [
      topic,
      new InsertGroups<Part, boolean>((parts) => store(table, parts)),
    ]),
  );

  async function handleBatch({
    batch,
    heartbeat,
    isRunning,
    isStale,
    resolveOffset,
  }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const stored = await groups
      .get(batch.topic)!
      .join({ batch, heartbeat, isCurrent: () => isRunning() && !isStale() });
    if (!stored) return;
    if (o.commitDelayMs) await sleep(o.commitDelayMs);
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    resolveOffset(batch.lastOffset());
  }

  async function deadLetterRejected(rejected: Awaited<ReturnType<typeof insertOrIsolate>>) {
    log.error(
      { count: rejected.length, first: rejected[0]!.row, reason: rejected[0]!.error.message },
      'ClickHouse rejected rows; they go to dead_letters',
    );
    // DEAD_LETTER_COLUMNS order, then the position columns.
    const rows: SinkRow[] = rejected.map(({ row, error }) => ({
      topic: `${row.topic}#rejected`,
      partition: row.partition,
      offset: row.offset,
      row: row.row,
      json: JSON.stringify([
        Date.now(),
        'sink_rejected',
        '',
        error.message.slice(0, 2000),
        row.topic,
        row.partition,
        row.offset.toString(),
        '',
        Buffer.from(row.json).toString('base64'),
        `${row.topic}#rejected`,
        row.partition,
        row.offset.toString(),
        row.row,
      ]),
    }));
    const dlq = tables[o.topics.dlq]!;
    await insertRows(deps.clickhouse, dlq.table, dlq.columns, rows, tokenFor(rows));
  }

  return {
    name: 'ledger',
    stats: (): LedgerStats => ({ ...stats }),
    async start(): Promise<void> {
      consumer.on(consumer.events.GROUP_JOIN, () => guard.reset());
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
        deps.metrics?.assignment('ledger', payload.memberAssignment),
      );
      stopOnCrash(consumer, 'ledger', deps.fatal);
      await consumer.connect();
      await consumer.subscribe({ topics: [o.topics.enriched, o.topics.dlq], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Every partition of a fetch in its own eachBatch call at once, so InsertGroups can join them.
        partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
        eachBatch: handleBatch,
      });
      running = true;
      log.info({ topics: Object.keys(tables), groupId: o.groupId }, 'ledger started');
    },
    async stop(): Promise<void> {
      // Also during start-up: disconnect() ends a connect or join still in progress.
      const wasRunning = running;
      running = false;
      await consumer.disconnect();
      if (!wasRunning) return;
      log.info(stats, 'ledger stopped');
    },
  };
}

/** Settings that keep one insert on one thread (the ledger overlaps inserts with fetching anyway). */
const SINGLE_THREADED_INSERT = { input_format_parallel_parsing: 0, max_threads: 1, max_insert_threads: 1 };

/** Partitions one ledger handles at the same time; more than it owns costs nothing. */
const PARTITIONS_AT_ONCE = 64;

/** Appends the consumed position (`,"topic",partition,offset,row]`) to a JSON array row without parsing it. */
function withPosition(row: string, position: string): string {
  return row.slice(0, row.lastIndexOf(']')) + position;
}
