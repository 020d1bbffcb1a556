import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CustomerTable,
  enrichEvent,
  formatNanosAsUsd,
  PriceOverrides,
  parseCatalog,
  type UsageEvent,
} from '@burnrate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/clickhouse/migrate.js';
import { repriceCommand } from '../src/cli/reprice.js';
import { parseRepriceArgs } from '../src/reprice/options.js';
import { COST_COLUMNS, type FactRow, repriceFact } from '../src/reprice/price-fact.js';
import { createProgressBar, type RepriceProgress, renderBar } from '../src/reprice/progress.js';
import { type RepriceOptions, repriceRange } from '../src/reprice/run.js';
import { enrichedRow, testClickHouse } from './fixtures.js';

let ch: Awaited<ReturnType<typeof testClickHouse>>;
beforeAll(async () => {
  ch = await testClickHouse();
});
afterAll(() => ch.client.close());

const HOUR = 3_600_000;
const BASE_MS = Date.UTC(2026, 8, 21, 0, 0, 0); // 2026-09-21T00:00:00Z
/** gpt-4o-mini at 0.15 / 0.075 / 0.60 USD per million tokens = 150 / 75 / 600 nano-USD per token. */
const entry = (id: string, model: string, input: string, cached: string, output: string) => ({
  id,
  provider: 'openai',
  model,
  valid_from: '2024-01-01',
  tokens_per_million: { input, cached_input: cached, output },
  source_url: 'https://example.com/pricing',
  as_of: '2026-01-01',
});
const CATALOG_V2 = {
  version: 'v2',
  entries: [
    entry('openai/gpt-4o-mini@2024', 'gpt-4o-mini', '0.15', '0.075', '0.60'),
    entry('openai/gpt-4o@2024', 'gpt-4o', '2.50', '1.25', '10.00'),
  ],
};
const CATALOG_V3 = {
  version: 'v3',
  entries: [...CATALOG_V2.entries, entry('openai/new-model@2024', 'new-model', '1.00', '0.50', '4.00')],
};
const CATALOG_V2_CHEAP = {
  version: 'v2-cheap',
  entries: [entry('openai/gpt-4o-mini@2024', 'gpt-4o-mini', '0.10', '0.05', '0.40')],
};
const ref = (catalog: unknown) => ({ prices: parseCatalog(catalog), overrides: PriceOverrides.empty() });

/** A fresh database in the file's one chDB engine. */
async function freshDb(): Promise<string> {
  const db = `rp_${randomUUID().slice(0, 8)}`;
  await migrate(ch.client, db);
  return db;
}

/** Facts as the ledger stores them, priced by an older catalog ("test:1") with made-up costs; one per 10 minutes. */
function fact(i: number, overrides: Record<string, unknown> = {}) {
  const customer = `cust-${i % 5}`;
  return enrichedRow(i, {
    occurred_at: BASE_MS + i * 600_000,
    customer_id: customer,
    billing_period_start: i % 5 < 3 ? '2026-09-01' : '2026-09-15',
    ...overrides,
  });
}

async function insertFacts(db: string, rows: Array<Record<string, unknown>>): Promise<void> {
  await ch.client.insert({ table: `${db}.usage_events`, values: rows, format: 'JSONEachRow' });
}

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();
}

type Fact = { event_id: string; price_version: string; unpriced: number; model: string; customer_id: string } & Record<
  string,
  string | number
>;
async function facts(db: string): Promise<Map<string, Fact>> {
  const list = await rows<Fact>(`SELECT * FROM ${db}.usage_events`);
  return new Map(list.map((f) => [f.event_id, f]));
}

const HOURLY_SUMS = `sum(events) e, sum(unpriced_events) u, sum(requests) r, sum(tokens_input) ti, sum(cost_total_nanos) c,
  sum(cost_input_nanos) ci, sum(cost_cached_input_nanos) cc, sum(cost_output_nanos) co, sum(cost_other_nanos) cx`;
const FACT_SUMS = `count() e, countIf(unpriced = 1) u, sum(requests) r, sum(tokens_input) ti, sum(cost_total_nanos) c,
  sum(cost_input_nanos) ci, sum(cost_cached_input_nanos) cc, sum(cost_output_nanos) co, sum(cost_request_nanos + cost_units_nanos) cx`;
const HOURLY_KEY = 'hour, customer_id, workflow, feature, provider, model';

/** Both rollups, per key, next to the same aggregates computed from the facts. */
async function rollupsAndFacts(db: string) {
  const hourly = await rows(`SELECT ${HOURLY_KEY}, ${HOURLY_SUMS} FROM ${db}.usage_hourly GROUP BY ${HOURLY_KEY} ORDER BY ${HOURLY_KEY}`);
  const hourlyFromFacts = await rows(
    `SELECT toStartOfHour(occurred_at) AS hour, customer_id, workflow, feature, provider, model, ${FACT_SUMS}
     FROM ${db}.usage_events GROUP BY ${HOURLY_KEY} ORDER BY ${HOURLY_KEY}`,
  );
  const periodSums = 'sum(events) e, sum(unpriced_events) u, sum(cost_total_nanos) c, max(plan_revenue_nanos) rev';
  const period = await rows(
    `SELECT billing_period_start, customer_id, ${periodSums} FROM ${db}.customer_period_cost GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const periodFromFacts = await rows(
    `SELECT billing_period_start, customer_id, count() e, countIf(unpriced = 1) u, sum(cost_total_nanos) c,
       max(plan_revenue_nanos) rev FROM ${db}.usage_events GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return { hourly, hourlyFromFacts, period, periodFromFacts };
}

async function expectRollupsAgree(db: string): Promise<void> {
  const r = await rollupsAndFacts(db);
  expect(r.hourly.length).toBeGreaterThan(0);
  expect(r.hourly).toEqual(r.hourlyFromFacts);
  expect(r.period).toEqual(r.periodFromFacts);
}

const reprice = (db: string, catalog: unknown, options: Partial<RepriceOptions> = {}, progress?: RepriceProgress) =>
  repriceRange(
    { client: ch.client, database: db, reference: ref(catalog), ...(progress ? { progress } : {}) },
    { filter: { fromMs: BASE_MS + 20 * 600_000, toMs: BASE_MS + 220 * 600_000 }, chunkRows: 37, applyBatchRows: 90, ...options },
  );
const logCount = async (db: string) => Number((await rows<{ n: string }>(`SELECT count() n FROM ${db}.reprice_log`))[0]!.n);

describe('burnrate reprice against chDB', () => {
  let db: string;
  let firstRunId: string;
  const all = Array.from({ length: 240 }, (_, i) => fact(i));
  const inRange = (f: Record<string, unknown>) =>
    (f.occurred_at as number) >= BASE_MS + 20 * 600_000 && (f.occurred_at as number) < BASE_MS + 220 * 600_000;

  it('re-prices the range with the new catalog, logs the old versions and rebuilds the rollups', async () => {
    db = await freshDb();
    await insertFacts(db, all);
    await expectRollupsAgree(db); // the views fed the rollups on insert

    const summary = await reprice(db, CATALOG_V2);
    firstRunId = summary.runId;
    expect(summary.tally).toMatchObject({ scanned: 200, changed: 200, unchanged: 0, failed: 0 });

    const after = await facts(db);
    for (const original of all) {
      const f = after.get(original.event_id as string)!;
      if (!inRange(original)) {
        expect([f.price_version, f.cost_total_nanos]).toEqual(['test:1', String(original.cost_total_nanos)]);
        continue;
      }
      const input = 150 * (original.tokens_input as number);
      expect(f).toMatchObject({
        price_version: 'v2:openai/gpt-4o-mini@2024',
        unpriced: 0,
        cost_input_nanos: String(input),
        cost_cached_input_nanos: '750',
        cost_output_nanos: '30000',
        cost_total_nanos: String(input + 750 + 30_000),
      });
    }
    const log = await rows<Record<string, string>>(`SELECT * FROM ${db}.reprice_log WHERE run_id = '${summary.runId}'`);
    expect(log).toHaveLength(200);
    for (const entry of log) {
      const original = all.find((f) => f.event_id === entry.event_id)!;
      expect(entry).toMatchObject({
        old_price_version: 'test:1',
        new_price_version: 'v2:openai/gpt-4o-mini@2024',
        old_cost_total_nanos: String(original.cost_total_nanos),
        new_cost_total_nanos: after.get(entry.event_id!)!.cost_total_nanos,
      });
    }
    const before = all.filter(inRange).reduce((s, f) => s + BigInt(f.cost_total_nanos as number), 0n);
    const now = [...after.values()].filter((f) => all.some((o) => o.event_id === f.event_id && inRange(o)));
    expect(summary.tally.costBeforeNanos).toBe(before);
    expect(summary.tally.costAfterNanos).toBe(now.reduce((s, f) => s + BigInt(f.cost_total_nanos), 0n));
    await expectRollupsAgree(db);
  });

  it('matches what the materialized views would have written for the re-priced facts', async () => {
    // Re-insert the re-priced facts into a fresh database: its views build the rollups from scratch.
    const copy = await freshDb();
    await ch.client.command({ query: `INSERT INTO ${copy}.usage_events SELECT * FROM ${db}.usage_events` });
    const [rebuilt, fromViews] = [await rollupsAndFacts(db), await rollupsAndFacts(copy)];
    expect(rebuilt.hourly).toEqual(fromViews.hourly);
    expect(rebuilt.period).toEqual(fromViews.period);
    const planCols = 'billing_period_start, customer_id, anyLast(plan_kind) k, anyLast(plan_currency) cur, max(monthly_budget_nanos) b';
    const plans = (d: string) => rows(`SELECT ${planCols} FROM ${d}.customer_period_cost GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(await plans(db)).toEqual(await plans(copy));
  });

  it('is a no-op the second time: nothing changes, nothing is logged', async () => {
    const factsBefore = await facts(db);
    const logBefore = await logCount(db);
    const summary = await reprice(db, CATALOG_V2);
    expect(summary.tally).toMatchObject({ scanned: 200, changed: 0, unchanged: 200 });
    expect(summary.hourKeys + summary.periodKeys).toBe(0);
    expect(await logCount(db)).toBe(logBefore);
    expect(await facts(db)).toEqual(factsBefore);
    const runs = await rows<{ run_id: string; statuses: string[] }>(
      `SELECT run_id, groupArray(status) AS statuses FROM ${db}.reprice_runs GROUP BY run_id`,
    );
    expect(runs.map((r) => [...r.statuses].sort())).toEqual([
      ['finished', 'started'],
      ['finished', 'started'],
    ]);
    expect(runs.map((r) => r.run_id)).toContain(firstRunId);
  });

  it('lands on the same rollups when prices change and change back (rebuilds are never deduplicated away)', async () => {
    // One customer-hour, so each rebuild inserts a one-row block and changing back re-inserts a block
    // identical to the first rebuild's. ClickHouse before 26 deduplicates such INSERT … SELECT blocks;
    // 26 does so in this mode, which stands in for them here.
    const small = await freshDb();
    await insertFacts(small, [30, 35, 40].map((i) => fact(i, { customer_id: 'cust-0', occurred_at: BASE_MS + 30 * 600_000 + i })));
    await ch.client.command({ query: "SET deduplicate_insert_select = 'enable_even_for_bad_queries'" });
    try {
      for (const catalog of [CATALOG_V2, CATALOG_V2_CHEAP, CATALOG_V2]) {
        expect((await reprice(small, catalog)).tally.changed).toBe(3);
        await expectRollupsAgree(small);
      }
    } finally {
      await ch.client.command({ query: "SET deduplicate_insert_select = 'enable_when_possible'" });
    }
  });
});
