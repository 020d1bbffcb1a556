import { bucketStartSeconds, type CustomerMeta, formatNanosAsUsd, type UsageRow } from '@burnrate/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { TTL_SECONDS } from '../../src/redis/aggregate-keys.js';
import { batchOps, writeUnpublished } from '../../src/redis/apply.js';
import { apply, batchOf, keysOf, NOW, PERIOD, row, type Space, spaces, TODAY } from './helpers.js';

const redis = new Redis(inject('redisUrl'));
const space = spaces(redis);
afterAll(async () => {
  await space.drop();
  await redis.quit();
});

const acme = { dimension: 'customer' as const, customer: 'acme', value: '' };
const MIN = 60_000;
const HOUR = 3_600_000;

/**
 * Acme's rows, each cost a distinct power of two so every sum names the rows it holds:
 * a, b, f — the last 5 minutes (a and f share a 10-second bucket, b is in an earlier one);
 * c — 10 minutes ago: too old for the 5-minute window, inside the hour;
 * d — 2 hours ago: only the 24 h window, the day and the period;
 * e — yesterday, 23:00: the 24 h window and the period, not today;
 * f — an unpriced model.
 */
const acmeRows = [
  row({ occurred_at: NOW - 1_000, cost_nanos: 1_000, tokens: 10 }), // a
  row({
    occurred_at: NOW - 25_000,
    cost_nanos: 2_000,
    tokens: 20,
    workflow: 'review',
    model: 'anthropic/claude-sonnet-4',
    depth: 3,
    attempt: 2,
  }), // b
  row({
    occurred_at: NOW - 10 * MIN,
    cost_nanos: 4_000,
    tokens: 40,
    workflow_run_id: 'run-2',
    feature: 'search',
    depth: 1,
  }), // c
  row({
    occurred_at: NOW - 2 * HOUR,
    cost_nanos: 8_000,
    tokens: 80,
    workflow_run_id: 'run-2',
    feature: 'search',
    model: 'anthropic/claude-sonnet-4',
    attempt: 3,
  }), // d
  row({
    occurred_at: Date.parse('2026-11-28T23:00:30Z'),
    cost_nanos: 16_000,
    tokens: 160,
    workflow: 'batch',
    workflow_run_id: null,
  }), // e
  row({
    occurred_at: NOW - 3_000,
    cost_nanos: 0,
    tokens: 500,
    model: 'mystery/model-x',
    unpriced: true,
    workflow_run_id: null,
  }), // f
];
const globexRow = row({
  customer_id: 'globex',
  customer_ref: 'org_globex',
  customer_name: 'Globex',
  plan_kind: 'usage_based',
  plan_revenue_nanos: '0',
  monthly_budget_nanos: '0',
  workflow: '',
  workflow_run_id: 'run-g',
  cost_nanos: 32_000,
  tokens: 320,
});

async function acmeTotals(s: Space, nowMs = NOW) {
  const snap = (await s.reader.customers(s.epoch, ['acme'], nowMs)).get('acme');
  return snap && { period: snap.period, day: snap.day, windows: snap.windows };
}

describe('applyAtomically + the aggregate reader on a real Redis', () => {
  it('stores exactly the sums of a batch: windows, day, period, dimensions, runs and unpriced models', async () => {
    const s = await space.create();
    const batch = batchOf(NOW, [...acmeRows, globexRow]);
    expect(await apply(redis, s, batch)).toEqual({ kind: 'ok' });

    const snapshots = await s.reader.customers(s.epoch, ['acme', 'globex', 'nobody'], NOW);
    expect([...snapshots.keys()]).toEqual(['acme', 'globex']);
    const a = snapshots.get('acme')!;
    expect(a.meta).toEqual<CustomerMeta>({
      customer_id: 'acme',
      customer_ref: 'org_acme',
      name: 'Acme',
      plan_kind: 'flat_rate',
      plan_currency: 'USD',
      plan_revenue_nanos: '200000000000',
      monthly_budget_nanos: '150000000000',
      billing_period_start: PERIOD,
      unmapped: false,
    });
    expect(a.nowMs).toBe(NOW);
    expect(a.period).toEqual({ cost: 31_000n, tokens: 810n, events: 6 }); // a+b+c+d+e+f
    expect(a.day).toEqual({ cost: 15_000n, tokens: 650n, events: 5 }); // all but e (yesterday)
    expect(a.windows).toEqual({
      m5: 3_000n, // a+b+f
      h1: 7_000n, // + c
      h24: 31_000n, // + d + e
    });
    // The 5-minute window holds a (and f, cost 0) in one 10-second bucket and b in an earlier one.
    // One hash per window: `<bucket>` holds nano-USD, `<bucket>t` tokens.
    const m5 = await redis.hgetall(s.k.window(acme, 'm5'));
    expect(Object.fromEntries(Object.entries(m5).filter(([f]) => !f.endsWith('t')))).toEqual({
      [bucketStartSeconds('m5', NOW - 1_000)]: '1000',
      [bucketStartSeconds('m5', NOW - 25_000)]: '2000',
    });
    expect(
      Object.keys(m5)
        .filter((f) => f.endsWith('t'))
        .sort(),
    ).toEqual(
      [bucketStartSeconds('m5', NOW - 25_000), bucketStartSeconds('m5', NOW - 1_000)]
        .map((b) => `${b}t`)
        .sort(),
    );
    // Five minutes later a, b and f have left the 5-minute window; c is still in the hour.
    expect((await acmeTotals(s, NOW + 5 * MIN))!.windows).toEqual({ m5: 0n, h1: 7_000n, h24: 31_000n });

    const g = snapshots.get('globex')!;
    expect(g.meta.plan_kind).toBe('usage_based');
    expect(g.period).toEqual({ cost: 32_000n, tokens: 320n, events: 1 });
    expect(g.windows).toEqual({ m5: 32_000n, h1: 32_000n, h24: 32_000n });

    expect(await s.reader.dimensionTotals(s.epoch, 'acme', PERIOD, 'workflow')).toEqual([
      { name: 'batch', cost: 16_000n, tokens: 160n, events: 1 },
      { name: 'support', cost: 13_000n, tokens: 630n, events: 4 },
      { name: 'review', cost: 2_000n, tokens: 20n, events: 1 },
    ]);
    expect(await s.reader.dimensionTotals(s.epoch, 'acme', PERIOD, 'feature')).toEqual([
      { name: 'chat', cost: 19_000n, tokens: 690n, events: 4 },
      { name: 'search', cost: 12_000n, tokens: 120n, events: 2 },
    ]);
    expect(await s.reader.dimensionTotals(s.epoch, 'acme', PERIOD, 'model')).toEqual([
      { name: 'openai/gpt-4o-mini', cost: 21_000n, tokens: 210n, events: 3 },
      { name: 'anthropic/claude-sonnet-4', cost: 10_000n, tokens: 100n, events: 2 },
      { name: 'mystery/model-x', cost: 0n, tokens: 500n, events: 1 },
    ]);
    expect(await s.reader.dimensionTotals(s.epoch, 'acme', '2026-10-01', 'model')).toEqual([]);

    const item = (name: string, cost: bigint, events: number) => ({
      name,
      cost_nanos: cost.toString(),
      cost_usd: formatNanosAsUsd(cost),
      events,
    });
    expect(await s.reader.breakdown(s.epoch, 'acme', PERIOD, 2)).toEqual({
      workflows: [item('batch', 16_000n, 1), item('support', 13_000n, 4)],
      models: [item('openai/gpt-4o-mini', 21_000n, 3), item('anthropic/claude-sonnet-4', 10_000n, 2)],
    });
    // Globex's row has no workflow: it is listed as "(none)".
    expect((await s.reader.breakdown(s.epoch, 'globex', PERIOD, 5)).workflows).toEqual([
      item('(none)', 32_000n, 1),
    ]);

    const runs = await s.reader.runs(s.epoch, ['run-1', 'run-2', 'run-g', 'run-unknown']);
    expect([...runs.keys()]).toEqual(['run-1', 'run-2', 'run-g']);
    expect(runs.get('run-1')).toEqual({
      runId: 'run-1',
      customer: 'acme',
      planKind: 'flat_rate',
      workflow: 'support',
      cost: 3_000n,
      tokens: 30n,
      steps: 2,
      retries: 1,
      maxDepth: 3,
      firstSeenMs: NOW - 25_000,
      lastSeenMs: NOW - 1_000,
    });
    expect(runs.get('run-2')).toMatchObject({
      cost: 12_000n,
      tokens: 120n,
      steps: 2,
      retries: 1,
      maxDepth: 1,
      firstSeenMs: NOW - 2 * HOUR,
      lastSeenMs: NOW - 10 * MIN,
    });
    expect(runs.get('run-g')).toMatchObject({ customer: 'globex', planKind: 'usage_based', cost: 32_000n });

    expect(await s.reader.unpriced(s.epoch, TODAY, 'mystery/model-x')).toEqual({
      model: 'mystery/model-x',
      day: TODAY,
      events: 1,
      tokens: 500n,
    });
    expect(await s.reader.unpriced(s.epoch, TODAY, 'openai/gpt-4o-mini')).toMatchObject({
      events: 0,
      tokens: 0n,
    });
  });

  it('adds a later batch to the earlier one: sums grow, a run keeps its min first / max last and depth', async () => {
    const s = await space.create();
    await apply(redis, s, batchOf(NOW, acmeRows));
    const later = batchOf(NOW + 10_000, [
      row({ occurred_at: NOW - MIN, depth: 5, cost_nanos: 100, tokens: 1 }),
      row({ occurred_at: NOW + 5_000, depth: 1, attempt: 2, cost_nanos: 200, tokens: 2 }),
    ]);
    expect(await apply(redis, s, later)).toEqual({ kind: 'ok' });
    expect((await s.reader.runs(s.epoch, ['run-1'])).get('run-1')).toMatchObject({
      cost: 3_300n,
      tokens: 33n,
      steps: 4,
      retries: 2,
      maxDepth: 5,
      firstSeenMs: NOW - MIN,
      lastSeenMs: NOW + 5_000,
    });
    expect((await acmeTotals(s, NOW + 10_000))!.period).toEqual({ cost: 31_300n, tokens: 813n, events: 8 });
  });

  it('keeps money exact past 2^53: sums in the batch (BigInt) and in Redis (HINCRBY, int64)', async () => {
    const s = await space.create();
    const big = 9_000_000_000_000_001; // safe; two of them are not
    expect(Number.isSafeInteger(big) && !Number.isSafeInteger(big * 2)).toBe(true);
    const whale = (at: number) => row({ occurred_at: at, cost_nanos: big, tokens: big });
    const first = batchOf(NOW, [whale(NOW - 1_000), whale(NOW - 2_000)]);
    await apply(redis, s, first);
    const two = 18_000_000_000_000_002n;
    let t = await acmeTotals(s);
    expect(t!.period).toEqual({ cost: two, tokens: two, events: 2 });
    expect(t!.day.cost).toBe(two);
    expect(t!.windows).toEqual({ m5: two, h1: two, h24: two });
    expect((await s.reader.runs(s.epoch, ['run-1'])).get('run-1')!.cost).toBe(two);
    expect((await s.reader.breakdown(s.epoch, 'acme', PERIOD, 1)).models[0]!.cost_nanos).toBe(
      '18000000000000002',
    );

    // A second batch: Redis adds 9_000_000_000_000_001 to 18_000_000_000_000_002 itself.
    await apply(redis, s, batchOf(NOW, [whale(NOW - 3_000)]));
    const three = 27_000_000_000_000_003n;
    t = await acmeTotals(s);
    expect(t!.period).toEqual({ cost: three, tokens: three, events: 3 });
    expect(t!.windows).toEqual({ m5: three, h1: three, h24: three });
    expect(await redis.hget(s.k.period(acme, PERIOD), 'c')).toBe('27000000000000003');
    expect((await s.reader.runs(s.epoch, ['run-1'])).get('run-1')).toMatchObject({
      cost: three,
      tokens: three,
    });
    expect((await s.reader.dimensionTotals(s.epoch, 'acme', PERIOD, 'workflow'))[0]!.cost).toBe(three);
  });
});

describe('the watermark compare-and-set', () => {
  it('applies only when the partition watermark is what the caller filtered against', async () => {
    const s = await space.create();
    const field = 'usage.enriched/3';
    const one = () => batchOf(NOW, [row({ cost_nanos: 1_000 })]);

    expect(await apply(redis, s, one(), { field, expected: '', next: '5:2' }, 3)).toEqual({ kind: 'ok' });
    expect(await redis.hget(s.k.watermark, field)).toBe('5:2');
    const after1 = await acmeTotals(s);
    expect(after1!.period.cost).toBe(1_000n);
    const dirty1 = await redis.hgetall(s.k.dirty(3));
    const runs1 = await redis.hgetall(s.k.run('run-1'));

    // A replay (or a zombie) that filtered against the old watermark changes nothing at all.
    expect(await apply(redis, s, one(), { field, expected: '', next: '9:0' }, 3)).toEqual({
      kind: 'stale',
      current: '5:2',
    });
    expect(await acmeTotals(s)).toEqual(after1);
    expect(await redis.hget(s.k.watermark, field)).toBe('5:2');
    expect(await redis.hgetall(s.k.dirty(3))).toEqual(dirty1);
    expect(await redis.hgetall(s.k.run('run-1'))).toEqual(runs1);

    expect(await apply(redis, s, one(), { field, expected: '5:2', next: '9:0' }, 3)).toEqual({ kind: 'ok' });
    expect(await redis.hget(s.k.watermark, field)).toBe('9:0');
    expect((await acmeTotals(s))!.period).toEqual({ cost: 2_000n, tokens: 20n, events: 2 });

    // Each partition has its own watermark.
    expect(await apply(redis, s, one(), { field: 'usage.enriched/4', expected: '', next: '1:0' }, 4)).toEqual(
      { kind: 'ok' },
    );
    expect(await redis.hgetall(s.k.watermark)).toEqual({ [field]: '9:0', 'usage.enriched/4': '1:0' });

    // '*' (the negative-control mode) checks nothing and, with next '', moves nothing.
    expect(await apply(redis, s, one(), { field, expected: '*', next: '' }, 3)).toEqual({ kind: 'ok' });
    expect(await redis.hget(s.k.watermark, field)).toBe('9:0');
    expect((await acmeTotals(s))!.period.cost).toBe(4_000n);
  });
});

describe('the epoch', () => {
  it('refuses to write when the epoch key was never set, and writes nothing', async () => {
    const s = await space.create({ live: false });
    expect(await apply(redis, s, batchOf(NOW, acmeRows), { expected: '', next: '1:0' })).toEqual({
      kind: 'epoch',
      current: '',
    });
    expect(await keysOf(redis, s.prefix)).toEqual([]);
  });

  it('detects a FLUSHALL (epoch key gone) and a switched epoch, and writes nothing in either case', async () => {
    const s = await space.create();
    expect(await apply(redis, s, batchOf(NOW, acmeRows), { expected: '', next: '1:0' })).toEqual({
      kind: 'ok',
    });
    const before = await acmeTotals(s);
    const keysBefore = await keysOf(redis, s.prefix);

    await redis.del(s.keys.epoch); // what a FLUSHALL does to the epoch
    expect(await apply(redis, s, batchOf(NOW, acmeRows), { expected: '1:0', next: '2:0' })).toEqual({
      kind: 'epoch',
      current: '',
    });
    expect(await acmeTotals(s)).toEqual(before);
    expect(await redis.hget(s.k.watermark, 'usage.enriched/0')).toBe('1:0');
    expect(await keysOf(redis, s.prefix)).toEqual(keysBefore.filter((k) => k !== s.keys.epoch));

    await redis.set(s.keys.epoch, 'e2');
    expect(await apply(redis, s, batchOf(NOW, acmeRows), { expected: '1:0', next: '2:0' })).toEqual({
      kind: 'epoch',
      current: 'e2',
    });
    expect(await acmeTotals(s)).toEqual(before);
    expect(await keysOf(redis, s.prefix)).toEqual(keysBefore);
  });
});

describe('dirty marks', () => {
  it('marks every customer and unpriced model of each batch, and a run once it is past a runaway cap', async () => {
    const s = await space.create();
    // Caps every run with any cost is past: each run is marked, as a customer is.
    const anyCost = () => ({ cost: 0n, steps: 1_000, retries: 1_000, depth: 1_000 });
    expect(await apply(redis, s, batchOf(NOW, [...acmeRows, globexRow]), {}, 2, anyCost)).toEqual({
      kind: 'ok',
    });
    expect(await redis.hgetall(s.k.dirty(2))).toEqual({
      'c:acme': '1',
      'c:globex': '1',
      'r:run-1': '1',
      'r:run-2': '1',
      'r:run-g': '1',
      [`u:${TODAY}|mystery/model-x`]: '1',
    });
    await apply(redis, s, batchOf(NOW, [row({ workflow_run_id: 'run-2' })]), {}, 2, anyCost);
    expect(await redis.hgetall(s.k.dirty(2))).toEqual({
      'c:acme': '2',
      'c:globex': '1',
      'r:run-1': '1',
      'r:run-2': '2',
      'r:run-g': '1',
      [`u:${TODAY}|mystery/model-x`]: '1',
    });
    // Other partitions' dirty hashes are untouched.
    expect(await redis.exists(s.k.dirty(0), s.k.dirty(1), s.k.dirty(3))).toBe(0);

    // Runs within their caps (or with the rule off) are not marked: the rules need not read them.
    const quiet = await space.create();
    const high = () => ({ cost: 10n ** 15n, steps: 1_000, retries: 1_000, depth: 1_000 });
    await apply(redis, quiet, batchOf(NOW, [...acmeRows, globexRow]), {}, 2, high);
    await apply(redis, quiet, batchOf(NOW, [row({ workflow_run_id: 'run-9' })]), {}, 2, () => null);
    expect(Object.keys(await redis.hgetall(quiet.k.dirty(2))).filter((k) => k.startsWith('r:'))).toEqual([]);
    // Past the step cap by one: marked.
    await apply(redis, quiet, batchOf(NOW, [row({ workflow_run_id: 'run-9' })]), {}, 2, () => ({
      ...high(),
      steps: 1,
    }));
    expect(await redis.hget(quiet.k.dirty(2), 'r:run-9')).toBe('1');
  });
});

describe('TTLs and pruning', () => {
  async function expectTtl(key: string, seconds: number) {
    const pttl = await redis.pttl(key);
    expect(pttl, key).toBeGreaterThan(seconds * 1000 - 10_000);
    expect(pttl, key).toBeLessThanOrEqual(seconds * 1000);
  }

  it('gives window, day, period, run and related keys the TTL of TTL_SECONDS, refreshed by each write', async () => {
    const s = await space.create();
    await apply(redis, s, batchOf(NOW, [...acmeRows, globexRow]), { expected: '', next: '1:0' });
    const workflow = { dimension: 'workflow' as const, customer: 'acme', value: 'support' };
    for (const subject of [acme, workflow]) {
      for (const w of ['m5', 'h1', 'h24'] as const) {
        await expectTtl(s.k.window(subject, w), TTL_SECONDS.window(w));
      }
      await expectTtl(s.k.day(subject, TODAY), TTL_SECONDS.day);
      await expectTtl(s.k.period(subject, PERIOD), TTL_SECONDS.period);
    }
    await expectTtl(s.k.day(acme, '2026-11-28'), TTL_SECONDS.day); // row e, yesterday
    expect(TTL_SECONDS.window('m5')).toBe(430);
    expect(TTL_SECONDS.window('h24')).toBe(88_320);
    await expectTtl(s.k.run('run-1'), TTL_SECONDS.run);
    await expectTtl(s.k.run('run-g'), TTL_SECONDS.run);
    await expectTtl(s.k.meta('acme'), TTL_SECONDS.period);
    await expectTtl(s.k.dims('acme', PERIOD, 'model'), TTL_SECONDS.period);
    await expectTtl(s.k.plan('flat_rate', '200000000000'), TTL_SECONDS.period);
    await expectTtl(s.k.unpriced(TODAY), TTL_SECONDS.day);
    // The watermark and dirty marks are not derived data: they never expire.
    expect(await redis.pttl(s.k.watermark)).toBe(-1);
    expect(await redis.pttl(s.k.dirty(0))).toBe(-1);

    // A later write gives an (almost expired) key its full TTL again.
    await redis.pexpire(s.k.window(acme, 'h1'), 2_000);
    await redis.pexpire(s.k.run('run-1'), 2_000);
    await apply(redis, s, batchOf(NOW, [row()]));
    await expectTtl(s.k.window(acme, 'h1'), TTL_SECONDS.window('h1'));
    await expectTtl(s.k.run('run-1'), TTL_SECONDS.run);
  });

  it('prunes buckets that left the window once a window hash holds more than it needs', async () => {
    const s = await space.create();
    const key = s.k.window(acme, 'm5');
    const buckets = async (k: string) => Object.keys(await redis.hgetall(k)).filter((f) => !f.endsWith('t'));
    const t0 = Date.parse('2026-11-29T11:00:00Z');
    const at = (i: number) => t0 + i * 10_000; // one 10-second bucket each
    // 34 batches, each at its own "now": the hash grows to (30 + 4) buckets × 2 fields without pruning.
    for (let i = 0; i < 34; i++) await apply(redis, s, batchOf(at(i), [row({ occurred_at: at(i) })]));
    expect(await redis.hlen(key)).toBe(68);
    // The 35th: more than 68 fields, so buckets older than the window minus two buckets of slack go.
    await apply(redis, s, batchOf(at(34), [row({ occurred_at: at(34) })]));
    const cutoff = bucketStartSeconds('m5', at(34)) - 290 - 20;
    const left = (await buckets(key)).map(Number);
    expect(left.length).toBe(32);
    expect(await redis.hlen(key)).toBe(64);
    expect(Math.min(...left)).toBe(cutoff);
    // The hour window needed no pruning (6 of 60 + 4 one-minute buckets).
    expect(await buckets(s.k.window(acme, 'h1'))).toHaveLength(6);
  });

  it('prunes stale buckets spanning more than a day at one fixed now (a writer with a wrong clock left them)', async () => {
    const s = await space.create();
    const m5 = s.k.window(acme, 'm5');
    const h24 = s.k.window(acme, 'h24');
    // 70 stale 5-minute-window buckets, one every 30 minutes over the 35 hours before NOW.
    const b0 = bucketStartSeconds('m5', NOW);
    for (let j = 1; j <= 70; j++) await redis.hset(m5, String(b0 - j * 1_800), '7');
    // 60 30-minute buckets (cost and tokens): 30 hours, more than the 48 + 4 the 24 h window may hold.
    const d0 = bucketStartSeconds('h24', NOW);
    for (let j = 1; j <= 60; j++)
      await redis.hset(h24, String(d0 - j * 1_800), '7', `${d0 - j * 1_800}t`, '1');
    expect(await redis.hlen(m5)).toBe(70);
    expect(await redis.hlen(h24)).toBe(120);

    await apply(redis, s, batchOf(NOW, [row({ occurred_at: NOW - 1_000 })]));
    const fresh = bucketStartSeconds('m5', NOW - 1_000);
    expect(Object.keys(await redis.hgetall(m5)).sort()).toEqual([String(fresh), `${fresh}t`]);
    // 24 h: the window's 48 buckets and two of slack stay (j = 0 … 49), the 10 older ones go.
    const left = Object.keys(await redis.hgetall(h24))
      .filter((f) => !f.endsWith('t'))
      .map((f) => (d0 - Number(f)) / 1_800)
      .sort((x, y) => x - y);
    expect(left).toEqual(Array.from({ length: 50 }, (_, j) => j));
    // The reader sums only the window's buckets (the slack buckets j = 48, 49 are not counted).
    expect((await acmeTotals(s))!.windows).toEqual({ m5: 1_000n, h1: 1_000n, h24: 1_000n + 47n * 7n });
  });
});

describe('the per-plan ranking', () => {
  it('ranks the customers of one plan by their current period cost; the reader gives the median', async () => {
    const s = await space.create();
    const customer = (id: string, cost: number, plan: Partial<UsageRow> = {}) =>
      row({ customer_id: id, customer_ref: `org_${id}`, workflow_run_id: null, cost_nanos: cost, ...plan });
    // One batch: several customers of the same plan are ranked by the same apply.
    await apply(
      redis,
      s,
      batchOf(NOW, [
        customer('c1', 1_000),
        customer('c2', 5_000),
        customer('c3', 9_000),
        customer('c1', 500),
        customer('big', 7_000, { plan_revenue_nanos: '500000000000' }),
        customer('u', 3_000, { plan_kind: '', plan_revenue_nanos: '0', unmapped: true }),
      ]),
    );
    expect(await redis.zrange(s.k.plan('flat_rate', '200000000000'), 0, -1, 'WITHSCORES')).toEqual([
      'c1',
      '1500',
      'c2',
      '5000',
      'c3',
      '9000',
    ]);
    expect(await redis.zrange(s.k.plan('flat_rate', '500000000000'), 0, -1, 'WITHSCORES')).toEqual([
      'big',
      '7000',
    ]);
    let snaps = await s.reader.customers(s.epoch, ['c1', 'c2', 'c3', 'big', 'u'], NOW);
    for (const id of ['c1', 'c2', 'c3']) {
      expect(snaps.get(id)!.planMedian, id).toEqual({ median: 5_000n, customers: 3 });
    }
    expect(snaps.get('big')!.planMedian).toEqual({ median: 7_000n, customers: 1 });
    expect(snaps.get('u')!.planMedian).toBeNull(); // no plan, no ranking

    // c1 spends more: its score is its new period cost, and the median moves to c3.
    await apply(redis, s, batchOf(NOW, [customer('c1', 10_000)]));
    expect(await redis.zscore(s.k.plan('flat_rate', '200000000000'), 'c1')).toBe('11500');
    snaps = await s.reader.customers(s.epoch, ['c2'], NOW);
    expect(snaps.get('c2')!.planMedian).toEqual({ median: 9_000n, customers: 3 });
  });
});

describe('writeUnpublished', () => {
  it('writes into an epoch that is not live, unchecked; the reader sees it once the epoch is switched', async () => {
    const s = await space.create({ epoch: 'e1' });
    await apply(redis, s, batchOf(NOW, [row({ cost_nanos: 111 })]), { expected: '', next: '3:0' });

    // A rebuild into e2: big enough to be written in several chunks.
    const e2 = s.keys.at('e2');
    const rebuilt = batchOf(NOW, [
      ...acmeRows,
      ...Array.from({ length: 12_000 }, (_, i) =>
        row({ customer_id: 'bulk', workflow_run_id: `bulk-${i}`, cost_nanos: 1, tokens: 1 }),
      ),
    ]);
    const ops = batchOps(rebuilt, e2);
    // Two arguments per key (its TTL and its operations): more than one 20,000-argument chunk.
    expect(ops.byKey.size * 2).toBeGreaterThan(20_000);
    await writeUnpublished(redis, s.keys, 'e2', ops);

    // Nothing live changed: same epoch, same totals, and no watermark or dirty marks in e2.
    expect(await s.reader.epoch()).toBe('e1');
    expect((await acmeTotals(s))!.period.cost).toBe(111n);
    expect(await redis.exists(e2.watermark, e2.dirty(0))).toBe(0);

    await redis.set(s.keys.epoch, 'e2');
    const live = (await s.reader.epoch())!;
    expect(live).toBe('e2');
    const snap = await s.reader.customers(live, ['acme', 'bulk'], NOW);
    expect(snap.get('acme')!.period).toEqual({ cost: 31_000n, tokens: 810n, events: 6 });
    expect(snap.get('acme')!.windows).toEqual({ m5: 3_000n, h1: 7_000n, h24: 31_000n });
    expect(snap.get('bulk')!.period).toEqual({ cost: 12_000n, tokens: 12_000n, events: 12_000 });
    const ids = Array.from({ length: 12_000 }, (_, i) => `bulk-${i}`);
    const runs = await s.reader.runs(live, ids);
    expect(runs.size).toBe(12_000);
    expect(runs.get('bulk-11999')).toMatchObject({ customer: 'bulk', cost: 1n, steps: 1 });
    expect(await s.reader.unpriced(live, TODAY, 'mystery/model-x')).toMatchObject({
      events: 1,
      tokens: 500n,
    });
    await expectTtlPositive(e2.run('bulk-0'));

    // The switched-to epoch takes live writes from an empty watermark.
    expect(
      await applyLive(s, 'e2', batchOf(NOW, [row({ cost_nanos: 1 })]), { expected: '', next: '1:0' }),
    ).toEqual({ kind: 'ok' });
    expect((await s.reader.customers('e2', ['acme'], NOW)).get('acme')!.period.cost).toBe(31_001n);
  });
});

async function expectTtlPositive(key: string) {
  expect(await redis.pttl(key)).toBeGreaterThan(0);
}

function applyLive(
  s: Space,
  epoch: string,
  batch: ReturnType<typeof batchOf>,
  w: { expected: string; next: string },
) {
  return apply(redis, { ...s, epoch, k: s.keys.at(epoch) }, batch, w);
}
