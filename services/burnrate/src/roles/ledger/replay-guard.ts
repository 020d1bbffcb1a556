import type { ClickHouseClient } from '@clickhouse/client';
import { classifyClickHouseError } from '../../clickhouse/errors.js';

/** A row's Kafka position within its partition: the message offset and the row's index in it. */
export function rowKey(offset: bigint | string, row: number): string {
  return `${offset}:${row}`;
}

/**
 * Knows which rows of a partition are already stored in a table at or after the position the
 * consumer resumed from — the window where a crash between "insert" and "commit offset" can leave
 * rows that Kafka will deliver again. Those rows are skipped, so a replay writes nothing twice. It
 * is exact per row (kafka_offset, kafka_row), even if an earlier insert landed only partly: one
 * INSERT becomes one part per month, and a bisected insert stores its halves separately.
 */
export class ReplayGuard {
  private readonly known = new Map<string, { from: bigint; present: Set<string> }>();

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {}

  /** Forget everything: after a rebalance another instance may have written these partitions. */
  reset(): void {
    this.known.clear();
  }

  /**
   * Everything before `next` is stored: batches from `next` on need no query, and a redelivery of
   * anything earlier (a failed commit retried by KafkaJS) asks ClickHouse again.
   */
  advance(table: string, topic: string, partition: number, next: bigint): void {
    this.known.set(`${table}/${topic}/${partition}`, { from: next, present: new Set() });
  }

  /** Rows (rowKey) at offsets ≥ `from` of (topic, partition) already present in `table`. */
  async present(table: string, topic: string, partition: number, from: bigint): Promise<Set<string>> {
    const key = `${table}/${topic}/${partition}`;
    const cached = this.known.get(key);
    if (cached && cached.from <= from) return cached.present;
    let rows: Array<{ o: string; r: number }>;
    try {
      const rs = await this.clickhouse.query({
        query: `SELECT DISTINCT kafka_offset AS o, kafka_row AS r FROM ${this.database}.${table}
                WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt32} AND kafka_offset >= {from:UInt64}`,
        query_params: { topic, partition, from: from.toString() },
        format: 'JSONEachRow',
      });
      rows = await rs.json<{ o: string; r: number }>();
    } catch (error) {
      throw classifyClickHouseError(error, `the replay check of ${topic}/${partition} in ${table}`);
    }
    const present = new Set(rows.map((r) => rowKey(r.o, Number(r.r))));
    this.known.set(key, { from, present });
    return present;
  }
}
