import {
  type AlertEvent,
  type AlertingConfig,
  alertId,
  buildPayload,
  type CustomerMeta,
  type CustomerSnapshot,
  decide,
  evaluateCustomer,
  evaluateRun,
  evaluateUnpriced,
  type Finding,
  previousPeriod,
  type RunSnapshot,
} from '@burnrate/core';
import type { Redis, Result } from 'ioredis';
import type { Logger } from 'pino';
import type { AggregateKeys } from '../../redis/aggregate-keys.js';
import type { AggregateReader } from '../../redis/aggregate-reader.js';
import { ALERT_STATE_TTL_SECONDS, type AlertStore, type AlertTransition } from '../../redis/alert-store.js';
import type { Metrics } from '../../runtime/metrics.js';
import { ThrottledLog } from '../../runtime/retry.js';

/** Clears a subject's "dirty" mark only if nothing marked it again while it was being judged. */
const CLEAR_IF_UNCHANGED = `
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    burnrateClearDirty(key: string, ...fieldVersions: string[]): Result<number, Context>;
  }
}

export interface EvaluatorConfig {
  database: string;
  /** Subjects judged per round trip. */
  chunk?: number;
  retryLogIntervalMs: number;
}

export interface EvaluatorDeps {
  redis: Redis;
  keys: AggregateKeys;
  reader: AggregateReader;
  alerts: AlertStore;
  /** The alerting file in force (it may be reloaded at any time). */
  alerting: () => AlertingConfig;
  clock: () => number;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Runs the rules over what changed. The aggregates' Lua script marks every customer, run and unpriced
 * model it touched as dirty, in the same atomic step as the increments; this judges the dirty ones,
 * turns crossings into alert transitions (state + outbox entry, atomically) and only then clears the
 * marks — and only those not marked again meanwhile. A crash anywhere leaves the marks, so the
 * subjects are judged again after a restart: no crossing is missed, and none fires twice.
 */
export function createEvaluator(o: EvaluatorConfig, deps: EvaluatorDeps) {
  const log = deps.logger.child({ component: 'evaluator' });
  const failing = new ThrottledLog(log, o.retryLogIntervalMs);
  deps.redis.defineCommand('burnrateClearDirty', { numberOfKeys: 1, lua: CLEAR_IF_UNCHANGED });
  const chunk = o.chunk ?? 200;

  async function judge(
    epoch: string,
    subjects: string[],
    partition: number,
    scope: 'all' | 'totals',
  ): Promise<number> {
    const now = deps.clock();
    const config = deps.alerting();
    const customers = subjects.filter((s) => s.startsWith('c:')).map((s) => s.slice(2));
    const runs = subjects.filter((s) => s.startsWith('r:')).map((s) => s.slice(2));
    const unpriced = subjects.filter((s) => s.startsWith('u:')).map((s) => s.slice(2));
    const [snapshots, runSnapshots] = await Promise.all([
      deps.reader.customers(epoch, customers, now, { windows: scope === 'all' }),
      deps.reader.runs(epoch, runs),
    ]);
    const findings: Array<{
      f: Finding;
      customer?: CustomerSnapshot;
      run?: RunSnapshot;
      owner?: CustomerMeta;
    }> = [];
    // One subject's failure (a rule that throws) must not keep the others from being judged.
    const each = <T>(subject: string, judgeOne: () => T[]): T[] => {
      try {
        return judgeOne();
      } catch (error) {
        log.error({ err: error, subject }, 'a rule failed for this subject; the others are judged');
        return [];
      }
    };
    for (const s of snapshots.values()) {
      const rules = config.rules.for(s.meta.customer_id, s.meta.plan_kind);
      for (const f of each(`c:${s.meta.customer_id}`, () => evaluateCustomer(s, rules, scope)))
        findings.push({ f, customer: s });
    }
    const runFindings = [...runSnapshots.values()].flatMap((r) =>
      each(`r:${r.runId}`, () => evaluateRun(r, config.rules.for(r.customer, r.planKind))).map((f) => ({
        f,
        run: r,
      })),
    );
    if (runFindings.length > 0) {
      // A runaway alert names its customer too, so it can be routed by customer and plan.
      const owners = [...new Set(runFindings.map(({ run }) => run.customer))].filter(
        (c) => !snapshots.has(c),
      );
      const more = await deps.reader.customers(epoch, owners, now);
      for (const x of runFindings)
        findings.push({ ...x, owner: (snapshots.get(x.run.customer) ?? more.get(x.run.customer))?.meta });
    }
    for (const u of unpriced) {
      const [day, model] = [u.slice(0, 10), u.slice(11)];
      const snapshot = await deps.reader.unpriced(epoch, day, model);
      for (const f of evaluateUnpriced(snapshot, config.rules.defaults)) findings.push({ f });
    }
    const ids = findings.map(({ f }) => alertId(f));
    // A resolvable alert of the previous period (yesterday's spike, last period's forecast) that is
    // still firing belongs to the same episode.
    const before = findings.map(({ f }) => {
      const period = f.resolvable ? previousPeriod(f) : null;
      return period ? { id: alertId({ ...f, period }), period } : undefined;
    });
    const states = await deps.alerts.states([...ids, ...before.flatMap((b) => (b ? [b.id] : []))]);
    const changes: AlertTransition[] = [];
    const watch = new Map<string, boolean>();
    const message = async (f: Finding, event: AlertEvent, x: (typeof findings)[number]) => {
      const breakdown =
        x.customer && event === 'fired'
          ? await deps.reader.breakdown(
              epoch,
              x.customer.meta.customer_id,
              x.customer.meta.billing_period_start,
              5,
            )
          : undefined;
      const payload = buildPayload({
        finding: f,
        event,
        atMs: now,
        database: o.database,
        customer: x.customer?.meta ?? x.owner,
        breakdown,
        run: x.run,
      });
      changes.push({
        alertId: alertId(f),
        event,
        payload: JSON.stringify(payload),
        ttlSeconds: ALERT_STATE_TTL_SECONDS,
      });
    };
    const keepWatching = (f: Finding, open: boolean) => {
      if (f.resolvable) watch.set(f.subject, (watch.get(f.subject) ?? false) || open);
    };
    for (let i = 0; i < findings.length; i++) {
      const x = findings[i]!;
      const { f } = x;
      const previous = before[i];
      if (previous && states.get(previous.id) === 'firing') {
        if (f.rule === 'spike' && f.state !== 'clear') {
          // The same spike, past midnight: no new page; it resolves when it clears.
          keepWatching(f, true);
          continue;
        }
        const ended = f.rule === 'forecast' ? ` The billing period from ${previous.period} has ended.` : '';
        await message({ ...f, period: previous.period, summary: `${f.summary}${ended}` }, 'resolved', x);
        if (f.rule === 'spike') {
          keepWatching(f, false);
          continue;
        }
      }
      const state = states.get(ids[i]!);
      const event = decide(f, state);
      // Subjects with a firing alert that can resolve are re-judged as time passes, without new events.
      keepWatching(f, (state === 'firing' && event !== 'resolved') || event === 'fired');
      if (event) await message(f, event, x);
    }
    const done = await deps.alerts.transition(changes);
    const k = deps.keys.at(epoch);
    const p = deps.redis.pipeline();
    // Customers whose aggregates have expired are no longer watched.
    for (const c of customers) if (!snapshots.has(c)) p.srem(k.watch(partition), `c:${c}`);
    for (const [subject, open] of watch) {
      const key = subject.startsWith('customer:') ? `c:${subject.slice(9)}` : subject;
      if (open) p.sadd(k.watch(partition), key);
      else p.srem(k.watch(partition), key);
    }
    await p.exec();
    for (const c of done) log.info({ alertId: c.alertId, event: c.event }, 'alert');
    for (const c of done)
      if (c.event === 'fired') deps.metrics?.alertFired(partition, JSON.parse(c.payload).rule, deps.clock());
    return done.length;
  }

  /**
   * Judges the subjects marked in `key` (dirty marks or trend marks) in chunks, clearing each mark
   * only if nothing marked it again meanwhile; `extra` subjects (watched ones) are judged too.
   */
  async function judgeMarked(
    epoch: string,
    key: string,
    partition: number,
    scope: 'all' | 'totals',
    extra: string[] = [],
  ): Promise<number> {
    const marked = Object.entries(await deps.redis.hgetall(key));
    const others = extra.filter((x) => !marked.some(([m]) => m === x)).map((x): [string, string] => [x, '']);
    const entries = [...marked, ...others];
    let sent = 0;
    for (let i = 0; i < entries.length; i += chunk) {
      const part = entries.slice(i, i + chunk);
      sent += await judge(
        epoch,
        part.map(([subject]) => subject),
        partition,
        scope,
      );
      const versions = part.filter(([, v]) => v !== '').flat();
      if (versions.length > 0) await deps.redis.burnrateClearDirty(key, ...versions);
    }
    return sent;
  }

  /** Right after a batch: every subject it touched, on totals (budget, whale, runaway, unpriced, unmapped). */
  function evaluatePartition(epoch: string, partition: number): Promise<number> {
    deps.metrics?.judging(partition);
    return judgeMarked(epoch, deps.keys.at(epoch).dirty(partition), partition, 'totals');
  }

  /**
   * Every sweep: the trends (forecast, spike) of customers whose windows changed, and every watched
   * subject, whose firing alert may resolve as time passes (spikes fade, forecasts cool).
   */
  async function sweepPartition(epoch: string, partition: number): Promise<number> {
    const k = deps.keys.at(epoch);
    const watched = await deps.redis.smembers(k.watch(partition));
    return judgeMarked(epoch, k.trends(partition), partition, 'all', watched);
  }

  return {
    evaluatePartition,
    sweepPartition,
    /** Runs one evaluation and reports failures once per interval instead of throwing. */
    async safely(work: () => Promise<number>): Promise<void> {
      try {
        await work();
        failing.recovered('the rules run again');
      } catch (error) {
        failing.warn({ err: error }, 'evaluating the rules failed; the dirty marks stay and are retried');
      }
    },
  };
}

export type Evaluator = ReturnType<typeof createEvaluator>;
