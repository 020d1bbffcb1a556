import { billingPeriodStart } from '@burnrate/core';
import { describe, expect, it } from 'vitest';

describe('billingPeriodStart', () => {
  it('uses calendar months without an anchor', () => {
    expect(billingPeriodStart(Date.UTC(2026, 0, 1, 0, 0), null)).toBe('2026-01-01');
    expect(billingPeriodStart(Date.UTC(2026, 0, 31, 23, 59), null)).toBe('2026-01-01');
  });

  it('starts on the anchor day, in the previous month before it (across a year end)', () => {
    expect(billingPeriodStart(Date.UTC(2026, 2, 15), 15)).toBe('2026-03-15');
    expect(billingPeriodStart(Date.UTC(2026, 2, 14, 23, 59, 59, 999), 15)).toBe('2026-02-15');
    expect(billingPeriodStart(Date.UTC(2026, 0, 3), 10)).toBe('2025-12-10');
  });

  it('gives every moment of a day the same answer, whichever is asked first', () => {
    const day = Date.UTC(2026, 5, 9);
    for (const anchor of [null, 9, 10, 28] as const) {
      const first = billingPeriodStart(day + 86_399_999, anchor);
      for (const ms of [0, 1, 43_200_000, 86_399_999])
        expect(billingPeriodStart(day + ms, anchor)).toBe(first);
    }
    expect(billingPeriodStart(day, 10)).toBe('2026-05-10');
    expect(billingPeriodStart(day, 9)).toBe('2026-06-09');
  });
});
