import { ConfigError } from '@burnrate/core';
import { CompressionTypes, type Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createCompactedFeed } from '../roles/enricher/compacted-feed.js';
import type { Fatal } from '../runtime/fatal.js';
import { type PricingReference, parseReference } from './reference-files.js';
import {
  describeReference,
  PublishedPrices,
  type PublishedReference,
  type VersionLedger,
} from './version-ledger.js';

/**
 * The prices topic holds published reference data: one record per publication, key
 * `<catalog version>+<overrides version>#<catalog digest>.<overrides digest>`, value
 * `{ catalog, overrides, published_at }` (JSON, gzip). The topic is never compacted and never
 * expires (cleanup.policy=delete, retention.ms=-1, retention.bytes=-1; see ensureTopics), so its
 * order is permanent: the first record of a version owns it on every follower (VersionLedger), and
 * the record in force is the last one, in topic order, that does not conflict with an earlier one.
 */

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
 * Follows the prices topic: `onReference` gets the record in force each time it changes (see
 * PublishedPrices). Every follower reads the same records in the same order and skips the same ones,
 * each logged as an error: records that are not a valid catalog and overrides, records whose version
 * was first published with other content (naming both digests), and tombstones (nothing is erased).
 * A skipped record changes nothing: the prices in force before it stay in force.
 */
export function followPrices(o: {
  kafka: Kafka;
  topic: string;
  logger: Logger;
  onReference(reference: PublishedReference): void;
  fatal?: Fatal | undefined;
  state?: PublishedPrices;
  catchUpTimeoutMs?: number;
}) {
  const state = o.state ?? new PublishedPrices();
  const inForce = () =>
    state.inForce
      ? `the prices in force stay those of record ${state.inForce.key}`
      : 'no earlier record is valid, so the prices in force stay those the enricher started with';
  return createCompactedFeed({
    kafka: o.kafka,
    topic: o.topic,
    logger: o.logger,
    fatal: o.fatal,
    catchUpTimeoutMs: o.catchUpTimeoutMs,
    role: 'prices follower',
    apply: (key, value, offset) => {
      if (value === null) {
        o.logger.error(
          { key, offset },
          `The record ${key} (offset ${offset}) of ${o.topic} is a tombstone, which every follower ignores: a published version is never erased; ${inForce()}.`,
        );
        return;
      }
      let next: PublishedReference;
      try {
        next = decodeReference(key, value, o.topic);
      } catch (error) {
        o.logger.error(
          { err: error, key, offset },
          `${(error as Error).message} Every follower skips it; ${inForce()}.`,
        );
        return;
      }
      const offer = state.offer(next);
      if (offer.outcome === 'conflict') {
        o.logger.error(
          { key, offset, catalogDigest: next.catalogDigest, overridesDigest: next.overridesDigest },
          `The record ${key} (offset ${offset}) of ${o.topic} is ignored by every follower: ${offer.reason}; ${inForce()}.`,
        );
        return;
      }
      if (offer.changed) o.onReference(next);
    },
  });
}

/** Reads the prices topic to its end: who owns each version, and the record in force (undefined: none yet). */
export async function readPublished(
  kafka: Kafka,
  topic: string,
  logger: Logger,
): Promise<{ ledger: VersionLedger; latest: PublishedReference | undefined }> {
  const state = new PublishedPrices();
  const feed = followPrices({ kafka, topic, logger, state, onReference: () => {} });
  try {
    await feed.start();
  } finally {
    await feed.stop();
  }
  return { ledger: state.ledger, latest: state.inForce };
}

/**
 * Publishes a catalog and overrides for every enricher. Reads the topic first: when the same content
 * (formatting aside) is already in force nothing is sent; a version first published with other
 * content is refused with a sentence naming both digests, and nothing is sent. Publishing content
 * that was in force earlier sends it again: it becomes the last record (a roll-back).
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
  // Another publisher may have raced this one (both read before either sent) with other content for
  // the same version. Its record, if it landed first, owns the version on every follower, and the
  // re-read sees it because it precedes this one: say so rather than report a publication nobody applies.
  const after = await readPublished(kafka, topic, logger);
  const lost = after.ledger.conflict(next);
  if (lost) throw new ConfigError('--prices', `Sent, but ignored by every enricher: ${lost}.`);
  return { key: next.key, sent: true };
}
