import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENRICHED_EVENT_COLUMNS,
  encodeUsageEvent,
  newEventId,
  PriceOverrides,
  parseCatalog,
  type UsageEvent,
} from '@burnrate/core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeUsageEvent } from '../../core/test/fixtures/usage-events.js';
import type { CliOutput } from '../src/cli/kit/output.js';
import { runCliToExitCode } from '../src/cli/run-cli.js';
import { unpackRows } from '../src/kafka/pack-rows.js';
import type { TopicNames } from '../src/kafka/topics.js';
import { encodeReference, publishReference } from '../src/pricing/prices-topic.js';
import { publishCustomers } from '../src/roles/customers-publisher.js';
import { createEnricher } from '../src/roles/enricher/enricher.js';
import { createReferenceData } from '../src/roles/enricher/reference-data.js';
import {
  fatalErrors,
  pollUntil,
  recordFatal,
  silentLogger,
  testKafka,
  testTopics,
  uniquePrefix,
} from './fixtures.js';

const kafka = testKafka();
const prefix = uniquePrefix();
let topics: TopicNames;
const dir = mkdtempSync(join(tmpdir(), 'burnrate-prices-reload-'));

const entry = (id: string, input: string, output: string, validFrom = '2024-01-01') => ({
  id,
  provider: 'openai',
  model: 'gpt-4o-mini',
  valid_from: validFrom,
  tokens_per_million: { input, output },
  source_url: 'https://example.com/pricing',
  as_of: '2026-01-01',
});
const catalog = (version: string, input: string, output: string) => ({
  version,
  entries: [entry('openai/gpt-4o-mini@2024', input, output)],
});
const NO_OVERRIDES = PriceOverrides.empty();

/** One enricher's reference data, with the error lines it logged. */
function follower() {
  const errors: string[] = [];
  const logger = pino(
    { level: 'error' },
    { write: (line: string) => void errors.push(JSON.parse(line).msg as string) },
  );
  const reference = createReferenceData(
    { topic: topics.customers, pricesTopic: topics.prices, pricesFile: undefined },
    { kafka, logger },
  );
  const stage = reference.stage({ lateHorizonMs: 86_400_000, maxFutureSkewMs: 300_000 });
  const price = (event: UsageEvent) => {
    const out = stage.enrich(event, { topic: 't', partition: 0, offset: '1', ingestedAtMs: Date.now() });
    return JSON.parse(out.row) as unknown[];
  };
  return { reference, errors, price };
}

function usageEvent(): UsageEvent {
  return makeUsageEvent({
    event_id: newEventId(),
    occurred_at: Date.now() - 1_000,
    customer_ref: 'org_acme',
    provider: 'openai',
    model: 'gpt-4o-mini',
    tokens: { input: 1_000_000, cached_input: 0, cache_write: 0, output: 1_000_000, reasoning: 0 },
    units: { images: 0, audio_ms: 0, web_search_calls: 0 },
  });
}

/** Where price_version and cost_total_nanos are in a usage.enriched row. */
const col = {
  version: ENRICHED_EVENT_COLUMNS.indexOf('price_version'),
  total: ENRICHED_EVENT_COLUMNS.indexOf('cost_total_nanos'),
};

beforeAll(async () => {
  topics = await testTopics(kafka, prefix);
  await publishCustomers(kafka, topics.customers, [
    {
      customer_ref: 'org_acme',
      customer_id: 'acme',
      plan: { kind: 'flat_rate', revenue_nanos: '200000000000', currency: 'USD' },
    },
  ]);
});

describe('published prices reach every enricher without a restart', () => {
  const a = { f: undefined as unknown as ReturnType<typeof follower> };
  const b = { f: undefined as unknown as ReturnType<typeof follower> };
  afterAll(async () => {
    await a.f?.reference.stop();
    await b.f?.reference.stop();
  });

  it('both followers apply a publication, facts after it name the new version and facts before it the old', async () => {
    await publishReference(
      kafka,
      topics.prices,
      { prices: parseCatalog(catalog('v1', '0.15', '0.60')), overrides: NO_OVERRIDES },
      silentLogger,
    );
    a.f = follower();
    b.f = follower();
    await Promise.all([a.f.reference.start(), b.f.reference.start()]);
    const event = usageEvent();
    const before = [a.f.price(event), b.f.price(event)];
    for (const row of before) {
      expect(row[col.version]).toBe('v1:openai/gpt-4o-mini@2024');
      expect(row[col.total]).toBe(750_000_000); // 1M × $0.15/M + 1M × $0.60/M
    }

    // Published through the command, as an operator does: a new catalog and an overrides file.
    const prices = join(dir, 'v2.json');
    writeFileSync(prices, JSON.stringify(catalog('v2', '0.10', '0.40')));
    const overrides = join(dir, 'overrides.yaml');
    writeFileSync(
      overrides,
      'version: o1\noverrides:\n  - { id: acme-half, customer_id: acme, kind: discount, discount: "0.5", valid_from: 2026-01-01 }\n',
    );
    const out: string[] = [];
    const output: CliOutput = { out: (t) => out.push(t), err: (t) => out.push(t), interactive: false };
    const env = { KAFKA_BROKERS: inject('kafkaBrokers'), BURNRATE_TOPIC_PREFIX: prefix };
    const code = await runCliToExitCode(
      ['prices', 'publish', '--prices', prices, '--overrides', overrides],
      { onSignal: () => {}, env },
      output,
    );
    expect([code, out.join('')]).toEqual([
      0,
      expect.stringContaining('published catalog v2 (1 entries) and overrides o1 (1)'),
    ]);

    const wanted = 'v2:openai/gpt-4o-mini@2024+o1:acme-half';
    for (const f of [a.f, b.f]) {
      const row = await pollUntil(
        async () => f.price(event),
        (r) => r[col.version] === wanted,
        15_000,
      );
      expect(row[col.version]).toBe(wanted);
      expect(row[col.total]).toBe(250_000_000); // (1M × $0.10/M + 1M × $0.40/M) × (1 − 0.5)
    }
    // `prices list --published` shows what the enrichers now use.
    out.length = 0;
    const listed = await runCliToExitCode(
      ['prices', 'list', '--published', '--json'],
      { onSignal: () => {}, env },
      output,
    );
    expect(listed).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({
      catalog: 'v2',
      entries: [{ usd_per_million_tokens: { input: '0.10', output: '0.40' } }],
    });
    // The facts priced before the publication keep the version that priced them.
    expect(before.map((row) => row[col.version])).toEqual([
      'v1:openai/gpt-4o-mini@2024',
      'v1:openai/gpt-4o-mini@2024',
    ]);
  });

  it('refuses a reused version with other prices at publish time, and followers skip bad records', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const high = async () => (await admin.fetchTopicOffsets(topics.prices))[0]!.high;
    const offsetBefore = await high();
    await expect(
      publishReference(
        kafka,
        topics.prices,
        { prices: parseCatalog(catalog('v2', '9.00', '9.00')), overrides: NO_OVERRIDES },
        silentLogger,
      ),
    ).rejects.toThrow('catalog version v2 was published before with different prices');
    expect(await high()).toBe(offsetBefore); // nothing was sent

    // Through the command: a missing or malformed file is one sentence, and nothing is sent.
    const err: string[] = [];
    const output: CliOutput = { out: (t) => err.push(t), err: (t) => err.push(t), interactive: false };
    const env = { KAFKA_BROKERS: inject('kafkaBrokers'), BURNRATE_TOPIC_PREFIX: prefix };
    const publish = (args: string[]) =>
      runCliToExitCode(['prices', 'publish', ...args], { onSignal: () => {}, env }, output);
    expect(await publish(['--overrides', join(dir, 'absent.yaml')])).toBe(2);
    const malformed = join(dir, 'malformed-catalog.json');
    writeFileSync(malformed, '{"version": "v3", "entries": [');
    expect(await publish(['--prices', malformed])).toBe(2);
    expect(err).toEqual([
      expect.stringMatching(/^burnrate: --overrides names .*absent\.yaml, which cannot be read: ENOENT/),
      expect.stringMatching(/^burnrate: --prices names .*malformed-catalog\.json, which is not JSON: /),
    ]);
    expect(await high()).toBe(offsetBefore);

    // Records written past the publisher: not JSON, overlapping windows, a reused version.
    const overlapping = {
      version: 'v-bad',
      entries: [
        entry('openai/gpt-4o-mini@2024', '1', '1'),
        entry('openai/gpt-4o-mini@2025', '2', '2', '2025-01-01'),
      ],
    };
    // Other content for v2, written past the publisher: v2's first record owns it, so every follower ignores this one.
    const reused = encodeReference(
      { prices: parseCatalog(catalog('v2', '0.30', '1.20')), overrides: NO_OVERRIDES },
      Date.now(),
    );
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.prices,
      messages: [
        { key: 'junk', value: Buffer.from('{not json') },
        { key: 'v-bad+none', value: Buffer.from(JSON.stringify({ catalog: overlapping, overrides: null })) },
        { key: 'v2+none', value: reused },
      ],
    });
    await producer.disconnect();
    await admin.disconnect();

    const event = usageEvent();
    for (const f of [a.f, b.f]) {
      const errors = await pollUntil(
        async () => [...f.errors],
        (e) => e.length >= 3,
        15_000,
      );
      expect(errors).toEqual([
        expect.stringContaining('is not JSON'),
        expect.stringContaining('overlaps entry "openai/gpt-4o-mini@2024"'),
        expect.stringContaining('catalog version v2 was published before with different prices'),
      ]);
      expect(f.price(event)[col.version]).toBe('v2:openai/gpt-4o-mini@2024+o1:acme-half');
    }
    // A follower started now reads the same history and ends at the same version.
    const late = follower();
    await late.reference.start();
    expect(late.price(event)[col.version]).toBe('v2:openai/gpt-4o-mini@2024+o1:acme-half');
    expect(late.errors).toHaveLength(3);
    await late.reference.stop();
  });
});

describe('two publishers racing through publishReference', () => {
  it('exactly one publication is in force, and every follower (one started after too) applies that one', async () => {
    const t = await testTopics(kafka);
    const mk = () =>
      createReferenceData(
        { topic: t.customers, pricesTopic: t.prices, pricesFile: undefined },
        { kafka, logger: silentLogger },
      );
    const running = mk();
    await running.start();
    const contents = [
      { prices: parseCatalog(catalog('race', '0.20', '0.80')), overrides: NO_OVERRIDES },
      { prices: parseCatalog(catalog('race', '0.10', '0.40')), overrides: NO_OVERRIDES },
    ];
    const results = await Promise.allSettled(
      contents.map((c) => publishReference(kafka, t.prices, c, silentLogger)),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    // The record that landed first owns the version; the other publisher's re-read sees it (it
    // precedes its own record), so exactly one publisher reports success.
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected')
        expect(String(r.reason)).toMatch(/catalog version race was published before with different prices/);
    }
    const input = (r: ReturnType<typeof mk>) => r.pricing().prices.entries[0]?.tokens_per_million.input;
    const wanted = contents[won[0]!]!.prices.entries[0]!.tokens_per_million.input;
    await pollUntil(
      async () => input(running),
      (v) => v === wanted,
      15_000,
    );
    const late = mk();
    await late.start();
    expect([input(running), input(late)]).toEqual([wanted, wanted]);
    await running.stop();
    await late.stop();
  });
});

describe("the enricher's own files", () => {
  it('refuse to start on a missing or invalid overrides file, naming the setting, the file and the field', () => {
    const make = (overridesFile: string) => () =>
      createReferenceData(
        { topic: 'unused', pricesFile: undefined, overridesFile },
        { kafka, logger: silentLogger },
      );
    expect(make(join(dir, 'absent.yaml'))).toThrow(
      /^BURNRATE_OVERRIDES_FILE names .*absent\.yaml, which cannot be read/,
    );
    const bad = join(dir, 'bad-overrides.yaml');
    writeFileSync(
      bad,
      'version: o1\noverrides:\n  - { id: x, customer_id: acme, kind: discount, discount: "1.5", valid_from: 2026-01-01 }\n',
    );
    expect(make(bad)).toThrow(
      /^BURNRATE_OVERRIDES_FILE \(.*bad-overrides\.yaml\) \(field overrides\[0\]\.discount\): .*must be a fraction from 0 to 1/,
    );
    const malformed = join(dir, 'malformed.json');
    writeFileSync(malformed, '{"version": ');
    expect(make(malformed)).toThrow(/^BURNRATE_OVERRIDES_FILE names .*malformed\.json, which is not JSON/);
  });
});

describe('two enricher instances on the real broker', () => {
  it('price what they enrich after a publication with the new version, and what came before with the old', async () => {
    const t = await testTopics(kafka);
    await publishCustomers(kafka, t.customers, [
      {
        customer_ref: 'org_acme',
        customer_id: 'acme',
        plan: { kind: 'flat_rate', revenue_nanos: '1', currency: 'USD' },
      },
    ]);
    const v = (version: string, input: string, output: string) => ({
      prices: parseCatalog(catalog(version, input, output)),
      overrides: NO_OVERRIDES,
    });
    await publishReference(kafka, t.prices, v('e1', '0.15', '0.60'), silentLogger);
    const group = `enricher-${randomUUID()}`;
    const txPrefix = `enricher-${randomUUID()}`;
    const instances = [0, 1].map(() => {
      const reference = createReferenceData(
        { topic: t.customers, pricesTopic: t.prices, pricesFile: undefined },
        { kafka, logger: silentLogger },
      );
      const enricher = createEnricher(
        { topics: t, groupId: group, transactionalIdPrefix: txPrefix },
        {
          kafka,
          stage: reference.stage({ lateHorizonMs: 86_400_000, maxFutureSkewMs: 300_000 }),
          deduper: undefined,
          logger: silentLogger,
          fatal: recordFatal,
        },
      );
      return { reference, enricher };
    });
    const rows = new Map<string, unknown[]>();
    const reader = kafka.consumer({ groupId: `read-${randomUUID()}` });
    const admin = kafka.admin();
    try {
      for (const i of instances) {
        await i.reference.start();
        await i.enricher.start();
      }
      await admin.connect();
      // Both members hold partitions before anything is produced, so both enrich some events.
      await pollUntil(
        async () => (await admin.describeGroups([group])).groups[0]!,
        (g) => g.state === 'Stable' && g.members.length === 2,
        30_000,
      );
      await reader.connect();
      await reader.subscribe({ topic: t.enriched, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          for (const text of unpackRows(message.value!)) {
            const row = JSON.parse(text) as unknown[];
            rows.set(row[ENRICHED_EVENT_COLUMNS.indexOf('event_id')] as string, row);
          }
        },
      });
      const producer = kafka.producer();
      await producer.connect();
      const send = async () => {
        const events = Array.from({ length: 8 }, () => usageEvent());
        await producer.send({
          topic: t.events,
          messages: events.map((e, i) => ({
            key: e.customer_ref,
            value: encodeUsageEvent(e),
            partition: i % 4,
          })),
        });
        return events.map((e) => e.event_id);
      };
      const before = await send();
      await pollUntil(
        async () => rows.size,
        (n) => n >= 8,
        30_000,
      );

      await publishReference(kafka, t.prices, v('e2', '0.10', '0.40'), silentLogger);
      await pollUntil(
        async () => instances.map((i) => i.reference.pricing().prices.version),
        (versions) => versions.every((x) => x === 'e2'),
        15_000,
      );
      const after = await send();
      await pollUntil(
        async () => rows.size,
        (n) => n >= 16,
        30_000,
      );
      await producer.disconnect();

      const seen = (ids: string[]) =>
        ids.map((id) => [rows.get(id)?.[col.version], rows.get(id)?.[col.total]]);
      expect(seen(before)).toEqual(Array(8).fill(['e1:openai/gpt-4o-mini@2024', 750_000_000]));
      expect(seen(after)).toEqual(Array(8).fill(['e2:openai/gpt-4o-mini@2024', 500_000_000]));
      const enriched = await pollUntil(
        async () => instances.map((x) => x.enricher.stats().enriched),
        (counts) => counts[0]! + counts[1]! === 16,
        10_000,
      );
      expect(enriched.every((n) => n > 0)).toBe(true); // both instances priced some of them
      expect(fatalErrors).toEqual([]);
    } finally {
      await reader.disconnect();
      await admin.disconnect();
      for (const i of instances) {
        await i.enricher.stop();
        await i.reference.stop();
      }
    }
  });
});
