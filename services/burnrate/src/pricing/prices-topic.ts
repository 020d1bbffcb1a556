import { createHash } from 'node:crypto';
import { ConfigError } from '@burnrate/core';
import { CompressionTypes, type Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createCompactedFeed } from '../roles/enricher/compacted-feed.js';
import { type PricingReference, parseReference } from './reference-files.js';

/**
 * The prices topic holds published reference data: one record per (catalog version, overrides
 * version), key `<catalog version>+<overrides version>`, value `{ catalog, overrides, published_at }`
 * (JSON, gzip). Every enricher follows it and applies the last valid record in topic order, so all
 * instances go through the same versions in the same order; compaction keeps one record per pair.
 */
export interface PublishedReference extends PricingReference {
  key: string;
  /** Content digests: a version may never name two different contents. */
  catalogDigest: string;
  overridesDigest: string;
}

const digest = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

export function describeReference(reference: PricingReference): PublishedReference {
  return {
    ...reference,
    key: `${reference.prices.version}+${reference.overrides.version}`,
    catalogDigest: digest(reference.prices.entries),
    overridesDigest: digest(reference.overrides.overrides),
  };
}

export function encodeReference(reference: PricingReference, publishedAtMs: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      catalog: { version: reference.prices.version, entries: reference.prices.entries },
      overrides: { version: reference.overrides.version, overrides: reference.overrides.overrides },
      published_at: new Date(publishedAtMs).toISOString(),
    }),
  );
}

/** @throws ConfigError naming the record when it is not a valid catalog and overrides. */
export function decodeReference(key: string, value: Buffer | null, topic: string): PublishedReference {
  const where = `record ${key} of ${topic}`;
  let parsed: { catalog?: unknown; overrides?: unknown };
  try {
    parsed = JSON.parse(value?.toString('utf8') ?? 'null') ?? {};
  } catch (error) {
    throw new ConfigError(topic, `The ${where} is not JSON: ${(error as Error).message}.`);
  }
  return describeReference(parseReference(parsed.catalog, parsed.overrides ?? null, where, topic));
}

/**
 * Versions seen on the topic and their contents. A record that reuses a catalog or overrides
 * version for different content is refused: price_version must name exactly one price.
 */
export class VersionLedger {
  private readonly catalogs = new Map<string, string>();
  private readonly overrides = new Map<string, string>();

  /** Why `next` may not be applied, or undefined. */
  conflict(next: PublishedReference): string | undefined {
    const catalog = this.catalogs.get(next.prices.version);
    if (catalog !== undefined && catalog !== next.catalogDigest) {
      return `catalog version ${next.prices.version} was published before with different prices; give the new catalog a new version`;
    }
    const overrides = this.overrides.get(next.overrides.version);
    if (overrides !== undefined && overrides !== next.overridesDigest) {
      return `overrides version ${next.overrides.version} was published before with different overrides; give the new file a new version`;
    }
    return undefined;
  }

  record(next: PublishedReference): void {
    this.catalogs.set(next.prices.version, next.catalogDigest);
    this.overrides.set(next.overrides.version, next.overridesDigest);
  }
}

/**
 * Follows the prices topic: `onReference` gets each valid, consistent record in topic order;
 * invalid ones are logged and skipped, so every follower skips the same ones.
 */
export function followPrices(o: {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  onReference(reference: PublishedReference): void;
}) {
  const ledger = new VersionLedger();
  return createCompactedFeed({
    kafka: o.kafka,
    topic: o.topic,
    logger: o.logger,
    apply: (key, value) => {
      try {
        const next = decodeReference(key, value, o.topic);
        const conflict = ledger.conflict(next);
        if (conflict)
          throw new ConfigError(o.topic, `The record ${key} of ${o.topic} is refused: ${conflict}.`);
        ledger.record(next);
        o.onReference(next);
      } catch (error) {
        o.logger.error({ err: error, key }, `${(error as Error).message} The prices in force stay.`);
      }
    },
  });
}

/** Reads the prices topic to its end: the versions seen and the record in force (undefined: none yet). */
export async function readPublished(
  kafka: Kafka,
  topic: string,
  logger: Logger,
): Promise<{ ledger: VersionLedger; latest: PublishedReference | undefined }> {
  const ledger = new VersionLedger();
  let latest: PublishedReference | undefined;
  const feed = followPrices({
    kafka,
    topic,
    logger,
    onReference: (published) => {
      ledger.record(published);
      latest = published;
    },
  });
  try {
    await feed.start();
  } finally {
    await feed.stop();
  }
  return { ledger, latest };
}

/**
 * Publishes a catalog and overrides for every enricher. Reads the topic first: the same versions
 * with the same content are already published (nothing is sent); a version reused for different
 * content is refused with a sentence, and nothing is sent.
 * @returns the record key, and whether a record was sent.
 */
export async function publishReference(
  kafka: Kafka,
  topic: string,
  reference: PricingReference,
  logger: Logger,
  nowMs = Date.now(),
): Promise<{ key: string; sent: boolean }> {
  const next = describeReference(reference);
  const { ledger, latest } = await readPublished(kafka, topic, logger);
  const conflict = ledger.conflict(next);
  if (conflict) throw new ConfigError('--prices', `Not published: ${conflict}.`);
  if (latest?.key === next.key) return { key: next.key, sent: false };
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [{ key: next.key, value: encodeReference(reference, nowMs) }],
    });
  } finally {
    await producer.disconnect();
  }
  return { key: next.key, sent: true };
}
