import {
  type BatchAggregate,
  BurnrateError,
  oldestBucketSeconds,
  WINDOWS,
  type WindowName,
} from '@burnrate/core';
import type { Redis, Result } from 'ioredis';
import type { AggregateKeys, EpochKeys } from './aggregate-keys.js';
import { TTL_SECONDS } from './aggregate-keys.js';

/**
 * The one write path of the rolling aggregates: every increment of a batch, the partition's row
 * watermark and the "needs the rules" marks, in ONE Lua script, so Redis applies all or nothing.
 * The watermark is compared and advanced in the same script (compare-and-set on the exact position
 * the caller filtered against), which makes a replay — after a crash, a rebalance, a zombie — a
 * no-op: rows at or before the watermark were filtered out, and a concurrent writer makes the CAS fail.
 */
const APPLY = `
local building = string.sub(ARGV[1], 1, 1) == '!'
if not building then
  local epoch = redis.call('GET', KEYS[1])
  if epoch ~= ARGV[1] then return {'epoch', epoch or ''} end
  if ARGV[3] ~= '*' then
    local cur = redis.call('HGET', KEYS[2], ARGV[2]) or ''
    if cur ~= ARGV[3] then return {'stale', cur} end
  end
end
local d = tonumber(ARGV[5])
local a = 6 + d
for k = 5, #KEYS do
  local key = KEYS[k]
  local ttl = ARGV[a]
  -- A key's operations travel as one JSON array of strings: (op, field, value) triples.
  local list = cjson.decode(ARGV[a + 1])
  a = a + 2
  for j = 1, #list, 3 do
    local op, field, value = list[j], list[j + 1], list[j + 2]
    if op == 'i' then
      redis.call('HINCRBY', key, field, value)
    elseif op == 'x' then
      local c = redis.call('HGET', key, field)
      if (not c) or tonumber(value) > tonumber(c) then redis.call('HSET', key, field, value) end
    elseif op == 'm' then
      local c = redis.call('HGET', key, field)
      if (not c) or tonumber(value) < tonumber(c) then redis.call('HSET', key, field, value) end
    elseif op == 's' then
      redis.call('HSET', key, field, value)
    elseif op == 'a' then
      redis.call('SADD', key, value)
    elseif op == 'M' then
      local c = redis.call('HGET', key, 'billing_period_start')
      if (not c) or c <= field then
        for f, v in pairs(cjson.decode(value)) do redis.call('HSET', key, f, v) end
      end
    elseif op == 'R' then
      -- A run's step totals in few calls: increments, then one HSET of names and extremes.
      local r = cjson.decode(value)
      local cur = redis.call('HMGET', key, 'depth', 'first', 'last')
      local depth, first, last = tonumber(r.depth), tonumber(r.first), tonumber(r.last)
      if cur[1] and tonumber(cur[1]) > depth then depth = tonumber(cur[1]) end
      if cur[2] and tonumber(cur[2]) < first then first = tonumber(cur[2]) end
      if cur[3] and tonumber(cur[3]) > last then last = tonumber(cur[3]) end
      redis.call('HINCRBY', key, 'c', r.c)
      redis.call('HINCRBY', key, 't', r.t)
      redis.call('HINCRBY', key, 'steps', r.steps)
      if r.retries ~= '0' then redis.call('HINCRBY', key, 'retries', r.retries) end
      redis.call('HSET', key, 'customer', r.customer, 'workflow', r.workflow, 'plan_kind', r.plan_kind,
        'depth', string.format('%d', depth), 'first', string.format('%d', first), 'last', string.format('%d', last))
      -- Only a run past one of its caps needs the rules: mark it then, not after every step.
      if r.caps then
        local got = redis.call('HMGET', key, 'c', 'steps', 'retries')
        local cost = got[1]
        local past = tonumber(got[2]) > tonumber(r.caps.steps) or tonumber(got[3] or '0') > tonumber(r.caps.retries)
          or depth > tonumber(r.caps.depth)
          or string.len(cost) > string.len(r.caps.cost) or (string.len(cost) == string.len(r.caps.cost) and cost > r.caps.cost)
        if past and not building then redis.call('HINCRBY', KEYS[3], field, 1) end
      end
    elseif op == 'Z' then
      redis.call('ZADD', key, redis.call('HGET', value, 'c') or '0', field)
    elseif op == 'p' then
      if redis.call('HLEN', key) > tonumber(value) then
        local cutoff = tonumber(field)
        for _, f in ipairs(redis.call('HKEYS', key)) do
          if tonumber(string.match(f, '^%d+')) < cutoff then redis.call('HDEL', key, f) end
        end
      end
    end
  end
  if ttl ~= '0' then redis.call('EXPIRE', key, ttl) end
end
if (not building) and ARGV[4] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end
for i = 1, d do
  local subject = ARGV[5 + i]
  if string.sub(subject, 1, 2) == 't:' then
    redis.call('HINCRBY', KEYS[4], string.sub(subject, 3), 1)
  else
    redis.call('HINCRBY', KEYS[3], subject, 1)
  end
end
return {'ok'}`;

type Op = 'i' | 'x' | 'm' | 's' | 'a' | 'M' | 'R' | 'Z' | 'p';

/**
 * The operations on one key: HINCRBY (i), max (x), min (m), HSET (s), SADD (a), set the customer's
 * plan unless an older period's (M), add a run's steps (R), rank a customer by its period cost (Z),
 * prune old buckets (p).
 */
export class KeyOps {
  readonly ops: string[] = [];
  constructor(
    readonly key: string,
    readonly ttlSeconds: number,
  ) {}
  add(op: Op, field: string, value: string | number | bigint): void {
    this.ops.push(op, field, String(value));
  }
}

/** Collects KeyOps by key, so increments of one key from many rows become one entry. */
export class OpsBuilder {
  readonly byKey = new Map<string, KeyOps>();
  on(key: string, ttlSeconds: number): KeyOps {
    let ops = this.byKey.get(key);
    if (!ops) {
      ops = new KeyOps(key, ttlSeconds);
      this.byKey.set(key, ops);
    }
    return ops;
  }
}

/**
 * The caps past which a run needs the rules (the runaway rule's, per customer); null when the rule
 * is off for that customer. The script marks a run for judging only once it is past one.
 */
export type RunCaps = (
  customer: string,
  planKind: string,
) => {
  cost: bigint;
  steps: number;
  retries: number;
  depth: number;
} | null;

/** Turns a batch's totals into key operations under one epoch. */
export function batchOps(
  batch: BatchAggregate,
  k: EpochKeys,
  runCaps?: RunCaps,
  into = new OpsBuilder(),
): OpsBuilder {
  const pruned = new Set<string>();
  // Ranked after every increment: a plan key must come after the period keys of ALL its customers in
  // this batch, or the script reads a customer's cost before this batch added to it.
  const ranks: Array<{ plan: string; customer: string; period: string }> = [];
  for (const { subject, slots } of batch.subjects.values()) {
    for (const { slot, totals } of slots.values()) {
      if (slot.kind === 'window') {
        const key = k.window(subject, slot.window);
        const ops = into.on(key, TTL_SECONDS.window(slot.window));
        const start = String(slot.start);
        ops.add('i', start, totals.cost);
        ops.add('i', `${start}t`, totals.tokens);
        if (!pruned.has(key)) {
          pruned.add(key);
          pruneOp(ops, slot.window, batch.nowMs);
        }
      } else {
        const key = slot.kind === 'day' ? k.day(subject, slot.day) : k.period(subject, slot.start);
        const ops = into.on(key, slot.kind === 'day' ? TTL_SECONDS.day : TTL_SECONDS.period);
        ops.add('i', 'c', totals.cost);
        ops.add('i', 't', totals.tokens);
        ops.add('i', 'n', totals.events);
        if (slot.kind !== 'period') continue;
        if (subject.dimension !== 'customer') {
          into
            .on(k.dims(subject.customer, slot.start, subject.dimension), TTL_SECONDS.period)
            .add('a', '', subject.value);
          continue;
        }
        // The plan's ranking of customers by their current period cost (for the median whale rule).
        const meta = batch.customers.get(subject.customer);
        if (meta?.plan_kind && meta.billing_period_start === slot.start) {
          ranks.push({
            plan: k.plan(meta.plan_kind, meta.plan_revenue_nanos),
            customer: subject.customer,
            period: key,
          });
        }
      }
    }
  }
  for (const r of ranks) into.on(r.plan, TTL_SECONDS.period).add('Z', r.customer, r.period);
  for (const m of batch.customers.values()) {
    const fields = { ...m, unmapped: m.unmapped ? '1' : '0' };
    into
      .on(k.meta(m.customer_id), TTL_SECONDS.period)
      .add('M', m.billing_period_start, JSON.stringify(fields));
  }
  for (const r of batch.runs.values()) {
    const planKind = batch.customers.get(r.customer)?.plan_kind ?? '';
    const caps = runCaps?.(r.customer, planKind);
    into.on(k.run(r.runId), TTL_SECONDS.run).add(
      'R',
      `r:${r.runId}`,
      JSON.stringify({
        customer: r.customer,
        workflow: r.workflow,
        plan_kind: planKind,
        c: String(r.cost),
        t: String(r.tokens),
        steps: String(r.steps),
        retries: String(r.retries),
        depth: String(r.maxDepth),
        first: String(r.firstSeenMs),
        last: String(r.lastSeenMs),
        caps: caps
          ? {
              cost: String(caps.cost),
              steps: String(caps.steps),
              retries: String(caps.retries),
              depth: String(caps.depth),
            }
          : undefined,
      }),
    );
  }
  for (const u of batch.unpriced.values()) {
    const ops = into.on(k.unpriced(u.day), TTL_SECONDS.day);
    ops.add('i', `${u.model}|n`, u.events);
    ops.add('i', `${u.model}|t`, u.tokens);
  }
  return into;
}

/** Window hashes drop buckets that fell out of the window once they hold more than they need. */
function pruneOp(ops: KeyOps, window: WindowName, nowMs: number): void {
  const { spanMs, bucketMs } = WINDOWS[window];
  const keep = spanMs / bucketMs;
  // Two fields (cost, tokens) per bucket; two buckets of slack for clocks that differ a little.
  ops.add('p', String(oldestBucketSeconds(window, nowMs) - (2 * bucketMs) / 1000), 2 * (keep + 4));
}

/**
 * What a batch changed that the rules must look at: its customers (their totals now, `c:`; their
 * trends at the next sweep, `t:`) and unpriced models. (Runs are marked by the script itself, once
 * past one of their caps.)
 */
export function dirtySubjects(batch: BatchAggregate): string[] {
  const out: string[] = [];
  for (const c of batch.customers.keys()) out.push(`c:${c}`, `t:c:${c}`);
  for (const u of batch.unpriced.values()) out.push(`u:${u.day}|${u.model}`);
  return out;
}

export type ApplyResult =
  | { kind: 'ok' }
  /** Another writer advanced the watermark: filter again against `current`. */
  | { kind: 'stale'; current: string }
  /** The epoch changed ('' = gone: Redis lost its data). */
  | { kind: 'epoch'; current: string };

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** Keys then arguments in ONE array: ioredis flattens it, and a spread of 100k+ items would overflow the stack. */
    burnrateApply(numberOfKeys: number, keysAndArgs: string[]): Result<string[], Context>;
  }
}

const defined = new WeakSet<Redis>();
function ensureScript(redis: Redis): void {
  if (defined.has(redis)) return;
  redis.defineCommand('burnrateApply', { lua: APPLY });
  defined.add(redis);
}

/**
 * Applies operations atomically: checks the epoch and that the partition's watermark is still
 * `expected` ('*' skips the check: the negative-control mode), then increments and moves the
 * watermark to `next`.
 */
export async function applyAtomically(
  redis: Redis,
  keys: AggregateKeys,
  epoch: string,
  w: { field: string; expected: string; next: string },
  ops: OpsBuilder,
  dirty: { partition: number; subjects: string[] },
): Promise<ApplyResult> {
  ensureScript(redis);
  const k = keys.at(epoch);
  const keyList = [keys.epoch, k.watermark, k.dirty(dirty.partition), k.trends(dirty.partition)];
  const argv = [epoch, w.field, w.expected, w.next, String(dirty.subjects.length)];
  for (const s of dirty.subjects) argv.push(s);
  for (const o of ops.byKey.values()) {
    keyList.push(o.key);
    argv.push(String(o.ttlSeconds), JSON.stringify(o.ops));
  }
  const [kind, current] = await redis.burnrateApply(keyList.length, keyList.concat(argv));
  if (kind === 'ok') return { kind: 'ok' };
  if (kind === 'stale') return { kind: 'stale', current: current ?? '' };
  if (kind === 'epoch') return { kind: 'epoch', current: current ?? '' };
  throw new BurnrateError('redis_unexpected', `The aggregate script answered "${kind}".`);
}

/**
 * Writes operations into an epoch that is not live yet (a rebuild), in chunks: nobody reads or
 * writes that epoch until it is switched on, so the chunks need not be atomic together.
 */
export async function writeUnpublished(redis: Redis, keys: AggregateKeys, epoch: string, ops: OpsBuilder) {
  ensureScript(redis);
  const k = keys.at(epoch);
  let keyList: string[] = [];
  let argv: string[] = [];
  const flush = async () => {
    if (keyList.length === 0) return;
    const header = [keys.epoch, k.watermark, k.dirty(0), k.trends(0)];
    await redis.burnrateApply(
      4 + keyList.length,
      header.concat(keyList, [`!${epoch}`, '', '*', '', '0'], argv),
    );
    keyList = [];
    argv = [];
  };
  for (const o of ops.byKey.values()) {
    keyList.push(o.key);
    argv.push(String(o.ttlSeconds), JSON.stringify(o.ops));
    if (argv.length > 20_000) await flush();
  }
  await flush();
}
