/**
 * The health model of a burnrate process, pure: what the probes observed goes in, the answers of
 * /healthz and /readyz come out. No timers and no I/O here (runtime/probes.ts does the observing),
 * so every decision is unit-tested with made-up clocks.
 */

/** One line of /readyz. `since`: when the check last changed between ok and not ok (ISO-8601). */
export interface CheckResult {
  name: string;
  ok: boolean;
  reason: string;
  since: string;
}

/** What the broker says about one partition a consumer group reads. */
export interface PartitionOffsets {
  topic: string;
  partition: number;
  /** The group's committed offset; -1 when it has committed nothing yet. */
  committed: number;
  /** The log-end (high watermark) offset. */
  end: number;
  /** The earliest offset still in the log (where a group without commits starts). */
  start: number;
}

export const lagOf = (p: PartitionOffsets): number =>
  Math.max(0, p.end - (p.committed >= 0 ? p.committed : p.start));

interface PartitionProgress {
  committed: number;
  /** The lag when the committed offset last advanced (or was first seen). */
  lagThen: number;
  lag: number;
  /** Since when records newer than that have been waiting, the offset not moving; undefined: none. */
  waitingSince: number | undefined;
}

/**
 * A consumer group is stalled when, on some partition, records have arrived since its committed
 * offset last advanced (its lag is above zero and larger than it was then) and the offset has not
 * advanced for `stallMs` since they were first seen. A busy consumer whose lag grows but whose offset
 * moves is not stalled; an idle one with nothing to read is not either, nor one that was idle for an
 * hour and has just been sent a burst (the clock starts when the records are seen, not at the last
 * advance).
 */
export class ProgressJudge {
  private readonly partitions = new Map<string, PartitionProgress>();
  private seen = false;

  constructor(
    readonly group: string,
    private readonly stallMs: number,
  ) {}

  observe(nowMs: number, offsets: readonly PartitionOffsets[]): void {
    this.seen = true;
    for (const o of offsets) {
      const key = `${o.topic}/${o.partition}`;
      const lag = lagOf(o);
      const p = this.partitions.get(key);
      if (!p || o.committed !== p.committed) {
        // Moved on (or back, after a reset): progress, measured from here.
        this.partitions.set(key, { committed: o.committed, lagThen: lag, lag, waitingSince: undefined });
      } else {
        p.lag = lag;
        if (lag > p.lagThen) p.waitingSince ??= nowMs;
        else p.waitingSince = undefined;
      }
    }
  }

  /** The stalled partitions, worst first, with how long each has not moved. */
  stalled(nowMs: number): Array<{ partition: string; forMs: number; lag: number }> {
    const out: Array<{ partition: string; forMs: number; lag: number }> = [];
    for (const [partition, p] of this.partitions) {
      if (p.waitingSince === undefined || p.lag === 0) continue;
      const forMs = nowMs - p.waitingSince;
      if (forMs >= this.stallMs) out.push({ partition, forMs, lag: p.lag });
    }
    return out.sort((a, b) => b.forMs - a.forMs);
  }

  /** Undefined until the first observation: nothing is known yet, which is not a failure. */
  problem(nowMs: number): string | undefined {
    if (!this.seen) return undefined;
    const stalled = this.stalled(nowMs);
    if (stalled.length === 0) return undefined;
    const [worst] = stalled;
    return `consumer group ${this.group} has not advanced on ${stalled.length} partition(s) while their lag grows; ${worst!.partition}: no progress for ${Math.round(worst!.forMs / 1000)} s, lag ${worst!.lag}`;
  }
}

/**
 * A dependency (ClickHouse, Redis) is a problem once it has failed for longer than `graceMs`
 * without a success in between: a blip, a restart or a slow answer does not turn readiness red.
 */
export class DependencyJudge {
  private failingSince: number | undefined;
  private lastError = '';

  constructor(
    readonly name: string,
    private readonly graceMs: number,
  ) {}

  observe(nowMs: number, error: string | undefined): void {
    if (error === undefined) {
      this.failingSince = undefined;
      return;
    }
    this.failingSince ??= nowMs;
    this.lastError = error;
  }

  problem(nowMs: number): string | undefined {
    if (this.failingSince === undefined || nowMs - this.failingSince <= this.graceMs) return undefined;
    return `${this.name} unreachable for ${Math.round((nowMs - this.failingSince) / 1000)} s: ${this.lastError}`;
  }
}

/** Anything that can say what is wrong now, or nothing. */
export interface Judge {
  problem(nowMs: number): string | undefined;
}

/**
 * Liveness and readiness of one process. `crashed` (a role reported a failure it cannot recover
 * from) turns both red; `started` is false until every component has started and again once the
 * process is stopping; every other check turns readiness red only.
 */
export class Health {
  private crash: { reason: string; at: number } | undefined;
  private phase: { started: boolean; at: number };
  private readonly checks = new Map<string, Judge>();
  private readonly since = new Map<string, { ok: boolean; at: number }>();

  constructor(nowMs: number) {
    this.phase = { started: false, at: nowMs };
  }

  add(name: string, judge: Judge): void {
    this.checks.set(name, judge);
  }

  started(nowMs: number): void {
    this.phase = { started: true, at: nowMs };
  }

  stopping(nowMs: number): void {
    if (this.phase.started) this.phase = { started: false, at: nowMs };
  }

  crashed(nowMs: number, reason: string): void {
    this.crash ??= { reason, at: nowMs };
  }

  /** /healthz: down only when a role has crashed (a restart is the remedy). */
  liveness(): { ok: boolean; reason: string; since: string } {
    return this.crash
      ? { ok: false, reason: this.crash.reason, since: iso(this.crash.at) }
      : { ok: true, reason: '', since: iso(this.phase.at) };
  }

  /** /readyz: every check, and whether all of them are ok. */
  readiness(nowMs: number): { ok: boolean; checks: CheckResult[] } {
    const results: CheckResult[] = [
      this.crash
        ? { name: 'roles', ok: false, reason: this.crash.reason, since: iso(this.crash.at) }
        : { name: 'roles', ok: true, reason: '', since: iso(this.phase.at) },
      {
        name: 'started',
        ok: this.phase.started,
        reason: this.phase.started ? '' : 'starting or stopping',
        since: iso(this.phase.at),
      },
    ];
    for (const [name, judge] of this.checks) {
      const reason = judge.problem(nowMs);
      const ok = reason === undefined;
      const prev = this.since.get(name);
      if (!prev || prev.ok !== ok) this.since.set(name, { ok, at: nowMs });
      results.push({ name, ok, reason: reason ?? '', since: iso(this.since.get(name)!.at) });
    }
    return { ok: results.every((c) => c.ok), checks: results };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
