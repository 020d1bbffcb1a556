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
import { pino } from 'pino';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { clickhouseOwner, dropRedisPrefix, exitOf, produceEnrichedRows, spawnRole } from './bench-process.js';
import { cpuSeconds, peakRssMb, redisPid } from './proc-stats.js';

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
const env = { KAFKA_BROKERS: brokers, BURNRATE_TOPIC_PREFIX: prefix, CLICKHOUSE_DATABASE: 'bench' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `progress` (rows done) until N. Reports events/s and CPU µs per event of each process over
 * the whole run (from the process's spawn, start-up included) and over the steady part (from 10 % to
 * 90 % of the rows), where neither start-up nor the last partial batch weighs.
 */
async function measure(
  label: string,
  pids: Record<string, number | undefined>,
  progress: () => Promise<number>,
) {
  const sample = () => ({
    at: performance.now(),
    cpu: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)])),
  });
  const spawned = sample();
  let from: (ReturnType<typeof sample> & { done: number }) | undefined;
  let to: (ReturnType<typeof sample> & { done: number }) | undefined;
  for (;;) {
    const done = await progress();
    if (!from && done >= N * 0.1) from = { ...sample(), done };
    if (!to && done >= N * 0.9) to = { ...sample(), done };
    if (done >= N) break;
    await sleep(50);
  }
  const end = sample();
  const perEvent = (a: ReturnType<typeof sample>, b: ReturnType<typeof sample>, n: number) =>
    Object.keys(pids)
      .map((k) => `${k} ${(((b.cpu[k]! - a.cpu[k]!) * 1e6) / n).toFixed(1)}`)
      .join(', ');
  const whole = N / ((end.at - spawned.at) / 1000);
  const steadyEvents = to!.done - from!.done;
  const steady = steadyEvents / ((to!.at - from!.at) / 1000);
  console.log(`${label}:`);
  console.log(
    `  whole run, from process start: ${Math.round(whole)} events/s; CPU µs per event: ${perEvent(spawned, end, N)}`,
  );
  console.log(
    `  steady, 10 % to 90 % of the rows: ${Math.round(steady)} events/s; CPU µs per event: ${perEvent(from!, to!, steadyEvents)}`,
  );
  return { steady, whole };
}

async function main(): Promise<void> {
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  const messages = await produceEnrichedRows(kafka, topics.enriched, N);
  console.log(`${N} enriched rows in ${messages} messages on ${topics.enriched}`);
  const redis = redisPid();
  const admin = kafka.admin();
  await admin.connect();
  const groupProgress = async (groupId: string) => {
    // Rows done, counted by whole messages committed (every message holds about N/messages rows).
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topics.enriched] });
    const high = await admin.fetchTopicOffsets(topics.enriched);
    const committed = offsets!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    const total = high.reduce((s, p) => s + Number(p.high), 0);
    return Math.round((N * committed) / total);
  };

  // The aggregator first, while the ledger has stored nothing: its start-up rebuild from ClickHouse
  // then finds nothing, and it aggregates every row from Kafka. ClickHouse serves its migrations.
  const first = clickhouseOwner('clickhouse', port, env);
  while ((await first.count()) < 0) await sleep(100);
  // Every rule runs after every batch, as in production; the 500 bench customers are unmapped, and
  // 500 one-off "unmapped customer" alerts would measure the alert path instead (bench-alerts.ts does).
  const rules = join(mkdtempSync(join(tmpdir(), 'bench-agg-rules-')), 'rules.yaml');
  writeFileSync(rules, 'defaults: { unmapped_customer: { enabled: false } }\n');
  const aggregator = spawnRole('aggregator', {
    ...env,
    CLICKHOUSE_URL: `http://127.0.0.1:${port}`,
    BURNRATE_RULES_FILE: rules,
    ...(process.env.AGGREGATOR_ROWS_PER_APPLY
      ? { AGGREGATOR_ROWS_PER_APPLY: process.env.AGGREGATOR_ROWS_PER_APPLY }
      : {}),
  });
  const aggregated = await measure(
    'aggregator (Redis rolling aggregates and rules)',
    { aggregator: aggregator.pid, redis },
    () => groupProgress(`${prefix}burnrate-aggregator`),
  );
  const aggregatorRss = peakRssMb(aggregator.pid);
  aggregator.kill('SIGTERM');
  first.owner.kill('SIGTERM');
  await Promise.all([exitOf(aggregator), exitOf(first.owner)]);
  await first.ch.close();

  // The ledger alone on the same topic, with the ClickHouse engine in its process (as `npm start` runs it).
  const second = clickhouseOwner('clickhouse,ledger', port + 1, env);
  const ledger = await measure(
    'ledger + ClickHouse engine',
    { 'ledger+chDB': second.owner.pid },
    second.count,
  );
  const ledgerRss = peakRssMb(second.owner.pid);
  second.owner.kill('SIGTERM');
  await exitOf(second.owner);
  await second.ch.close();
  await admin.disconnect();

  console.log(
    `ratio aggregator / ledger: steady ${(aggregated.steady / ledger.steady).toFixed(2)}, whole run ${(aggregated.whole / ledger.whole).toFixed(2)} (target ≥ 2)`,
  );
  console.log(`peak RSS: aggregator ${aggregatorRss} MB, ledger + chDB ${ledgerRss} MB`);
  // Leave the shared Redis as it was: a benchmark's keys would otherwise skew the next one.
  await dropRedisPrefix(prefix);
}

await main();
