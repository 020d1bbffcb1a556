import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../devstack/src/index.js';
import { createEmitter, type Emitter } from '../src/index.js';
import { type OwnBroker, startOwnBroker } from './broker-fixture.js';
import { captureLogger, consumeAll, createTopic, usage } from './helpers.js';

const OUTAGE_MS = 30_000;
let broker: OwnBroker;

beforeAll(async () => {
  broker = await startOwnBroker();
}, 120_000);
afterAll(() => broker?.destroy(), 60_000);

/** Emits a few events every 20 ms until stopped; remembers the id of every accepted event. */
function steadyLoad(emitter: Emitter, customer: string) {
  const accepted = new Set<string>();
  let rejected = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      try {
        accepted.add(emitter.emit(usage({ customer_ref: `${customer}-${i % 5}` })));
      } catch {
        rejected++;
      }
    }
  }, 20);
  return {
    accepted,
    rejected: () => rejected,
    stop: () => clearInterval(timer),
  };
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

/**
 * Whether each partition holds its events in emit order. Event ids are UUIDv7 from one process,
 * so emit order is id order; a resend may repeat an earlier event, so only first copies count.
 */
function inEmitOrder(messages: Array<{ partition: number; event: { event_id: string } }>): boolean {
  const seen = new Set<string>();
  const last = new Map<number, string>();
  for (const m of messages) {
    if (seen.has(m.event.event_id)) continue;
    seen.add(m.event.event_id);
    if ((last.get(m.partition) ?? '') > m.event.event_id) return false;
    last.set(m.partition, m.event.event_id);
  }
  return true;
}

describe('a 30 s broker outage while events are emitted', () => {
  it('loses nothing: retried in memory, spooled to disk and drained, or reported undelivered at close — and a closed spool is resent by a new emitter', async () => {
    const brokers = broker.brokers;
    const [memoryTopic, spoolTopic, closedTopic, liveTopic] = await Promise.all([
      createTopic(brokers),
      createTopic(brokers),
      createTopic(brokers),
      createTopic(brokers),
    ]);
    const spoolDir = mkdtempSync(join(tmpdir(), 'sdk-spool-'));
    const liveLog = captureLogger();
    const retry = { initialMs: 100, maxMs: 2_000 };
    const memoryLog = captureLogger();
    const memory = await createEmitter({
      brokers: [brokers],
      service: 't',
      topic: memoryTopic,
      retry,
      logger: memoryLog,
    });
    const spooled = await createEmitter({
      brokers: [brokers],
      service: 't',
      topic: spoolTopic,
      retry,
      spool: { dir: spoolDir },
    });
    const closed = await createEmitter({ brokers: [brokers], service: 't', topic: closedTopic, retry });
    // Spools through the outage and keeps running: drains its spool, then sends directly again.
    const live = await createEmitter({
      brokers: [brokers],
      service: 't',
      topic: liveTopic,
      retry,
      spool: { dir: mkdtempSync(join(tmpdir(), 'sdk-spool-live-')) },
      logger: liveLog,
    });
    const loads = [
      steadyLoad(memory, 'm'),
      steadyLoad(spooled, 's'),
      steadyLoad(closed, 'c'),
      steadyLoad(live, 'l'),
    ];

    // Up: events flow.
    await waitFor(
      () => [memory, spooled, closed, live].every((e) => e.stats().sent > 200),
      30_000,
      () => new Error(`no traffic: ${JSON.stringify(memory.stats())}`),
    );

    // Down for 30 s, load continuing.
    await broker.stop();
    const downAt = Date.now();
    await waitFor(
      () => spooled.stats().spooled > 500,
      20_000,
      () => new Error(`nothing spooled: ${JSON.stringify(spooled.stats())}`),
    );
    // Spooling keeps memory small: batches go to disk, not to the queue.
    expect(spooled.stats().queued).toBeLessThan(1_000);
    await waitFor(
      () => Date.now() - downAt > OUTAGE_MS - 5_000,
      OUTAGE_MS,
      () => new Error('clock'),
    );

    // Closing during the outage must not hang, and must account for every pending event.
    loads[1]!.stop();
    loads[2]!.stop();
    const closedDelivered = closed.stats().sent;
    const t0 = Date.now();
    const [spoolReport, closedReport] = await Promise.all([
      spooled.close({ timeoutMs: 2_000 }),
      closed.close({ timeoutMs: 2_000 }),
    ]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(closedReport.complete).toBe(false);
    expect(closedReport.undelivered.count).toBe(loads[2]!.accepted.size - closedDelivered);
    expect(spoolReport.undelivered.count).toBe(0);
    expect(spoolReport.stats.spooled).toBe(loads[1]!.accepted.size - spoolReport.stats.sent);
    await waitFor(
      () => Date.now() - downAt >= OUTAGE_MS,
      OUTAGE_MS,
      () => new Error('clock'),
    );

    // Back up on the same data directory.
    await broker.restart();
    const memoryAccepted = loads[0]!.accepted;
    await waitFor(
      () => memory.stats().sent > memoryAccepted.size - 50 && memory.stats().sent > 0,
      60_000,
      () => new Error(`memory emitter did not recover: ${JSON.stringify(memory.stats())}`),
    );
    loads[0]!.stop();
    await memory.flush({ timeoutMs: 60_000 });
    await waitFor(
      () => live.stats().spooled === 0,
      60_000,
      () => new Error(`live spool not drained: ${JSON.stringify(live.stats())}`),
    );
    const sentAfterDrain = live.stats().sent;
    await waitFor(
      () => live.stats().sent > sentAfterDrain + 300,
      30_000,
      () => new Error('live emitter stalled'),
    );
    expect(live.stats().spooled).toBe(0); // sending directly again, not through the disk
    loads[3]!.stop();
    const liveReport = await live.close({ timeoutMs: 30_000 });
    expect(liveReport).toMatchObject({ complete: true, spooled: 0, undelivered: { count: 0 } });
    expect(liveLog.lines.some((l) => l.level === 'info' && /Spool drained/.test(l.msg))).toBe(true);
    const resender = await createEmitter({
      brokers: [brokers],
      service: 't',
      topic: spoolTopic,
      retry,
      spool: { dir: spoolDir },
    });
    expect(resender.stats().spooled).toBe(spoolReport.stats.spooled);
    await waitFor(
      () => resender.stats().spooled === 0,
      60_000,
      () => new Error(`spool not drained: ${JSON.stringify(resender.stats())}`),
    );
    const resenderReport = await resender.close({ timeoutMs: 10_000 });
    const memoryReport = await memory.close({ timeoutMs: 10_000 });

    // Every accepted event arrived; any duplicate is a resend of the same event (same id).
    for (const l of loads) expect(l.rejected()).toBe(0);
    expect(memoryReport).toMatchObject({ complete: true, undelivered: { count: 0 } });
    expect(memoryReport.stats.failed).toBe(0);
    expect(memoryReport.stats.retries).toBeGreaterThan(0);
    expect(
      memoryLog.lines.some(
        (l) => l.level === 'warn' && (l.obj as { code?: string }).code === 'kafka_unavailable',
      ),
    ).toBe(true);
    expect(memoryLog.lines.some((l) => l.level === 'info' && /again/.test(l.msg))).toBe(true);
    const memoryGot = await consumeAll(brokers, memoryTopic);
    expect(sorted(new Set(memoryGot.map((m) => m.event.event_id)))).toEqual(sorted(memoryAccepted));
    expect(inEmitOrder(memoryGot)).toBe(true);

    expect(resenderReport.stats).toMatchObject({ sent: spoolReport.stats.spooled, failed: 0, spooled: 0 });
    const spoolGot = await consumeAll(brokers, spoolTopic);
    expect(sorted(new Set(spoolGot.map((m) => m.event.event_id)))).toEqual(sorted(loads[1]!.accepted));
    expect(inEmitOrder(spoolGot)).toBe(true);

    const liveGot = await consumeAll(brokers, liveTopic);
    expect(sorted(new Set(liveGot.map((m) => m.event.event_id)))).toEqual(sorted(loads[3]!.accepted));
    expect(inEmitOrder(liveGot)).toBe(true);

    const closedGot = new Set((await consumeAll(brokers, closedTopic)).map((m) => m.event.event_id));
    const accountedFor = new Set([...closedGot, ...closedReport.undelivered.eventIds]);
    expect(sorted(accountedFor)).toEqual(sorted(loads[2]!.accepted));
  }, 240_000);
});
