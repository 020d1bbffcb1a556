/**
 * The price catalog as written in services/core/catalog/prices.json. Every price is an exact
 * plain decimal string in USD, so the file is the single source of truth down to the last digit.
 */

/**
 * USD per million tokens for each exclusive token bucket of a usage event. An absent optional rate
 * falls back, deliberately towards the higher price so a gap never under-reports cost:
 * `cached_input` and `cache_write` → `input` (the model has no cache discount or surcharge);
 * `reasoning` → `output` (every provider bills thinking tokens as output unless it says otherwise).
 */
export interface TokenPrices {
  input: string;
  cached_input?: string;
  cache_write?: string;
  output: string;
  reasoning?: string;
}

/** Per-unit fees in USD per unit. A unit used by an event without a fee here leaves the fact unpriced. */
export interface UnitFees {
  per_request?: string;
  per_image?: string;
  /** Audio is billed from `units.audio_ms`; give the fee per second or per minute, not both. */
  per_audio_second?: string;
  per_audio_minute?: string;
  per_web_search_call?: string;
}

/**
 * A long-context tier: when a request's prompt (input + cached_input + cache_write tokens, averaged
 * over the event's `requests`) exceeds `above_input_tokens`, every token of that request is billed at
 * these rates instead — how Anthropic's and Google's > 200k pricing works. Optional rates fall back
 * within the tier exactly as in {@link TokenPrices}.
 */
export interface PriceTier {
  above_input_tokens: number;
  tokens_per_million: TokenPrices;
}

/** What computeCost needs: rates, tiers and fees. Price overrides carry one of these too. */
export interface PriceSchedule {
  tokens_per_million: TokenPrices;
  /** Ascending by `above_input_tokens`; empty when the model has one rate card. */
  tiers: PriceTier[];
  fees: UnitFees;
}

/** One effective-dated price of one model at one provider. */
export interface PriceEntry extends PriceSchedule {
  /** Unique in the catalog and stable: it is part of every fact's price_version. By convention `<provider>/<model>@<valid_from date>`. */
  id: string;
  /** Normalized provider name (see normalizeProvider): 'openai' and 'azure_openai' are distinct. */
  provider: string;
  /** The canonical model name, matched case-insensitively. */
  model: string;
  /** Other exact names of the same model, e.g. dated snapshots or cloud model ids. */
  aliases: string[];
  /** Regular-expression source for names not listed, e.g. `^gpt-4o-\\d{4}-\\d{2}-\\d{2}$`; always matched as a whole name. */
  pattern: string | null;
  /** ISO-8601; the price holds for events with valid_from <= occurred_at < valid_to. */
  valid_from: string;
  /** ISO-8601 or null for open-ended. */
  valid_to: string | null;
  /** The provider's price page this entry was read from. */
  source_url: string;
  /** The date (YYYY-MM-DD) the source was read. */
  as_of: string;
  /** Free text, e.g. what the entry does not model (batch or off-peak discounts). */
  notes: string | null;
}
