/**
 * The known event set of a chaos scenario: which customer each event belongs to, its tokens and its
 * exact cost, computed here independently of burnrate's pricing code from a price list of round
 * numbers ($1.25 and $2.50 per million tokens: 1,250 and 2,500 nano-USD per token).
 */
export const CHAOS_PROVIDER = 'chaos';
export const CHAOS_MODEL = 'chaos-model';
const INPUT_NANOS_PER_TOKEN = 1_250n;
const OUTPUT_NANOS_PER_TOKEN = 2_500n;

/** The catalog the enrichers price with (BURNRATE_PRICES_FILE). */
export const CHAOS_CATALOG = {
  version: 'chaos-1',
  entries: [
    {
      id: 'chaos/chaos-model@2020-01-01',
      provider: CHAOS_PROVIDER,
      model: CHAOS_MODEL,
      valid_from: '2020-01-01',
      valid_to: null,
      tokens_per_million: { input: '1.25', output: '2.50' },
      source_url: 'https://example.com/chaos-pricing',
      as_of: '2026-01-01',
    },
  ],
};

/** Spend / budget per customer: 3, 3, 2, 2, 1, 1, 0 and 0 of the 50/80/100 % thresholds crossed. */
const SPEND_PER_BUDGET_PERCENT = [160, 120, 90, 85, 65, 55, 30, 20];
const THRESHOLDS = [50, 80, 100];

export interface PlannedEvent {
  customerRef: string;
  input: number;
  output: number;
  workflow: string;
  runId: string;
  cost: bigint;
}

export interface EventPlan {
  events: number;
  customers: Array<{ ref: string; id: string; budgetNanos: bigint; spendNanos: bigint }>;
  event(i: number): PlannedEvent;
  /** Sum of the cost of events [0, n). */
  costOf(n: number): bigint;
  /** Budget alerts that must fire once all events are counted. */
  expectedAlerts: number;
}

export function eventPlan(events: number, tag: string): EventPlan {
  const n = SPEND_PER_BUDGET_PERCENT.length;
  const ids = Array.from({ length: n }, (_, k) => `${tag}-c${k}`);
  const event = (i: number): PlannedEvent => {
    const k = i % n;
    const input = 100 + ((i * 37) % 900);
    const output = 20 + ((i * 53) % 300);
    return {
      customerRef: `ref-${ids[k]}`,
      input,
      output,
      workflow: `wf-${i % 3}`,
      runId: `${ids[k]}-run-${Math.floor(i / 600)}`,
      cost: BigInt(input) * INPUT_NANOS_PER_TOKEN + BigInt(output) * OUTPUT_NANOS_PER_TOKEN,
    };
  };
  const spend = new Array<bigint>(n).fill(0n);
  const prefix: bigint[] = [0n];
  for (let i = 0; i < events; i++) {
    const c = event(i).cost;
    spend[i % n]! += c;
    prefix.push(prefix[i]! + c);
  }
  const customers = ids.map((id, k) => {
    const budgetNanos = (spend[k]! * 100n) / BigInt(SPEND_PER_BUDGET_PERCENT[k]!);
    return { ref: `ref-${id}`, id, budgetNanos, spendNanos: spend[k]! };
  });
  const expectedAlerts = customers.reduce(
    (sum, c) =>
      sum +
      THRESHOLDS.filter((pct) => c.budgetNanos > 0n && c.spendNanos * 100n >= BigInt(pct) * c.budgetNanos)
        .length,
    0,
  );
  return {
    events,
    customers,
    event,
    costOf: (m) => prefix[Math.min(m, events)]!,
    expectedAlerts,
  };
}

/** Customer records for the customers topic: each with its budget, on a flat plan, period from the 1st. */
export function customerRecords(plan: EventPlan) {
  return plan.customers.map((c) => ({
    customer_ref: c.ref,
    customer_id: c.id,
    name: c.id.toUpperCase(),
    team: 'chaos',
    plan: { kind: 'flat_rate', revenue_nanos: '1000000000000000', currency: 'USD', period: 'month' },
    monthly_budget_nanos: c.budgetNanos.toString(),
    billing_anchor_day: 1,
    valid_from: '2020-01-01T00:00:00.000Z',
  }));
}

/** The alerting file: budget alerts at 50/80/100 % and nothing else, to one signed webhook. */
export function rulesYaml(receiverUrl: string): string {
  return [
    'defaults:',
    '  budget: { percents: [50, 80, 100], amounts_usd: [], daily_amounts_usd: [] }',
    '  forecast: { enabled: false }',
    '  whale: { enabled: false }',
    '  spike: { enabled: false }',
    '  runaway: { enabled: false }',
    '  unpriced_model: { enabled: false }',
    '  unmapped_customer: { enabled: false }',
    'destinations:',
    '  - name: chaos',
    '    kind: webhook',
    `    url: ${receiverUrl}`,
    `    secrets: ["$\{CHAOS_WEBHOOK_SECRET}"]`,
    '',
  ].join('\n');
}
