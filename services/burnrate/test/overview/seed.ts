import type { ClickHouseClient } from '@clickhouse/client';
import { enrichedRow } from '../fixtures.js';

/**
 * Facts for the overview tests: four customers (one whale), three workflows, three models with
 * quality scores (support-chat can move to a cheaper model of about the same quality), runs of a few
 * steps each, an alert and a dead letter, all in the last two days.
 */
export const SEED = {
  customers: ['acme', 'beta', 'gamma', 'whale'],
  workflows: ['support-chat', 'research-agent', 'doc-summarizer'],
  whale: 'whale',
} as const;

const MODELS = [
  { model: 'gpt-4o', cost: 900_000, quality: 0.91 },
  { model: 'gpt-4o-mini', cost: 60_000, quality: 0.9 },
  { model: 'claude-sonnet-4', cost: 1_200_000, quality: 0.95 },
];

export interface SeededFacts {
  rows: Array<Record<string, unknown>>;
  /** Exact total cost per customer, nano-USD. */
  costByCustomer: Map<string, bigint>;
}

export async function seedOverview(
  client: ClickHouseClient,
  database: string,
  nowMs: number,
): Promise<SeededFacts> {
  const rows: Array<Record<string, unknown>> = [];
  const costByCustomer = new Map<string, bigint>();
  let i = 0;
  for (const [c, customer] of SEED.customers.entries()) {
    const runs = customer === SEED.whale ? 30 : 8 + c * 4;
    for (let run = 0; run < runs; run++) {
      const w = (run + c) % SEED.workflows.length;
      const workflow = SEED.workflows[w]!;
      const steps = 3 + (run % 4);
      const startMs = nowMs - 2 * 86_400_000 + ((run * 37 + c * 11) % (47 * 60)) * 60_000;
      for (let step = 0; step < steps; step++) {
        const m = MODELS[(run + step) % MODELS.length]!;
        const cost = (customer === SEED.whale ? 40 : 1) * m.cost + step * 1_000;
        const occurred = startMs + step * 2_000;
        const period = new Date(occurred).toISOString().slice(0, 8) + '01';
        rows.push({
          ...enrichedRow(i, {
            occurred_at: occurred,
            ingested_at: nowMs - (i % 50) * 30_000,
            customer_ref: `ref-${customer}`,
            customer_id: customer,
            customer_name: customer.toUpperCase(),
            plan_kind: customer === 'beta' ? 'usage' : 'flat_rate',
            plan_revenue_nanos:
              customer === 'beta' ? 0 : customer === SEED.whale ? 2_000_000_000 : 200_000_000_000,
            billing_period_start: period,
            workflow,
            workflow_run_id: `run-${customer}-${run}`,
            step_id: `step-${run}-${step}`,
            depth: step,
            model: m.model,
            quality_score: m.quality - w * 0.02, // support-chat (w = 0) scores as listed
            cost_input_nanos: cost,
            cost_output_nanos: 0,
            cost_total_nanos: cost,
          }),
          kafka_topic: 'usage.enriched',
          kafka_partition: 0,
          kafka_offset: i,
        });
        costByCustomer.set(customer, (costByCustomer.get(customer) ?? 0n) + BigInt(cost));
        i++;
      }
    }
  }
  await client.command({
    query: `INSERT INTO ${database}.usage_events FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}`,
  });
  const alert = {
    message_id: 'msg-1',
    alert_id: 'alert-1',
    event: 'fired',
    rule: 'whale',
    severity: 'critical',
    subject: 'customer:whale',
    customer_id: SEED.whale,
    threshold: '5',
    period: '2026-12',
    value: '6.9',
    limit_value: '5',
    unit: 'ratio',
    summary: 'Whale Labs (whale) costs 6.90× what its flat_rate plan earns <b>',
    at: nowMs - 3_600_000,
    payload: '{}',
  };
  await client.command({
    query: `INSERT INTO ${database}.alerts FORMAT JSONEachRow\n${JSON.stringify(alert)}`,
  });
  const dead = {
    received_at: nowMs - 600_000,
    reason: 'invalid_value',
    field: 'tokens.input',
    message: 'x',
    source_topic: 'usage.events',
    source_partition: 0,
    source_offset: 1,
    key: 'k',
    payload_base64: '',
    kafka_topic: 'usage.dlq',
    kafka_partition: 0,
    kafka_offset: 0,
  };
  await client.command({
    query: `INSERT INTO ${database}.dead_letters FORMAT JSONEachRow\n${JSON.stringify(dead)}`,
  });
  return { rows, costByCustomer };
}
