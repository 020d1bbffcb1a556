import { ValidationError } from '../errors.js';
import { type Decimal, parseDecimal } from '../money/decimal.js';
import type { PriceSchedule, TokenPrices } from './types.js';

/** Rates of the five exclusive token buckets with the documented fallbacks already applied. */
export interface CompiledTokenRates {
  readonly input: Decimal;
  readonly cached_input: Decimal;
  readonly cache_write: Decimal;
  readonly output: Decimal;
  readonly reasoning: Decimal;
}

export interface CompiledTier {
  readonly aboveInputTokens: bigint;
  readonly rates: CompiledTokenRates;
}

export interface CompiledFee {
  readonly price: Decimal;
  /** How many counted units one priced unit spans: 1, or 1000 / 60000 for audio counted in ms. */
  readonly unitsPerPrice: bigint;
}

export interface CompiledSchedule {
  readonly base: CompiledTokenRates;
  /** Descending by threshold, so the first tier exceeded is the one that applies. */
  readonly tiers: readonly CompiledTier[];
  readonly request: CompiledFee | undefined;
  readonly image: CompiledFee | undefined;
  readonly audio: CompiledFee | undefined;
  readonly webSearch: CompiledFee | undefined;
}

// Parsing decimal strings per event would cost more than the arithmetic; schedules are immutable
// after load, so each is compiled once and remembered by identity.
const compiled = new WeakMap<PriceSchedule, CompiledSchedule>();

function compileRates(prices: TokenPrices, field: string): CompiledTokenRates {
  const input = parseDecimal(prices.input, `${field}.input`);
  const output = parseDecimal(prices.output, `${field}.output`);
  const optional = (key: 'cached_input' | 'cache_write' | 'reasoning', fallback: Decimal): Decimal =>
    prices[key] === undefined ? fallback : parseDecimal(prices[key], `${field}.${key}`);
  return {
    input,
    cached_input: optional('cached_input', input),
    cache_write: optional('cache_write', input),
    output,
    reasoning: optional('reasoning', output),
  };
}

function compileFee(text: string | undefined, field: string, unitsPerPrice: bigint): CompiledFee | undefined {
  return text === undefined ? undefined : { price: parseDecimal(text, field), unitsPerPrice };
}

/**
 * Validates and compiles a schedule, once per schedule object.
 * @param field prefixes error field names, e.g. `entries[3]`.
 * @param where names the owner in error messages, e.g. `Price entry "openai/gpt-4o@2024-10-02"`.
 * @throws ValidationError naming the rate, tier or fee at fault.
 */
export function compileSchedule(schedule: PriceSchedule, field = 'prices', where = ''): CompiledSchedule {
  const cached = compiled.get(schedule);
  if (cached) return cached;
  try {
    const result = compileUncached(schedule, field);
    compiled.set(schedule, result);
    return result;
  } catch (error) {
    if (!(error instanceof ValidationError) || where === '') throw error;
    throw new ValidationError(error.field ?? field, `${where}: ${error.message}`, error.code);
  }
}

function compileUncached(schedule: PriceSchedule, field: string): CompiledSchedule {
  const tiers: CompiledTier[] = [];
  let previous = 0;
  schedule.tiers.forEach((tier, i) => {
    const tierField = `${field}.tiers[${i}]`;
    const above = tier.above_input_tokens;
    if (!Number.isSafeInteger(above) || above <= previous) {
      throw new ValidationError(
        `${tierField}.above_input_tokens`,
        `${tierField}.above_input_tokens must be a positive integer above the previous tier's, got ${above}.`,
        'invalid_catalog',
      );
    }
    previous = above;
    tiers.push({
      aboveInputTokens: BigInt(above),
      rates: compileRates(tier.tokens_per_million, `${tierField}.tokens_per_million`),
    });
  });
  const fees = schedule.fees;
  if (fees.per_audio_second !== undefined && fees.per_audio_minute !== undefined) {
    throw new ValidationError(
      `${field}.fees.per_audio_minute`,
      `${field}.fees must give per_audio_second or per_audio_minute, not both.`,
      'invalid_catalog',
    );
  }
  return {
    base: compileRates(schedule.tokens_per_million, `${field}.tokens_per_million`),
    tiers: tiers.reverse(),
    request: compileFee(fees.per_request, `${field}.fees.per_request`, 1n),
    image: compileFee(fees.per_image, `${field}.fees.per_image`, 1n),
    audio:
      compileFee(fees.per_audio_second, `${field}.fees.per_audio_second`, 1000n) ??
      compileFee(fees.per_audio_minute, `${field}.fees.per_audio_minute`, 60_000n),
    webSearch: compileFee(fees.per_web_search_call, `${field}.fees.per_web_search_call`, 1n),
  };
}
