import { createHash } from 'node:crypto';
import {
  type AlertingConfig,
  type AlertPayload,
  BurnrateError,
  type Destination,
  routeAlert,
} from '@burnrate/core';
import { DelayedError, type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { destinationRequest } from '../../delivery/destination-request.js';
import type { HttpTransport } from '../../delivery/http-transport.js';
import { outcomeOf, retryDelayMs } from '../../delivery/outcome.js';
import type { AggregateKeys } from '../../redis/aggregate-keys.js';
import type { Fatal } from '../../runtime/fatal.js';
import type { Component } from '../../runtime/lifecycle.js';
import type { Metrics } from '../../runtime/metrics.js';
import { type AlertJob, routedAlert } from '../aggregator/alert-relay.js';
import type { DeliveryRecord } from './delivery-record.js';

/** What a job on the deliveries queue carries: one message for one destination. */
export interface DeliveryJob {
  payload: AlertPayload;
  destination: string;
}

/** The notifier's settings (createApp maps NOTIFIER_* onto them). */
export interface NotifierConfig {
  /** Deliveries in flight at once. */
  concurrency: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A worker that dies mid-send loses its job's lock after this long; another takes the job over. */
  lockMs: number;
  /** BullMQ key prefix. */
  prefix: string;
}

export interface NotifierDeps {
  redis: Redis;
  keys: AggregateKeys;
  deliveries: Queue<DeliveryJob>;
  transport: HttpTransport;
  alerting: () => AlertingConfig;
  clock: () => number;
  logger: Logger;
  fatal: Fatal;
  metrics?: Metrics;
}

/** A retriable delivery failure, carrying the receiver's Retry-After when it gave one. */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/**
 * Delivers alerts: the `alerts` queue (one job per message, jobId = message id) is routed to the
 * destinations the alerting file names for its rule, customer and severity; each destination gets
 * its own job on `deliveries` (jobId = message id + destination), retried with jittered exponential
 * backoff, Retry-After honoured. Every attempt is recorded (a Redis stream relayed to ClickHouse
 * alert_deliveries). A worker killed mid-send loses its lock and the job is sent again — with the
 * same webhook-id, which receivers use to deduplicate.
 */
export function createNotifier(o: NotifierConfig, deps: NotifierDeps): Component {
  const log = deps.logger.child({ role: 'notifier' });
  let router: Worker<AlertJob> | undefined;
  let sender: Worker<DeliveryJob> | undefined;

  async function record(r: DeliveryRecord): Promise<void> {
    await deps.redis.xadd(deps.keys.deliveryOutbox, '*', 'record', JSON.stringify(r));
  }

  const fingerprint = (d: Destination) =>
    createHash('sha256')
      .update(`${d.kind}\u0000${d.url}\u0000${d.kind === 'pagerduty' ? d.routing_key : ''}`)
      .digest('hex')
      .slice(0, 16);

  async function route(job: Job<AlertJob>) {
    const { payload, skipDestinations = [] } = job.data;
    const routed = routeAlert(deps.alerting().destinations, routedAlert(payload)).filter(
      (d) => !skipDestinations.includes(d.name),
    );
    await deps.deliveries.addBulk(
      routed.map((d) => ({
        name: 'deliver',
        data: { payload, destination: d.name },
        opts: { jobId: `${payload.id}.${d.name}` },
      })),
    );
    if (routed.length === 0)
      log.info({ messageId: payload.id, rule: payload.rule }, 'no destination matches this alert');
    return { destinations: routed.map((d) => d.name) };
  }

  async function deliver(job: Job<DeliveryJob>, token?: string) {
    const { payload, destination: name } = job.data;
    if (payload.type === 'alert.resolved' && token) {
      // A resolution never overtakes its alert at a destination (PagerDuty would open an incident
      // that nothing closes): it waits, without using an attempt, until the fired message is done.
      const fired = await deps.deliveries.getJob(`${payload.alert_id}.${name}`);
      if (fired && !(await fired.isCompleted()) && !(await fired.isFailed())) {
        await job.moveToDelayed(deps.clock() + 2_000, token);
        throw new DelayedError();
      }
    }
    const d = deps.alerting().destinations.find((x) => x.name === name);
    const started = deps.clock();
    const startedMono = performance.now();
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const base = {
      attempt_id: `${job.id}#${job.attemptsStarted}`,
      message_id: payload.id,
      alert_id: payload.alert_id,
      destination: name,
      kind: d?.kind ?? '',
      attempt: job.attemptsStarted,
      at: started,
    };
    const done = (outcome: DeliveryRecord['outcome'], status: number, error = '') => {
      const firedAt = payload.type === 'alert.fired' ? Date.parse(payload.at) : Number.NaN;
      deps.metrics?.deliveryAttempt(
        name,
        outcome,
        Number.isNaN(firedAt) ? undefined : deps.clock() - firedAt,
      );
      return record({
        ...base,
        outcome,
        status,
        error: error.slice(0, 2_000),
        // A monotonic clock: a wall clock stepping back must not make a negative (unstorable) duration.
        duration_ms: Math.round(performance.now() - startedMono),
      });
    };
    if (!d) {
      await done('failed', 0, `destination "${name}" is no longer in the alerting file`);
      throw new UnrecoverableError(`destination "${name}" is no longer in the alerting file`);
    }
    if ((await deps.redis.hget(deps.keys.disabledDestinations, name)) === fingerprint(d)) {
      await done(
        'skipped',
        0,
        'the destination is disabled: it answered 410 Gone; change its URL or run `burnrate alerts enable`',
      );
      return { skipped: true };
    }
    const request = destinationRequest(d, payload, started);
    let status: number;
    let retryAfterMs: number | undefined;
    try {
      ({ status, retryAfterMs } = await deps.transport.post(request.url, request));
    } catch (error) {
      const e = error as BurnrateError;
      if (e instanceof BurnrateError && !e.retriable) {
        await done('refused', 0, e.message);
        throw new UnrecoverableError(e.message);
      }
      await done(final ? 'failed' : 'retrying', 0, e.message);
      throw new RetryLater(e.message, undefined);
    }
    const outcome = outcomeOf(status, retryAfterMs);
    switch (outcome.kind) {
      case 'delivered':
        await done('delivered', status);
        return { status };
      case 'disabled':
        await deps.redis.hset(deps.keys.disabledDestinations, name, fingerprint(d));
        await done('disabled', status, outcome.reason);
        log.error({ destination: name }, `destination ${name} is disabled: ${outcome.reason}`);
        throw new UnrecoverableError(outcome.reason);
      case 'failed':
        await done('failed', status, outcome.reason);
        throw new UnrecoverableError(outcome.reason);
      case 'retry':
        await done(final ? 'failed' : 'retrying', status, outcome.reason);
        throw new RetryLater(outcome.reason, outcome.retryAfterMs);
    }
  }

  const workerOptions = {
    connection: deps.redis,
    prefix: o.prefix,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(1_000, Math.floor(o.lockMs / 2)),
    // A job whose worker died is taken over, however often that happens; only deliveries fail it.
    maxStalledCount: 1_000,
  };

  return {
    name: 'notifier',
    async start() {
      router = new Worker<AlertJob>('alerts', route, { ...workerOptions, concurrency: 4 });
      sender = new Worker<DeliveryJob>('deliveries', deliver, {
        ...workerOptions,
        concurrency: o.concurrency,
        settings: {
          backoffStrategy: (attemptsMade, _type, err) =>
            retryDelayMs(attemptsMade, {
              baseMs: o.backoffBaseMs,
              maxMs: o.backoffMaxMs,
              retryAfterMs: err instanceof RetryLater ? err.retryAfterMs : undefined,
            }),
        },
      });
      for (const w of [router, sender]) {
        w.on('error', (error) => log.warn({ err: error }, 'notifier worker error (Redis unreachable?)'));
      }
      sender.on('failed', (job, error) => {
        if (!job) return;
        const gaveUp = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
        if (gaveUp) {
          deps.metrics?.deliveryFailed(job.data.destination);
          log.error(
            { jobId: job.id, destination: job.data.destination, reason: error.message },
            'alert delivery failed for good; `burnrate alerts failed` lists it and `burnrate alerts replay` retries it',
          );
        }
      });
      await Promise.all([router.waitUntilReady(), sender.waitUntilReady()]);
      const destinations = deps.alerting().destinations.map((d) => d.name);
      if (destinations.length === 0) {
        log.warn(
          'no destinations in BURNRATE_RULES_FILE: alerts are recorded in ClickHouse (burnrate.alerts) but delivered nowhere',
        );
      }
      log.info({ destinations }, 'notifier started');
    },
    async stop() {
      // close() waits for jobs in progress to finish (a delivery is bounded by the request timeout).
      await Promise.all([router?.close(), sender?.close()]);
      deps.transport.close();
    },
  };
}
