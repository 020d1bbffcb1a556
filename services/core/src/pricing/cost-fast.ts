import type { Decimal } from '../money/decimal.js';
import type { CompiledFee, CompiledSchedule, CompiledTokenRates } from './compile.js';
import type { CostableUsage, CostBreakdown, UnpricedUnit } from './cost.js';

/** A price per counted unit as a reduced fraction of nano-USD, both parts safe integers. */
interface Fraction {
  num: number;
  den: number;
}

/** Products stay below 2^52, so a quotient off by one from float division is still corrected exactly. */
const LIMIT = 2 ** 52;
const NANOS_PER_USD = 1_000_000_000n;
const TOKENS_PER_PRICE = 1_000_000n;

const fractions = new WeakMap<Decimal | CompiledFee, Fraction | null>();

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function fraction(key: Decimal | CompiledFee, rate: Decimal, perPrice: bigint): Fraction | null {
  let f = fractions.get(key);
  if (f !== undefined) return f;
  const num = rate.units * NANOS_PER_USD;
  const den = 10n ** BigInt(rate.scale) * perPrice;
  const g = gcd(num, den) || 1n;
  f = num / g <= LIMIT && den / g <= LIMIT ? { num: Number(num / g), den: Number(den / g) } : null;
  fractions.set(key, f);
  return f;
}

/** quantity × f rounded half-to-even, or -1 when the product could leave the safe-integer range. */
function price(quantity: number, f: Fraction | null): number {
  if (quantity === 0) return 0;
  if (f === null) return -1;
  const product = quantity * f.num;
  if (product > LIMIT) return -1;
  let quotient = Math.floor(product / f.den);
  let remainder = product - quotient * f.den;
  if (remainder < 0) {
    quotient -= 1;
    remainder += f.den;
  } else if (remainder >= f.den) {
    quotient += 1;
    remainder -= f.den;
  }
  const twice = remainder * 2;
  if (twice > f.den || (twice === f.den && quotient % 2 === 1)) quotient += 1;
  return quotient;
}

function tokenPrice(quantity: number, rate: Decimal): number {
  return price(quantity, fraction(rate, rate, TOKENS_PER_PRICE));
}

function feePrice(quantity: number, fee: CompiledFee | undefined): number {
  return fee === undefined ? 0 : price(quantity, fraction(fee, fee.price, fee.unitsPerPrice));
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * computeCost without a discount, in plain numbers: the same exact result as the BigInt path (same
 * rational per bucket, same half-to-even rounding) whenever every product stays below 2^52, which
 * covers ordinary events and saves most of the per-event pricing time. Returns undefined whenever
 * it cannot be sure — invalid counts, huge quantities, a total near 2^53 — and the caller then takes
 * the BigInt path, which also raises the errors.
 */
export function costInSafeIntegers(usage: CostableUsage, plan: CompiledSchedule): CostBreakdown | undefined {
  const { tokens, units } = usage;
  if (
    !isCount(tokens.input) ||
    !isCount(tokens.cached_input) ||
    !isCount(tokens.cache_write) ||
    !isCount(tokens.output) ||
    !isCount(tokens.reasoning) ||
    !isCount(usage.requests) ||
    !isCount(units.images) ||
    !isCount(units.audio_ms) ||
    !isCount(units.web_search_calls)
  ) {
    return undefined;
  }
  const prompt = tokens.input + tokens.cached_input + tokens.cache_write;
  const perRequest = usage.requests > 0 ? usage.requests : 1;
  let rates: CompiledTokenRates = plan.base;
  let tierAbove: number | null = null;
  for (const tier of plan.tiers) {
    const above = Number(tier.aboveInputTokens) * perRequest;
    if (above > LIMIT || prompt > LIMIT) return undefined;
    if (prompt > above) {
      rates = tier.rates;
      tierAbove = Number(tier.aboveInputTokens);
      break;
    }
  }
  const input = tokenPrice(tokens.input, rates.input);
  const cachedInput = tokenPrice(tokens.cached_input, rates.cached_input);
  const cacheWrite = tokenPrice(tokens.cache_write, rates.cache_write);
  const output = tokenPrice(tokens.output, rates.output);
  const reasoning = tokenPrice(tokens.reasoning, rates.reasoning);
  const request = feePrice(usage.requests, plan.request);
  const images = feePrice(units.images, plan.image);
  const audio = feePrice(units.audio_ms, plan.audio);
  const webSearch = feePrice(units.web_search_calls, plan.webSearch);
  if (
    input < 0 ||
    cachedInput < 0 ||
    cacheWrite < 0 ||
    output < 0 ||
    reasoning < 0 ||
    request < 0 ||
    images < 0 ||
    audio < 0 ||
    webSearch < 0
  ) {
    return undefined;
  }
  const unitsTotal = images + audio + webSearch;
  const total = input + cachedInput + cacheWrite + output + reasoning + request + unitsTotal;
  // Each term is below 2^52, so the float sum of nine is exact while it stays below 2^52 too.
  if (total > LIMIT) return undefined;
  const unpriced: UnpricedUnit[] = [];
  if (units.images > 0 && !plan.image) unpriced.push('images');
  if (units.audio_ms > 0 && !plan.audio) unpriced.push('audio_ms');
  if (units.web_search_calls > 0 && !plan.webSearch) unpriced.push('web_search_calls');
  return {
    input_nanos: input,
    cached_input_nanos: cachedInput,
    cache_write_nanos: cacheWrite,
    output_nanos: output,
    reasoning_nanos: reasoning,
    request_nanos: request,
    images_nanos: images,
    audio_nanos: audio,
    web_search_nanos: webSearch,
    units_nanos: unitsTotal,
    total_nanos: total,
    tier_above_input_tokens: tierAbove,
    unpriced_units: unpriced,
  };
}
