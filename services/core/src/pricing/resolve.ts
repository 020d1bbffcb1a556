import type { PriceCatalog } from './catalog.js';
import type { PriceOverride, PriceOverrides } from './overrides.js';
import type { PriceEntry, PriceSchedule } from './types.js';

export interface PriceQuery {
  provider: string;
  model: string;
  /** The mapped customer's id; null for unmapped customers, who get no overrides. */
  customerId: string | null;
  occurredAtMs: number;
}

/** How one event is to be priced. */
export type PriceResolution =
  | { priced: false }
  | {
      priced: true;
      /** Zero cost by design: the customer brought their own provider key. */
      byok: boolean;
      /** The rates to apply; null when byok. */
      schedule: PriceSchedule | null;
      /** A fraction to take off, from a discount override. */
      discount: string | undefined;
      entry: PriceEntry | undefined;
      override: PriceOverride | undefined;
      /** `<catalog version>:<entry id>`, plus `+<overrides version>:<override id>` when an override applied. */
      price_version: string;
    };

/**
 * Decides which catalog entry and customer override price an event. A BYOK or price override
 * prices the event even when the catalog does not know the model; otherwise no catalog entry means
 * unpriced. The catalog part of price_version is `-` when no entry was used.
 */
export function resolvePrice(
  prices: PriceCatalog,
  overrides: PriceOverrides,
  query: PriceQuery,
): PriceResolution {
  const entry = prices.lookup(query.provider, query.model, query.occurredAtMs);
  const override =
    query.customerId === null
      ? undefined
      : overrides.find(query.customerId, query.provider, query.model, entry?.model, query.occurredAtMs);
  const base = `${prices.version}:${entry?.id ?? '-'}`;
  const price_version = override ? `${base}+${overrides.version}:${override.id}` : base;
  if (override?.kind === 'byok') {
    return { priced: true, byok: true, schedule: null, discount: undefined, entry, override, price_version };
  }
  if (override?.kind === 'price') {
    // The contracted schedule replaces the catalog's entirely, so the catalog entry is not part of the price.
    return {
      priced: true,
      byok: false,
      schedule: override.prices,
      discount: undefined,
      entry: undefined,
      override,
      price_version: `${prices.version}:-+${overrides.version}:${override.id}`,
    };
  }
  if (!entry) return { priced: false };
  const discount = override?.kind === 'discount' ? override.discount : undefined;
  return { priced: true, byok: false, schedule: entry, discount, entry, override, price_version };
}
