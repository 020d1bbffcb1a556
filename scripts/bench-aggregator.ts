// The aggregator against the ledger, in one run, on the same usage.enriched rows (made by the real
// enrichment stage from the benchmark events, packed as the enricher packs them): each role is a
// `burnrate run` process consuming the whole topic; events/s from its first progress to its last row,
// and CPU µs per event of its process (and of Redis, for the aggregator; of the process that embeds
// ClickHouse, for the ledger). The target: the aggregator at least 2× the ledger's rate.
//   npm run stack -- up
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=@burnrate/source --import tsx scripts/bench-aggregator.ts [events]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { pino } from 'pino';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { packRows } from '../services/burnrate/src/kafka/pack-rows.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { benchEnrichedRows, exitOf, spawnRole } from './bench-process.js';
import { cpuSeconds, findPid, peakRssMb } from './proc-stats.js';

const N = Number(process.argv[2] ?? 200_000);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = createKafka({
  brokers: brokers.split(','),
  clientId: 'bench',
  logger: pino({ level: 'error' }),
});
const prefix = `agg${Date.now()}.`;
const topics = topicNames(prefix);
const port = 18_123 + Math.floor(Math.random() * 1000);
const env = {
  KAFKA_BROKERS: brokers,
  BURNRATE_TOPIC_PREFIX: prefix,
  CLICKHOUSE_HTTP_PORT: String(port),
  CLICKHOUSE_DATABASE: 'bench',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function produce(): Promise<void> {
  const rows = benchEnrichedRows(N);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = packRows(rows, 4);
  for (let i = 0; i < messages.length; i += 4) {
    await producer.send({ topic: topics.enriched, acks: -1, messages: messages.slice(i, i + 4) });
  }
  await producer.disconnect();
  console.log(`${N} enriched rows in ${messages.length} messages on ${topics.enriched}`);
}

/**
 * Polls `progress` (rows done) until N: events/s over the whole run (from the process's spawn, so
 * including its start-up) and sustained (from its first progress), and CPU µs per event of each process.
 */
async function measure(
  label: string,
  pids: Record<string, number | undefined>,
  progress: () => Promise<number>,
) {
  const spawned = performance.now();
  const cpuAtSpawn = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  let first = 0;
  let firstDone = 0;
  let cpu0: Record<string, number> = {};
  for (;;) {
    const done = await progress();
    if (!first && done > 0) {
      first = performance.now();
      firstDone = done;
      cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    }
    if (done >= N) break;
    await sleep(100);
  }
  const end = performance.now();
  const events = N - firstDone;
  const rate = events / ((end - first) / 1000);
  const whole = N / ((end - spawned) / 1000);
  const perEvent = (from: Record<string, number>, n: number) =>
    Object.entries(pids)
      .map(([k, pid]) => `${k} ${(((cpuSeconds(pid) - from[k]!) * 1e6) / n).toFixed(1)}`)
      .join(', ');
  console.log(`${label}:`);
  console.log(
    `  whole run, from process start: ${Math.round(whole)} events/s; CPU µs per event: ${perEvent(cpuAtSpawn, N)}`,
  );
  console.log(
    `  sustained, from first progress: ${Math.round(rate)} events/s; CPU µs per event: ${perEvent(cpu0, events)}`,
  );
  return { rate, whole };
}

async function main(): Promise<void> {
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  await produce();
  const redis = findPid('redis-server');
  const admin = kafka.admin();
  await admin.connect();
  const groupProgress = async (groupId: string) => {
    // Rows done, counted by whole messages committed (each message here holds about N/messages rows).
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topics.enriched] });
    const high = await admin.fetchTopicOffsets(topics.enriched);
    const committed = offsets!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    const total = high.reduce((s, p) => s + Number(p.high), 0);
    return Math.round((N * committed) / total);
  };

  // The ledger alone (with the ClickHouse engine in its process, as `npm start` runs it).
  const owner = spawnRole('clickhouse,ledger', {
    ...env,
    BURNRATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-agg-')),
  });
  const ch = createClient({ url: `http://127.0.0.1:${port}`, log: { level: ClickHouseLogLevel.OFF } });
  const facts = async () => {
    try {
      const rs = await ch.query({
        query: 'SELECT count() AS n FROM bench.usage_events',
        format: 'JSONEachRow',
      });
      return Number((await rs.json<{ n: string }>())[0]!.n);
    } catch {
      return 0;
    }
  };
  const ledger = await measure('ledger + ClickHouse engine', { 'ledger+chDB': owner.pid }, facts);

  // The aggregator alone, on the same topic (ClickHouse stays up: the aggregator migrates and could rebuild).
  // Every rule runs after every batch, as in production; the 500 bench customers are unmapped, and
  // 500 one-off "unmapped customer" alerts would measure the alert path instead (bench-alerts.ts does).
  const rules = join(mkdtempSync(join(tmpdir(), 'bench-agg-rules-')), 'rules.yaml');
  writeFileSync(rules, 'defaults: { unmapped_customer: { enabled: false } }\n');
  const aggregator = spawnRole('aggregator', {
    ...env,
    CLICKHOUSE_URL: `http://127.0.0.1:${port}`,
    BURNRATE_RULES_FILE: rules,
  });
  const aggregated = await measure(
    'aggregator (Redis rolling aggregates)',
    { aggregator: aggregator.pid, redis },
    () => groupProgress(`${prefix}burnrate-aggregator`),
  );
  console.log(
    `ratio aggregator / ledger: sustained ${(aggregated.rate / ledger.rate).toFixed(2)}, whole run ${(aggregated.whole / ledger.whole).toFixed(2)} (target ≥ 2)`,
  );
  console.log(
    `peak RSS: aggregator ${peakRssMb(aggregator.pid)} MB, ledger + chDB ${peakRssMb(owner.pid)} MB`,
  );
  await admin.disconnect();
  aggregator.kill('SIGTERM');
  owner.kill('SIGTERM');
  await Promise.all([exitOf(aggregator), exitOf(owner)]);
  await ch.close();
}

await main();
