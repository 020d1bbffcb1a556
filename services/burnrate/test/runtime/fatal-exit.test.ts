import { encodeUsageEvent, newEventId } from '@burnrate/core';
import { describe, expect, inject, it } from 'vitest';
import { makeUsageEvent } from '../../../core/test/fixtures/usage-events.js';
import {
  enrichedRow,
  pollUntil,
  produceRows,
  testClickHouseServer,
  testKafka,
  testTopics,
  uniquePrefix,
} from '../fixtures.js';
import { exited, spawnBurnrate } from '../process-harness.js';

/**
 * A role that cannot go on must take its process down with a non-zero exit and one log line saying
 * why — never stay up consuming nothing — and a stop signal during start-up must not leave later
 * roles starting. Real `burnrate run` processes against the real broker and ClickHouse.
 */
const kafka = testKafka();

/** Lines of pino output at level fatal (60). */
const fatalLines = (output: string) => output.split('\n').filter((l) => l.includes('"level":60'));

async function exitCode(child: ReturnType<typeof spawnBurnrate>['child'], timeoutMs: number) {
  const code = await Promise.race([
    exited(child).then(() => child.exitCode),
    new Promise<string>((r) => setTimeout(() => r('still running'), timeoutMs)),
  ]);
  if (code === 'still running') child.kill('SIGKILL');
  return code;
}

describe('a role that cannot go on stops its process', { timeout: 120_000 }, () => {
  it('a fenced enricher producer (a zombie) exits 1 with one fatal line', async () => {
    const prefix = uniquePrefix();
    const topics = await testTopics(kafka, prefix);
    const run = spawnBurnrate({
      BURNRATE_ROLES: 'enricher',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      REDIS_URL: inject('redisUrl'),
      BURNRATE_TOPIC_PREFIX: prefix,
    });
    const event = () =>
      encodeUsageEvent(
        makeUsageEvent({ event_id: newEventId(), occurred_at: Date.now(), model: 'gpt-4o-mini' }),
      );
    const producer = kafka.producer();
    await producer.connect();
    const send = () => producer.send({ topic: topics.events, messages: [{ partition: 0, value: event() }] });
    await send();
    // The enricher has made its transactional producer for partition 0 once a row comes out.
    const enriched = async () =>
      (await adminOffsets(topics.enriched)).reduce((s, p) => s + Number(p.high), 0);
    expect(await pollUntil(enriched, (n) => n > 0, 60_000)).toBeGreaterThan(0);

    // Another producer takes the same transactional id: the enricher's is now fenced.
    const usurper = kafka.producer({
      transactionalId: `${prefix}burnrate-enricher-${topics.events}-0`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await usurper.connect();
    // The producer id (and a new epoch) is taken with the first transaction, not on connect.
    await (await usurper.transaction()).abort();
    await send();
    const code = await exitCode(run.child, 60_000);
    await Promise.all([usurper.disconnect(), producer.disconnect()]);
    expect(code).toBe(1);
    const lines = fatalLines(run.output());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/enricher stopped for good/);
    expect(lines[0]).toMatch(/epoch|fenc/i);
  });

  it('a ledger whose inserts ClickHouse refuses for good exits 1 with one fatal line', async () => {
    const ch = await testClickHouseServer();
    const { url } = ch;
    try {
      const prefix = uniquePrefix();
      const topics = await testTopics(kafka, prefix);
      const run = spawnBurnrate({
        BURNRATE_ROLES: 'ledger',
        KAFKA_BROKERS: inject('kafkaBrokers'),
        BURNRATE_TOPIC_PREFIX: prefix,
        CLICKHOUSE_URL: url,
        CLICKHOUSE_DATABASE: ch.database,
        LEDGER_FETCH_WAIT_MS: '50',
      });
      const rows = Array.from({ length: 20 }, (_, i) => enrichedRow(i));
      await produceRows(kafka, topics.enriched, rows.slice(0, 10));
      const stored = async () => {
        const rs = await ch.client.query({
          query: `SELECT count() AS n FROM ${ch.database}.usage_events`,
          format: 'JSONEachRow',
        });
        return Number((await rs.json<{ n: string }>())[0]!.n);
      };
      expect(await pollUntil(stored, (n) => n === 10, 60_000)).toBe(10);
      // The table goes away under the running ledger: no retry can make its next insert succeed.
      await ch.client.command({
        query: `RENAME TABLE ${ch.database}.usage_events TO ${ch.database}.usage_events_moved`,
      });
      await produceRows(kafka, topics.enriched, rows.slice(10));
      const code = await exitCode(run.child, 60_000);
      expect(code).toBe(1);
      const lines = fatalLines(run.output());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/ledger stopped for good/);
      expect(lines[0]).toMatch(/UNKNOWN_TABLE/);
    } finally {
      await ch.stop();
    }
  });

  it('a stop signal during start-up stops promptly and starts no later role', async () => {
    // Nothing answers on port 9: the first component (topic creation) keeps retrying its connection.
    const run = spawnBurnrate({
      BURNRATE_ROLES: 'enricher,ledger',
      KAFKA_BROKERS: '127.0.0.1:9',
      CLICKHOUSE_URL: 'http://127.0.0.1:9',
      SHUTDOWN_TIMEOUT_MS: '4000',
    });
    await pollUntil(
      async () => run.output(),
      (o) => o.includes('"msg":"starting"'),
      20_000,
    );
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const code = await exitCode(run.child, 15_000);
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(run.output()).not.toMatch(/(ledger|enricher) started/);
    expect(run.output()).toMatch(/shutting down/);
  });
});

async function adminOffsets(topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
}
