import { afterAll, beforeAll } from 'vitest';
import { pollUntil, produceRows, testTopics, uniquePrefix } from '../fixtures.js';
import { exited, kill } from '../process-harness.js';
import {
  aggregatorStack,
  clickhouseTotals,
  eventsIn,
  recentRows,
  redisTotals,
  testRedis,
} from './harness.js';

/**
 * Invariant 3 with real processes: the aggregator is SIGKILLed 5 times while 50,000 events flow
 * (most kills land between its Redis update and its Kafka commit), and afterwards Redis holds exactly
 * what ClickHouse holds — per customer, per workflow, per window, per run. With the watermark off
 * (the negative control) the same kills must leave double counts.
 */
export const EVENTS = Number(process.env.AGGREGATOR_CRASH_EVENTS ?? 50_000);
export const KILLS = Number(process.env.AGGREGATOR_CRASH_KILLS ?? 5);

let stack: Awaited<ReturnType<typeof aggregatorStack>>;
const redis = testRedis();
beforeAll(async () => {
  stack = await aggregatorStack();
});
afterAll(async () => {
  await stack.stop();
  redis.disconnect();
});

export async function crashRun(watermark: boolean) {
  const prefix = uniquePrefix();
  const topics = await testTopics(stack.kafka, prefix);
  const startedAt = Date.now();
  const rows = recentRows(EVENTS, startedAt);
  const customerIds = [...new Set(rows.map((r) => String(r.customer_id)))];
  const runIds = [...new Set(rows.map((r) => String(r.workflow_run_id)))];
  const ledger = stack.ledger(topics, prefix);
  await ledger.start();
  const env = stack.aggregatorEnv(prefix, {
    AGGREGATOR_WATERMARK: String(watermark),
    // Kills then mostly land after a Redis update and before its Kafka commit: the window that matters.
    AGGREGATOR_COMMIT_DELAY_MS: '1000',
    AGGREGATOR_ROWS_PER_APPLY: '500',
  });
  const applied = async () => eventsIn(await redisTotals(redis, prefix, customerIds, [], Date.now()));
  const slice = Math.ceil(EVENTS / (KILLS + 1));
  for (let k = 0; k < KILLS; k++) {
    const { child } = stack.spawn(env);
    const before = await applied();
    await produceRows(stack.kafka, topics.enriched, rows.slice(k * slice, (k + 1) * slice), 25);
    // Kill once this incarnation has applied something (a kill before it owns partitions proves nothing).
    await pollUntil(applied, (n) => n > before || child.exitCode !== null, 60_000);
    await new Promise((r) => setTimeout(r, Math.random() * (k % 2 === 0 ? 400 : 2_500)));
    await kill(child, 'SIGKILL');
  }
  await produceRows(stack.kafka, topics.enriched, rows.slice(KILLS * slice), 25);
  const final = stack.spawn(env);
  // ClickHouse has everything, and the aggregator has caught up with the topic.
  await pollUntil(
    async () => (await clickhouseTotals(stack.ch, topics.enriched, Date.now())).customers,
    (c) => eventsIn({ customers: c }) >= EVENTS,
    120_000,
  );
  const admin = stack.kafka.admin();
  await admin.connect();
  const caughtUp = async () => {
    const [committed] = await admin.fetchOffsets({
      groupId: `${prefix}burnrate-aggregator`,
      topics: [topics.enriched],
    });
    const high = await admin.fetchTopicOffsets(topics.enriched);
    return high.every(
      (h) => committed!.partitions.find((p) => p.partition === h.partition)?.offset === h.high,
    );
  };
  await pollUntil(caughtUp, Boolean, 120_000);
  await pollUntil(applied, (n) => n >= EVENTS, 60_000);
  await admin.disconnect();
  final.child.kill('SIGTERM');
  await exited(final.child);
  await ledger.stop();
  const nowMs = Date.now();
  return {
    clickhouse: await clickhouseTotals(stack.ch, topics.enriched, nowMs),
    redis: (await redisTotals(redis, prefix, customerIds, runIds, nowMs))!,
  };
}
