import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the enricher reports per committed batch (the fields of its EnrichOutcome it counts). */
export type EnrichedOutcome =
  | { kind: 'enriched'; unpriced: boolean; unmapped: boolean }
  | { kind: 'dead'; reason: string };

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROWS = [1, 10, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000];

/**
 * Every metric of one burnrate process, in a registry of its own (never prom-client's global one, so
 * several apps can run in one test process). Roles get this object in their deps and call one method
 * per thing that happened; they never see HTTP or prom-client.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly r = [this.registry];
  readonly eventsIn = new Counter({
    name: 'burnrate_events_in_total',
    help: 'Events (rows) a role took in: enricher from usage.events, ledger and aggregator from usage.enriched/usage.dlq',
    labelNames: ['role'],
    registers: this.r,
  });
  readonly eventsOut = new Counter({
    name: 'burnrate_events_out_total',
    help: 'Events (rows) a role passed on, by output: enriched/dlq (enricher), usage_events/dead_letters (ledger), redis (aggregator)',
    labelNames: ['role', 'output'],
    registers: this.r,
  });
  readonly deadLetters = new Counter({
    name: 'burnrate_dead_letters_total',
    help: 'Events dead-lettered, by reason',
    labelNames: ['role', 'reason'],
    registers: this.r,
  });
  readonly unpriced = new Counter({
    name: 'burnrate_unpriced_events_total',
    help: 'Enriched events whose model has no price in the catalog (stored with unpriced = 1)',
    labelNames: ['role'],
    registers: this.r,
  });
  readonly unmapped = new Counter({
    name: 'burnrate_unmapped_events_total',
    help: 'Enriched events whose customer_ref is unknown (attributed to unmapped:<ref>)',
    labelNames: ['role'],
    registers: this.r,
  });
  readonly consumerLag = new Gauge({
    name: 'burnrate_consumer_lag',
    help: "Records after a consumer group's committed offset, per partition (sampled every READY_PROBE_INTERVAL_MS)",
    labelNames: ['role', 'group', 'topic', 'partition'],
    registers: this.r,
  });
  readonly batchRows = new Histogram({
    name: 'burnrate_ledger_batch_rows',
    help: 'Rows per ClickHouse insert of the ledger',
    labelNames: ['role', 'table'],
    buckets: ROWS,
    registers: this.r,
  });
  readonly insertSeconds = new Histogram({
    name: 'burnrate_ledger_insert_seconds',
    help: 'Duration of one successful ledger insert into ClickHouse',
    labelNames: ['role', 'table'],
    buckets: SECONDS,
    registers: this.r,
  });
  readonly alertsFired = new Counter({
    name: 'burnrate_alerts_fired_total',
    help: 'Alerts fired, by rule',
    labelNames: ['role', 'rule'],
    registers: this.r,
  });
  readonly alertLatency = new Histogram({
    name: 'burnrate_alert_latency_seconds',
    help: 'From the usage.enriched record time of the oldest row the evaluation judged to the alert firing',
    labelNames: ['role', 'rule'],
    buckets: SECONDS,
    registers: this.r,
  });
  readonly deliveryAttempts = new Counter({
    name: 'burnrate_delivery_attempts_total',
    help: 'Alert delivery attempts, by destination and outcome (delivered, retrying, failed, refused, disabled, skipped)',
    labelNames: ['role', 'destination', 'outcome'],
    registers: this.r,
  });
  readonly deliveryFailures = new Counter({
    name: 'burnrate_delivery_failures_total',
    help: 'Alert deliveries that failed for good (listed by `burnrate alerts failed`)',
    labelNames: ['role', 'destination'],
    registers: this.r,
  });
  readonly deliveryLatency = new Histogram({
    name: 'burnrate_alert_delivery_seconds',
    help: 'From an alert firing to its delivery at a destination',
    labelNames: ['role', 'destination'],
    buckets: SECONDS,
    registers: this.r,
  });
  readonly apiRequests = new Counter({
    name: 'burnrate_api_requests_total',
    help: 'API requests, by route, method and status',
    labelNames: ['role', 'route', 'method', 'status'],
    registers: this.r,
  });
  readonly apiSeconds = new Histogram({
    name: 'burnrate_api_request_seconds',
    help: 'API request duration, by route',
    labelNames: ['role', 'route'],
    buckets: SECONDS,
    registers: this.r,
  });
  readonly checkOk = new Gauge({
    name: 'burnrate_check_ok',
    help: 'Readiness checks of this process: 1 ok, 0 failing (see /readyz for the reason)',
    labelNames: ['check'],
    registers: this.r,
  });

  readonly assignedPartitions = new Gauge({
    name: 'burnrate_consumer_assigned_partitions',
    help: "Partitions assigned to this process's consumer of a role, at its last group join",
    labelNames: ['role'],
    registers: this.r,
  });

  /** Per role: the `topic/partition`s its consumer was assigned at its last group join. */
  private readonly assignments = new Map<string, Set<string>>();

  /** A role's consumer joined its group with this assignment (KafkaJS GROUP_JOIN memberAssignment). */
  assignment(role: string, memberAssignment: Record<string, number[]>): void {
    const set = new Set<string>();
    for (const [topic, partitions] of Object.entries(memberAssignment))
      for (const p of partitions) set.add(`${topic}/${p}`);
    this.assignments.set(role, set);
    this.assignedPartitions.set({ role }, set.size);
  }

  /** What a role's consumer was last assigned; undefined before its first join. */
  assigned(role: string): ReadonlySet<string> | undefined {
    return this.assignments.get(role);
  }

  /** Per aggregator partition: the record time of the oldest row applied and not yet judged. */
  private readonly pendingSince = new Map<number, number>();
  private readonly judgingSince = new Map<number, number>();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'burnrate_' });
  }

  /** The enricher committed a batch of `consumed` records with these outcomes. */
  enricherBatch(consumed: number, outcomes: readonly EnrichedOutcome[]): void {
    const role = 'enricher';
    this.eventsIn.inc({ role }, consumed);
    let enriched = 0;
    let unpriced = 0;
    let unmapped = 0;
    for (const o of outcomes) {
      if (o.kind === 'dead') {
        this.deadLetters.inc({ role, reason: o.reason });
        continue;
      }
      enriched++;
      if (o.unpriced) unpriced++;
      if (o.unmapped) unmapped++;
    }
    this.eventsOut.inc({ role, output: 'enriched' }, enriched);
    this.eventsOut.inc({ role, output: 'dlq' }, outcomes.length - enriched);
    if (unpriced > 0) this.unpriced.inc({ role }, unpriced);
    if (unmapped > 0) this.unmapped.inc({ role }, unmapped);
  }

  /** The ledger stored one insert group: rows read, skipped as replays, rejected into dead_letters. */
  ledgerInsert(table: string, s: { rows: number; skipped: number; rejected: number; seconds: number }): void {
    const role = 'ledger';
    this.eventsIn.inc({ role }, s.rows + s.skipped);
    this.eventsOut.inc({ role, output: table }, s.rows - s.rejected);
    if (s.rejected > 0) this.deadLetters.inc({ role, reason: 'sink_rejected' }, s.rejected);
    this.batchRows.observe({ role, table }, s.rows);
    this.insertSeconds.observe({ role, table }, s.seconds);
  }

  /** The aggregator read `rows` rows it does not apply: already counted (a replay) or unreadable. */
  aggregatorPassed(rows: number): void {
    this.eventsIn.inc({ role: 'aggregator' }, rows);
  }

  /** The aggregator applied `rows` rows of partition `p`, the oldest written to Kafka at `recordMs`. */
  aggregatorApplied(p: number, rows: number, recordMs: number): void {
    this.eventsIn.inc({ role: 'aggregator' }, rows);
    this.eventsOut.inc({ role: 'aggregator', output: 'redis' }, rows);
    if (rows > 0 && !this.pendingSince.has(p)) this.pendingSince.set(p, recordMs);
  }

  /** An evaluation of partition `p` starts: it judges what was applied until now. */
  judging(p: number): void {
    const since = this.pendingSince.get(p);
    this.pendingSince.delete(p);
    if (since !== undefined) this.judgingSince.set(p, since);
    else this.judgingSince.delete(p);
  }

  /** An alert fired while judging partition `p`. */
  alertFired(p: number, rule: string, nowMs: number): void {
    this.alertsFired.inc({ role: 'aggregator', rule });
    const since = this.judgingSince.get(p);
    if (since !== undefined) this.alertLatency.observe({ role: 'aggregator', rule }, (nowMs - since) / 1000);
  }

  deliveryAttempt(destination: string, outcome: string, firedLatencyMs?: number): void {
    this.deliveryAttempts.inc({ role: 'notifier', destination, outcome });
    if (firedLatencyMs !== undefined && outcome === 'delivered')
      this.deliveryLatency.observe({ role: 'notifier', destination }, Math.max(0, firedLatencyMs) / 1000);
  }

  deliveryFailed(destination: string): void {
    this.deliveryFailures.inc({ role: 'notifier', destination });
  }

  apiRequest(route: string, method: string, status: number, seconds: number): void {
    this.apiRequests.inc({ role: 'api', route, method, status: String(status) });
    this.apiSeconds.observe({ role: 'api', route }, seconds);
  }
}
