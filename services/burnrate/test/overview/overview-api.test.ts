import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginsPanel } from '../../src/roles/overview/panels.js';
import { parseScope } from '../../src/roles/overview/params.js';
import { createOverview } from '../../src/roles/overview/server.js';
import { silentLogger, testClickHouse } from '../fixtures.js';
import { SEED, type SeededFacts, seedOverview } from './seed.js';

// The overview role's JSON panels against a real chDB with seeded facts, over real HTTP.
let ch: Awaited<ReturnType<typeof testClickHouse>>;
let overview: ReturnType<typeof createOverview>;
let seeded: SeededFacts;
const routing = { minCalls: 5, qualityTolerance: 0.02 };

beforeAll(async () => {
  ch = await testClickHouse();
  seeded = await seedOverview(ch.client, ch.database, Date.now());
  overview = createOverview(
    { host: '127.0.0.1', port: 0, database: ch.database, routing },
    { clickhouse: ch.client, logger: silentLogger },
  );
  await overview.start();
});
afterAll(async () => {
  await overview?.stop();
  await ch?.client.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the JSON answers under test
async function get(path: string, init?: RequestInit): Promise<{ res: Response; body: any }> {
  const res = await fetch(`${overview.url()}${path}`, init);
  const type = res.headers.get('content-type') ?? '';
  return { res, body: type.includes('json') ? await res.json() : await res.text() };
}

const sum = (values: Iterable<bigint>) => [...values].reduce((a, b) => a + b, 0n);

describe('overview panels', () => {
  it('spend by customer adds up to the facts exactly, largest customer first', async () => {
    const { res, body } = await get('/api/spend?by=customer');
    expect(res.status).toBe(200);
    expect(body.step_seconds).toBe(86_400);
    expect(body.series[0].key).toBe(SEED.whale);
    const total = sum(body.series.map((s: { total_nanos: string }) => BigInt(s.total_nanos)));
    expect(total).toBe(sum(seeded.costByCustomer.values()));
    for (const s of body.series) {
      expect(s.points_nanos).toHaveLength(body.buckets_ms.length);
      expect(sum(s.points_nanos.map(BigInt))).toBe(BigInt(s.total_nanos));
    }
  });

  it('drills down: a customer filter narrows every dimension to that customer', async () => {
    const { body } = await get('/api/spend?by=workflow&from=24h&customer=acme');
    expect(body.step_seconds).toBe(3_600);
    const acme = seeded.rows.filter(
      (r) => r.customer_id === 'acme' && (r.occurred_at as number) >= Date.now() - 86_400_000 - 3_600_000,
    );
    const keys = new Set(acme.map((r) => r.workflow));
    expect(new Set(body.series.map((s: { key: string }) => s.key))).toEqual(keys);
    const runs = (await get('/api/runs?customer=acme')).body.runs;
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r: { customer_id: string }) => r.customer_id === 'acme')).toBe(true);
  });

  it('margins flag the whale and keep money exact', async () => {
    const { body } = await get('/api/margins');
    const byId = new Map(body.customers.map((c: { customer_id: string }) => [c.customer_id, c]));
    const whale = byId.get(SEED.whale) as Record<string, unknown>;
    expect(whale.whale).toBe(true);
    expect(whale.cost_nanos).toBe(seeded.costByCustomer.get(SEED.whale)!.toString());
    const acme = byId.get('acme') as Record<string, unknown>;
    expect(acme.whale).toBe(false);
    expect(acme.margin_nanos).toBe((200_000_000_000n - seeded.costByCustomer.get('acme')!).toString());
    expect((byId.get('beta') as Record<string, unknown>).margin_nanos).toBeNull();
  });

  it('takes the whale median over every customer, not only the rows the LIMIT shows', async () => {
    const deps = { clickhouse: ch.client, database: ch.database, routing, clock: Date.now };
    const scope = parseScope(new URLSearchParams(), Date.now());
    const all = await marginsPanel(deps, scope);
    expect(all.customers).toHaveLength(SEED.customers.length);
    const costs = all.customers.map((c) => BigInt(c.cost_nanos)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const median = costs[Math.floor((costs.length - 1) / 2)]!;
    expect(all.median_cost_nanos).toBe(median.toString());
    // Only the two costliest are shown: the median (and so the whale test) must not move.
    const top = await marginsPanel(deps, scope, 2);
    expect(top.customers.map((c) => c.customer_id)).toEqual(
      all.customers.slice(0, 2).map((c) => c.customer_id),
    );
    expect(top.median_cost_nanos).toBe(median.toString());
    expect(top.customers.map((c) => c.whale)).toEqual(all.customers.slice(0, 2).map((c) => c.whale));
    // A customer filter finds that customer wherever it ranks.
    const cheapest = all.customers.at(-1)!.customer_id;
    const one = await marginsPanel(
      deps,
      parseScope(new URLSearchParams({ customer: cheapest }), Date.now()),
      1,
    );
    expect(one.customers.map((c) => c.customer_id)).toEqual([cheapest]);
    expect(one.median_cost_nanos).toBe(median.toString());
  });

  it('lists the most expensive runs, routing per workflow and model, alerts and health', async () => {
    const runs = (await get('/api/runs')).body.runs;
    expect(runs).toHaveLength(20);
    expect(runs[0].customer_id).toBe(SEED.whale);
    const costs = runs.map((r: { cost_nanos: string }) => BigInt(r.cost_nanos));
    expect([...costs].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(costs);

    const routing = (await get('/api/routing?workflow=support-chat')).body;
    expect(new Set(routing.models.map((m: { workflow: string }) => m.workflow))).toEqual(
      new Set(['support-chat']),
    );
    const mini = routing.models.find((m: { model: string }) => m.model === 'gpt-4o-mini');
    const facts = seeded.rows.filter((r) => r.workflow === 'support-chat' && r.model === 'gpt-4o-mini');
    expect(mini.calls).toBe(facts.length);
    expect(mini.cost_per_call_nanos).toBe(
      (sum(facts.map((r) => BigInt(r.cost_total_nanos as number))) / BigInt(facts.length)).toString(),
    );
    expect(mini.quality).toBeCloseTo(0.9, 5);

    const alerts = (await get('/api/alerts')).body.alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'whale', severity: 'critical', customer_id: SEED.whale });
    expect((await get('/api/alerts?customer=acme')).body.alerts).toEqual([]);

    const health = (await get('/api/health')).body;
    expect(health.events_last_5m).toBeGreaterThan(0);
    expect(health.newest_ingested_ms).toBeGreaterThan(Date.now() - 60_000);
    expect(health.dead_letters_24h).toEqual([
      expect.objectContaining({ reason: 'invalid_value', records: 1 }),
    ]);
    expect(health.ingest_per_minute.length).toBeGreaterThan(0);
    expect(health.readiness).toBeNull();
  });

  it('treats filter values as values, never as SQL', async () => {
    const { res, body } = await get(`/api/spend?customer=${encodeURIComponent("acme' OR 1=1 --")}`);
    expect(res.status).toBe(200);
    expect(body.series).toEqual([]);
  });

  it('answers bad parameters with 400 and one sentence', async () => {
    for (const [query, text] of [
      ['from=yesterday', 'from "yesterday" is not a date'],
      ['from=1h&to=2h', 'is not before'],
      ['by=feature', 'by "feature" is not one of'],
      ['team=x', 'Unknown query parameter "team"'],
      ['customer=', 'customer must be 1 to 256 characters'],
    ] as const) {
      const { res, body } = await get(`/api/spend?${query}`);
      expect(res.status, query).toBe(400);
      expect(body.error.message, query).toContain(text);
    }
  });

  it('serves the page and ECharts from node_modules, read-only', async () => {
    const page = await get('/');
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.body).toContain('<script src="/assets/echarts.min.js"></script>');
    const lib = await get('/assets/echarts.min.js');
    expect(lib.res.status).toBe(200);
    expect(lib.body.length).toBeGreaterThan(500_000);
    expect((await get('/overview.js')).res.headers.get('content-type')).toContain('javascript');
    expect((await get('/api/spend', { method: 'POST' })).res.status).toBe(405);
    expect((await get('/api/nothing')).res.status).toBe(404);
  });
});
