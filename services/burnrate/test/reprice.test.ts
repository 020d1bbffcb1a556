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
import type { CliOutput } from '../src/cli/kit/output.js';
import { runCliToExitCode } from '../src/cli/run-cli.js';
import { createClickHouseClient } from '../src/clickhouse/client.js';
import { createClickHouseHttpServer } from '../src/clickhouse/http/index.js';
import { migrate } from '../src/clickhouse/migrate.js';
import { killMutations } from '../src/reprice/journal.js';
import { parseRepriceArgs } from '../src/reprice/options.js';
import { COST_COLUMNS, type FactRow, repriceFact } from '../src/reprice/price-fact.js';
import { createProgressBar, type RepriceProgress, renderBar } from '../src/reprice/progress.js';
import { type RepriceOptions, repriceRange } from '../src/reprice/run.js';
import { enrichedRow, pollUntil, silentLogger, testClickHouse } from './fixtures.js';

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

type Fact = {
  event_id: string;
  price_version: string;
  unpriced: number;
  model: string;
  customer_id: string;
  /** Int64 columns arrive as exact decimal text. */
  cost_total_nanos: string;
  tokens_input: string;
} & Record<string, string | number>;
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
  const hourly = await rows(
    `SELECT ${HOURLY_KEY}, ${HOURLY_SUMS} FROM ${db}.usage_hourly GROUP BY ${HOURLY_KEY} ORDER BY ${HOURLY_KEY}`,
  );
  const hourlyFromFacts = await rows(
    `SELECT toStartOfHour(occurred_at) AS hour, customer_id, workflow, feature, provider, model, ${FACT_SUMS}
     FROM ${db}.usage_events GROUP BY ${HOURLY_KEY} ORDER BY ${HOURLY_KEY}`,
  );
  const periodSums =
    'sum(events) e, sum(unpriced_events) u, sum(cost_total_nanos) c, max(plan_revenue_nanos) rev';
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

const reprice = (
  db: string,
  catalog: unknown,
  options: Partial<RepriceOptions> = {},
  progress?: RepriceProgress,
) =>
  repriceRange(
    { client: ch.client, database: db, reference: ref(catalog), ...(progress ? { progress } : {}) },
    {
      filter: { fromMs: BASE_MS + 20 * 600_000, toMs: BASE_MS + 220 * 600_000 },
      chunkRows: 37,
      applyBatchRows: 90,
      ...options,
    },
  );
const logCount = async (db: string) =>
  Number((await rows<{ n: string }>(`SELECT count() n FROM ${db}.reprice_log`))[0]!.n);

describe('burnrate reprice against chDB', () => {
  let db: string;
  let firstRunId: string;
  const all = Array.from({ length: 240 }, (_, i) => fact(i));
  const inRange = (f: Record<string, unknown>) =>
    (f.occurred_at as number) >= BASE_MS + 20 * 600_000 &&
    (f.occurred_at as number) < BASE_MS + 220 * 600_000;

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
    const log = await rows<Record<string, string>>(
      `SELECT * FROM ${db}.reprice_log WHERE run_id = '${summary.runId}'`,
    );
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
    const planCols =
      'billing_period_start, customer_id, anyLast(plan_kind) k, anyLast(plan_currency) cur, max(monthly_budget_nanos) b';
    const plans = (d: string) =>
      rows(`SELECT ${planCols} FROM ${d}.customer_period_cost GROUP BY 1, 2 ORDER BY 1, 2`);
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
    await insertFacts(
      small,
      [30, 35, 40].map((i) => fact(i, { customer_id: 'cust-0', occurred_at: BASE_MS + 30 * 600_000 + i })),
    );
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

describe('reprice filters and unpriced facts', () => {
  const mixed = Array.from({ length: 60 }, (_, i) =>
    fact(i + 20, { model: i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini' }),
  );

  it('--model touches only that model, --customer only that customer', async () => {
    const db = await freshDb();
    await insertFacts(db, mixed);
    const byModel = await reprice(db, CATALOG_V2, { filter: { ...range(), model: 'gpt-4o' } });
    expect(byModel.tally).toMatchObject({ scanned: 20, changed: 20 });
    let now = await facts(db);
    for (const f of now.values()) {
      expect(f.price_version).toBe(f.model === 'gpt-4o' ? 'v2:openai/gpt-4o@2024' : 'test:1');
    }
    const byCustomer = await reprice(db, CATALOG_V2, { filter: { ...range(), customerId: 'cust-2' } });
    const cust2Mini = mixed.filter((f) => f.customer_id === 'cust-2' && f.model === 'gpt-4o-mini').length;
    expect(byCustomer.tally).toMatchObject({ changed: cust2Mini, unchanged: mixed.length / 5 - cust2Mini });
    now = await facts(db);
    for (const f of now.values()) {
      const repriced = f.model === 'gpt-4o' || f.customer_id === 'cust-2';
      expect(f.price_version.startsWith('v2:')).toBe(repriced);
    }
    const logged = await rows<{ event_id: string }>(`SELECT event_id FROM ${db}.reprice_log`);
    expect(logged).toHaveLength(20 + cust2Mini);
    await expectRollupsAgree(db);
  });

  it('prices a model that was unpriced once the catalog knows it', async () => {
    const db = await freshDb();
    const unpriced = Array.from({ length: 30 }, (_, i) =>
      fact(i + 20, { model: 'new-model', price_version: '', unpriced: 1, ...zeroCost }),
    );
    await insertFacts(db, unpriced);
    const stillUnknown = await reprice(db, CATALOG_V2);
    expect(stillUnknown.tally).toMatchObject({
      scanned: 30,
      changed: 0,
      unpricedBefore: 30,
      unpricedAfter: 30,
    });

    const summary = await reprice(db, CATALOG_V3);
    expect(summary.tally).toMatchObject({
      changed: 30,
      unpricedBefore: 30,
      unpricedAfter: 0,
      costBeforeNanos: 0n,
    });
    for (const f of (await facts(db)).values()) {
      const input = 1_000 * Number(f.tokens_input); // 1.00 USD per million = 1,000 nano-USD per token
      expect(f).toMatchObject({ unpriced: 0, price_version: 'v3:openai/new-model@2024' });
      expect(f.cost_total_nanos).toBe(String(input + 10 * 500 + 50 * 4_000));
    }
    const [hourly] = await rows<{ u: string }>(`SELECT sum(unpriced_events) u FROM ${db}.usage_hourly`);
    const [period] = await rows<{ u: string }>(
      `SELECT sum(unpriced_events) u FROM ${db}.customer_period_cost`,
    );
    expect([hourly!.u, period!.u]).toEqual(['0', '0']);
    const log = await rows<{ o: string; n: number }>(
      `SELECT DISTINCT old_price_version o, old_unpriced n FROM ${db}.reprice_log`,
    );
    expect(log).toEqual([{ o: '', n: 1 }]);
    await expectRollupsAgree(db);
  });

  it('--dry-run reports the changes and writes nothing', async () => {
    const db = await freshDb();
    await insertFacts(db, mixed);
    const before = await facts(db);
    const summary = await reprice(db, CATALOG_V2, { dryRun: true });
    expect(summary.tally).toMatchObject({ scanned: 60, changed: 60 });
    expect(await facts(db)).toEqual(before);
    expect(await logCount(db)).toBe(0);
    expect(await rows(`SELECT * FROM ${db}.reprice_runs`)).toEqual([]);
  });
});

const zeroCost = Object.fromEntries(COST_COLUMNS.map((c) => [c, 0]));
function range() {
  return { fromMs: BASE_MS, toMs: BASE_MS + 100 * HOUR };
}

describe('an interrupted run', () => {
  it('is finished by the next run: its rollups are rebuilt even though nothing is left to change', async () => {
    const db = await freshDb();
    await insertFacts(
      db,
      Array.from({ length: 50 }, (_, i) => fact(i + 20)),
    );
    // Dies right after the facts were mutated, before the rollups were rebuilt.
    const dying: RepriceProgress = {
      start() {},
      scanned() {},
      phase(text) {
        if (text.startsWith('rebuilding')) throw new Error('killed');
      },
      finish() {},
    };
    await expect(reprice(db, CATALOG_V2, {}, dying)).rejects.toThrow('killed');
    const broken = await rollupsAndFacts(db);
    expect(broken.hourly).not.toEqual(broken.hourlyFromFacts); // the test would prove nothing otherwise
    const [interrupted] = await rows<{ run_id: string }>(`SELECT DISTINCT run_id FROM ${db}.reprice_log`);

    const next = await reprice(db, CATALOG_V2);
    expect(next.tally.changed).toBe(0);
    expect(next.recoveredRuns).toEqual([interrupted!.run_id]);
    await expectRollupsAgree(db);
    expect((await reprice(db, CATALOG_V2)).recoveredRuns).toEqual([]);
  });
});

describe('repriceFact', () => {
  it('books exactly what enrichEvent books now, for every pricing path', () => {
    const overrides = PriceOverrides.parse({
      version: 'ov1',
      overrides: [
        { id: 'd15', customer_id: 'cus_disc', kind: 'discount', discount: '0.15', valid_from: '2025-01-01' },
        { id: 'own-key', customer_id: 'cus_byok', kind: 'byok', valid_from: '2025-01-01' },
        {
          id: 'deal',
          customer_id: 'cus_deal',
          kind: 'price',
          provider: 'openai',
          model: 'gpt-4o',
          prices: { tokens_per_million: { input: '1.00', output: '2.00' } },
          valid_from: '2025-01-01',
        },
      ],
    });
    const customer = (ref: string, id: string) => ({
      customer_ref: ref,
      customer_id: id,
      name: id,
      team: '',
      plan: { kind: 'flat_rate' as const, revenue_nanos: 1n, currency: 'USD', period: 'month' as const },
      monthly_budget_nanos: null,
      billing_anchor_day: 1,
      valid_from: '2025-01-01T00:00:00.000Z',
      valid_to: null,
    });
    const customers = CustomerTable.from(
      ['plain', 'disc', 'byok', 'deal'].map((name) => customer(`r-${name}`, `cus_${name}`)),
    );
    const reference = { prices: parseCatalog(CATALOG_V2), overrides };
    const cases: Array<[string, string, Partial<UsageEvent['units']>]> = [
      ['r-plain', 'gpt-4o-mini', {}],
      ['r-plain', 'gpt-4o', { web_search_calls: 2 }], // no fee for it: priced, yet flagged unpriced
      ['r-plain', 'mystery-model', {}],
      ['r-disc', 'gpt-4o', {}],
      ['r-byok', 'mystery-model', {}],
      ['r-deal', 'gpt-4o', {}],
      ['r-nobody', 'gpt-4o-mini', {}], // unmapped: catalog price, no overrides
    ];
    for (const [customerRef, model, units] of cases) {
      const event: UsageEvent = {
        event_id: randomUUID(),
        occurred_at: BASE_MS,
        service: 'svc',
        customer_ref: customerRef,
        user_ref: null,
        workflow: null,
        workflow_run_id: null,
        step_id: null,
        parent_step_id: null,
        step_kind: 'llm_call',
        depth: 0,
        attempt: 1,
        feature: null,
        provider: 'openai',
        model,
        tokens: { input: 1_234, cached_input: 567, cache_write: 0, output: 891, reasoning: 12 },
        requests: 1,
        units: { images: 0, audio_ms: 0, web_search_calls: 0, ...units },
        latency_ms: null,
        status: 'ok',
        provider_reported_cost_nanos: null,
        quality_score: null,
        tags: {},
      };
      const e = enrichEvent(
        event,
        { ...reference, customers },
        { topic: 't', partition: 0, offset: '1', ingestedAtMs: BASE_MS },
      );
      const row: FactRow = {
        ...e,
        occurred_at_ms: String(e.occurred_at),
        billing_period_start: '2026-09-01',
        ...Object.fromEntries(COST_COLUMNS.map((c) => [c, '999'])),
        price_version: 'stale',
        unpriced: 0,
        byok: 0,
      };
      const expected = {
        ...Object.fromEntries(COST_COLUMNS.map((c) => [c, BigInt(e[c])])),
        price_version: e.price_version,
        unpriced: e.unpriced,
        byok: e.byok,
      };
      expect([customerRef, model, repriceFact(row, reference)]).toEqual([customerRef, model, expected]);
    }
  });
});

describe('burnrate reprice arguments', () => {
  const fails = (args: string[]) => {
    try {
      parseRepriceArgs(args);
    } catch (error) {
      return { field: (error as { field?: string }).field, message: (error as Error).message };
    }
    throw new Error('expected a failure');
  };

  it('names the flag at fault in one sentence', () => {
    expect(fails(['--to', '2026-10-01'])).toEqual({
      field: '--from',
      message: '--from is required: the start of the range to re-price.',
    });
    expect(fails(['--from', '2026-09-01', '--to', 'yesterday']).field).toBe('--to');
    expect(fails(['--from', '2026-09-01T12:00:00', '--to', '2026-10-01']).message).toContain('with a zone');
    expect(fails(['--from', '2026-10-01', '--to', '2026-09-01'])).toMatchObject({ field: '--to' });
    expect(fails(['--from', '2026-09-01', '--to', '2026-10-01', '--model'])).toMatchObject({
      field: '--model',
    });
    expect(fails(['--from', '2026-09-01', '--frm', 'x']).field).toBe('--frm');
    expect(fails(['--from', '2026-09-01', '--from', '2026-09-02']).message).toBe('--from is given twice.');
  });

  it('reads the range, the filters and the files', () => {
    const args = [
      '--from=2026-09-01',
      '--to',
      '2026-09-02T06:00:00+02:00',
      '--model',
      'gpt-4o',
      '--customer',
      'acme',
      '--prices',
      'p.json',
      '--dry-run',
    ];
    expect(parseRepriceArgs(args)).toEqual({
      filter: {
        fromMs: Date.UTC(2026, 8, 1),
        toMs: Date.UTC(2026, 8, 2, 4),
        model: 'gpt-4o',
        customerId: 'acme',
      },
      pricesFile: 'p.json',
      dryRun: true,
      help: false,
    });
  });
});

describe('progress bar', () => {
  it('renders counts, percentage and rate', () => {
    expect(renderBar({ done: 3_500, total: 10_000, changed: 120, elapsedMs: 1_000 })).toBe(
      '[########................]  35%  3,500/10,000 facts  120 changed  3,500/s',
    );
  });

  it('prints periodic lines when stderr is not a terminal, and redraws in place when it is', () => {
    let t = 0;
    const plain: string[] = [];
    const bar = createProgressBar(
      { write: (s: string) => plain.push(s) },
      { now: () => t, intervalMs: 1_000 },
    );
    bar.start(100);
    t = 500;
    bar.scanned(10, 1); // too soon for another line
    t = 1_200;
    bar.scanned(20, 2);
    t = 1_300;
    bar.scanned(100, 5); // the last one always prints
    bar.phase('applying 5 changes');
    bar.finish();
    expect(plain).toEqual([
      `${renderBar({ done: 0, total: 100, changed: 0, elapsedMs: 0 })}\n`,
      `${renderBar({ done: 20, total: 100, changed: 2, elapsedMs: 1_200 })}\n`,
      `${renderBar({ done: 100, total: 100, changed: 5, elapsedMs: 1_300 })}\n`,
      'applying 5 changes\n',
    ]);

    const tty: string[] = [];
    const live = createProgressBar({ isTTY: true, write: (s: string) => tty.push(s) }, { now: () => 0 });
    live.start(10);
    live.scanned(5, 0);
    live.finish();
    expect(tty.slice(0, 2).every((s) => s.startsWith('\r\x1b[2K['))).toBe(true);
    expect(tty.at(-1)).toBe('\n');
  });
});

describe('burnrate reprice (the command)', () => {
  it('re-prices with --prices, prints the summary on stdout and the bar on stderr', async () => {
    const db = await freshDb();
    const rows = Array.from({ length: 40 }, (_, i) => fact(i));
    await insertFacts(db, rows);
    const dir = mkdtempSync(join(tmpdir(), 'burnrate-reprice-'));
    const prices = join(dir, 'prices.json');
    writeFileSync(prices, JSON.stringify(CATALOG_V2));
    const out: string[] = [];
    const err: string[] = [];
    const io: CliOutput = { out: (s) => out.push(s), err: (s) => err.push(s), interactive: false };
    // The CLI opens this file's chDB directory a second time, as a separate `burnrate reprice` would.
    const env = { BURNRATE_DATA_DIR: ch.path, CLICKHOUSE_DATABASE: db };
    const burnrateReprice = (args: string[], output: CliOutput) =>
      runCliToExitCode(['reprice', ...args], { onSignal: () => {}, env }, output);
    const argv = ['--from', '2026-09-21', '--to', '2026-09-22', '--prices', prices];
    expect(await burnrateReprice(argv, io)).toBe(0);

    const before = rows.reduce((s, r) => s + BigInt(r.cost_total_nanos as number), 0n);
    const after = [...(await facts(db)).values()].reduce((s, f) => s + BigInt(f.cost_total_nanos), 0n);
    const delta = after - before;
    const summary = out.join('');
    expect(summary).toContain('changed    40, unchanged 0, failed 0');
    expect(summary).toContain(
      `delta ${delta < 0n ? '-' : '+'}$${formatNanosAsUsd(delta < 0n ? -delta : delta)}`,
    );
    expect(err.join('')).toContain('40/40 facts');

    err.length = 0;
    expect(await burnrateReprice(['--from', '2026-09-21', '--to', 'soon'], io)).toBe(2);
    expect(err.join('')).toContain('--to must be an ISO-8601 date');
    err.length = 0;
    expect(await burnrateReprice([...argv.slice(0, 4), '--prices', join(dir, 'missing.json')], io)).toBe(2);
    expect(err.join('')).toContain('--prices names');
  });
});

describe('a mutation that keeps failing', () => {
  it('makes reprice refuse to queue behind it, naming it; killMutations removes it', async () => {
    const db = await freshDb();
    await insertFacts(db, [fact(30)]);
    // No mutations_sync: it fails in the background and stays queued, as a broken mutation does.
    await ch.client.command({
      query: `ALTER TABLE ${db}.usage_events UPDATE cost_total_nanos = throwIf(cost_total_nanos >= 0, 'marker-x') WHERE 1 SETTINGS mutations_sync = 0`,
    });
    const failing = await pollUntil(
      () =>
        rows<{ r: string }>(
          `SELECT latest_fail_reason r FROM system.mutations WHERE database = '${db}' AND NOT is_done`,
        ),
      (found) => found.some((m) => m.r !== ''),
      30_000,
    );
    expect(failing.some((m) => m.r !== '')).toBe(true);
    await expect(reprice(db, CATALOG_V2)).rejects.toMatchObject({
      code: 'clickhouse_mutation_failing',
      message: expect.stringMatching(/^Mutation mutation_\d+\.txt on rp_\w+\.usage_events keeps failing/),
    });
    await killMutations(ch.client, db, 'marker-x');
    expect(
      await rows(`SELECT mutation_id FROM system.mutations WHERE database = '${db}' AND NOT is_done`),
    ).toEqual([]);
    expect((await reprice(db, CATALOG_V2)).tally.changed).toBe(1);
  });
});

describe('through the embedded ClickHouse HTTP interface', () => {
  it('re-prices the same way when `burnrate run` owns chDB and the command is a remote client', async () => {
    const db = await freshDb();
    await insertFacts(
      db,
      Array.from({ length: 30 }, (_, i) => fact(i + 20)),
    );
    const writer = { name: 'writer', password: 'w', readonly: false };
    const server = createClickHouseHttpServer({
      client: ch.client,
      host: '127.0.0.1',
      port: 0,
      users: [writer],
      defaultDatabase: db,
      logger: silentLogger,
    });
    const { url } = await server.start();
    const remote = createClickHouseClient({
      kind: 'server',
      url,
      username: writer.name,
      password: writer.password,
    });
    try {
      const run = (catalog: unknown) =>
        repriceRange(
          { client: remote, database: db, reference: ref(catalog) },
          { filter: range(), chunkRows: 7 },
        );
      expect((await run(CATALOG_V2)).tally).toMatchObject({ scanned: 30, changed: 30 });
      expect((await run(CATALOG_V2)).tally).toMatchObject({ scanned: 30, changed: 0 });
      await expectRollupsAgree(db);
    } finally {
      await remote.close();
      await server.stop();
    }
  });
});
