import { readFileSync } from 'node:fs';
import {
  applyCustomerMessage,
  CustomerTable,
  type CustomerTable as CustomerTableType,
  checkEventTimeliness,
  decodeCustomerMessage,
  decodeUsageEvent,
  enrichEvent,
  enrichedEventValues,
  loadBundledCatalog,
  PriceOverrides,
  parseCatalog,
  type UsageEvent,
  validateUsageEvent,
} from '@burnrate/core';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createCompactedFeed } from './compacted-feed.js';
import type { EnrichStage } from './enrich-message.js';

/**
 * The enricher's reference data: the price catalog (bundled, or BURNRATE_PRICES_FILE), per-customer
 * price overrides, and the customer table kept current from the compacted customers topic.
 */
export function createReferenceData(
  o: {
    /** The compacted customers topic. */
    topic: string;
    pricesFile: string | undefined;
    overridesFile?: string | undefined;
  },
  deps: { kafka: Kafka; logger: Logger },
) {
  const log = deps.logger.child({ component: 'reference-data' });
  const prices = o.pricesFile
    ? parseCatalog(JSON.parse(readFileSync(o.pricesFile, 'utf8')))
    : loadBundledCatalog();
  const overrides = o.overridesFile
    ? PriceOverrides.parse(JSON.parse(readFileSync(o.overridesFile, 'utf8')))
    : PriceOverrides.empty();
  const customers: CustomerTableType = new CustomerTable();
  const feed = createCompactedFeed({
    kafka: deps.kafka,
    topic: o.topic,
    logger: log,
    apply: (key, value) => {
      try {
        applyCustomerMessage(customers, decodeCustomerMessage(key, value));
      } catch (error) {
        // A bad record must not stop enrichment; it is visible in the logs and the previous version stays.
        log.error({ err: error, key }, 'ignoring an invalid record on the customers topic');
      }
    },
  });

  return {
    name: 'reference-data',
    customers,
    start: async () => {
      log.info({ priceCatalog: prices.version, overrides: overrides.version }, 'price catalog loaded');
      await feed.start();
    },
    stop: () => feed.stop(),
    stage(limits: { lateHorizonMs: number; maxFutureSkewMs: number }): EnrichStage {
      const ref = { prices, customers, overrides };
      return {
        decode: (bytes) => decodeUsageEvent(bytes).event,
        validate: (event) => validateUsageEvent(event),
        timeliness: (event, ingestedAtMs) => checkEventTimeliness(event, ingestedAtMs, limits),
        enrich: (event: UsageEvent, meta) => {
          const fact = enrichEvent(event, ref, meta);
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
