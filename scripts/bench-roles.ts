// End-to-end throughput with the roles as they are deployed: one `burnrate run` process with the
// enricher, one with ClickHouse (chDB) + the ledger, and the Kafka broker — all on this machine.
// The aggregator too (BENCH_AGGREGATOR=0 leaves it out). Baseline in the same run: the raw KafkaJS
// consume rate of the same topic.
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=@burnrate/source --import tsx scripts/bench-roles.ts [events]
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { pino } from 'pino';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { produceBenchEvents, rawConsumeRate } from './bench-events.js';
import { dropRedisPrefix, spawnRole } from './bench-process.js';
import { brokerPid, cpuSeconds, peakRssMb, redisPid } from './proc-stats.js';

const N = Number(process.argv[2] ?? 200_000);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = createKafka({
  brokers: brokers.split(','),
  clientId: 'bench',
  logger: pino({ level: 'error' }),
});
const prefix = `roles${Date.now()}.`;
const topics = topicNames(prefix);
const port = 18_123 + Math.floor(Math.random() * 1000);

function role(roles: string, extra: Record<string, string> = {}): ChildProcess {
  return spawnRole(roles, {
    KAFKA_BROKERS: brokers,
    BURNRATE_TOPIC_PREFIX: prefix,
    CLICKHOUSE_HTTP_PORT: String(port),
    CLICKHOUSE_DATABASE: 'bench',
    ...extra,
  });
}

/** CPU µs per event of each process between two samples. */
function cpuPerEvent(from: Record<string, number>, to: Record<string, number>, events: number): string {
  return Object.entries(to)
    .map(([name, seconds]) => `${name} ${(((seconds - from[name]!) * 1e6) / events).toFixed(1)}`)
    .join(', ');
}

async function main(): Promise<void> {
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  // The broker's own CPU per event for each kind of request, before the pipeline adds its own.
  const broker0 = brokerPid(brokers);
  const brokerPer = async (events: number, work: () => Promise<unknown>) => {
    const before = cpuSeconds(broker0);
    await work();
    return (((cpuSeconds(broker0) - before) * 1e6) / events).toFixed(1);
  };
  const produced = await brokerPer(N, () => produceBenchEvents(kafka, topics.events, N));
  let raw = 0;
  const consumed = await brokerPer(N, async () => {
    raw = await rawConsumeRate(kafka, topics.events, N);
  });
  const small = Math.min(N, 50_000);
  const scratch = kafka.admin();
  await scratch.connect();
  await scratch.createTopics({ topics: [{ topic: `${prefix}scratch`, numPartitions: 4 }] });
  await scratch.disconnect();
  const producedSmall = await brokerPer(small, () =>
    produceBenchEvents(kafka, `${prefix}scratch`, small, 100),
  );
  console.log(
    `broker CPU µs per event: produce (acks=all, idempotent, 5,000 events per request) ${produced}; ` +
      `the same with 100 per request ${producedSmall}; one consumer reading them ${consumed}`,
  );

  const owner = role('clickhouse,ledger', { BURNRATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-roles-')) });
  const ch = createClient({ url: `http://127.0.0.1:${port}`, log: { level: ClickHouseLogLevel.OFF } });
  const count = async () => {
    try {
      const rs = await ch.query({
        query: 'SELECT count() AS n FROM bench.usage_events',
        format: 'JSONEachRow',
      });
      return Number((await rs.json<{ n: string }>())[0]!.n);
    } catch {
      return -1;
    }
  };
  while ((await count()) < 0) await new Promise((r) => setTimeout(r, 200));
  const broker = brokerPid(brokers);
  const redis = redisPid();
  let enricher: ChildProcess | undefined;
  // With the aggregator too unless BENCH_AGGREGATOR=0 (it reads usage.enriched next to the ledger).
  const withAggregator = process.env.BENCH_AGGREGATOR !== '0';
  let aggregator: ChildProcess | undefined;
  // CPU seconds of each process so far (the enricher's 0 before it is spawned).
  const sample = () => ({
    enricher: cpuSeconds(enricher?.pid),
    'ledger+chDB': cpuSeconds(owner.pid),
    ...(withAggregator ? { aggregator: cpuSeconds(aggregator?.pid) } : {}),
    broker: cpuSeconds(broker),
    redis: cpuSeconds(redis),
  });
  const cpuAtStart = sample();
  const t0 = performance.now();
  enricher = role('enricher');
  if (withAggregator) {
    // The 500 bench customers are unmapped: 500 one-off alerts would measure the alert path instead.
    const rules = join(mkdtempSync(join(tmpdir(), 'bench-roles-rules-')), 'rules.yaml');
    writeFileSync(rules, 'defaults: { unmapped_customer: { enabled: false } }\n');
    aggregator = role('aggregator', {
      CLICKHOUSE_URL: `http://127.0.0.1:${port}`,
      BURNRATE_RULES_FILE: rules,
    });
  }
  // The enricher's own progress: its group's committed offsets (committed in its transactions).
  const admin = kafka.admin();
  await admin.connect();
  const enrichedUpTo = async () => {
    const offsets = await admin.fetchOffsets({
      groupId: `${prefix}burnrate-enricher`,
      topics: [topics.events],
    });
    return offsets[0]!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  };
  /** True once the aggregator has committed every usage.enriched message. */
  const aggregated = async () => {
    if (!withAggregator) return true;
    const [offsets] = await admin.fetchOffsets({
      groupId: `${prefix}burnrate-aggregator`,
      topics: [topics.enriched],
    });
    const high = await admin.fetchTopicOffsets(topics.enriched);
    const committed = offsets!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    return committed >= high.reduce((s, p) => s + Number(p.high), 0);
  };
  let cpuAtFirstRow = cpuAtStart;
  let enricherDone = 0;
  let firstRow = 0;
  let firstCount = 0;
  let n = await count();
  while (n < N || !(await aggregated())) {
    await new Promise((r) => setTimeout(r, 200));
    n = await count();
    if (!firstRow && n > 0) {
      [firstRow, firstCount] = [performance.now(), n];
      cpuAtFirstRow = sample();
    }
    if (!enricherDone && (await enrichedUpTo()) >= N) enricherDone = performance.now();
  }
  await admin.disconnect();
  const end = performance.now();
  const seconds = (end - t0) / 1000;
  const rss = {
    enricher: peakRssMb(enricher.pid),
    ledger: peakRssMb(owner.pid),
    aggregator: peakRssMb(aggregator?.pid),
  };
  const cpuAtEnd = sample();
  const processes = [enricher, owner, ...(aggregator ? [aggregator] : [])];
  for (const p of processes) p.kill('SIGTERM');
  await Promise.all(processes.map((c) => new Promise((r) => c.once('exit', r))));
  await ch.close();
  const rate = n / seconds;
  console.log(`events: ${N}`);
  console.log(`baseline raw kafkajs consume (same topic, same run): ${Math.round(raw)} events/s`);
  console.log(
    `end to end, enricher + ledger/chDB${withAggregator ? ' + aggregator' : ''} processes: ${Math.round(rate)} events/s (includes the enricher's start-up)`,
  );
  console.log(`ratio to raw consume: ${(rate / raw).toFixed(3)}`);
  const sustained = (N - firstCount) / ((end - firstRow) / 1000);
  console.log(
    `sustained (first fact row to last): ${Math.round(sustained)} events/s, ratio ${(sustained / raw).toFixed(3)}`,
  );
  console.log(`CPU µs per event, whole run (incl. start-up): ${cpuPerEvent(cpuAtStart, cpuAtEnd, N)}`);
  console.log(`CPU µs per event, sustained phase: ${cpuPerEvent(cpuAtFirstRow, cpuAtEnd, N - firstCount)}`);
  if (enricherDone)
    console.log(
      `enricher alone (all offsets committed): ${Math.round(N / ((enricherDone - t0) / 1000))} events/s`,
    );
  console.log(
    `peak RSS: enricher ${rss.enricher} MB, ledger + chDB ${rss.ledger} MB${withAggregator ? `, aggregator ${rss.aggregator} MB` : ''}`,
  );
  // Leave the shared Redis as it was: a benchmark's keys would otherwise skew the next one.
  await dropRedisPrefix(prefix);
}

await main();
