import { answerFromStats, type ForecastStats, forecastKeyString } from '@burnrate/core';
import { describe, expect, it } from 'vitest';

const context = {
  minSample: 30,
  fromMs: Date.UTC(2026, 10, 4),
  toMs: Date.UTC(2026, 11, 4),
  computedAtMs: Date.UTC(2026, 11, 4, 0, 0, 1),
};

const stats: ForecastStats = {
  scope: 'step',
  workflow: 'research',
  feature: 'chat',
  stepKind: null,
  model: 'gpt-4o',
  effort: 'l',
  sample: 30,
  costNanos: [41_000_000n, 9_007_199_254_740_993n, 12_345_000_001n],
  tokens: [61_234n, 98_012n, 180_333n],
};

describe('answerFromStats', () => {
  it('renders exact money, tokens, sample, window and computed_at', () => {
    expect(answerFromStats(stats, context)).toEqual({
      forecast: {
        scope: 'step',
        workflow: 'research',
        feature: 'chat',
        step_kind: null,
        model: 'gpt-4o',
        effort: 'l',
        cost: {
          p50: { nanos: '41000000', usd: '0.041' },
          // Past 2^53: still exact.
          p90: { nanos: '9007199254740993', usd: '9007199.254740993' },
          p99: { nanos: '12345000001', usd: '12.345000001' },
        },
        tokens: { p50: 61_234, p90: 98_012, p99: 180_333 },
        sample: 30,
        window: { from: '2026-11-04T00:00:00.000Z', to: '2026-12-04T00:00:00.000Z' },
        computed_at: '2026-12-04T00:00:01.000Z',
      },
    });
  });

  it('answers sample_too_small below min_sample', () => {
    expect(answerFromStats({ ...stats, sample: 29 }, context)).toEqual({
      forecast: null,
      reason: 'sample_too_small',
      sample: 29,
      min_sample: 30,
    });
  });

  it('a run forecast has no step dimensions', () => {
    const run = answerFromStats({ ...stats, scope: 'run' }, context).forecast!;
    expect([run.feature, run.step_kind, run.model, run.effort]).toEqual([null, null, null, 'l']);
  });
});

describe('forecastKeyString', () => {
  it('treats absent and null as "any", and tells every dimension apart', () => {
    expect(forecastKeyString({ scope: 'run', workflow: 'w' })).toBe(
      forecastKeyString({ scope: 'run', workflow: 'w', effort: null, model: undefined }),
    );
    const keys = [
      forecastKeyString({ scope: 'step', workflow: 'w', feature: 'x' }),
      forecastKeyString({ scope: 'step', workflow: 'w', stepKind: 'x' }),
      forecastKeyString({ scope: 'step', workflow: 'w', model: 'x' }),
      forecastKeyString({ scope: 'step', workflow: 'w' }),
      forecastKeyString({ scope: 'run', workflow: 'w' }),
      forecastKeyString({ scope: 'step', workflow: 'w", "x' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
