import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Knows which Kafka offsets of a partition are already stored in a table at or after the position
 * the consumer resumed from — the window where a crash between "insert" and "commit offset" can
 * leave rows that Kafka will deliver again. Those offsets are skipped, so a replay writes nothing
 * twice. It is exact even if an earlier insert was split into several parts and only some landed.
 */
export class ReplayGuard {
  private readonly known = new Map<string, { from: bigint; present: Set<bigint> }>();

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {}

  /** Forget everything: after a rebalance another instance may have written these partitions. */
  reset(): void {
    this.known.clear();
  }

  /** Offsets ≥ `from` of (topic, partition) already present in `table`. */
  async present(table: string, topic: string, partition: number, from: bigint): Promise<Set<bigint>> {
    const key = `${table}/${topic}/${partition}`;
    const cached = this.known.get(key);
    if (cached && cached.from <= from) return cached.present;
    const rs = await this.clickhouse.query({
      query: `SELECT DISTINCT kafka_offset AS o FROM ${this.database}.${table}
              WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt32} AND kafka_offset >= {from:UInt64}`,
      query_params: { topic, partition, from: from.toString() },
      format: 'JSONEachRow',
    });
    const present = new Set((await rs.json<{ o: string }>()).map((r) => BigInt(r.o)));
    this.known.set(key, { from, present });
    return present;
  }
}
