import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { alertPayloadJsonSchema, alertPayloadSchema, buildPayload } from '../../src/alerts/payload.js';
import { evaluateCustomer, evaluateRun } from '../../src/rules/evaluate.js';
import { DEFAULT_RULES } from '../../src/rules/settings.js';
import { customerMeta, customerSnapshot, USD } from '../fixtures/aggregates.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const customer = customerMeta({ name: "Whale 'Labs'" });
const published = JSON.parse(
  readFileSync(new URL('../../../../schemas/alerts/alert-payload.v1.json', import.meta.url), 'utf8'),
);

describe('alert payload', () => {
  it('the published JSON Schema is the one generated from the definition (npm run schemas:alerts)', () => {
    expect(published).toEqual(alertPayloadJsonSchema());
  });

  it('carries the numbers, the breakdown and the SQL, and validates against the published schema', () => {
    const finding = evaluateCustomer(
      customerSnapshot(NOW, customer, { cost: 35_000n * USD }),
      DEFAULT_RULES,
    ).find((f) => f.rule === 'whale' && f.threshold === '100x')!;
    const payload = buildPayload({
      finding,
      event: 'fired',
      atMs: NOW,
      database: 'burnrate',
      customer,
      breakdown: {
        workflows: [
          { name: 'code-review-agent', cost_nanos: String(30_000n * USD), cost_usd: '30000.00', events: 7 },
        ],
        models: [
          {
            name: 'anthropic/claude-sonnet-4-5',
            cost_nanos: String(35_000n * USD),
            cost_usd: '35000.00',
            events: 10,
          },
        ],
      },
    });
    expect(payload).toMatchObject({
      type: 'alert.fired',
      rule: 'whale',
      severity: 'critical',
      threshold: '100x',
      numbers: { value: '35000000000000', value_usd: '35000.00', limit_usd: '200.00', ratio: '175.00' },
      customer: { billing_period_end: '2026-12-01', plan_revenue: '200.00' },
    });
    expect(payload.id).toBe(payload.alert_id);
    expect(payload.sql).toBe(
      "SELECT workflow, feature, provider, model, count() AS events, sum(cost_total_nanos) / 1e9 AS usd FROM burnrate.usage_events WHERE customer_id = 'whale' AND billing_period_start = '2026-11-01' GROUP BY workflow, feature, provider, model ORDER BY usd DESC LIMIT 20",
    );
    const validate = new Ajv2020({ strict: false }).compile(published);
    const json = JSON.parse(JSON.stringify(payload));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(alertPayloadSchema.parse(json)).toEqual(json);
    expect(validate({ ...json, numbers: { ...json.numbers, value_usd: 12.5 } })).toBe(false);
  });

  it('a runaway run names the run, and its SQL lists the run step by step', () => {
    const run = {
      runId: "run_o'neil",
      customer: 'acme',
      planKind: 'flat_rate',
      workflow: 'agent',
      cost: USD,
      tokens: 1n,
      steps: 60,
      retries: 0,
      maxDepth: 1,
      firstSeenMs: NOW - 1000,
      lastSeenMs: NOW,
    };
    const [finding] = evaluateRun(run, DEFAULT_RULES);
    const payload = buildPayload({ finding: finding!, event: 'fired', atMs: NOW, database: 'db', run });
    expect(payload.run).toMatchObject({ id: "run_o'neil", steps: 60, cost_usd: '1.00' });
    expect(payload.sql).toContain("WHERE workflow_run_id = 'run_o\\'neil' ORDER BY occurred_at");
    expect(new Ajv2020({ strict: false }).validate(published, JSON.parse(JSON.stringify(payload)))).toBe(
      true,
    );
  });
});
