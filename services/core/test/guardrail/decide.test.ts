import { describe, expect, it } from 'vitest';
import { applyOverrides, DEFAULT_RULES, decideBudget, type GuardrailFacts } from '../../src/index.js';

const USD = 1_000_000_000n;
const base: GuardrailFacts = { spend: 0n, budget: 100n * USD, projected: null, run: null, forecastP90: null };
const decide = (f: Partial<GuardrailFacts>, rules = DEFAULT_RULES) => decideBudget({ ...base, ...f }, rules);
const codes = (d: ReturnType<typeof decide>) => d.reasons.map((r) => r.code);

describe('the guardrail decision', () => {
  it('allows below the warning line, warns from 80 %, denies from 100 % — exactly at the nano', () => {
    expect(decide({ spend: 80n * USD - 1n }).decision).toBe('allow');
    expect(decide({ spend: 80n * USD })).toMatchObject({
      decision: 'warn',
      reasons: [{ code: 'budget_warn' }],
    });
    expect(decide({ spend: 100n * USD - 1n }).decision).toBe('warn');
    const d = decide({ spend: 100n * USD });
    expect(d.decision).toBe('deny');
    expect(codes(d)).toEqual(['budget_exhausted']);
    expect(d.reasons[0]!.message).toBe(
      '$100.00 spent of the $100.00 monthly budget, at or past the 100% deny line.',
    );
  });

  it('warns on a projection over budget, and on a run forecast over what is left (deny when configured)', () => {
    expect(codes(decide({ spend: 10n * USD, projected: 101n * USD }))).toEqual(['projected_over_budget']);
    expect(decide({ spend: 10n * USD, projected: 100n * USD }).decision).toBe('allow');
    const f = { spend: 70n * USD, forecastP90: 30n * USD + 1n };
    expect(decide(f)).toMatchObject({ decision: 'warn', reasons: [{ code: 'forecast_over_remaining' }] });
    expect(decide({ ...f, forecastP90: 30n * USD }).decision).toBe('allow');
    const strict = applyOverrides(DEFAULT_RULES, { guardrail: { forecast_action: 'deny' } });
    expect(decide(f, strict).decision).toBe('deny');
  });

  it('denies the next step of a run at any runaway cap, or warns with deny_runaway false', () => {
    const run = { cost: 0n, steps: 0, retries: 0, depth: 0 };
    expect(decide({ run: { ...run, steps: 49 } }).decision).toBe('allow');
    expect(codes(decide({ run: { ...run, steps: 50 } }))).toEqual(['run_step_cap']);
    expect(codes(decide({ run: { ...run, cost: 25n * USD } }))).toEqual(['run_cost_cap']);
    // Retries and depth: at the cap is allowed (the next step need not be a retry or deeper), past it is not.
    expect(decide({ run: { ...run, retries: 10, depth: 8 } }).decision).toBe('allow');
    expect(codes(decide({ run: { ...run, retries: 11 } }))).toEqual(['run_retry_cap']);
    expect(codes(decide({ run: { ...run, depth: 9 } }))).toEqual(['run_depth_cap']);
    const lenient = applyOverrides(DEFAULT_RULES, { guardrail: { deny_runaway: false } });
    expect(decide({ run: { ...run, steps: 50 } }, lenient).decision).toBe('warn');
    const off = applyOverrides(DEFAULT_RULES, { runaway: { enabled: false } });
    expect(decide({ run: { ...run, steps: 500 } }, off).decision).toBe('allow');
  });

  it('without a budget: allow, saying so — the caps still apply', () => {
    expect(decide({ budget: null, spend: 10_000n * USD })).toEqual({
      decision: 'allow',
      reasons: [{ code: 'no_budget', message: 'The customer has no monthly budget.' }],
    });
    expect(decide({ budget: null, run: { cost: 0n, steps: 50, retries: 0, depth: 0 } }).decision).toBe(
      'deny',
    );
  });

  it('takes the strictest of several reasons and lists them all', () => {
    const d = decide({
      spend: 90n * USD,
      projected: 200n * USD,
      run: { cost: 0n, steps: 50, retries: 0, depth: 0 },
    });
    expect(d.decision).toBe('deny');
    expect(codes(d)).toEqual(['budget_warn', 'projected_over_budget', 'run_step_cap']);
  });
});
