import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createClickHouseClient } from '../services/burnrate/src/clickhouse/client.js';
import { migrate } from '../services/burnrate/src/clickhouse/migrate.js';
import { createKafka } from '../services/burnrate/src/kafka/client.js';
import { ensureTopics, topicNames } from '../services/burnrate/src/kafka/topics.js';
import { EventDeduper } from '../services/burnrate/src/roles/enricher/dedup.js';
import { createEnricher } from '../services/burnrate/src/roles/enricher/enricher.js';
import { createReferenceData } from '../services/burnrate/src/roles/enricher/reference-data.js';
import { createLedger } from '../services/burnrate/src/roles/ledger/ledger.js';
import { produceBenchEvents, rawConsumeRate } from './bench-events.js';

const N = Number(process.argv[2] ?? 200_000);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const kafka = createKafka({ brokers, clientId: 'bench', logger });
const prefix = `bench${Date.now()}.`;
const topics = topicNames(prefix);

async function main(): Promise<void> {
  await ensureTopics(kafka, topics, { partitions: 4, replicationFactor: 1 });
  console.log(`producing ${N} events to ${topics.events}…`);
  await produceBenchEvents(kafka, topics.events, N);
  const raw = await rawConsumeRate(kafka, topics.events, N);
  console.log(`baseline raw kafkajs consume: ${Math.round(raw)} events/s`);

  const ch = createClickHouseClient({ kind: 'embedded', path: mkdtempSync(join(tmpdir(), 'bench-chdb-')) });
  const database = 'bench';
  await migrate(ch, database);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const reference = createReferenceData(
    { topic: topics.customers, pricesFile: undefined },
    { kafka, logger },
  );
  await reference.start();
  const fatal = (error: Error) => {
    console.error(error.message);
    process.exit(1);
  };
  const enricher = createEnricher(
    { topics, groupId: `${prefix}enricher`, transactionalIdPrefix: `${prefix}enricher` },
    {
      kafka,
      logger,
      fatal,
      stage: reference.stage({ lateHorizonMs: 86_400_000, maxFutureSkewMs: 300_000 }),
      deduper: new EventDeduper(redis, `${prefix}dedup:`, 900),
    },
  );
  const ledger = createLedger(
    {
      database,
      topics,
      groupId: `${prefix}ledger`,
      fetchWaitMs: 200,
      maxBatchBytes: 8 * 1024 * 1024,
      dedup: true,
      retryLogIntervalMs: 10_000,
    },
    { kafka, clickhouse: ch, logger, fatal },
  );
  const t0 = performance.now();
  const enricherOnly = process.env.BENCH_MODE === 'enricher';
  await Promise.all([enricher.start(), enricherOnly ? undefined : ledger.start()]);
  let enrichedAt = 0;
  for (;;) {
    if (!enrichedAt && enricher.stats().consumed >= N) enrichedAt = performance.now();
    if (enricherOnly && enrichedAt) break;
    const rs = await ch.query({
      query: `SELECT count() AS n FROM ${database}.usage_events`,
      format: 'JSONEachRow',
    });
    const n = Number((await rs.json<{ n: string }>())[0]!.n);
    if (n >= N) break;
    if (process.env.BENCH_DEBUG)
      console.log(JSON.stringify({ n, enricher: enricher.stats(), ledger: ledger.stats() }));
    await new Promise((r) => setTimeout(r, process.env.BENCH_DEBUG ? 2000 : 100));
  }
  const total = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  await Promise.all([enricher.stop(), enricherOnly ? undefined : ledger.stop()]);
  await reference.stop();
  await redis.quit();
  await ch.close();
  const pipeline = N / (total / 1000);
  console.log(`enricher alone (to last commit): ${Math.round(N / ((enrichedAt - t0) / 1000))} events/s`);
  console.log(`enricher + ledger end to end:     ${Math.round(pipeline)} events/s`);
  console.log(`ratio to raw consume:              ${(pipeline / raw).toFixed(2)}`);
  console.log(`process RSS at end:                ${Math.round(rss / 1024 / 1024)} MB`);
}

await main();
process.exit(0);
