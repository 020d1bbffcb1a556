import { describe, expect, it } from 'vitest';
import type { CustomerMeta } from '../../src/aggregates/batch.js';
import { alertId, decide, messageId, previousPeriod } from '../../src/alerts/alert-id.js';
import { evaluateCustomer, evaluateRun, evaluateUnpriced } from '../../src/rules/evaluate.js';
import { parseAlertingConfig } from '../../src/rules/file.js';
import { DEFAULT_RULES } from '../../src/rules/settings.js';
import type { CustomerSnapshot, Finding } from '../../src/rules/snapshots.js';
import { customerMeta, customerSnapshot, USD } from '../fixtures/aggregates.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');

const meta = (o: Partial<CustomerMeta> = {}) => customerMeta(o);
const snapshot = (o: Partial<CustomerSnapshot> & { cost?: bigint } = {}) =>
  customerSnapshot(o.nowMs ?? NOW, o.meta ?? meta(), o);

const fired = (findings: Finding[], rule: string) =>
  findings.filter((f) => f.rule === rule && f.state === 'active').map((f) => f.threshold);

describe('rules', () => {
  it('budget thresholds cross exactly at the percent, with severity by level', () => {
    const budget = 150n * USD;
    const justUnder = (budget * 80n) / 100n - 1n;
    expect(fired(evaluateCustomer(snapshot({ cost: justUnder }), DEFAULT_RULES), 'budget')).toEqual(['50%']);
    const at80 = evaluateCustomer(snapshot({ cost: justUnder + 1n }), DEFAULT_RULES).filter(
      (f) => f.rule === 'budget',
    );
    expect(at80.map((f) => [f.threshold, f.severity])).toEqual([
      ['50%', 'info'],
      ['80%', 'warning'],
    ]);
    const over = evaluateCustomer(snapshot({ cost: budget }), DEFAULT_RULES).find(
      (f) => f.threshold === '100%',
    )!;
    expect(over).toMatchObject({ severity: 'critical', period: '2026-11-01', subject: 'customer:whale' });
    expect(over.summary).toBe(
      'Whale Labs (whale) has spent $150.00 of its $150.00 monthly budget this billing period (100% threshold, from 2026-11-01).',
    );
    expect(over.numbers).toMatchObject({ value: '150000000000', limit: '150000000000', ratio: '1.00' });
  });

  it("the seed's whale: $35,000 of compute on a $200 plan is 175× and crosses every multiple", () => {
    const findings = evaluateCustomer(snapshot({ cost: 35_000n * USD }), DEFAULT_RULES);
    const whale = findings.filter((f) => f.rule === 'whale');
    expect(whale.map((f) => [f.threshold, f.severity])).toEqual([
      ['1x', 'warning'],
      ['5x', 'critical'],
      ['10x', 'critical'],
      ['50x', 'critical'],
      ['100x', 'critical'],
    ]);
    expect(whale[4]!.numbers.ratio).toBe('175.00');
    expect(whale[4]!.summary).toContain(
      'costs 175.00× what its flat_rate plan earns: $35000.00 of compute on $200.00',
    );
  });

  it('whale against the median customer of the plan needs enough customers', () => {
    const median = { median: 10n * USD, customers: 5 };
    const s = (cost: bigint, customers = 5) => snapshot({ cost, planMedian: { ...median, customers } });
    expect(fired(evaluateCustomer(s(100n * USD), DEFAULT_RULES), 'whale')).toEqual(['10x-median']);
    expect(fired(evaluateCustomer(s(100n * USD - 1n), DEFAULT_RULES), 'whale')).toEqual([]);
    expect(fired(evaluateCustomer(s(100n * USD, 4), DEFAULT_RULES), 'whale')).toEqual([]);
  });

  it('forecast: fires on course to overrun, clears below the hysteresis band, holds in between', () => {
    // 19.5 days into a 30-day period; $90 spent; $5/day over the last 24 hours.
    const s = (h24: bigint) => snapshot({ cost: 90n * USD, windows: { m5: 0n, h1: 0n, h24 } });
    const budgetForecast = (h24: bigint) =>
      evaluateCustomer(s(h24), DEFAULT_RULES).find((f) => f.rule === 'forecast')!;
    // 10.5 days left: 90 + 5.72×10.5 ≈ 150 → active at $5.72/day, clear below 135 (90 + 4.29/day)
    expect(budgetForecast(6n * USD).state).toBe('active');
    expect(budgetForecast(5n * USD).state).toBe('hold');
    expect(budgetForecast(4n * USD).state).toBe('clear');
    expect(budgetForecast(6n * USD).summary).toMatch(/on course to spend \$153\.00 by 2026-12-01/);
    // Too early in the period: nothing, whatever the rate.
    const early = snapshot({ cost: 90n * USD, nowMs: Date.parse('2026-11-01T06:00:00Z') });
    expect(
      evaluateCustomer(early, DEFAULT_RULES)
        .filter((f) => f.rule === 'forecast')
        .map((f) => f.state),
    ).toEqual(['hold', 'hold']);
  });

  it('spike: the last hour against the average of the 23 before, with a minimum amount and hysteresis', () => {
    const s = (h1: bigint, before: bigint) => snapshot({ windows: { m5: 0n, h1, h24: h1 + before } });
    const spike = (h1: bigint, before: bigint) =>
      evaluateCustomer(s(h1, before), DEFAULT_RULES).find((f) => f.rule === 'spike');
    // baseline $1/hour (23 hours, $23): 3× is $3, but the minimum is $5
    expect(spike(4n * USD, 23n * USD)!.state).toBe('hold');
    expect(spike(6n * USD, 23n * USD)).toMatchObject({
      state: 'active',
      threshold: '3x',
      period: '2026-11-20',
    });
    // baseline $10/hour: $30 is 3×, $24 is the 20 % band below it
    expect(spike(30n * USD, 230n * USD)!.state).toBe('active');
    expect(spike(25n * USD, 230n * USD)!.state).toBe('hold');
    expect(spike(23n * USD, 230n * USD)!.state).toBe('clear');
    // No baseline: nothing to judge against; a firing spike holds while spending goes on, clears when it stops.
    expect(spike(50n * USD, 0n)).toMatchObject({ state: 'hold' });
    expect(spike(0n, 0n)).toMatchObject({ state: 'clear' });
  });

  it('runaway runs, unpriced models and unmapped customers', () => {
    const run = {
      runId: 'run_1',
      customer: 'acme',
      planKind: 'flat_rate',
      workflow: 'code-review-agent',
      cost: 2n * USD,
      tokens: 1n,
      steps: 51,
      retries: 10,
      maxDepth: 9,
      firstSeenMs: NOW - 60_000,
      lastSeenMs: NOW,
    };
    // One alert per run, whichever cap came first; the summary names every cap it is past.
    const [loop, ...more] = evaluateRun(run, DEFAULT_RULES);
    expect(more).toEqual([]);
    expect(loop).toMatchObject({
      threshold: 'caps',
      period: 'run',
      severity: 'critical',
      subject: 'run:run_1',
    });
    expect(loop!.numbers).toMatchObject({
      unit: 'steps',
      value: '51',
      limit: '50',
      caps_exceeded: 'steps,depth',
    });
    expect(loop!.summary).toContain(
      'is past its steps cap (50), depth cap (8): $2.00, 51 steps, 10 retries, depth 9',
    );
    expect(
      evaluateRun({ ...run, cost: 25n * USD + 1n, steps: 1, maxDepth: 0 }, DEFAULT_RULES)[0]!.numbers,
    ).toMatchObject({
      unit: 'usd_nanos',
      limit: String(25n * USD),
    });
    expect(evaluateRun({ ...run, steps: 50, maxDepth: 8 }, DEFAULT_RULES)).toEqual([]);
    const unpriced = evaluateUnpriced(
      { model: 'acme-labs/x', day: '2026-11-20', events: 3, tokens: 90n },
      DEFAULT_RULES,
    );
    expect(unpriced[0]!.summary).toMatch(/Model acme-labs\/x has no price: 3 events/);
    const stranger = snapshot({
      meta: meta({
        customer_id: 'unmapped:org_x',
        customer_ref: 'org_x',
        name: '',
        unmapped: true,
        plan_kind: '',
      }),
      day: { cost: 1n, tokens: 1n, events: 2 },
    });
    expect(fired(evaluateCustomer(stranger, DEFAULT_RULES), 'unmapped_customer')).toEqual(['unmapped']);
  });

  it('rules can be switched off per customer', () => {
    const { rules } = parseAlertingConfig({ customers: { whale: { whale: { enabled: false } } } }, 'f');
    expect(
      fired(evaluateCustomer(snapshot({ cost: 35_000n * USD }), rules.for('whale', 'flat_rate')), 'whale'),
    ).toEqual([]);
  });
});

describe('alert ids and transitions', () => {
  it('the id is the same for the same (rule, subject, threshold, period) and differs otherwise', () => {
    const f = { rule: 'budget', subject: 'customer:acme', threshold: '80%', period: '2026-11-01' } as const;
    expect(alertId(f)).toBe(alertId({ ...f }));
    expect(alertId(f)).toMatch(/^al_[0-9a-f]{32}$/);
    expect(alertId({ ...f, period: '2026-12-01' })).not.toBe(alertId(f));
    expect(messageId(alertId(f), 'resolved')).toBe(`${alertId(f)}-resolved`);
  });

  it('knows the period before a resolvable alert: the day before a spike, the billing period before a forecast', () => {
    expect(previousPeriod({ rule: 'spike', period: '2026-03-01' })).toBe('2026-02-28');
    expect(previousPeriod({ rule: 'forecast', period: '2026-01-15' })).toBe('2025-12-15');
    expect(previousPeriod({ rule: 'budget', period: '2026-01-15' })).toBeNull();
  });

  it('fires once, resolves only what is firing and resolvable, never fires again in the period', () => {
    const f = (state: Finding['state'], resolvable = true) => ({ state, resolvable }) as Finding;
    expect(decide(f('active'), undefined)).toBe('fired');
    expect(decide(f('active'), 'firing')).toBeNull();
    expect(decide(f('clear'), 'firing')).toBe('resolved');
    expect(decide(f('hold'), 'firing')).toBeNull();
    expect(decide(f('clear', false), 'firing')).toBeNull();
    expect(decide(f('active'), 'resolved')).toBeNull();
    expect(decide(f('clear'), undefined)).toBeNull();
  });
});
