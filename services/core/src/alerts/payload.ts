import { z } from 'zod';
import type { CustomerMeta } from '../aggregates/batch.js';
import { formatNanosAsUsd } from '../money/nanos.js';
import { RULE_NAMES } from '../rules/settings.js';
import type { Finding, RunSnapshot } from '../rules/snapshots.js';
import { billingPeriodEndMs } from '../windows/windows.js';
import { type AlertEvent, alertId, messageId } from './alert-id.js';
import { SEVERITIES } from './destinations.js';

const nanos = z
  .string()
  .regex(/^-?\d+$/)
  .describe('integer nano-USD as decimal text (exact; may pass 2^53)');
const usdText = z
  .string()
  .regex(/^-?\d+\.\d+$/)
  .describe('USD as decimal text, for display');

const breakdownItem = z.object({
  name: z.string(),
  cost_nanos: nanos,
  cost_usd: usdText,
  events: z.number().int(),
});

/**
 * What every alert destination receives (the webhook body; Slack and PagerDuty messages are made
 * from it). Money travels as exact nano-USD text plus USD text for people. Documented as JSON Schema
 * in schemas/alerts/alert-payload.v1.json, generated from this definition.
 */
export const alertPayloadSchema = z
  .object({
    type: z.enum(['alert.fired', 'alert.resolved']),
    id: z
      .string()
      .describe('message id, the same as the webhook-id header: the alert id, or <alert id>-resolved'),
    alert_id: z.string().describe('(rule, subject, threshold, period) digest; the PagerDuty dedup_key'),
    rule: z.enum(RULE_NAMES),
    severity: z.enum(SEVERITIES),
    summary: z.string().describe('one sentence for people'),
    subject: z.string().describe('customer:<id>, run:<id> or model:<provider/model>'),
    threshold: z.string(),
    period: z.string().describe('billing period start (YYYY-MM-DD), UTC day, or "run"'),
    at: z.string().describe('when burnrate fired or resolved the alert (ISO-8601 UTC)'),
    customer: z
      .object({
        id: z.string(),
        ref: z.string(),
        name: z.string(),
        plan_kind: z.string(),
        plan_currency: z.string(),
        plan_revenue_nanos: nanos,
        plan_revenue: usdText.describe('in plan_currency'),
        monthly_budget_nanos: nanos,
        monthly_budget_usd: usdText,
        billing_period_start: z.string(),
        billing_period_end: z.string(),
        unmapped: z.boolean(),
      })
      .nullable(),
    numbers: z
      .object({
        value: z.string(),
        limit: z.string(),
        unit: z.enum(['usd_nanos', 'steps', 'retries', 'depth', 'events']),
        ratio: z.string().nullable(),
        window: z.enum(['billing_period', 'day', '1h', 'run']),
        value_usd: usdText.nullable(),
        limit_usd: usdText.nullable(),
      })
      .catchall(z.string().nullable())
      .describe('value crossed limit; money in nano-USD when unit is usd_nanos, with USD text beside it'),
    breakdown: z
      .object({ workflows: z.array(breakdownItem), models: z.array(breakdownItem) })
      .nullable()
      .describe("the customer's top workflows and models by cost this billing period"),
    run: z
      .object({
        id: z.string(),
        workflow: z.string(),
        cost_nanos: nanos,
        cost_usd: usdText,
        steps: z.number().int(),
        retries: z.number().int(),
        max_depth: z.number().int(),
        first_seen: z.string(),
        last_seen: z.string(),
      })
      .nullable(),
    sql: z.string().describe('a ClickHouse query that shows what is behind the alert'),
  })
  .describe('burnrate alert');

export type AlertPayload = z.output<typeof alertPayloadSchema>;
export type BreakdownItem = z.output<typeof breakdownItem>;

export interface PayloadInput {
  finding: Finding;
  event: AlertEvent;
  atMs: number;
  /** The ClickHouse database the SQL names. */
  database: string;
  customer?: CustomerMeta | undefined;
  breakdown?: { workflows: BreakdownItem[]; models: BreakdownItem[] } | undefined;
  run?: RunSnapshot | undefined;
}

const usd = (n: bigint | string) => formatNanosAsUsd(BigInt(n));
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function buildPayload(p: PayloadInput): AlertPayload {
  const f = p.finding;
  const id = alertId(f);
  const money = f.numbers.unit === 'usd_nanos';
  const c = p.customer;
  return {
    type: p.event === 'fired' ? 'alert.fired' : 'alert.resolved',
    id: messageId(id, p.event),
    alert_id: id,
    rule: f.rule,
    severity: f.severity,
    summary: f.summary,
    subject: f.subject,
    threshold: f.threshold,
    period: f.period,
    at: new Date(p.atMs).toISOString(),
    customer: c
      ? {
          id: c.customer_id,
          ref: c.customer_ref,
          name: c.name,
          plan_kind: c.plan_kind,
          plan_currency: c.plan_currency,
          plan_revenue_nanos: c.plan_revenue_nanos,
          plan_revenue: usd(c.plan_revenue_nanos),
          monthly_budget_nanos: c.monthly_budget_nanos,
          monthly_budget_usd: usd(c.monthly_budget_nanos),
          billing_period_start: c.billing_period_start,
          billing_period_end: new Date(billingPeriodEndMs(c.billing_period_start)).toISOString().slice(0, 10),
          unmapped: c.unmapped,
        }
      : null,
    numbers: {
      ...f.numbers,
      value_usd: money ? usd(f.numbers.value) : null,
      limit_usd: money ? usd(f.numbers.limit) : null,
    },
    breakdown: p.breakdown ?? null,
    run: p.run
      ? {
          id: p.run.runId,
          workflow: p.run.workflow,
          cost_nanos: p.run.cost.toString(),
          cost_usd: usd(p.run.cost),
          steps: p.run.steps,
          retries: p.run.retries,
          max_depth: p.run.maxDepth,
          first_seen: new Date(p.run.firstSeenMs).toISOString(),
          last_seen: new Date(p.run.lastSeenMs).toISOString(),
        }
      : null,
    sql: sqlFor(f, p.database, c),
  };
}

/** A query an analyst can paste into any ClickHouse client to see what is behind the alert. */
function sqlFor(f: Finding, db: string, c: CustomerMeta | undefined): string {
  const facts = `${db}.usage_events`;
  const [kind, ...rest] = f.subject.split(':');
  const id = rest.join(':');
  if (kind === 'run') {
    return `SELECT occurred_at, step_id, parent_step_id, depth, attempt, provider, model, tokens_input + tokens_cached_input + tokens_cache_write + tokens_output + tokens_reasoning AS tokens, cost_total_nanos / 1e9 AS usd FROM ${facts} WHERE workflow_run_id = ${quote(id)} ORDER BY occurred_at`;
  }
  if (kind === 'model') {
    const [provider, ...model] = id.split('/');
    return `SELECT customer_id, workflow, count() AS events, sum(tokens_input + tokens_cached_input + tokens_cache_write + tokens_output + tokens_reasoning) AS tokens FROM ${facts} WHERE unpriced = 1 AND provider = ${quote(provider ?? '')} AND model = ${quote(model.join('/'))} AND toDate(occurred_at) = ${quote(f.period)} GROUP BY customer_id, workflow ORDER BY events DESC`;
  }
  if (f.rule === 'spike') {
    return `SELECT toStartOfFiveMinutes(occurred_at) AS t, workflow, model, count() AS events, sum(cost_total_nanos) / 1e9 AS usd FROM ${facts} WHERE customer_id = ${quote(id)} AND occurred_at >= now() - INTERVAL 25 HOUR GROUP BY t, workflow, model ORDER BY t DESC, usd DESC`;
  }
  const period = c?.billing_period_start ?? f.period;
  return `SELECT workflow, feature, provider, model, count() AS events, sum(cost_total_nanos) / 1e9 AS usd FROM ${facts} WHERE customer_id = ${quote(id)} AND billing_period_start = ${quote(period)} GROUP BY workflow, feature, provider, model ORDER BY usd DESC LIMIT 20`;
}

/** The JSON Schema (draft 2020-12) of the alert payload, as published in schemas/alerts/. */
export function alertPayloadJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://burnrate.dev/schemas/alerts/alert-payload.v1.json',
    title: 'burnrate alert payload v1',
    ...z.toJSONSchema(alertPayloadSchema, { target: 'draft-2020-12' }),
  };
}
