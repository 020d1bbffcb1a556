import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PriceOverrides, parseCatalog } from '@burnrate/core';
import { ConfigResourceTypes } from 'kafkajs';
import pino from 'pino';
import { describe, expect, inject, it } from 'vitest';
import type { CliOutput } from '../src/cli/kit/output.js';
import { runCliToExitCode } from '../src/cli/run-cli.js';
import { ensureTopics, type TopicNames, topicNames } from '../src/kafka/topics.js';
import { encodeReference } from '../src/pricing/prices-topic.js';
import { loadReference, type PricingReference } from '../src/pricing/reference-files.js';
import { describeReference } from '../src/pricing/version-ledger.js';
import { createReferenceData } from '../src/roles/enricher/reference-data.js';
import { pollUntil, testKafka, testTopics, uniquePrefix } from './fixtures.js';

const kafka = testKafka();
const dir = mkdtempSync(join(tmpdir(), 'burnrate-prices-order-'));
const NO_OVERRIDES = PriceOverrides.empty();

const entry = (input: string, output: string) => ({
  id: 'openai/gpt-4o-mini@2024',
  provider: 'openai',
  model: 'gpt-4o-mini',
  valid_from: '2024-01-01',
  tokens_per_million: { input, output },
  source_url: 'https://example.com/pricing',
  as_of: '2026-01-01',
});
const reference = (version: string, input: string, output: string): PricingReference => ({
  prices: parseCatalog({ version, entries: [entry(input, output)] }),
  overrides: NO_OVERRIDES,
});

/** An enricher's reference data with the error lines it logged. */
function follower(t: TopicNames) {
  const errors: string[] = [];
  const logger = pino(
    { level: 'error' },
    { write: (line: string) => void errors.push(JSON.parse(line).msg as string) },
  );
  const data = createReferenceData(
    { topic: t.customers, pricesTopic: t.prices, pricesFile: undefined },
    { kafka, logger },
  );
  const input = () => data.pricing().prices.entries[0]?.tokens_per_million.input;
  return { data, errors, input };
}

async function send(topic: string, messages: { key: string; value: Buffer | null }[]) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

const record = (ref: PricingReference) => ({
  key: describeReference(ref).key,
  value: encodeReference(ref, Date.now()),
});

async function topicConfig(topic: string): Promise<Record<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    return Object.fromEntries(
      (described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
  } finally {
    await admin.disconnect();
  }
}

async function highWatermark(topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic))[0]!.high;
  } finally {
    await admin.disconnect();
  }
}

describe('the first record of a version owns it, on every follower', () => {
  // Two contents for version r1; b's digest is the smaller, so in "a then b" the later record would
  // have taken r1 over under the former rule ("the smallest digest owns a version").
  const a = reference('r1', '0.20', '0.80');
  const b = reference('r1', '0.10', '0.40');

  it.each([
    ['a then b', a, b],
    ['b then a', b, a],
  ])(
    '%s: running followers and one started later hold the first content, after a re-send and a tombstone',
    async (_, first, later) => {
      const t = await testTopics(kafka);
      const running = [follower(t), follower(t)];
      await Promise.all(running.map((f) => f.data.start()));
      const firstInput = first.prices.entries[0]!.tokens_per_million.input;
      await send(t.prices, [record(first)]);
      for (const f of running)
        await pollUntil(
          async () => f.input(),
          (v) => v === firstInput,
          15_000,
        );

      // The later content, written straight to the topic (past `prices publish`), twice — so its key
      // is the last on the topic — and a tombstone on the first record's key.
      await send(t.prices, [
        record(later),
        record(later),
        { key: describeReference(first).key, value: null },
      ]);
      const late = follower(t);
      await late.data.start();
      for (const f of running)
        await pollUntil(
          async () => [...f.errors],
          (e) => e.some((m) => m.includes('is a tombstone')),
          15_000,
        );
      const [d1, d2] = [describeReference(first).catalogDigest, describeReference(later).catalogDigest];
      for (const f of [...running, late]) {
        expect(f.input()).toBe(firstInput);
        expect(f.data.pricing().prices.version).toBe('r1');
        expect(f.errors).toEqual([
          expect.stringMatching(
            new RegExp(
              `is ignored by every follower: catalog version r1 was published before with different prices \\(content ${d1}, first in record .*; this record has content ${d2}\\).*the prices in force stay those of record r1\\+none#${d1}`,
            ),
          ),
          expect.stringContaining('is ignored by every follower: catalog version r1'),
          expect.stringContaining('is a tombstone, which every follower ignores'),
        ]);
      }
      for (const f of [...running, late]) await f.data.stop();
    },
  );

  it('in "a then b" the later record has the smaller digest: the former rule would have let it win (negative control)', () => {
    expect(describeReference(b).catalogDigest < describeReference(a).catalogDigest).toBe(true);
  });

  it('the prices topic is created to keep every record: no compaction, no expiry', async () => {
    const t = await testTopics(kafka);
    expect(await topicConfig(t.prices)).toMatchObject({
      'cleanup.policy': 'delete',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'max.message.bytes': String(16 * 1024 * 1024),
    });
  });

  it('a compacted prices topic left by an older version is altered at start-up, keeping its other settings', async () => {
    const names = topicNames(uniquePrefix());
    const admin = kafka.admin();
    await admin.connect();
    try {
      const create = admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: names.prices,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'max.message.bytes', value: String(16 * 1024 * 1024) },
              { name: 'segment.bytes', value: String(8 * 1024 * 1024) },
            ],
          },
        ],
      });
      // A busy broker may answer "does not host this topic-partition" while it elects the leader.
      await create.catch(async (error) => {
        const listed = await pollUntil(
          async () => (await admin.listTopics()).includes(names.prices),
          Boolean,
          30_000,
        );
        if (!listed) throw error;
      });
    } finally {
      await admin.disconnect();
    }
    // Negative control: as an older version created it.
    expect(await topicConfig(names.prices)).toMatchObject({ 'cleanup.policy': 'compact' });
    expect((await topicConfig(names.prices))['retention.ms']).not.toBe('-1');

    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    await ensureTopics(kafka, names, { partitions: 1, replicationFactor: 1, logger });
    const wanted = {
      'cleanup.policy': 'delete',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'max.message.bytes': String(16 * 1024 * 1024),
      'segment.bytes': String(8 * 1024 * 1024),
    };
    // A KRaft broker answers DescribeConfigs from its metadata image, which follows the controller a
    // moment behind an AlterConfigs: poll until the change is visible (or time out).
    const seen = await pollUntil(
      () => topicConfig(names.prices),
      (c) => Object.entries(wanted).every(([k, v]) => c[k] === v),
      30_000,
    );
    expect(seen).toMatchObject(wanted);
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringContaining('prices topic set to keep every record'),
    ]);
    // Once set, a second start changes nothing and says nothing.
    await ensureTopics(kafka, names, { partitions: 1, replicationFactor: 1, logger });
    expect(lines).toHaveLength(1);
  });
});

describe('burnrate prices publish and versions', () => {
  it('accepts a formatting-only republish as identical, refuses other content under a used version, and followers ignore it if forced', async () => {
    const prefix = uniquePrefix();
    const t = await testTopics(kafka, prefix);
    const env = { KAFKA_BROKERS: inject('kafkaBrokers'), BURNRATE_TOPIC_PREFIX: prefix };
    const publish = async (file: string) => {
      const out: string[] = [];
      const err: string[] = [];
      const output: CliOutput = { out: (x) => out.push(x), err: (x) => err.push(x), interactive: false };
      const code = await runCliToExitCode(
        ['prices', 'publish', '--prices', file],
        { onSignal: () => {}, env },
        output,
      );
      return { code, out: out.join(''), err: err.join('') };
    };

    const json = join(dir, 'v1.json');
    writeFileSync(json, JSON.stringify({ version: 'v1', entries: [entry('0.50', '2.00')] }, null, 2));
    expect(await publish(json)).toMatchObject({
      code: 0,
      out: expect.stringContaining('published catalog v1'),
    });
    const running = follower(t);
    await running.data.start();
    expect(running.input()).toBe('0.50');
    const high = await highWatermark(t.prices);

    // The same prices as YAML, keys in another order, "0.5" for "0.50", a zoned date-time for the date.
    const yaml = join(dir, 'v1.yaml');
    writeFileSync(
      yaml,
      [
        'version: v1',
        'description: the same catalog, reformatted',
        'entries:',
        '  - as_of: "2026-01-01"',
        '    source_url: https://example.com/pricing',
        '    tokens_per_million: { output: "2", input: "0.5" }',
        '    valid_from: "2024-01-01T00:00:00Z"',
        '    model: gpt-4o-mini',
        '    provider: openai',
        '    id: openai/gpt-4o-mini@2024',
        '',
      ].join('\n'),
    );
    const same = await publish(yaml);
    expect(same).toMatchObject({ code: 0, out: expect.stringContaining('nothing sent') });
    expect(await highWatermark(t.prices)).toBe(high);
    // Negative control: the two files differ as text and as the parsed objects' JSON (what was digested before).
    const textDigest = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(textDigest(yaml)).not.toBe(textDigest(json));
    const parsed = (f: string) => JSON.stringify(loadReference({ pricesFile: f }, {}).prices.entries);
    expect(parsed(yaml)).not.toBe(parsed(json));

    // Other prices under v1: refused before anything is sent, naming both digests.
    const other = join(dir, 'v1-other.json');
    writeFileSync(other, JSON.stringify({ version: 'v1', entries: [entry('0.40', '1.60')] }));
    const refused = await publish(other);
    const [d1, d2] = [
      describeReference(reference('v1', '0.50', '2.00')).catalogDigest,
      describeReference(reference('v1', '0.40', '1.60')).catalogDigest,
    ];
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      `Not published: catalog version v1 was published before with different prices (content ${d1}`,
    );
    expect(refused.err).toContain(`this record has content ${d2}`);
    expect(await highWatermark(t.prices)).toBe(high);

    // Forced onto the topic directly, it changes nothing on a running follower or on a new one.
    await send(t.prices, [record(reference('v1', '0.40', '1.60'))]);
    await pollUntil(
      async () => [...running.errors],
      (e) => e.length > 0,
      15_000,
    );
    const late = follower(t);
    await late.data.start();
    for (const f of [running, late]) {
      expect(f.input()).toBe('0.50');
      expect(f.errors).toEqual([expect.stringContaining(`this record has content ${d2}`)]);
    }

    // A new version, then the first files again: a roll-back is sent and becomes the prices in force.
    const v2 = join(dir, 'v2.json');
    writeFileSync(v2, JSON.stringify({ version: 'v2', entries: [entry('0.30', '1.20')] }));
    expect((await publish(v2)).code).toBe(0);
    expect(
      await pollUntil(
        async () => running.input(),
        (v) => v === '0.30',
        15_000,
      ),
    ).toBe('0.30');
    expect(await publish(yaml)).toMatchObject({
      code: 0,
      out: expect.stringContaining('published catalog v1'),
    });
    // (The record in force is now the YAML's, as written: "0.5".)
    expect(
      await pollUntil(
        async () => running.input(),
        (v) => v === '0.5',
        15_000,
      ),
    ).toBe('0.5');
    for (const f of [running, late]) await f.data.stop();
  });
});
