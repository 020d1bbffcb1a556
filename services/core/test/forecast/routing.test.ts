import { costPerCall, type ModelUsage, mostCalledModel, suggestModel } from '@burnrate/core';
import { describe, expect, it } from 'vitest';

const policy = { minCalls: 20, qualityTolerance: 0.02 };
const usage = (model: string, calls: number, costNanos: bigint, quality: number | null): ModelUsage => ({
  model,
  calls,
  costNanos,
  scoredCalls: quality === null ? 0 : calls,
  quality,
});

const big = usage('gpt-4o', 100, 1_000_000n, 0.9); // 10,000 nanos a call
const mini = usage('gpt-4o-mini', 40, 40_000n, 0.88); // 1,000 nanos a call, 0.02 below
const cheaper = usage('tiny', 40, 20_000n, 0.87); // 500 a call, 0.03 below: too low

describe('suggestModel', () => {
  it('suggests the cheapest model within the quality tolerance', () => {
    expect(suggestModel([big, mini, cheaper], 'gpt-4o', policy)).toEqual({
      model: 'gpt-4o-mini',
      instead_of: 'gpt-4o',
      cost_per_call: { nanos: '1000', usd: '0.000001' },
      instead_of_cost_per_call: { nanos: '10000', usd: '0.00001' },
      quality_score: 0.88,
      instead_of_quality_score: 0.9,
      calls: 40,
    });
  });

  it('without a model, starts from the most-called one', () => {
    expect(suggestModel([mini, big], null, policy)?.instead_of).toBe('gpt-4o');
  });

  it('with a looser tolerance, the cheaper model wins', () => {
    expect(suggestModel([big, mini, cheaper], 'gpt-4o', { ...policy, qualityTolerance: 0.05 })?.model).toBe(
      'tiny',
    );
  });

  it('skips models below minCalls, without scores, or not cheaper', () => {
    expect(suggestModel([big, { ...mini, calls: 19, costNanos: 19_000n }], 'gpt-4o', policy)).toBeNull();
    expect(suggestModel([big, usage('unscored', 40, 40n, null)], 'gpt-4o', policy)).toBeNull();
    expect(suggestModel([big, usage('pricey', 40, 400_000n, 0.95)], 'gpt-4o', policy)).toBeNull();
    expect(suggestModel([big, usage('same', 40, 400_000n, 0.95)], 'gpt-4o', policy)).toBeNull();
  });

  it('no suggestion for a current model without scores, or an unknown one', () => {
    expect(suggestModel([usage('gpt-4o', 100, 1_000_000n, null), mini], 'gpt-4o', policy)).toBeNull();
    expect(suggestModel([big, mini], 'claude', policy)).toBeNull();
    expect(suggestModel([], null, policy)).toBeNull();
  });
});

describe('costPerCall and mostCalledModel', () => {
  it('divides exactly in integers, rounding down', () => {
    expect(costPerCall(usage('m', 3, 10n, null))).toBe(3n);
    expect(costPerCall(usage('m', 1, 9_007_199_254_740_993n, null))).toBe(9_007_199_254_740_993n);
  });

  it('picks the most calls, ties by name', () => {
    expect(
      mostCalledModel([usage('b', 5, 0n, null), usage('a', 5, 0n, null), usage('c', 4, 0n, null)])?.model,
    ).toBe('a');
  });
});
