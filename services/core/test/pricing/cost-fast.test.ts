import { computeCost, loadBundledCatalog } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makePriceEntry, makeUsage } from '../fixtures/reference-data.js';

// computeCost takes a plain-number path when there is no discount; a discount of "0" forces the BigInt
// path with the same rational per bucket. Both must agree exactly, to the nano-USD.
const bigIntPath = { discount: '0' };

/** Deterministic pseudo-random quantities spanning 0 … 10^maxDigits. */
function* quantities(seed: number, n: number, maxDigits: number): Generator<number> {
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    const digits = x % (maxDigits + 1);
    yield Math.floor((x / 2 ** 31) * 10 ** digits);
  }
}

describe('computeCost: the safe-integer path equals the BigInt path', () => {
  it('for every entry of the bundled catalog and varied token counts', () => {
    const catalog = loadBundledCatalog();
    const q = quantities(7, 1_000_000, 9);
    let compared = 0;
    for (const entry of catalog.entries) {
      for (let i = 0; i < 200; i++) {
        const usage = makeUsage(
          {
            input: q.next().value!,
            cached_input: q.next().value!,
            cache_write: q.next().value!,
            output: q.next().value!,
            reasoning: q.next().value!,
          },
          {
            images: q.next().value! % 7,
            audio_ms: q.next().value! % 600_000,
            web_search_calls: q.next().value! % 4,
          },
          (q.next().value! % 5) + 1,
        );
        expect(computeCost(usage, entry)).toEqual(computeCost(usage, entry, bigIntPath));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('rounds exact halves to even on both paths', () => {
    // $0.0015 per million tokens is 1.5 nano-USD per token: 1 token → 2, 3 tokens (4.5) → 4.
    const entry = makePriceEntry({ tokens_per_million: { input: '0.0015', output: '0.6' } });
    for (const [tokens, nanos] of [
      [1, 2],
      [3, 4],
      [5, 8],
      [7, 10],
    ] as const) {
      expect(computeCost(makeUsage({ input: tokens }), entry).input_nanos).toBe(nanos);
      expect(computeCost(makeUsage({ input: tokens }), entry, bigIntPath).input_nanos).toBe(nanos);
    }
  });

  it('hands quantities too large for safe integers to the BigInt path', () => {
    const entry = makePriceEntry();
    const usage = makeUsage({ output: 2 ** 50 });
    expect(() => computeCost(usage, entry)).toThrow(/does not fit a safe integer/);
    const large = makeUsage({ input: 2_000_000_000_000 }); // 2e12 tokens × $3/M = $6M, below 2^53 nanos
    expect(computeCost(large, entry)).toEqual(computeCost(large, entry, bigIntPath));
    expect(computeCost(large, entry).input_nanos).toBe(6_000_000_000_000_000);
  });
});
