import { PriceOverrides, parseCatalog } from '@burnrate/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaReadTimeoutError } from '../src/kafka/errors.js';
import { followPrices, publishReference } from '../src/pricing/prices-topic.js';
import type { PricingReference } from '../src/pricing/reference-files.js';
import { describeReference, PublishedPrices } from '../src/pricing/version-ledger.js';
import { createCompactedFeed } from '../src/roles/enricher/compacted-feed.js';
import { pollUntil, silentLogger, testKafka, testTopics } from './fixtures.js';

const kafka = testKafka();

const reference = (version: string, input: string): PricingReference => ({
  prices: parseCatalog({
    version,
    entries: [
      {
        id: 'openai/gpt-4o-mini@2024',
        provider: 'openai',
        model: 'gpt-4o-mini',
        valid_from: '2024-01-01',
        tokens_per_million: { input, output: '1' },
        source_url: 'https://example.com/pricing',
        as_of: '2026-01-01',
      },
    ],
  }),
  overrides: PriceOverrides.empty(),
});

describe('a prices follower whose consumer re-reads the topic from the start', () => {
  it('skips the offsets it has applied: it never reports older prices, not even for a moment', async () => {
    const t = await testTopics(kafka);
    for (const [version, input] of [
      ['p1', '0.10'],
      ['p2', '0.20'],
      ['p3', '0.30'],
    ] as const)
      await publishReference(kafka, t.prices, reference(version, input), silentLogger);

    const lines: { msg: string; from?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const reported: string[] = [];
    const feed = followPrices({
      kafka,
      topic: t.prices,
      logger,
      onReference: (r) => void reported.push(r.prices.version),
    });
    await feed.start();
    expect(reported.at(-1)).toBe('p3');
    reported.length = 0;

    // Another member joins the follower's throwaway group and leaves again: each rebalance makes
    // KafkaJS rebuild its offsets from the group's commits — none — so the follower reads the topic
    // from offset 0 again, exactly as after a consumer that crashed and was restarted.
    const intruder = kafka.consumer({ groupId: feed.groupId, maxWaitTimeInMs: 200 });
    const admin = kafka.admin();
    try {
      await intruder.connect();
      await intruder.subscribe({ topic: t.prices, fromBeginning: true });
      await intruder.run({ autoCommit: false, eachMessage: async () => {} });
      await admin.connect();
      await pollUntil(
        async () => (await admin.describeGroups([feed.groupId])).groups[0]!,
        (g) => g.state === 'Stable' && g.members.length === 2,
        30_000,
      );
      await intruder.disconnect();
      const reread = await pollUntil(
        async () => lines.filter((l) => l.msg.startsWith('reference data re-read')),
        (l) => l.length > 0,
        30_000,
      );
      expect(reread.map((l) => l.from)).toContain('0');
      // It keeps following: a new publication is reported, and nothing before it was.
      await publishReference(kafka, t.prices, reference('p4', '0.40'), silentLogger);
      await pollUntil(
        async () => [...reported],
        (r) => r.length > 0,
        15_000,
      );
      expect(reported).toEqual(['p4']);
    } finally {
      await intruder.disconnect();
      await admin.disconnect();
      await feed.stop();
    }

    // Negative control: offering the re-read records again — what the follower did before it skipped
    // applied offsets — makes the oldest record the one in force.
    const state = new PublishedPrices();
    for (const v of ['p1', 'p2', 'p3']) state.offer(describeReference(reference(v, `0.${v[1]}0`)));
    expect(state.inForce?.prices.version).toBe('p3');
    expect(state.offer(describeReference(reference('p1', '0.10')))).toEqual({
      outcome: 'applied',
      changed: true,
    });
    expect(state.inForce?.prices.version).toBe('p1');
  });
});

describe('catching up with a reference topic', () => {
  it('fails with a typed, retriable timeout naming the topic when it cannot catch up in time', async () => {
    const t = await testTopics(kafka);
    await publishReference(kafka, t.prices, reference('q1', '0.10'), silentLogger);
    const slow = createCompactedFeed({
      kafka,
      topic: t.prices,
      apply: () => {},
      logger: silentLogger,
      catchUpTimeoutMs: 1,
    });
    const error = await slow.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await slow.stop();
    expect(error).toBeInstanceOf(KafkaReadTimeoutError);
    expect(error).toMatchObject({ code: 'kafka_read_timeout', retriable: true, topic: t.prices });
    expect((error as Error).message).toBe(
      `Reading the ${t.prices} topic did not catch up within 1 ms: check that Kafka is up and the topic can be read, then start again.`,
    );
    // Negative control: with time enough the same read completes.
    const applied: string[] = [];
    const enough = createCompactedFeed({
      kafka,
      topic: t.prices,
      apply: (key) => void applied.push(key),
      logger: silentLogger,
    });
    await enough.start();
    await enough.stop();
    expect(applied).toEqual([describeReference(reference('q1', '0.10')).key]);
  });
});
