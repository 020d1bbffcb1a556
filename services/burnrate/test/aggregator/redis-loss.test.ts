import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullPrefix } from '../../src/runtime/alerting-roles.js';
import { pollUntil, produceRows, testTopics, uniquePrefix } from '../fixtures.js';
import { startReceiver } from '../notifier/receiver.js';
import { exited } from '../process-harness.js';
import { aggregatorStack, clickhouseTotals, eventsIn, recentRows, redisTotals } from './harness.js';
import { privateRedis } from './private-redis.js';

/**
 * Redis loses everything mid-run — FLUSHALL, then a restart without persistence — while events keep
 * flowing: the aggregator notices (its epoch is gone), rebuilds the open windows from ClickHouse up to
 * what the ledger has committed, reads Kafka on from there, and converges to ClickHouse's totals
 * within 60 s. Without the rebuild (the negative control) what Redis lost stays lost.
 */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let stack: Awaited<ReturnType<typeof aggregatorStack>>;
let redis: Awaited<ReturnType<typeof privateRedis>>;
beforeAll(async () => {
  stack = await aggregatorStack();
  redis = await privateRedis();
});
afterAll(async () => {
  await redis.stop();
  await stack.stop();
});

async function scenario(watermark: boolean, events: number, slices: number) {
  const prefix = uniquePrefix();
  const topics = await testTopics(stack.kafka, prefix);
  const rows = recentRows(events, Date.now());
  const customers = [...new Set(rows.map((r) => String(r.customer_id)))];
  const runs = [...new Set(rows.map((r) => String(r.workflow_run_id)))];
  const ledger = stack.ledger(topics, prefix);
  await ledger.start();
  const run = stack.spawn(
    stack.aggregatorEnv(prefix, {
      REDIS_URL: redis.url,
      AGGREGATOR_WATERMARK: String(watermark),
      AGGREGATOR_SWEEP_MS: '500',
    }),
  );
  const size = Math.ceil(events / slices);
  const applied = async () => eventsIn(await redisTotals(redis.client, prefix, customers, [], Date.now()));
  for (let k = 0; k < slices; k++) {
    await produceRows(stack.kafka, topics.enriched, rows.slice(k * size, (k + 1) * size), 25);
    if (k === 0) await pollUntil(applied, (n) => n > 0, 60_000);
    if (k === Math.floor(slices / 3)) await redis.flushAll();
    if (k === Math.floor((2 * slices) / 3) && watermark) await redis.restartEmpty();
    await new Promise((r) => setTimeout(r, 300));
  }
  const lastEventAt = Date.now();
  await pollUntil(
    async () => eventsIn(await clickhouseTotals(stack.ch, topics.enriched, Date.now())),
    (n) => n >= events,
    120_000,
  );
  const converged = async () => {
    const now = Date.now();
    const [c, r] = await Promise.all([
      clickhouseTotals(stack.ch, topics.enriched, now),
      redisTotals(redis.client, prefix, customers, runs, now),
    ]);
    return { c, r, same: JSON.stringify(c) === JSON.stringify(r) };
  };
  const result = await pollUntil(converged, (x) => x.same, watermark ? 60_000 : 20_000);
  const seconds = (Date.now() - lastEventAt) / 1000;
  run.child.kill('SIGTERM');
  await exited(run.child);
  await ledger.stop();
  return { ...result, seconds, output: run.output() };
}

describe('the aggregator when Redis loses its data', () => {
  it('an alert whose queued delivery Redis lost is queued again and delivered once', {
    timeout: 180_000,
  }, async () => {
    const receiver = await startReceiver({ secrets: [SECRET] });
    const prefix = uniquePrefix();
    const topics = await testTopics(stack.kafka, prefix);
    const dir = mkdtempSync(join(tmpdir(), 'burnrate-rules-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      `defaults: { budget: { percents: [80] }, forecast: { enabled: false }, whale: { enabled: false } }\ndestinations: [{ name: oncall, kind: webhook, url: "${receiver.url}", secrets: ["${SECRET}"] }]\n`,
    );
    const env = stack.aggregatorEnv(prefix, {
      REDIS_URL: redis.url,
      BURNRATE_RULES_FILE: join(dir, 'rules.yaml'),
      NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
      AGGREGATOR_SWEEP_MS: '3000',
    });
    const ledger = stack.ledger(topics, prefix);
    await ledger.start();
    // No notifier yet: the alert waits in the queue, in Redis.
    const aggregator = stack.spawn(env);
    const rows = recentRows(10, Date.now(), 1).map((r) => ({
      ...r,
      monthly_budget_nanos: 100_000_000,
      cost_total_nanos: 9_000_000,
    }));
    await produceRows(stack.kafka, topics.enriched, rows);
    const queue = new Queue('alerts', { connection: redis.client, prefix: bullPrefix(prefix) });
    const waiting = async () => (await queue.getJobCounts('waiting')).waiting ?? 0;
    expect(await pollUntil(waiting, (n) => n === 1, 60_000)).toBe(1);
    await pollUntil(
      async () =>
        (
          await stack.ch.client.query({
            query: `SELECT count() AS n FROM ${stack.ch.database}.alerts`,
            format: 'JSONEachRow',
          })
        ).json<{ n: string }>(),
      (r) => r[0]?.n === '1',
      30_000,
    );
    await redis.restartEmpty();
    // The failure this guards against: the queued delivery is gone.
    expect(await waiting()).toBe(0);
    const notifier = stack.spawn({ ...env, BURNRATE_ROLES: 'notifier' });
    const got = await pollUntil(
      async () => receiver.requests.length,
      (n) => n >= 1,
      60_000,
    );
    await pollUntil(
      async () => receiver.requests.length,
      () => false,
      2_000,
    );
    for (const c of [aggregator.child, notifier.child]) c.kill('SIGTERM');
    await Promise.all([exited(aggregator.child), exited(notifier.child)]);
    await queue.close();
    await ledger.stop();
    await receiver.close();
    expect(got).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.json).toMatchObject({ rule: 'budget', threshold: '80%' });
    expect(aggregator.output()).toContain('alerts whose delivery Redis lost are queued again');
  });

  it('FLUSHALL and a restart without persistence mid-run: converges to ClickHouse within 60 s', {
    timeout: 300_000,
  }, async () => {
    const r = await scenario(true, 30_000, 9);
    expect(r.r?.customers).toEqual(r.c.customers);
    expect(r.r?.workflows).toEqual(r.c.workflows);
    expect(r.r?.h1).toEqual(r.c.h1);
    expect(r.r?.h24).toEqual(r.c.h24);
    expect(r.r?.runs).toEqual(r.c.runs);
    expect(r.seconds).toBeLessThan(60);
    // It rebuilt at least twice after its first start: once per loss.
    expect(r.output.split('rolling aggregates rebuilt from ClickHouse').length - 1).toBeGreaterThanOrEqual(2);
  });

  it('Redis rolls back to an earlier state but keeps its epoch: the aggregator reads again from the older watermark', {
    timeout: 180_000,
  }, async () => {
    const prefix = uniquePrefix();
    const topics = await testTopics(stack.kafka, prefix);
    const rows = recentRows(15_000, Date.now());
    const customers = [...new Set(rows.map((r) => String(r.customer_id)))];
    const runs = [...new Set(rows.map((r) => String(r.workflow_run_id)))];
    const ledger = stack.ledger(topics, prefix);
    await ledger.start();
    const run = stack.spawn(stack.aggregatorEnv(prefix, { REDIS_URL: redis.url }));
    const applied = async () => eventsIn(await redisTotals(redis.client, prefix, customers, [], Date.now()));
    await produceRows(stack.kafka, topics.enriched, rows.slice(0, 5_000), 25);
    await pollUntil(applied, (n) => n === 5_000, 60_000);
    // What an AOF rollback or a failover to a lagging replica does: every key as it was here...
    // (Each key's TTL and payload read in one transaction; a key that expires meanwhile is left out.)
    const snapshot = (
      await Promise.all(
        (
          await redis.client.keys('*')
        ).map(async (key) => {
          const [[, ttl], [, value]] = (await redis.client.multi().pttl(key).dumpBuffer(key).exec()) as [
            [Error | null, number],
            [Error | null, Buffer | null],
          ];
          return { key, ttl, value };
        }),
      )
    ).filter((k): k is { key: string; ttl: number; value: Buffer } => k.value !== null && k.ttl !== -2);
    await produceRows(stack.kafka, topics.enriched, rows.slice(5_000, 10_000), 25);
    await pollUntil(applied, (n) => n === 10_000, 60_000);
    // ...comes back, epoch included: nothing says data was lost, but 5,000 rows are gone.
    // In one transaction: the running aggregator must not see (and rebuild after) the empty moment between.
    const rollback = redis.client.multi().flushall();
    for (const { key, ttl, value } of snapshot) rollback.restore(key, Math.max(ttl, 0), value, 'REPLACE');
    await rollback.exec();
    expect(await applied()).toBe(5_000);
    await produceRows(stack.kafka, topics.enriched, rows.slice(10_000), 25);
    await pollUntil(
      async () => eventsIn(await clickhouseTotals(stack.ch, topics.enriched, Date.now())),
      (n) => n >= 15_000,
      120_000,
    );
    const result = await pollUntil(
      async () => {
        const now = Date.now();
        const [c, r] = await Promise.all([
          clickhouseTotals(stack.ch, topics.enriched, now),
          redisTotals(redis.client, prefix, customers, runs, now),
        ]);
        return { c, r, same: JSON.stringify(c) === JSON.stringify(r) };
      },
      (x) => x.same,
      60_000,
    );
    run.child.kill('SIGTERM');
    await exited(run.child);
    await ledger.stop();
    expect(result.r?.customers).toEqual(result.c.customers);
    expect(result.r?.runs).toEqual(result.c.runs);
    expect(result.r?.h24).toEqual(result.c.h24);
  });

  it('negative control: without the rebuild, what Redis lost stays lost', { timeout: 300_000 }, async () => {
    const r = await scenario(false, 6_000, 6);
    expect(r.same).toBe(false);
    expect(eventsIn(r.r)).toBeLessThan(eventsIn(r.c));
  });
});
