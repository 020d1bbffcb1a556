import {
  BurnrateError,
  divRoundHalfEven,
  formatNanosAsUsd,
  toSafeNanos,
  usdToNanos,
  ValidationError,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';

describe('divRoundHalfEven', () => {
  it.each([
    [5n, 2n, 2n], // 2.5 → 2 (even)
    [7n, 2n, 4n], // 3.5 → 4 (even)
    [1n, 2n, 0n], // 0.5 → 0
    [3n, 2n, 2n], // 1.5 → 2
    [25_000_001n, 10_000_000n, 3n], // just above half rounds up
    [24_999_999n, 10_000_000n, 2n], // just below half rounds down
    [10n, 5n, 2n], // exact
    [0n, 7n, 0n],
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [-26n, 10n, -3n],
  ])('%d / %d → %d', (numerator, denominator, expected) => {
    expect(divRoundHalfEven(numerator, denominator)).toBe(expected);
  });

  it('has no upward bias over many ties', () => {
    let sum = 0n;
    for (let k = 0n; k < 1000n; k++) sum += divRoundHalfEven(2n * k + 1n, 2n); // k + 0.5
    expect(sum).toBe(500_000n); // exact sum of k + 0.5 over k < 1000
  });

  it('refuses a non-positive denominator', () => {
    expect(() => divRoundHalfEven(1n, 0n)).toThrow(RangeError);
  });
});

describe('usdToNanos and formatNanosAsUsd', () => {
  it('converts exactly', () => {
    expect(usdToNanos('200.00', 'revenue')).toBe(200_000_000_000n);
    expect(usdToNanos('0.000000001', 'x')).toBe(1n);
    expect(usdToNanos('12345678901.5', 'x')).toBe(12_345_678_901_500_000_000n);
  });

  it('refuses amounts finer than a nano-USD', () => {
    const attempt = () => usdToNanos('0.0000000001', 'plan.revenue');
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/plan.revenue has more than 9 decimals/);
  });

  it.each([
    [0n, '0.00'],
    [1n, '0.000000001'],
    [2_500_000_000n, '2.50'],
    [1_234_567_890n, '1.23456789'],
    [-500_000_000n, '-0.50'],
    [375_000_000_000_000n, '375000.00'],
    [12_345_678_901_500_000_000n, '12345678901.50'],
  ])('formats %d nanos as %s', (nanos, text) => {
    expect(formatNanosAsUsd(nanos)).toBe(text);
  });

  it('accepts safe-integer numbers and refuses others', () => {
    expect(formatNanosAsUsd(1_500_000_000)).toBe('1.50');
    expect(formatNanosAsUsd(1_500_000_000, 0)).toBe('1.5');
    expect(() => formatNanosAsUsd(0.5)).toThrow(ValidationError);
  });
});

describe('toSafeNanos', () => {
  it('passes safe values and refuses larger ones', () => {
    expect(toSafeNanos(9_007_199_254_740_991n, 'x')).toBe(Number.MAX_SAFE_INTEGER);
    const error = (() => {
      try {
        toSafeNanos(9_007_199_254_740_992n, 'cost_total_nanos');
      } catch (e) {
        return e;
      }
    })() as BurnrateError;
    expect(error).toBeInstanceOf(BurnrateError);
    expect(error.code).toBe('money_overflow');
    expect(error.field).toBe('cost_total_nanos');
  });
});
