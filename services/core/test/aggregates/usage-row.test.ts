import { describe, expect, it } from 'vitest';
import { parseUsageRow } from '../../src/aggregates/usage-row.js';
import { ENRICHED_EVENT_COLUMNS } from '../../src/enrich/columns.js';
import { ValidationError } from '../../src/errors.js';

function values(overrides: Record<string, unknown>): unknown[] {
  const base: Record<string, unknown> = Object.fromEntries(ENRICHED_EVENT_COLUMNS.map((c) => [c, 0]));
  Object.assign(base, {
    event_id: 'e',
    service: 's',
    customer_ref: 'org_acme',
    customer_id: 'acme',
    customer_name: 'Acme',
    team: '',
    plan_kind: 'flat_rate',
    user_ref: null,
    workflow: null,
    workflow_run_id: null,
    step_id: null,
    parent_step_id: null,
    step_kind: 'llm_call',
    feature: 'chat',
    provider: 'openai',
    model: 'gpt-4o-mini',
    tokens_input: 1,
    tokens_cached_input: 2,
    tokens_cache_write: 3,
    tokens_output: 4,
    tokens_reasoning: 5,
    status: 'ok',
    tags: {},
    price_version: 'v',
    source_topic: 't',
    source_offset: '0',
    plan_currency: 'USD',
    plan_revenue_nanos: '9000000000000000000',
    monthly_budget_nanos: '0',
    billing_period_start: '2026-11-01',
    cost_total_nanos: 42,
    unpriced: 1,
    ...overrides,
  });
  return ENRICHED_EVENT_COLUMNS.map((c) => base[c]);
}

describe('usage.enriched rows for the aggregates', () => {
  it('reads the columns by their position in the wire format', () => {
    const r = parseUsageRow(JSON.stringify(values({})));
    expect(r).toMatchObject({
      customer_id: 'acme',
      workflow: '',
      workflow_run_id: null,
      model: 'openai/gpt-4o-mini',
      tokens: 15,
      cost_nanos: 42,
      unpriced: true,
      plan_revenue_nanos: '9000000000000000000',
    });
  });

  it('names the column when a row is not what the enricher writes', () => {
    const bad = () => parseUsageRow(JSON.stringify(values({ cost_total_nanos: -1 })));
    expect(bad).toThrow(ValidationError);
    expect(bad).toThrow(/cost_total_nanos/);
    expect(() => parseUsageRow('[1,2')).toThrow(/not valid JSON/);
    expect(() => parseUsageRow(JSON.stringify(values({ customer_id: 7 })))).toThrow(/customer_id/);
  });
});
