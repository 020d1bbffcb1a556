import { describe, expect, it } from 'vitest';
import { addExact, BatchAggregate } from '../../src/aggregates/batch.js';
import type { UsageRow } from '../../src/aggregates/usage-row.js';
import { usageRow } from '../fixtures/aggregates.js';

const NOW = Date.parse('2026-11-29T12:00:30Z');

const row = (overrides: Partial<UsageRow> = {}) => usageRow(NOW, overrides);

describe('batch aggregates', () => {
  it('adds each row to its customer, workflow, feature and model in every open window, day and period', () => {
    const b = new BatchAggregate(NOW);
    b.addRow(row());
    b.addRow(row({ workflow: 'review', cost_nanos: 500, tokens: 5 }));
    const customer = b.subjects.get('customer\u0000acme\u0000')!;
    expect([...customer.slots.values()].map((s) => s.slot.kind)).toEqual([
      'window',
      'window',
      'window',
      'day',
      'period',
    ]);
    for (const { totals } of customer.slots.values())
      expect(totals).toEqual({ cost: 1_500, tokens: 15, events: 2 });
    expect(b.subjects.get('workflow\u0000acme\u0000review')!.slots.get('d:2026-11-29')!.totals).toEqual({
      cost: 500,
      tokens: 5,
      events: 1,
    });
    expect(b.subjects.size).toBe(5); // customer, 2 workflows, 1 feature, 1 model
  });

  it('adds nothing to windows a row is too old for, and nothing to a closed period', () => {
    const b = new BatchAggregate(NOW);
    b.addRow(row({ occurred_at: NOW - 2 * 3_600_000 })); // only the 24h window, the day and the period
    b.addRow(row({ occurred_at: Date.parse('2026-10-10T00:00:00Z'), billing_period_start: '2026-10-01' }));
    const kinds = [...b.subjects.get('customer\u0000acme\u0000')!.slots.keys()];
    expect(kinds).toEqual([
      `h24:${Math.floor((NOW - 7_200_000) / 1_800_000) * 1_800}`,
      'd:2026-11-29',
      'p:2026-11-01',
    ]);
  });

  it('stays exact past 2^53 nano-USD', () => {
    const b = new BatchAggregate(NOW);
    b.addRow(row({ cost_nanos: Number.MAX_SAFE_INTEGER }));
    b.addRow(row({ cost_nanos: 2 }));
    const period = b.subjects.get('customer\u0000acme\u0000')!.slots.get('p:2026-11-01')!;
    expect(period.totals.cost).toBe(9_007_199_254_740_993n);
    expect(addExact(1, 2)).toBe(3);
    expect(addExact(9_007_199_254_740_993n, 7)).toBe(9_007_199_254_741_000n);
  });

  it('follows a run: cost, steps, retries, deepest depth, first and last seen', () => {
    const b = new BatchAggregate(NOW);
    b.addRow(row({ occurred_at: NOW - 5_000, depth: 0 }));
    b.addRow(row({ occurred_at: NOW - 3_000, depth: 3, attempt: 2 }));
    b.addRow(row({ occurred_at: NOW - 4_000, depth: 1, attempt: 3, cost_nanos: 7 }));
    expect(b.runs.get('run-1')).toEqual({
      runId: 'run-1',
      customer: 'acme',
      workflow: 'support',
      cost: 2_007,
      tokens: 30,
      steps: 3,
      retries: 2,
      maxDepth: 3,
      firstSeenMs: NOW - 5_000,
      lastSeenMs: NOW - 3_000,
    });
  });

  it("keeps the plan of the customer's latest billing period, and counts unpriced models per day", () => {
    const b = new BatchAggregate(NOW);
    b.addRow(row({ monthly_budget_nanos: '1' }));
    b.addRow(
      row({
        billing_period_start: '2026-10-01',
        monthly_budget_nanos: '2',
        occurred_at: NOW - 86_400_000 * 30,
      }),
    );
    b.addRow(row({ unpriced: true, model: 'acme-labs/x', tokens: 40 }));
    expect(b.customers.get('acme')!.monthly_budget_nanos).toBe('150000000000');
    expect([...b.unpriced.values()]).toEqual([
      { day: '2026-11-29', model: 'acme-labs/x', events: 1, tokens: 40 },
    ]);
  });
});
