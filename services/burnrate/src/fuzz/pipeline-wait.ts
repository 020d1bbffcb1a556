import { countStored } from './facts.js';
import type { FuzzTarget } from './target.js';

/** Polls until the enricher committed past every record and ClickHouse holds N rows; a problem or null. */
export async function waitForPipeline(
  target: FuzzTarget,
  ends: bigint[],
  n: number,
  timeoutMs: number,
): Promise<string | null> {
  const admin = target.kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  let committed = 0n;
  let stored = 0;
  try {
    for (;;) {
      const health = await target.health();
      if (!health.alive) {
        return `the burnrate process exited while records were pending: ${health.detail}\n${target.output().slice(-3_000)}`;
      }
      const [offsets] = await admin.fetchOffsets({
        groupId: target.enricherGroup,
        topics: [target.topics.events],
      });
      committed = 0n;
      let done = true;
      for (const p of offsets?.partitions ?? []) {
        const at = BigInt(p.offset === '-1' ? '0' : p.offset);
        committed += at;
        if (at < ends[p.partition]!) done = false;
      }
      if (!offsets || offsets.partitions.length < ends.length) done = false;
      if (done) {
        stored = await countStored(target.clickhouse, target.database, [
          target.topics.events,
          target.topics.enriched,
        ]);
        if (stored >= n) return null;
      }
      if (Date.now() > deadline) {
        const total = ends.reduce((a, b) => a + b, 0n);
        return `after ${timeoutMs} ms the enricher had committed ${committed} of ${total} records and ClickHouse held ${stored} of ${n}`;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}
