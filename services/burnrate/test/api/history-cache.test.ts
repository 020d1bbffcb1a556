import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistoryCache, type HistoryCacheConfig } from '../../src/roles/api/history-cache.js';
import { enrichedRow, silentLogger, testClickHouse } from '../fixtures.js';

// Seeded history whose quantiles are known in advance. quantilesExactHigh(p) of n sorted values is
// the value at 0-based index floor(p × n): for 1..100 that is 51, 91, 100.
const NOW = Date.UTC(2026, 10, 20, 12);
const DAY = 86_400_000;
const WINDOW_FROM = NOW - 30 * DAY;
const config: HistoryCacheConfig = {
  database: 'burnrate',
  refreshMs: 3_600_000,
  windowDays: 30,
  minSample: 30,
  routingMinCalls: 20,
  routingQualityTolerance: 0.02,
};
const clock = () => NOW;
let ch: Awaited<ReturnType<typeof testClickHouse>>;
let rowNumber = 0;

function row(overrides: Record<string, unknown>): Record<string, unknown> {
  const i = rowNumber++;
  return enrichedRow(i, {
    // One customer unless a test says otherwise: a run is a (customer, run id).
    customer_id: 'cus_seed',
    occurred_at: NOW - DAY + i * 1_000,
    tags: {},
    tokens_input: 100,
    tokens_cached_input: 0,
    tokens_cache_write: 0,
    tokens_output: 0,
    tokens_reasoning: 0,
    kafka_topic: 'usage.enriched',
    kafka_partition: 0,
    kafka_offset: i,
    ...overrides,
  });
}

const HUGE = 1_000_000_000_000;

function seed(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  // qa-bot: 100 one-step runs costing 1..100 µUSD, with 101..200 tokens (100 prompt, i output).
  const qa = { workflow: 'qa-bot', feature: 'answer', step_kind: 'llm_call', model: 'gpt-4o' };
  for (let i = 1; i <= 100; i++) {
    rows.push(row({ ...qa, workflow_run_id: `qa-${i}`, cost_total_nanos: i * 1_000, tokens_output: i }));
  }
  // Rows that must not count (each would change sample and p99): unpriced, BYOK, older than the
  // window, at its end (exclusive), and without a workflow.
  rows.push(row({ ...qa, workflow_run_id: 'qa-x1', cost_total_nanos: HUGE, unpriced: 1 }));
  rows.push(row({ ...qa, workflow_run_id: 'qa-x2', cost_total_nanos: HUGE, byok: 1 }));
  rows.push(row({ ...qa, workflow_run_id: 'qa-x3', cost_total_nanos: HUGE, occurred_at: NOW - 31 * DAY }));
  rows.push(row({ ...qa, workflow_run_id: 'qa-x4', cost_total_nanos: HUGE, occurred_at: NOW }));
  rows.push(row({ ...qa, workflow: '', workflow_run_id: 'qa-x5', cost_total_nanos: HUGE }));

  // agent: 40 runs of two m-steps (30,000 prompt tokens each, so 60,000 a run: class l), both costing
  // j µUSD (run j costs 2j µUSD); the second step's tag is not a class and is ignored.
  const agent = { workflow: 'agent', feature: 'plan', step_kind: 'llm_call', model: 'gpt-4o' };
  for (let j = 1; j <= 40; j++) {
    const base = NOW - 2 * DAY + j * 60_000;
    rows.push(
      row({
        ...agent,
        workflow_run_id: `r-${j}`,
        occurred_at: base,
        tokens_input: 30_000,
        cost_total_nanos: j * 1_000,
      }),
    );
    rows.push(
      row({
        ...agent,
        workflow_run_id: `r-${j}`,
        occurred_at: base + 1,
        tokens_input: 20_000,
        tokens_cached_input: 5_000,
        tokens_cache_write: 5_000,
        tags: { effort: 'huge' },
        cost_total_nanos: j * 1_000,
      }),
    );
  }
  // 35 tagged runs of two tiny steps of 500 nanos: the first tag (legal_analysis = xl) names the run
  // class, although the later step says qa; the rows arrive later-step first.
  for (let j = 1; j <= 35; j++) {
    const base = NOW - 3 * DAY + j * 60_000;
    rows.push(
      row({
        ...agent,
        workflow_run_id: `t-${j}`,
        occurred_at: base + 5,
        tags: { effort: 'qa' },
        cost_total_nanos: 500,
      }),
    );
    rows.push(
      row({
        ...agent,
        workflow_run_id: `t-${j}`,
        occurred_at: base,
        tags: { effort: ' Legal_Analysis' },
        cost_total_nanos: 500,
      }),
    );
  }
  // 5 steps without a run id: steps (xs, 500 prompt tokens), never a run.
  for (let j = 1; j <= 5; j++) {
    rows.push(row({ ...agent, workflow_run_id: '', tokens_input: 500, cost_total_nanos: 1_000_000 }));
  }

  // rare: too few to forecast.
  for (let j = 1; j <= 10; j++)
    rows.push(row({ workflow: 'rare', workflow_run_id: `rare-${j}`, cost_total_nanos: 7 }));

  // router: big (the most called), mini (cheaper, 0.01 lower quality: within 0.02), nano (cheapest
  // scored, 0.05 lower: too low), unscored (cheaper, no scores), few (cheap, too few calls), and
  // free (would win, but unpriced) and byok (would win, but cost 0 by contract).
  const calls = (
    workflow: string,
    model: string,
    n: number,
    cost: (k: number) => number,
    quality: number | null,
    extra = {},
  ) => {
    for (let k = 0; k < n; k++) {
      rows.push(
        row({
          workflow,
          model,
          workflow_run_id: '',
          cost_total_nanos: cost(k),
          quality_score: quality,
          ...extra,
        }),
      );
    }
  };
  calls('router', 'big', 50, (k) => (k === 0 ? 10_049 : 10_000), 0.9); // 500,049 / 50 = 10,000.98 → 10,000
  calls('router', 'mini', 30, () => 1_000, 0.89);
  calls('router', 'nano', 30, () => 100, 0.85);
  calls('router', 'unscored', 30, () => 10, null);
  calls('router', 'few', 5, () => 50, 0.95);
  calls('router', 'free', 30, () => 0, 1, { unpriced: 1 });
  calls('router', 'byok', 30, () => 0, 1, { byok: 1 });
  // router2: the cheaper model is 0.03 worse: no suggestion at a 0.02 tolerance.
  calls('router2', 'big', 40, () => 9_000, 0.9);
  calls('router2', 'small', 40, () => 900, 0.87);
  // half-scored: scores on some calls only; the mean is over the scored ones (0.9 and 0.8 → 0.85).
  calls('half', 'a', 25, () => 5_000, null);
  calls('half', 'a', 1, () => 5_000, 0.9);
  calls('half', 'a', 1, () => 5_000, 0.8);
  calls('half', 'b', 25, () => 100, 0.84);
  return rows;
}

beforeAll(async () => {
  ch = await testClickHouse('burnrate');
  const rows = seed().map((r) => JSON.stringify(r));
  await ch.client.command({
    query: `INSERT INTO burnrate.usage_events FORMAT JSONEachRow\n${rows.join('\n')}`,
  });
});
afterAll(() => ch.client.close());

const money = (nanos: number) => expect.objectContaining({ nanos: String(nanos) });

describe('history cache against chDB', () => {
  let cache: ReturnType<typeof createHistoryCache>;
  beforeAll(async () => {
    cache = createHistoryCache(config, { clickhouse: ch.client, logger: silentLogger, clock });
    expect(cache.ready()).toBe(false);
    expect(cache.forecast({ scope: 'run', workflow: 'qa-bot' })).toEqual({
      forecast: null,
      reason: 'not_ready',
    });
    expect(cache.suggest('router', null)).toBeNull();
    await cache.refresh();
  });

  it('is ready after the first refresh', () => expect(cache.ready()).toBe(true));

  it('step quantiles are exact sample values, over priced rows in the window only', () => {
    const answer = cache.forecast({
      scope: 'step',
      workflow: 'qa-bot',
      feature: 'answer',
      stepKind: 'llm_call',
      model: 'gpt-4o',
      effort: 'xs',
    });
    expect(answer).toEqual({
      forecast: {
        scope: 'step',
        workflow: 'qa-bot',
        feature: 'answer',
        step_kind: 'llm_call',
        model: 'gpt-4o',
        effort: 'xs',
        cost: {
          p50: { nanos: '51000', usd: '0.000051' },
          p90: { nanos: '91000', usd: '0.000091' },
          p99: { nanos: '100000', usd: '0.0001' },
        },
        tokens: { p50: 151, p90: 191, p99: 200 },
        sample: 100,
        window: { from: new Date(WINDOW_FROM).toISOString(), to: new Date(NOW).toISOString() },
        computed_at: new Date(NOW).toISOString(),
      },
    });
  });

  it('answers coarser keys (nulls = any) and tells them from absent combinations', () => {
    for (const q of [
      { workflow: 'qa-bot' },
      { workflow: 'qa-bot', effort: 'xs' as const },
      { workflow: 'qa-bot', model: 'gpt-4o', feature: null },
      { workflow: 'qa-bot', feature: 'answer', stepKind: 'llm_call' },
    ]) {
      const f = cache.forecast({ scope: 'step', ...q }).forecast;
      expect(f?.sample).toBe(100);
      expect(f?.cost.p99.nanos).toBe('100000');
    }
    expect(cache.forecast({ scope: 'step', workflow: 'qa-bot', effort: 'm' })).toEqual({
      forecast: null,
      reason: 'no_history',
    });
    expect(cache.forecast({ scope: 'step', workflow: 'qa-bot', model: 'gpt-4o-mini' }).reason).toBe(
      'no_history',
    );
    expect(cache.forecast({ scope: 'step', workflow: 'nope' })).toEqual({
      forecast: null,
      reason: 'no_history',
    });
    expect(cache.forecast({ scope: 'step', workflow: '' }).reason).toBe('no_history');
  });

  it('step effort: a valid tag wins, an invalid one falls back to the prompt size', () => {
    // 80 untagged-or-invalid steps of 30,000 prompt tokens (m), costing 1..40 µUSD twice.
    const m = cache.forecast({ scope: 'step', workflow: 'agent', effort: 'm' }).forecast!;
    expect(m.sample).toBe(80);
    expect([m.cost.p50.nanos, m.cost.p90.nanos, m.cost.p99.nanos]).toEqual(['21000', '37000', '40000']);
    expect(m.tokens.p50).toBe(30_000);
    expect(cache.forecast({ scope: 'step', workflow: 'agent', effort: 'xl' }).forecast?.sample).toBe(35);
    // 35 tagged qa plus the 5 run-less steps of 500 prompt tokens; the latter cost 1,000,000.
    const xs = cache.forecast({ scope: 'step', workflow: 'agent', effort: 'xs' }).forecast!;
    expect(xs.sample).toBe(40);
    expect([xs.cost.p50.nanos, xs.cost.p99.nanos]).toEqual(['500', '1000000']);
    expect(cache.forecast({ scope: 'step', workflow: 'agent' }).forecast?.sample).toBe(155);
  });

  it('run quantiles are of per-run totals, by the run effort class', () => {
    // Runs r-1..r-40 cost 2j µUSD and hold 60,000 prompt tokens: class l.
    expect(cache.forecast({ scope: 'run', workflow: 'agent', effort: 'l' })).toEqual({
      forecast: expect.objectContaining({
        scope: 'run',
        workflow: 'agent',
        feature: null,
        step_kind: null,
        model: null,
        effort: 'l',
        cost: { p50: money(42_000), p90: money(74_000), p99: money(80_000) },
        tokens: { p50: 60_000, p90: 60_000, p99: 60_000 },
        sample: 40,
      }),
    });
    // The first tag by occurred_at (legal_analysis) names the class of the t- runs.
    const xl = cache.forecast({ scope: 'run', workflow: 'agent', effort: 'xl' }).forecast!;
    expect(xl.sample).toBe(35);
    expect(xl.cost.p50.nanos).toBe('1000');
    expect(xl.tokens.p99).toBe(200);
    expect(cache.forecast({ scope: 'run', workflow: 'agent', effort: 'xs' }).reason).toBe('no_history');
    // Steps without a run id are no run: not a class-m run of 2,500 prompt tokens, not a 76th run.
    expect(cache.forecast({ scope: 'run', workflow: 'agent', effort: 'm' }).reason).toBe('no_history');
    // All 75: 35 × 1,000 then 2,000..80,000 → indexes 37, 67, 74.
    const all = cache.forecast({ scope: 'run', workflow: 'agent' }).forecast!;
    expect(all.sample).toBe(75);
    expect([all.cost.p50.nanos, all.cost.p90.nanos, all.cost.p99.nanos]).toEqual(['6000', '66000', '80000']);
    // A run forecast has no step dimensions.
    expect(cache.forecast({ scope: 'run', workflow: 'agent', model: 'gpt-4o' }).reason).toBe('no_history');
  });

  it('run forecasts of one-step runs equal the step quantiles', () => {
    const run = cache.forecast({ scope: 'run', workflow: 'qa-bot', effort: 'xs' }).forecast!;
    expect(run.sample).toBe(100);
    expect(run.cost).toEqual(cache.forecast({ scope: 'step', workflow: 'qa-bot' }).forecast!.cost);
  });

  it('too small a sample answers sample_too_small with both counts', () => {
    for (const scope of ['run', 'step'] as const) {
      expect(cache.forecast({ scope, workflow: 'rare' })).toEqual({
        forecast: null,
        reason: 'sample_too_small',
        sample: 10,
        min_sample: 30,
      });
    }
  });

  it('suggests the cheapest model within the quality tolerance, from the most-called model', () => {
    const expected = {
      model: 'mini',
      instead_of: 'big',
      cost_per_call: { nanos: '1000', usd: '0.000001' },
      instead_of_cost_per_call: { nanos: '10000', usd: '0.00001' },
      quality_score: 0.89,
      instead_of_quality_score: 0.9,
      calls: 30,
    };
    expect(cache.suggest('router', null)).toEqual(expected);
    expect(cache.suggest('router', 'big')).toEqual(expected);
  });

  it('no suggestion when cheaper models are worse, unscored, too rarely used, or the model unknown', () => {
    expect(cache.suggest('router', 'mini')).toBeNull();
    expect(cache.suggest('router', 'nano')).toBeNull();
    expect(cache.suggest('router', 'unscored')).toBeNull();
    expect(cache.suggest('router', 'gpt-5')).toBeNull();
    expect(cache.suggest('router2', null)).toBeNull();
    expect(cache.suggest('nowhere', null)).toBeNull();
  });

  it('judges quality over scored calls only', () => {
    // a: mean 0.85 over its 2 scored calls (of 27); b: 0.84, within 0.02 and 50× cheaper.
    expect(cache.suggest('half', 'a')).toMatchObject({
      model: 'b',
      instead_of_quality_score: 0.85,
      quality_score: 0.84,
    });
  });

  it('a looser tolerance or lower minimum changes the suggestion', async () => {
    const loose = createHistoryCache(
      { ...config, routingQualityTolerance: 0.05, routingMinCalls: 5 },
      { clickhouse: ch.client, logger: silentLogger, clock },
    );
    await loose.refresh();
    expect(loose.suggest('router2', null)?.model).toBe('small');
    // few: 5 calls at 50 nanos, 0.95 — now enough calls, and the cheapest scored model.
    expect(loose.suggest('router', null)).toMatchObject({
      model: 'few',
      calls: 5,
      cost_per_call: { nanos: '50' },
    });
  });

  it('holds one answer per observed key', () => {
    // Step keys per workflow: (F+1)(K+1)(M+1)(E+1) when every combination occurs, with F features,
    // K step kinds, M models, E classes. Run keys: 1 + its run classes.
    const keys = {
      'qa-bot': 2 * 2 * 2 * 2 + 2,
      agent: 2 * 2 * 2 * 4 + 3, // classes m, xl, xs; runs l, xl
      rare: 2 * 2 * 2 * 2 + 2,
      router: 2 * 2 * 6 * 2, // 5 models (not free, not byok); no runs
      router2: 2 * 2 * 3 * 2,
      half: 2 * 2 * 3 * 2,
    };
    expect(cache.size().forecasts).toBe(Object.values(keys).reduce((a, b) => a + b, 0));
    expect(cache.size().workflows).toBe(6); // qa-bot, agent, rare, router, router2, half
  });
});

describe('refresh lifecycle', () => {
  /** A client whose queries can be held back or failed. */
  function gatedClient() {
    const state = { fail: false, hold: undefined as Promise<void> | undefined, queries: 0 };
    const client = {
      async query(params: Parameters<ClickHouseClient['query']>[0]) {
        state.queries++;
        if (state.hold) await state.hold;
        if (state.fail) throw Object.assign(new Error('Connection refused'), { code: 'ECONNREFUSED' });
        return ch.client.query(params);
      },
    } as unknown as ClickHouseClient;
    return { client, state };
  }

  it('a failed refresh is logged as a warning and the previous answers stay', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const { client, state } = gatedClient();
    const cache = createHistoryCache(config, { clickhouse: client, logger, clock });
    await cache.refresh();
    const before = cache.forecast({ scope: 'run', workflow: 'qa-bot' });
    expect(before.forecast?.sample).toBe(100);
    state.fail = true;
    await expect(cache.refresh()).rejects.toMatchObject({ code: 'clickhouse_unavailable' });
    expect(cache.forecast({ scope: 'run', workflow: 'qa-bot' })).toBe(before);
    expect(cache.suggest('router', null)?.model).toBe('mini');
    const warning = JSON.parse(lines.at(-1)!);
    expect(warning.level).toBe(40);
    expect(warning.err.message).toContain('Connection refused');
    expect(warning.kept).toBe(new Date(NOW).toISOString());
  });

  it('start does not wait for a slow ClickHouse; stop waits for the refresh in flight', async () => {
    const { client, state } = gatedClient();
    let release!: () => void;
    state.hold = new Promise<void>((r) => {
      release = r;
    });
    const cache = createHistoryCache(config, { clickhouse: client, logger: silentLogger, clock });
    await cache.start();
    expect(cache.ready()).toBe(false);
    expect(cache.forecast({ scope: 'run', workflow: 'qa-bot' }).reason).toBe('not_ready');
    let stopped = false;
    const stopping = cache.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(cache.ready()).toBe(true);
  });

  it('refreshes every refreshMs until stopped', async () => {
    const { client, state } = gatedClient();
    const cache = createHistoryCache(
      { ...config, refreshMs: 20 },
      { clickhouse: client, logger: silentLogger, clock },
    );
    await cache.start();
    const deadline = Date.now() + 20_000;
    while (state.queries < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(state.queries).toBeGreaterThanOrEqual(9); // three refreshes of three queries
    await cache.stop();
    const after = state.queries;
    await new Promise((r) => setTimeout(r, 100));
    expect(state.queries).toBe(after);
  });

  it('new history shows after the next refresh', async () => {
    const cache = createHistoryCache(config, { clickhouse: ch.client, logger: silentLogger, clock });
    await cache.refresh();
    const workflow = `fresh-${randomUUID().slice(0, 8)}`;
    expect(cache.forecast({ scope: 'step', workflow }).reason).toBe('no_history');
    const rows = Array.from({ length: 30 }, () => JSON.stringify(row({ workflow, cost_total_nanos: 3 })));
    await ch.client.command({
      query: `INSERT INTO burnrate.usage_events FORMAT JSONEachRow\n${rows.join('\n')}`,
    });
    await cache.refresh();
    expect(cache.forecast({ scope: 'step', workflow }).forecast?.cost.p50.nanos).toBe('3');
  });

  it('two customers that use the same run ids have separate runs', async () => {
    const cache = createHistoryCache(config, { clickhouse: ch.client, logger: silentLogger, clock });
    const workflow = `shared-${randomUUID().slice(0, 8)}`;
    // 30 run ids, each used by two customers: 60 runs of cost 5 (A) and 7 (B), not 30 of 12.
    const rows = Array.from({ length: 30 }, (_, j) => [
      JSON.stringify(
        row({ workflow, workflow_run_id: `run-${j}`, customer_id: 'cus_a', cost_total_nanos: 5 }),
      ),
      JSON.stringify(
        row({ workflow, workflow_run_id: `run-${j}`, customer_id: 'cus_b', cost_total_nanos: 7 }),
      ),
    ]).flat();
    await ch.client.command({
      query: `INSERT INTO burnrate.usage_events FORMAT JSONEachRow\n${rows.join('\n')}`,
    });
    await cache.refresh();
    const f = cache.forecast({ scope: 'run', workflow }).forecast;
    expect(f?.sample).toBe(60);
    expect([f?.cost.p50.nanos, f?.cost.p99.nanos]).toEqual(['7', '7']);
  });
});
