import {
  type BreakdownItem,
  type CustomerMeta,
  type CustomerSnapshot,
  type Dimension,
  formatNanosAsUsd,
  type PeriodTotals,
  type RunSnapshot,
  sumWindow,
  type UnpricedSnapshot,
  utcDay,
  WINDOW_NAMES,
  type WindowName,
} from '@burnrate/core';
import type { Redis } from 'ioredis';
import type { AggregateKeys, EpochKeys } from './aggregate-keys.js';

/**
 * The one way to read the rolling aggregates: the rules, the guardrail API and the CLI all use it.
 * Reads are batched (one pipeline per step for many customers) and money comes back as BigInt.
 */
export interface AggregateReader {
  /** The live epoch, or null when Redis has no aggregates (fresh, flushed or restarted empty). */
  epoch(): Promise<string | null>;
  /** Snapshots; with `windows: false` the rolling windows are not read (they read as 0). */
  customers(
    epoch: string,
    customerIds: string[],
    nowMs: number,
    options?: { windows?: boolean },
  ): Promise<Map<string, CustomerSnapshot>>;
  runs(epoch: string, runIds: string[]): Promise<Map<string, RunSnapshot>>;
  /**
   * What the guardrail needs of one customer, in one round trip: the period's totals, the last 24
   * hours' cost and, with a run id, the run. Null when Redis holds no aggregates. The epoch is read
   * in the same pipeline as the data: when it has changed since the last call (Redis lost its data
   * and the aggregator rebuilt), the read is done again under the new one.
   */
  guardrail(
    customerId: string,
    periodStart: string,
    nowMs: number,
    runId: string | null,
  ): Promise<{ period: PeriodTotals; last24h: bigint; run: RunSnapshot | null } | null>;
  unpriced(epoch: string, day: string, model: string): Promise<UnpricedSnapshot>;
  /** A customer's top workflows and models by cost in a billing period. */
  breakdown(
    epoch: string,
    customerId: string,
    periodStart: string,
    limit: number,
  ): Promise<{ workflows: BreakdownItem[]; models: BreakdownItem[] }>;
  /** Period totals of one customer's workflows, features or models (for the CLI and the API). */
  dimensionTotals(
    epoch: string,
    customerId: string,
    periodStart: string,
    dimension: Exclude<Dimension, 'customer'>,
  ): Promise<Array<{ name: string } & PeriodTotals>>;
}

const big = (v: string | undefined) => BigInt(v ?? '0');
const totalsOf = (h: Record<string, string>): PeriodTotals => ({
  cost: big(h.c),
  tokens: big(h.t),
  events: Number(h.n ?? 0),
});

export function createAggregateReader(redis: Redis, keys: AggregateKeys): AggregateReader {
  // The epoch the last guardrail read saw; checked again on every read.
  let lastEpoch: string | null = null;
  const customerSubject = (customer: string) => ({ dimension: 'customer' as const, customer, value: '' });

  async function hgetalls(commands: Array<string>): Promise<Array<Record<string, string>>> {
    if (commands.length === 0) return [];
    const p = redis.pipeline();
    for (const key of commands) p.hgetall(key);
    const results = (await p.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return value as Record<string, string>;
    });
  }

  async function dimensionTotals(
    k: EpochKeys,
    customerId: string,
    periodStart: string,
    dimension: Exclude<Dimension, 'customer'>,
  ) {
    const names = await redis.smembers(k.dims(customerId, periodStart, dimension));
    const hashes = await hgetalls(
      names.map((value) => k.period({ dimension, customer: customerId, value }, periodStart)),
    );
    return names
      .map((name, i) => ({ name, ...totalsOf(hashes[i]!) }))
      .sort((a, b) => (b.cost > a.cost ? 1 : b.cost < a.cost ? -1 : a.name.localeCompare(b.name)));
  }

  return {
    async epoch() {
      return redis.get(keys.epoch);
    },

    async customers(epoch, ids, nowMs, options = {}) {
      const k = keys.at(epoch);
      const today = utcDay(nowMs);
      const windowNames = options.windows === false ? [] : WINDOW_NAMES;
      const first = await hgetalls(
        ids.flatMap((id) => {
          const s = customerSubject(id);
          return [k.meta(id), k.day(s, today), ...windowNames.map((w) => k.window(s, w))];
        }),
      );
      const per = 2 + windowNames.length;
      const metas = new Map<string, CustomerMeta>();
      ids.forEach((id, i) => {
        const m = first[i * per]!;
        if (!m.billing_period_start) return;
        metas.set(id, {
          customer_id: id,
          customer_ref: m.customer_ref ?? '',
          name: m.name ?? '',
          plan_kind: m.plan_kind ?? '',
          plan_currency: m.plan_currency ?? '',
          plan_revenue_nanos: m.plan_revenue_nanos ?? '0',
          monthly_budget_nanos: m.monthly_budget_nanos ?? '0',
          billing_period_start: m.billing_period_start,
          unmapped: m.unmapped === '1',
        });
      });
      const known = ids.filter((id) => metas.has(id));
      const periods = await hgetalls(
        known.map((id) => k.period(customerSubject(id), metas.get(id)!.billing_period_start)),
      );
      const medians = await planMedians(redis, [
        ...new Set(known.map((id) => k.plan(metas.get(id)!.plan_kind, metas.get(id)!.plan_revenue_nanos))),
      ]);
      const out = new Map<string, CustomerSnapshot>();
      known.forEach((id, j) => {
        const i = ids.indexOf(id);
        const meta = metas.get(id)!;
        const windows = { m5: 0n, h1: 0n, h24: 0n } as Record<WindowName, bigint>;
        windowNames.forEach((w, n) => {
          const buckets = Object.entries(first[i * per + 2 + n]!).map(
            ([s, v]) => [Number(s), BigInt(v)] as [number, bigint],
          );
          windows[w] = sumWindow(w, buckets, nowMs);
        });
        out.set(id, {
          meta,
          nowMs,
          period: totalsOf(periods[j]!),
          day: totalsOf(first[i * per + 1]!),
          windows,
          planMedian: medians.get(k.plan(meta.plan_kind, meta.plan_revenue_nanos)) ?? null,
        });
      });
      return out;
    },

    async runs(epoch, runIds) {
      const k = keys.at(epoch);
      const hashes = await hgetalls(runIds.map((id) => k.run(id)));
      const out = new Map<string, RunSnapshot>();
      runIds.forEach((runId, i) => {
        const run = runOf(runId, hashes[i]!);
        if (run) out.set(runId, run);
      });
      return out;
    },

    async guardrail(customerId, periodStart, nowMs, runId) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const epoch = lastEpoch ?? (await redis.get(keys.epoch));
        if (epoch === null) return null;
        const k = keys.at(epoch);
        const s = customerSubject(customerId);
        // Separate commands, not a pipeline object: on a connection with auto-pipelining (the api
        // role's), the commands of concurrent requests leave in one write.
        const [now, period, h24, run] = await Promise.all([
          redis.get(keys.epoch),
          redis.hgetall(k.period(s, periodStart)),
          redis.hgetall(k.window(s, 'h24')),
          runId ? redis.hgetall(k.run(runId)) : undefined,
        ]);
        lastEpoch = now;
        if (now !== epoch) continue;
        const buckets = Object.entries(h24).map(([b, v]) => [Number(b), BigInt(v)] as [number, bigint]);
        return {
          period: totalsOf(period),
          last24h: sumWindow('h24', buckets, nowMs),
          run: runId && run ? runOf(runId, run) : null,
        };
      }
      return null;
    },

    async unpriced(epoch, day, model) {
      const [events, tokens] = await redis.hmget(keys.at(epoch).unpriced(day), `${model}|n`, `${model}|t`);
      return { model, day, events: Number(events ?? 0), tokens: big(tokens ?? undefined) };
    },

    async breakdown(epoch, customerId, periodStart, limit) {
      const k = keys.at(epoch);
      const item = (t: { name: string } & PeriodTotals): BreakdownItem => ({
        name: t.name || '(none)',
        cost_nanos: t.cost.toString(),
        cost_usd: formatNanosAsUsd(t.cost),
        events: t.events,
      });
      const [workflows, models] = await Promise.all([
        dimensionTotals(k, customerId, periodStart, 'workflow'),
        dimensionTotals(k, customerId, periodStart, 'model'),
      ]);
      return { workflows: workflows.slice(0, limit).map(item), models: models.slice(0, limit).map(item) };
    },

    dimensionTotals: (epoch, customerId, periodStart, dimension) =>
      dimensionTotals(keys.at(epoch), customerId, periodStart, dimension),
  };
}

function runOf(runId: string, h: Record<string, string>): RunSnapshot | null {
  if (!h.customer) return null;
  return {
    runId,
    customer: h.customer,
    planKind: h.plan_kind ?? '',
    workflow: h.workflow ?? '',
    cost: big(h.c),
    tokens: big(h.t),
    steps: Number(h.steps ?? 0),
    retries: Number(h.retries ?? 0),
    maxDepth: Number(h.depth ?? 0),
    firstSeenMs: Number(h.first ?? 0),
    lastSeenMs: Number(h.last ?? 0),
  };
}

/** The median member of each plan's sorted set (customers by current period cost). */
async function planMedians(redis: Redis, planKeys: string[]) {
  const out = new Map<string, { median: bigint; customers: number }>();
  if (planKeys.length === 0) return out;
  const counts = await redis.pipeline(planKeys.map((key) => ['zcard', key])).exec();
  const ranked = planKeys
    .map((key, i) => [key, Number(counts?.[i]?.[1] ?? 0)] as const)
    .filter(([, n]) => n > 0);
  const scores = await redis
    .pipeline(
      ranked.map(([key, n]) => ['zrange', key, String((n - 1) >> 1), String((n - 1) >> 1), 'WITHSCORES']),
    )
    .exec();
  ranked.forEach(([key, n], i) => {
    const [, score] = (scores?.[i]?.[1] as string[] | undefined) ?? [];
    out.set(key, { median: BigInt(Math.round(Number(score ?? 0))), customers: n });
  });
  return out;
}
