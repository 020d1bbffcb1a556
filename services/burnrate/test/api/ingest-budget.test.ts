import { randomUUID } from 'node:crypto';
import { BudgetExceededError, createBudgetClient, withBudget, withStep, withWorkflow } from '@burnrate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../fixtures.js';
import { startApi } from './harness.js';

/**
 * The api role against the real stack: events POSTed over HTTP become priced facts in ClickHouse
 * and rolling aggregates in Redis, and the guardrail answers from those aggregates — with keys
 * scoped to customers.
 */
let api: Awaited<ReturnType<typeof startApi>>;
const USD = 1_000_000_000n;
beforeAll(async () => {
  api = await startApi({
    keys: [
      { id: 'svc', scopes: ['ingest', 'budget', 'forecast'], customers: ['*'] },
      { id: 'acme-agent', scopes: ['budget'], customers: ['acme'] },
      { id: 'globex-agent', scopes: ['budget', 'ingest', 'forecast'], customers: ['globex'] },
    ],
    customers: [
      {
        customer_ref: 'acme',
        customer_id: 'cus_acme',
        plan: { kind: 'usage_based', revenue_nanos: '0', currency: 'USD' },
        monthly_budget_nanos: String(USD),
      },
      {
        customer_ref: 'initech',
        customer_id: 'cus_initech',
        plan: { kind: 'usage_based', revenue_nanos: '0', currency: 'USD' },
        monthly_budget_nanos: String(USD),
      },
      {
        customer_ref: 'globex',
        customer_id: 'cus_globex',
        plan: { kind: 'flat_rate', revenue_nanos: String(200n * USD), currency: 'USD' },
      },
    ],
    rules: { defaults: { runaway: { max_steps: 3 } } },
    env: { FORECAST_MIN_SAMPLE: '3', ROUTING_MIN_CALLS: '2' },
  });
}, 120_000);
afterAll(() => api?.stop());

/** One gpt-4o-mini call: 1M input tokens cost exactly $0.15, 1M output $0.60. */
const call = (o: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  customer_ref: 'acme',
  provider: 'openai',
  model: 'gpt-4o-mini',
  tokens: { input: 1_000_000 },
  ...o,
});

async function facts(where: string) {
  const rs = await api.app.clickhouse!.query({
    query: `SELECT count() AS n, toString(sum(cost_total_nanos)) AS cost FROM ${api.config.CLICKHOUSE_DATABASE}.usage_events WHERE ${where}`,
    format: 'JSONEachRow',
  });
  const [row] = (await rs.json()) as Array<{ n: string; cost: string }>;
  return { n: Number(row!.n), cost: BigInt(row!.cost) };
}

describe('POST /v1/events', () => {
  it('takes one object, an array and NDJSON, and each event becomes one priced fact', async () => {
    const a = call({ service: 'py-worker', workflow: 'triage' });
    const b = [call(), call()];
    const c = [call(), call({ occurred_at: new Date().toISOString() })];
    const one = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify(a),
      headers: { 'content-type': 'application/json' },
    });
    expect(one.status).toBe(200);
    expect(one.json).toEqual({
      accepted: 1,
      rejected: 0,
      results: [{ index: 0, event_id: a.event_id, status: 'accepted' }],
    });
    const many = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify(b),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(many.json.accepted).toBe(2);
    const nd = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: `${c.map((e) => JSON.stringify(e)).join('\n')}\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(nd.json.accepted).toBe(2);
    const ids = [a, ...b, ...c].map((e) => `'${e.event_id}'`).join(',');
    const stored = await pollUntil(
      () => facts(`event_id IN (${ids})`),
      (f) => f.n === 5,
      60_000,
    );
    expect(stored.cost).toBe(5n * 150_000_000n);
    // The key's id is the service when an event names none; a named one is kept.
    const rs = await api.app.clickhouse!.query({
      query: `SELECT service, count() AS n FROM ${api.config.CLICKHOUSE_DATABASE}.usage_events WHERE event_id IN (${ids}) GROUP BY service ORDER BY service`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      { service: 'py-worker', n: '1' },
      { service: 'svc', n: '4' },
    ]);
  });

  it('is idempotent on event_id: the same event sent three times is one fact', async () => {
    const e = call({ customer_ref: 'globex' });
    for (let i = 0; i < 3; i++) {
      const r = await api.call('/v1/events', {
        method: 'POST',
        key: 'svc',
        body: JSON.stringify(e),
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(200);
    }
    const marker = call({ customer_ref: 'globex' });
    await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify(marker),
      headers: { 'content-type': 'application/json' },
    });
    await pollUntil(
      () => facts(`event_id = '${marker.event_id}'`),
      (f) => f.n === 1,
      60_000,
    );
    expect((await facts(`event_id = '${e.event_id}'`)).n).toBe(1);
  });

  it('answers each event: the good ones are stored, the bad ones name their field (422)', async () => {
    const good = call();
    const r = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify([
        good,
        call({ model: undefined }),
        call({ tokens: { input: -1 } }),
        call({ customer_id: 'x' }),
      ]),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(422);
    expect(r.json.accepted).toBe(1);
    expect(r.json.results.map((x: { status: string; field?: string }) => x.field ?? x.status)).toEqual([
      'accepted',
      'model',
      'tokens.input',
      'customer_id',
    ]);
    await pollUntil(
      () => facts(`event_id = '${good.event_id}'`),
      (f) => f.n === 1,
      60_000,
    );
  });
});

describe('GET /v1/budget', () => {
  const budget = (query: string, key = 'svc') => api.call(`/v1/budget?${query}`, { key });

  it('answers spend, budget, remaining and the run from the aggregates, and decides from the rules', async () => {
    const runId = `run-${randomUUID()}`;
    // Two steps of one run for a customer with a $1 budget (the acme events above count too).
    const steps = [1, 2].map((n) =>
      call({
        workflow: 'research',
        workflow_run_id: runId,
        step_id: `s${n}`,
        tokens: { input: 1_000_000, output: 500_000 },
      }),
    );
    const sent = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify(steps),
      headers: { 'content-type': 'application/json' },
    });
    expect(sent.status).toBe(200);
    const expected = await pollUntil(
      // The run first: once its facts are visible, the customer's total read after it includes them.
      async () => {
        const run = await facts(`workflow_run_id = '${runId}'`);
        return { run, all: await facts(`customer_ref = 'acme'`) };
      },
      (f) => f.run.n === 2,
      60_000,
    );
    expect(expected.run.cost).toBe(2n * (150_000_000n + 300_000_000n));
    const answer = await pollUntil(
      async () => (await budget(`customer=acme&workflow=research&run=${runId}`)).json,
      (a) => a?.run?.steps === 2 && BigInt(a.spend.nanos) === expected.all.cost,
      30_000,
    );
    expect(answer).toMatchObject({
      customer_ref: 'acme',
      customer_id: 'cus_acme',
      budget: { nanos: String(USD), usd: '1.00' },
      remaining: { nanos: String(USD - expected.all.cost) },
      run: {
        run_id: runId,
        workflow: 'research',
        cost: { nanos: String(expected.run.cost) },
        steps: 2,
        retries: 0,
      },
    });
    // $0.9 + earlier acme calls: past the 100 % line of a $1 budget.
    expect(expected.all.cost >= USD).toBe(true);
    expect(answer.decision).toBe('deny');
    expect(answer.reasons.map((r: { code: string }) => r.code)).toContain('budget_exhausted');
    // One more step would pass the run's 3-step cap once it has 3.
    expect(answer.period.start).toMatch(/^\d{4}-\d{2}-01$/);
  });

  it('a customer-scoped key reads its own customer and gets 403 and no numbers for another', async () => {
    const own = await budget('customer=acme', 'acme-agent');
    expect(own.status).toBe(200);
    const other = await budget('customer=globex', 'acme-agent');
    expect(other.status).toBe(403);
    expect(other.json.error.code).toBe('forbidden');
    expect(other.text).not.toMatch(/nanos|spend|cus_globex/);
  });

  it('a customer without a budget is allowed, with its spend', async () => {
    const g = await pollUntil(
      async () => (await budget('customer=globex', 'globex-agent')).json,
      (a) => a?.spend && BigInt(a.spend.nanos) > 0n,
      30_000,
    );
    expect(g).toMatchObject({ customer_id: 'cus_globex', budget: null, remaining: null, decision: 'allow' });
    expect(g.reasons.map((r: { code: string }) => r.code)).toEqual(['no_budget']);
  });
});

describe('GET /v1/forecast and the forecast in the guardrail', () => {
  it('answers quantiles of seeded runs, and warns a customer whose remaining budget is below the p90', async () => {
    // Five one-step runs of globex costing $0.30 × k (k = 1..5), scored 0.89; two gpt-4o calls scored 0.90.
    const runs = [1, 2, 3, 4, 5].map((k) =>
      call({
        customer_ref: 'globex',
        workflow: 'forecasted',
        workflow_run_id: `fc-${randomUUID()}`,
        tokens: { input: 2_000_000 * k },
        quality_score: 0.89,
      }),
    );
    const pricey = [1, 2].map(() =>
      call({
        customer_ref: 'globex',
        workflow: 'forecasted',
        model: 'gpt-4o',
        tokens: { input: 1_000_000 },
        quality_score: 0.9,
      }),
    );
    const sent = await api.call('/v1/events', {
      method: 'POST',
      key: 'svc',
      body: JSON.stringify([...runs, ...pricey]),
      headers: { 'content-type': 'application/json' },
    });
    expect(sent.status).toBe(200);
    const answer = await pollUntil(
      async () => (await api.call('/v1/forecast?workflow=forecasted&scope=run', { key: 'svc' })).json,
      (a) => a?.forecast?.sample === 5,
      60_000,
    );
    // quantilesExactHigh over 300M, 600M, …, 1500M: p50 = the 3rd, p90 and p99 = the 5th.
    expect(answer.forecast).toMatchObject({
      scope: 'run',
      workflow: 'forecasted',
      effort: null,
      cost: { p50: { nanos: '900000000' }, p90: { nanos: '1500000000' }, p99: { nanos: '1500000000' } },
      tokens: { p50: 6_000_000, p90: 10_000_000 },
      sample: 5,
    });
    // By effort class: 2M–10M prompt tokens per run is xxl (multi-agent scale).
    const xxl = await api.call('/v1/forecast?workflow=forecasted&effort=multi_agent', { key: 'svc' });
    expect(xxl.json.forecast).toMatchObject({ effort: 'xxl', sample: 5 });
    const none = await api.call('/v1/forecast?workflow=forecasted&effort=qa', { key: 'svc' });
    expect(none.json).toEqual({ forecast: null, reason: 'no_history' });

    // initech has $1 left; one run's p90 is $1.50: warned before it starts, with a cheaper model named.
    const budget = await api.call('/v1/budget?customer=initech&workflow=forecasted&model=gpt-4o', {
      key: 'svc',
    });
    expect(budget.status).toBe(200);
    expect(budget.json.decision).toBe('warn');
    expect(budget.json.reasons.map((r: { code: string }) => r.code)).toEqual(['forecast_over_remaining']);
    expect(budget.json.forecast.cost.p90.nanos).toBe('1500000000');
    expect(budget.json.suggestion).toMatchObject({
      model: 'gpt-4o-mini',
      instead_of: 'gpt-4o',
      instead_of_cost_per_call: { nanos: '2500000000' },
      cost_per_call: { nanos: '900000000' },
    });
    // Forecasts and suggestions come from every customer's history: a key scoped to one customer
    // gets the decision they lead to, but none of their numbers, and no /v1/forecast.
    const scoped = await api.call('/v1/budget?customer=acme&workflow=forecasted&model=gpt-4o', {
      key: 'acme-agent',
    });
    expect(scoped.status).toBe(200);
    expect(scoped.json).toMatchObject({ forecast: null, suggestion: null });
    const reason = scoped.json.reasons.find((r: { code: string }) => r.code === 'forecast_over_remaining');
    expect(reason.message).not.toMatch(/\$/);
    const own = await api.call('/v1/forecast?workflow=forecasted', { key: 'globex-agent' });
    expect(own.status).toBe(403);
  });
});

describe('the client library against the real guardrail', () => {
  it('withBudget stops a loop before the step: deny from the API, and a local step cap', async () => {
    const client = createBudgetClient({ url: api.url, apiKey: api.key('svc'), cacheMs: 0 });
    // acme is past its budget (the tests above): the first step is refused, its body never runs.
    let ran = 0;
    const denied = await withWorkflow({ workflow: 'research', customerRef: 'acme' }, () =>
      withBudget({ client, maxSteps: 10 }, async () => {
        for (let i = 0; i < 5; i++) await withStep({ kind: 'llm_call' }, async () => ran++);
      }),
    ).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(BudgetExceededError);
    expect(denied).toMatchObject({ cap: 'budget' });
    expect((denied as BudgetExceededError).reasons.map((r) => r.code)).toContain('budget_exhausted');
    expect(ran).toBe(0);
    // globex has no budget: the API allows, and the third step breaks maxSteps 2 before it runs.
    const capped = await withWorkflow({ workflow: 'research', customerRef: 'globex' }, () =>
      withBudget({ client, maxSteps: 2 }, async () => {
        for (let i = 0; i < 5; i++) await withStep({ kind: 'llm_call' }, async () => ran++);
      }),
    ).catch((e: unknown) => e);
    expect(capped).toMatchObject({ cap: 'steps', limit: 2 });
    expect(ran).toBe(2);
  });
});
