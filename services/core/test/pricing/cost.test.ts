import { BurnrateError, computeCost, ValidationError } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makePriceEntry, makeUsage } from '../fixtures/reference-data.js';

const M = 1_000_000;

describe('computeCost: buckets', () => {
  it('prices each exclusive bucket at its own rate', () => {
    const cost = computeCost(
      makeUsage({ input: M, cached_input: M, cache_write: M, output: M, reasoning: M }),
      makePriceEntry(),
    );
    expect(cost).toMatchObject({
      input_nanos: 3_000_000_000,
      cached_input_nanos: 300_000_000,
      cache_write_nanos: 3_750_000_000,
      output_nanos: 15_000_000_000,
      reasoning_nanos: 20_000_000_000,
      total_nanos: 42_050_000_000,
      tier_above_input_tokens: null,
    });
  });

  it('never bills cached input at the full input rate', () => {
    const cost = computeCost(makeUsage({ input: 1_000, cached_input: 9_000 }), makePriceEntry());
    expect(cost.input_nanos).toBe(3_000_000); // 1k × $3/M
    expect(cost.cached_input_nanos).toBe(2_700_000); // 9k × $0.30/M, not 27_000_000
    expect(cost.total_nanos).toBe(5_700_000);
  });

  it('bills reasoning once, at the output rate when the entry has no reasoning rate', () => {
    const entry = makePriceEntry({ tokens_per_million: { input: '3', output: '15' } });
    const cost = computeCost(makeUsage({ output: 300, reasoning: 700 }), entry);
    expect(cost.output_nanos).toBe(4_500_000);
    expect(cost.reasoning_nanos).toBe(10_500_000);
    // 1000 output-side tokens in all, not 1700: reasoning is not also inside output.
    expect(cost.total_nanos).toBe(15_000_000);
  });

  it('falls back to the input rate for cache buckets the entry does not price', () => {
    const entry = makePriceEntry({ tokens_per_million: { input: '2', output: '8' } });
    const cost = computeCost(makeUsage({ cached_input: M, cache_write: M }), entry);
    expect(cost.cached_input_nanos).toBe(2_000_000_000);
    expect(cost.cache_write_nanos).toBe(2_000_000_000);
  });

  it('charges nothing for zero usage', () => {
    expect(computeCost(makeUsage({}, {}, 0), makePriceEntry()).total_nanos).toBe(0);
  });
});

describe('computeCost: rounding', () => {
  // $0.00005 per million tokens is 0.05 nano-USD per token, so small counts land on halves.
  const entry = makePriceEntry({ tokens_per_million: { input: '0.00005', output: '0.000075' } });

  it.each([
    [10, 0], // 0.5 nanos → 0 (even)
    [30, 2], // 1.5 → 2
    [50, 2], // 2.5 → 2
    [70, 4], // 3.5 → 4
    [31, 2], // 1.55 → 2
    [29, 1], // 1.45 → 1
  ])('%d input tokens at $0.00005/M cost %d nanos', (tokens, nanos) => {
    expect(computeCost(makeUsage({ input: tokens }), entry).input_nanos).toBe(nanos);
  });

  it('rounds each bucket once and sums the rounded buckets into the total', () => {
    // Rates and fees chosen to leave fractions of a nano in every bucket.
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % 100_000;
    };
    for (let i = 0; i < 500; i++) {
      const cost = computeCost(
        makeUsage(
          { input: next(), cached_input: next(), cache_write: next(), output: next(), reasoning: next() },
          { images: next() % 3, audio_ms: next(), web_search_calls: next() % 4 },
          1 + (next() % 3),
        ),
        makePriceEntry({
          tokens_per_million: {
            input: '0.00005',
            cached_input: '0.000013',
            cache_write: '0.0000625',
            output: '0.000075',
            reasoning: '0.00011',
          },
          fees: {
            per_request: '0.0000003',
            per_image: '0.0000017',
            per_audio_minute: '0.006',
            per_web_search_call: '0.025',
          },
        }),
      );
      expect(cost.units_nanos).toBe(cost.images_nanos + cost.audio_nanos + cost.web_search_nanos);
      expect(cost.total_nanos).toBe(
        cost.input_nanos +
          cost.cached_input_nanos +
          cost.cache_write_nanos +
          cost.output_nanos +
          cost.reasoning_nanos +
          cost.request_nanos +
          cost.units_nanos,
      );
    }
  });
});

describe('computeCost: long-context tiers', () => {
  const sonnet = makePriceEntry({
    tokens_per_million: { input: '3', cached_input: '0.30', cache_write: '3.75', output: '15' },
    tiers: [
      {
        above_input_tokens: 200_000,
        tokens_per_million: { input: '6', cached_input: '0.60', cache_write: '7.50', output: '22.50' },
      },
    ],
  });

  it('uses base rates up to and including the threshold', () => {
    const cost = computeCost(makeUsage({ input: 150_000, cached_input: 50_000, output: 1_000 }), sonnet);
    expect(cost.tier_above_input_tokens).toBeNull();
    expect(cost.input_nanos).toBe(450_000_000);
    expect(cost.output_nanos).toBe(15_000_000);
  });

  it('bills every bucket of a request above the threshold at the tier rates', () => {
    // 150k + 50k cached + 1 cache write = 200_001 prompt tokens: cache tokens count towards the tier.
    const cost = computeCost(
      makeUsage({ input: 150_000, cached_input: 50_000, cache_write: 1, output: 1_000 }),
      sonnet,
    );
    expect(cost.tier_above_input_tokens).toBe(200_000);
    expect(cost.input_nanos).toBe(900_000_000);
    expect(cost.cached_input_nanos).toBe(30_000_000);
    expect(cost.cache_write_nanos).toBe(7_500);
    expect(cost.output_nanos).toBe(22_500_000);
  });

  it('judges an event of several requests by its prompt per request', () => {
    const cost = computeCost(makeUsage({ input: 300_000 }, {}, 2), sonnet);
    expect(cost.tier_above_input_tokens).toBeNull();
    expect(computeCost(makeUsage({ input: 400_002 }, {}, 2), sonnet).tier_above_input_tokens).toBe(200_000);
  });

  it('picks the highest tier exceeded', () => {
    const tiered = makePriceEntry({
      tokens_per_million: { input: '1', output: '1' },
      tiers: [
        { above_input_tokens: 128_000, tokens_per_million: { input: '2', output: '2' } },
        { above_input_tokens: 1_000_000, tokens_per_million: { input: '4', output: '4' } },
      ],
    });
    expect(computeCost(makeUsage({ input: 500_000 }), tiered).input_nanos).toBe(1_000_000_000);
    expect(computeCost(makeUsage({ input: 2_000_000 }), tiered).input_nanos).toBe(8_000_000_000);
  });
});

describe('computeCost: fees and units', () => {
  const entry = makePriceEntry({
    fees: {
      per_request: '0.0001',
      per_image: '0.04',
      per_audio_minute: '0.006',
      per_web_search_call: '0.01',
    },
  });

  it('prices requests, images, audio and web searches', () => {
    const cost = computeCost(makeUsage({}, { images: 2, audio_ms: 90_500, web_search_calls: 3 }, 5), entry);
    expect(cost.request_nanos).toBe(500_000);
    expect(cost.images_nanos).toBe(80_000_000);
    expect(cost.audio_nanos).toBe(9_050_000); // 90.5 s at $0.006/min
    expect(cost.web_search_nanos).toBe(30_000_000);
    expect(cost.units_nanos).toBe(119_050_000);
    expect(cost.total_nanos).toBe(119_550_000);
    expect(cost.unpriced_units).toEqual([]);
  });

  it('prices audio per second too', () => {
    const perSecond = makePriceEntry({ fees: { per_audio_second: '0.0001' } });
    expect(computeCost(makeUsage({}, { audio_ms: 1_234 }), perSecond).audio_nanos).toBe(123_400);
  });

  it('reports units used without a fee instead of pricing them at zero silently', () => {
    const cost = computeCost(makeUsage({ input: 10 }, { web_search_calls: 2, images: 1 }), makePriceEntry());
    expect(cost.unpriced_units).toEqual(['images', 'web_search_calls']);
    expect(cost.input_nanos).toBe(30_000);
  });
});

describe('computeCost: discounts, size and bad input', () => {
  it('applies a discount inside the single rounding of each bucket', () => {
    const entry = makePriceEntry();
    expect(computeCost(makeUsage({ input: M }), entry, { discount: '0.15' }).input_nanos).toBe(2_550_000_000);
    // 25 tokens at $0.0001/M are 2.5 nanos; 40% off leaves exactly 1.5 → 2. Rounding before discounting
    // would give round(2.5) = 2, × 0.6 = 1.2 → 1: the discount must sit inside the one rounding.
    const tiny = makePriceEntry({ tokens_per_million: { input: '0.0001', output: '0.0001' } });
    expect(computeCost(makeUsage({ input: 25 }), tiny, { discount: '0.4' }).input_nanos).toBe(2);
    expect(computeCost(makeUsage({ input: M }), entry, { discount: '1' }).total_nanos).toBe(0);
    expect(() => computeCost(makeUsage({ input: 1 }), entry, { discount: '1.01' })).toThrow(
      /discount must be at most 1/,
    );
    expect(() => computeCost(makeUsage({ input: 1 }), entry, { discount: '-0.1' })).toThrow(ValidationError);
  });

  it('is exact for huge counts: 5e9 output tokens at $75/M', () => {
    const opus = makePriceEntry({ tokens_per_million: { input: '15', output: '75' } });
    const cost = computeCost(makeUsage({ output: 5_000_000_000 }), opus);
    expect(cost.output_nanos).toBe(375_000_000_000_000); // $375,000.000000000
    // 4_999_999_999 × 2.19 / 1e6 USD = 10_949.99999781 USD, exactly; float arithmetic misses it.
    expect(((4_999_999_999 * 2.19) / 1e6) * 1e9).not.toBe(10_949_999_997_810);
    const reasoner = makePriceEntry({ tokens_per_million: { input: '0.55', output: '2.19' } });
    expect(computeCost(makeUsage({ output: 4_999_999_999 }), reasoner).output_nanos).toBe(10_949_999_997_810);
  });

  it('refuses totals a JS number cannot hold exactly', () => {
    const opus = makePriceEntry({ tokens_per_million: { input: '15', output: '75' } });
    const attempt = () => computeCost(makeUsage({ output: 1e15 }), opus);
    expect(attempt).toThrow(BurnrateError);
    expect(attempt).toThrow(/cost_total_nanos/);
  });

  it.each([
    [{ input: -1 }, 'tokens.input'],
    [{ output: 1.5 }, 'tokens.output'],
    [{ reasoning: Number.NaN }, 'tokens.reasoning'],
  ])('refuses bad counts %j naming %s', (tokens, field) => {
    try {
      computeCost(makeUsage(tokens), makePriceEntry());
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });
});
