import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlertPayload, billingPeriodStart, verifyWebhook } from '@burnrate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, produceRows, testTopics, uniquePrefix } from '../fixtures.js';
import { type Receiver, startReceiver } from '../notifier/receiver.js';
import { exited, kill } from '../process-harness.js';
import { aggregatorStack, recentRows, redisTotals, testRedis } from './harness.js';

/**
 * On-call's guarantee end to end, with real processes: a budget crossing becomes exactly one alert
 * row and deliveries that all carry one webhook-id — through a SIGKILL of the aggregator mid-run, a
 * SIGKILL of the notifier while its request is in flight, and three full replays of the topic. A
 * spike that fades (its baseline fills in) sends `resolved` under its own message id.
 */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const USD = 1_000_000_000;
let stack: Awaited<ReturnType<typeof aggregatorStack>>;
let receiver: Receiver;
const redis = testRedis();
beforeAll(async () => {
  stack = await aggregatorStack();
  receiver = await startReceiver({ secrets: [SECRET] });
});
afterAll(async () => {
  await receiver.close();
  await stack.stop();
  redis.disconnect();
});

function rulesFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'burnrate-rules-')), 'rules.yaml');
  writeFileSync(
    file,
    [
      'defaults:',
      '  budget: { percents: [80] }',
      '  forecast: { enabled: false }',
      '  whale: { enabled: false }',
      '  spike: { enabled: false }',
      '  runaway: { enabled: false }',
      '  unpriced_model: { enabled: false }',
      '  unmapped_customer: { enabled: false }',
      'customers:',
      '  globex: { budget: { enabled: false }, spike: { enabled: true, multiple: 3, min_usd: 5 } }',
      'destinations:',
      '  - name: oncall',
      '    kind: webhook',
      `    url: ${receiver.url}`,
      // Interpolated by burnrate from its environment, not by JavaScript.
      `    secrets: ["$\{ONCALL_SECRET}"]`,
    ].join('\n'),
  );
  return file;
}

const mark = (what: string) => process.env.E2E_TIMING && console.log(`${new Date().toISOString()} ${what}`);
/** What an aggregator process said it did, from its "aggregator stopped" log line. */
function stoppedStats(output: string) {
  const line = output.split('\n').find((l) => l.includes('"msg":"aggregator stopped"'));
  const { rowsSkipped, rowsApplied } = JSON.parse(line ?? '{}');
  return { rowsSkipped, rowsApplied };
}

const fired = (id: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === id);

describe('alerts end to end', () => {
  it('one crossing: one alert row, one webhook-id, through kills of both roles and three replays', {
    timeout: 300_000,
  }, async () => {
    const prefix = uniquePrefix();
    const topics = await testTopics(stack.kafka, prefix);
    const now = Date.now();
    // acme: a $150 budget; 100 events of $1.30 = $130, past 80 % ($120) at the 93rd.
    const rows = recentRows(100, now, 1).map((r) => ({
      ...r,
      customer_id: 'acme',
      customer_name: 'Acme Corp',
      monthly_budget_nanos: 150 * USD,
      cost_total_nanos: 1.3 * USD,
    }));
    const env = stack.aggregatorEnv(prefix, {
      BURNRATE_RULES_FILE: rulesFile(),
      ONCALL_SECRET: SECRET,
      NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
      NOTIFIER_LOCK_MS: '2000',
      NOTIFIER_BACKOFF_BASE_MS: '200',
      NOTIFIER_BACKOFF_MAX_MS: '1000',
    });
    const aggregator = () => stack.spawn(env);
    const notifier = () => stack.spawn({ ...env, BURNRATE_ROLES: 'notifier' });
    let a = aggregator();
    const period = billingPeriodStart(now, 1);
    const total = async () =>
      (await redisTotals(redis, prefix, ['acme'], [], Date.now()))?.customers[0]?.cost ?? '0';

    // Half the spend, then the aggregator dies; the rest reaches a new one.
    await produceRows(stack.kafka, topics.enriched, rows.slice(0, 60), 7);
    await pollUntil(total, (c) => c === String(78 * USD), 60_000);
    mark('first half applied');
    await kill(a.child, 'SIGKILL');
    // The first delivery attempt is held open and its notifier killed mid-send.
    receiver.reply = (_r, i) => (i === 0 ? 'hold' : { status: 200 });
    let n = notifier();
    a = aggregator();
    await produceRows(stack.kafka, topics.enriched, rows.slice(60), 7);
    expect(await pollUntil(total, (c) => c === String(130 * USD), 60_000)).toBe(String(130 * USD));
    await pollUntil(
      async () => receiver.requests.length,
      (k) => k >= 1,
      60_000,
    );
    await kill(n.child, 'SIGKILL');
    n = notifier();
    const alertId = String(receiver.requests[0]!.headers['webhook-id']);
    await pollUntil(
      async () => fired(alertId).length,
      (k) => k >= 2,
      60_000,
    );

    // Three full replays of the topic: the aggregator's group is reset to the earliest offset.
    const admin = stack.kafka.admin();
    await admin.connect();
    const groupId = `${prefix}burnrate-aggregator`;
    const replays: Array<{ rowsSkipped: number; rowsApplied: number }> = [];
    for (let replay = 0; replay < 3; replay++) {
      a.child.kill('SIGTERM');
      await exited(a.child);
      if (replay > 0) replays.push(stoppedStats(a.output()));
      await admin.resetOffsets({ groupId, topic: topics.enriched, earliest: true });
      a = aggregator();
      mark(`replay ${replay}`);
      await pollUntil(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.enriched] });
          const high = await admin.fetchTopicOffsets(topics.enriched);
          // An empty partition has nothing to commit.
          return high.every(
            (h) =>
              h.high === '0' ||
              committed!.partitions.find((p) => p.partition === h.partition)?.offset === h.high,
          );
        },
        Boolean,
        60_000,
      );
    }
    mark('redelivered; replays done');
    await admin.disconnect();
    // Let a late duplicate show itself if there were one: the notifier's backoff is at most 1 s.
    await pollUntil(
      async () => receiver.requests.length,
      () => false,
      3_000,
    );
    a.child.kill('SIGTERM');
    n.child.kill('SIGTERM');
    await Promise.all([exited(a.child), exited(n.child)]);
    replays.push(stoppedStats(a.output()));
    // Each replay really read the whole topic again, and applied none of it.
    expect(replays).toEqual([0, 1, 2].map(() => ({ rowsSkipped: 100, rowsApplied: 0 })));

    expect(await total()).toBe(String(130 * USD));
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual(
      receiver.requests.map(() => alertId),
    );
    expect(receiver.requests.every((r) => r.verified && 'id' in r.verified)).toBe(true);
    const payload = receiver.requests.at(-1)!.json as AlertPayload;
    expect(payload).toMatchObject({
      type: 'alert.fired',
      id: alertId,
      alert_id: alertId,
      rule: 'budget',
      threshold: '80%',
      period,
      customer: { id: 'acme', name: 'Acme Corp', monthly_budget_usd: '150.00' },
    });
    expect(BigInt(payload.numbers.value)).toBeGreaterThanOrEqual(120n * BigInt(USD));
    expect(payload.sql).toContain("customer_id = 'acme'");
    const rs = await stack.ch.client.query({
      query: `SELECT count() AS n, any(event) AS event FROM ${stack.ch.database}.alerts WHERE alert_id = {id:String}`,
      query_params: { id: alertId },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '1', event: 'fired' }]);
    const deliveries = await pollUntil(
      async () => {
        const q = await stack.ch.client.query({
          query: `SELECT outcome FROM ${stack.ch.database}.alert_deliveries FINAL WHERE message_id = {id:String} ORDER BY at`,
          query_params: { id: alertId },
          format: 'JSONEachRow',
        });
        return (await q.json<{ outcome: string }>()).map((d) => d.outcome);
      },
      (o) => o.includes('delivered'),
      30_000,
    );
    expect(deliveries).toContain('delivered');

    // What a receiver must refuse: a tampered body, and the same request five minutes too late.
    const real = receiver.requests.at(-1)!;
    const headers = real.headers as Record<string, string>;
    expect(() =>
      verifyWebhook({ headers, body: real.body.replace('acme', 'acmf'), secrets: [SECRET] }),
    ).toThrow(/No v1 signature/);
    const late = Number(headers['webhook-timestamp']) + 301;
    expect(() => verifyWebhook({ headers, body: real.body, secrets: [SECRET], nowSeconds: late })).toThrow(
      /in the past/,
    );
  });

  it('a spike that fades sends resolved, under its own message id', { timeout: 180_000 }, async () => {
    const prefix = uniquePrefix();
    const topics = await testTopics(stack.kafka, prefix);
    receiver.requests.length = 0;
    receiver.reply = () => ({ status: 200 });
    const now = Date.now();
    const at = (hoursAgo: number, cost: number, i: number) => ({
      ...recentRows(1, now, 1)[0]!,
      customer_id: 'globex',
      workflow_run_id: `g-${i}`,
      occurred_at: now - hoursAgo * 3_600_000,
      cost_total_nanos: cost,
    });
    // $1 an hour for the 23 hours before, then $30 in the last hour: 30× its baseline.
    const baseline = Array.from({ length: 23 }, (_, h) => at(h + 1.5, USD, h));
    const spike = Array.from({ length: 30 }, (_, i) => at(0.2, USD, 100 + i));
    const env = stack.aggregatorEnv(prefix, {
      BURNRATE_ROLES: 'aggregator,notifier',
      BURNRATE_RULES_FILE: rulesFile(),
      ONCALL_SECRET: SECRET,
      NOTIFIER_ALLOWED_NETWORKS: '127.0.0.1/32',
    });
    const run = stack.spawn(env);
    await produceRows(stack.kafka, topics.enriched, [...baseline, ...spike]);
    const firing = await pollUntil(
      async () => receiver.requests.map((r) => r.json as AlertPayload),
      (p) => p.length >= 1,
      60_000,
    );
    expect(firing[0]).toMatchObject({
      type: 'alert.fired',
      rule: 'spike',
      threshold: '3x',
      numbers: { ratio: '30.00' },
    });
    // Late events fill in the baseline ($15 an hour): the last hour is now 2× it, under the 20 % band.
    const backfill = Array.from({ length: 23 * 14 }, (_, i) => at(1.5 + (i % 23), USD, 1_000 + i));
    await produceRows(stack.kafka, topics.enriched, backfill);
    const all = await pollUntil(
      async () => receiver.requests.map((r) => r.json as AlertPayload),
      (p) => p.length >= 2,
      60_000,
    );
    run.child.kill('SIGTERM');
    await exited(run.child);
    expect(all.map((p) => p.type)).toEqual(['alert.fired', 'alert.resolved']);
    expect(all[1]).toMatchObject({ id: `${firing[0]!.alert_id}-resolved`, alert_id: firing[0]!.alert_id });
    expect(receiver.requests[1]!.headers['webhook-id']).toBe(`${firing[0]!.alert_id}-resolved`);
  });
});
