import { createEmitter } from '@burnrate/sdk';
import { CHAOS_MODEL, CHAOS_PROVIDER, type EventPlan } from './event-plan.js';

export interface LoadResult {
  /** Events emit() accepted: the events produced. */
  produced: number;
  /** Events Kafka acknowledged (acks=all). */
  acknowledged: number;
  /** Events the emitter gave up on (reported to onError). */
  failed: number;
  /** Exact cost of the produced events, in nano-USD. */
  expectedCostNanos: bigint;
  seconds: number;
}

export interface Load {
  /** Events emitted so far. */
  emitted(): number;
  /** Resolves once every planned event is emitted and the emitter has closed (all acknowledged or failed). */
  done: Promise<LoadResult>;
  /** Emits nothing more and closes the emitter soon (a scenario that failed must not keep loading the cluster). */
  abort(): void;
}

/**
 * Emits the plan's events through the real client library (@burnrate/sdk: acks=all, idempotent,
 * retried until acknowledged) at `ratePerSecond`. `maxAttempts: 1` gives up on a batch after one
 * failed send (the negative control of the broker scenarios).
 */
export function startLoad(o: {
  brokers: string;
  topic: string;
  plan: EventPlan;
  ratePerSecond: number;
  maxAttempts?: number;
}): Load {
  let emitted = 0;
  let aborted = false;
  const done = (async (): Promise<LoadResult> => {
    const started = Date.now();
    let failed = 0;
    const emitter = await createEmitter({
      brokers: o.brokers.split(','),
      topic: o.topic,
      service: 'chaos',
      clientId: 'burnrate-chaos',
      maxQueueEvents: 5_000_000,
      ...(o.maxAttempts ? { retry: { maxAttempts: o.maxAttempts } } : {}),
      onError: (failure) => {
        failed += failure.eventIds.length;
      },
    });
    const tickMs = 50;
    while (emitted < o.plan.events && !aborted) {
      const due = Math.min(o.plan.events, Math.floor(((Date.now() - started) / 1000) * o.ratePerSecond));
      for (; emitted < due; emitted++) {
        const e = o.plan.event(emitted);
        emitter.emit({
          customer_ref: e.customerRef,
          provider: CHAOS_PROVIDER,
          model: CHAOS_MODEL,
          tokens: { input: e.input, output: e.output },
          workflow: e.workflow,
          workflow_run_id: e.runId,
          feature: 'chaos',
        });
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }
    const report = await emitter.close({ timeoutMs: aborted ? 5_000 : 600_000 });
    return {
      produced: emitted,
      acknowledged: report.stats.sent,
      failed: failed + report.undelivered.count,
      expectedCostNanos: o.plan.costOf(emitted),
      seconds: (Date.now() - started) / 1000,
    };
  })();
  // A failure is the caller's to see when it awaits `done` (after its faults), not an unhandled rejection now.
  done.catch(() => {});
  return {
    emitted: () => emitted,
    done,
    abort: () => {
      aborted = true;
    },
  };
}
