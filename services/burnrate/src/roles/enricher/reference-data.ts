import {
  applyCustomerMessage,
  CustomerTable,
  type CustomerTable as CustomerTableType,
  checkEventTimeliness,
  decodeCustomerMessage,
  decodeUsageEvent,
  enrichEvent,
  enrichedEventValues,
  type UsageEvent,
  validateUsageEvent,
} from '@burnrate/core';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { followPrices } from '../../pricing/prices-topic.js';
import { loadReference, type PricingReference } from '../../pricing/reference-files.js';
import type { Fatal } from '../../runtime/fatal.js';
import { createCompactedFeed } from './compacted-feed.js';
import type { EnrichStage } from './enrich-message.js';

/**
 * The enricher's reference data: the customer table kept current from the compacted customers topic,
 * and the price catalog and per-customer overrides. Prices are the record in force on the prices
 * topic (`burnrate prices publish`; the last valid record whose versions it owns, see followPrices),
 * followed without a restart; until anything is published they are BURNRATE_PRICES_FILE (else the
 * bundled catalog) and BURNRATE_OVERRIDES_FILE (else none).
 */
export function createReferenceData(
  o: {
    /** The compacted customers topic. */
    topic: string;
    /** The prices topic (kept forever); unset = the files only, never reloaded (roles that do not price). */
    pricesTopic?: string | undefined;
    pricesFile: string | undefined;
    overridesFile?: string | undefined;
  },
  deps: { kafka: Kafka; logger: Logger; fatal?: Fatal | undefined },
) {
  const log = deps.logger.child({ component: 'reference-data' });
  let pricing: PricingReference = loadReference(
    {},
    { BURNRATE_PRICES_FILE: o.pricesFile, BURNRATE_OVERRIDES_FILE: o.overridesFile },
  );
  let started = false;
  const customers: CustomerTableType = new CustomerTable();
  const feed = createCompactedFeed({
    kafka: deps.kafka,
    topic: o.topic,
    logger: log,
    fatal: deps.fatal,
    role: 'customers follower',
    apply: (key, value) => {
      try {
        applyCustomerMessage(customers, decodeCustomerMessage(key, value));
      } catch (error) {
        // A bad record must not stop enrichment; it is visible in the logs and the previous version stays.
        log.error({ err: error, key }, 'ignoring an invalid record on the customers topic');
      }
    },
  });
  const prices = o.pricesTopic
    ? followPrices({
        kafka: deps.kafka,
        topic: o.pricesTopic,
        logger: log,
        fatal: deps.fatal,
        onReference: (next) => {
          pricing = { prices: next.prices, overrides: next.overrides };
          // During catch-up every earlier record passes by; only the one in force is worth a line.
          if (started)
            log.info(
              { priceCatalog: next.prices.version, overrides: next.overrides.version },
              'prices published: now in force',
            );
        },
      })
    : undefined;

  return {
    name: 'reference-data',
    customers,
    /** The catalog and overrides in force now. */
    pricing: (): PricingReference => pricing,
    start: async () => {
      await Promise.all([feed.start(), prices?.start()]);
      started = true;
      log.info(
        { priceCatalog: pricing.prices.version, overrides: pricing.overrides.version },
        'prices in force',
      );
    },
    stop: async () => {
      await Promise.all([feed.stop(), prices?.stop()]);
    },
    stage(limits: { lateHorizonMs: number; maxFutureSkewMs: number }): EnrichStage {
      return {
        decode: (bytes) => decodeUsageEvent(bytes).event,
        validate: (event) => validateUsageEvent(event),
        timeliness: (event, ingestedAtMs) => checkEventTimeliness(event, ingestedAtMs, limits),
        enrich: (event: UsageEvent, meta) => {
          // One read of the reference in force per event: its price_version names exactly what priced it.
          const { prices: catalog, overrides } = pricing;
          const fact = enrichEvent(event, { prices: catalog, customers, overrides }, meta);
          return {
            customerId: fact.customer_id,
            row: JSON.stringify(enrichedEventValues(fact)),
            unpriced: fact.unpriced === 1,
            unmapped: fact.unmapped === 1,
          };
        },
      };
    },
  };
}
