import { billingPeriodStart } from '@burnrate/core';
import { createEmitter, type Emitter } from '@burnrate/sdk';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { TopicNames } from '../kafka/topics.js';
import type { Component } from '../runtime/lifecycle.js';
import { publishCustomers } from './customers-publisher.js';
import { DEMO_CUSTOMERS, demoBacklog, demoRun, loopingRun } from './demo-data.js';

/**
 * Demo traffic for `npm start`: publishes the demo customers to the compacted customers topic,
 * then emits workflow runs through the real client library at roughly `eventsPerSecond`.
 */
export function createDemo(
  o: {
    brokers: string[];
    topics: TopicNames;
    eventsPerSecond: number;
    /** Also emit usage from earlier in the billing period (once per local state directory). */
    backlog?: boolean;
    /** Start one looping agent run this long after start; undefined: none. */
    loopAfterMs?: number;
  },
  deps: { kafka: Kafka; logger: Logger },
): Component {
  const log = deps.logger.child({ role: 'demo' });
  let emitter: Emitter | undefined;
  let timer: NodeJS.Timeout | undefined;
  let loop: NodeJS.Timeout | undefined;
  return {
    name: 'demo',
    async start() {
      await publishCustomers(deps.kafka, o.topics.customers, DEMO_CUSTOMERS.map(toCustomerRecord));
      if (o.eventsPerSecond <= 0) return;
      const sdk = await createEmitter({
        brokers: o.brokers,
        topic: o.topics.events,
        clientId: 'burnrate-demo',
        service: 'demo-app',
        logger: log,
      });
      emitter = sdk;
      if (o.backlog) {
        const now = Date.now();
        const past = demoBacklog(
          Math.max(Date.parse(`${billingPeriodStart(now, 1)}T00:00:00Z`), now - 7 * 86_400_000),
          now,
        );
        for (const e of past) sdk.emit({ ...e, step_kind: 'llm_call' });
        log.info({ events: past.length }, 'demo: usage from earlier in the billing period emitted');
      }
      if (o.loopAfterMs !== undefined) {
        const runId = `run_loop_${Date.now().toString(36)}`;
        let step = 0;
        loop = setTimeout(function next() {
          sdk.emit({ ...loopingRun(step, runId), step_kind: 'llm_call' });
          if (++step < 70) loop = setTimeout(next, 250);
        }, o.loopAfterMs);
      }
      const tickMs = 100;
      let owed = 0;
      timer = setInterval(() => {
        owed += (o.eventsPerSecond * tickMs) / 1000;
        while (owed >= 1) {
          const run = demoRun();
          for (const e of run) sdk.emit({ ...e, step_kind: 'llm_call' });
          owed -= run.length;
        }
      }, tickMs);
      log.info({ eventsPerSecond: o.eventsPerSecond }, 'demo traffic started');
    },
    async stop() {
      clearInterval(timer);
      clearTimeout(loop);
      if (!emitter) return;
      const report = await emitter.close({ timeoutMs: 10_000 });
      log.info({ report }, 'demo traffic stopped');
    },
  };
}

function toCustomerRecord(c: (typeof DEMO_CUSTOMERS)[number]) {
  return {
    customer_ref: c.customer_ref,
    customer_id: c.customer_id,
    name: c.name,
    team: c.team,
    plan: {
      kind: c.plan.kind,
      revenue_nanos: usdToNanos(c.plan.revenue_usd),
      currency: 'USD',
      period: 'month',
    },
    monthly_budget_nanos: usdToNanos(c.monthly_budget_usd),
    billing_anchor_day: 1,
    valid_from: '2020-01-01T00:00:00Z',
  };
}

const usdToNanos = (usd: string) => (BigInt(usd) * 1_000_000_000n).toString();
