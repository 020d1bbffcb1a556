import { createHash } from 'node:crypto';
import { ConfigError } from '@burnrate/core';
import { CompressionTypes, type Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createCompactedFeed } from '../roles/enricher/compacted-feed.js';
import type { Fatal } from '../runtime/fatal.js';
import { type PricingReference, parseReference } from './reference-files.js';

/**
 * The prices topic holds published reference data: one record per (catalog version, overrides
 * version, content), key `<catalog version>+<overrides version>#<catalog digest>.<overrides digest>`,
 * value `{ catalog, overrides, published_at }` (JSON, gzip). Two publications that reuse a version
 * for different content (a race between publishers) therefore have different keys, and compaction
 * keeps both. Every follower resolves such a conflict the same way whatever the arrival order: the
 * content with the smallest digest owns the version (see VersionLedger), and the record in force is
 * the last record, in topic order, whose content owns both its versions. So a price_version means one
 * content for every enricher, including one started after compaction.
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
  const catalogDigest = digest(reference.prices.entries);
  const overridesDigest = digest(reference.overrides.overrides);
  return {
    ...reference,
    catalogDigest,
    overridesDigest,
    key: `${reference.prices.version}+${reference.overrides.version}#${catalogDigest}.${overridesDigest}`,
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
 * Versions seen on the topic and their contents. When a catalog (or overrides) version was published
 * with different contents, the content with the smallest digest owns it — a rule that depends only on
 * the set of records, not on their order, so every follower (and one reading a compacted topic from
 * the start) picks the same. A record is in force only when it owns both its versions.
 */
export class VersionLedger {
  private readonly catalogs = new Map<string, string>();
  private readonly overrides = new Map<string, string>();

  /** Why `next` may not be applied (another content owns one of its versions), or undefined. */
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

  /** Notes `next`'s contents; the smallest digest seen for a version owns it. */
  record(next: PublishedReference): void {
    const own = (map: Map<string, string>, version: string, d: string) => {
      const known = map.get(version);
      if (known === undefined || d < known) map.set(version, d);
    };
    own(this.catalogs, next.prices.version, next.catalogDigest);
    own(this.overrides, next.overrides.version, next.overridesDigest);
  }
}

/**
 * Follows the prices topic: `onReference` gets the record in force each time it changes — the last
 * record in topic order whose content owns both its versions (VersionLedger). Invalid records and
 * records that lose a version conflict are logged and skipped, so every follower skips the same ones.
 * A tombstone is logged as an error and ignored: it must not erase a version.
 */
export function followPrices(o: {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  onReference(reference: PublishedReference): void;
  fatal?: Fatal | undefined;
  ledger?: VersionLedger;
}) {
  const ledger = o.ledger ?? new VersionLedger();
  /** Valid records by key, with the order of their last arrival (one partition: topic order). */
  const records = new Map<string, { at: number; reference: PublishedReference }>();
  let arrivals = 0;
  let inForce: string | undefined;
  return createCompactedFeed({
    kafka: o.kafka,
    topic: o.topic,
    logger: o.logger,
    fatal: o.fatal,
    role: 'prices follower',
    apply: (key, value) => {
      try {
        if (value === null) {
          throw new ConfigError(
            o.topic,
            `The record ${key} of ${o.topic} is a tombstone, which is ignored: a published version is never erased (a follower started after compaction would not see it).`,
          );
        }
        const next = decodeReference(key, value, o.topic);
        const conflict = ledger.conflict(next);
        ledger.record(next);
        records.delete(next.key);
        records.set(next.key, { at: arrivals++, reference: next });
        let best: { at: number; reference: PublishedReference } | undefined;
        for (const r of records.values()) {
          if (ledger.conflict(r.reference) === undefined && (!best || r.at > best.at)) best = r;
        }
        if (best && best.reference.key !== inForce) {
          inForce = best.reference.key;
          o.onReference(best.reference);
        }
        if (conflict && best?.reference.key !== next.key)
          throw new ConfigError(o.topic, `The record ${key} of ${o.topic} is refused: ${conflict}.`);
        if (conflict)
          o.logger.error(
            { key },
            `The record ${key} of ${o.topic} reuses a version for other content and owns it (smallest digest): it replaces the earlier content for every follower. Give each new content a new version.`,
          );
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
    ledger,
    onReference: (published) => {
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
  // Another publisher may have raced this one with other content for the same version: the smallest
  // digest owns it on every follower. Say so rather than report a publication nobody applies.
  const after = await readPublished(kafka, topic, logger);
  const lost = after.ledger.conflict(next);
  if (lost) throw new ConfigError('--prices', `Sent, but not in force: ${lost}.`);
  return { key: next.key, sent: true };
}
