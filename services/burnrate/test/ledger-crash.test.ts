import { describe, expect, it } from 'vitest';
import { crashRun, EVENTS, KILLS, rollup } from './ledger-crash-harness.js';

describe('ledger under SIGKILL', () => {
  it(`stores each of ${EVENTS} events exactly once across ${KILLS} kills, and the rollups agree`, async () => {
    const { facts, expectedCost } = await crashRun(true, `crash${Date.now()}.`);
    expect(facts).toEqual({ n: String(EVENTS), ids: String(EVENTS), cost: expectedCost });
    expect(await rollup()).toEqual({
      hourly_events: String(EVENTS),
      hourly_cost: expectedCost,
      period_events: String(EVENTS),
      period_cost: expectedCost,
    });
  }, 600_000);
});
