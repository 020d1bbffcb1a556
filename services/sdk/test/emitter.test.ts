import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ValidationError } from '@burnrate/core';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../devstack/src/index.js';
import {
  createEmitter,
  type DeliveryFailure,
  type Emitter,
  EmitterClosedError,
  FlushTimeoutError,
  QueueFullError,
  withStep,
  withWorkflow,
} from '../src/index.js';
import { captureLogger, consumeAll, createTopic, usage } from './helpers.js';

const brokers = inject('kafkaBrokers');
const emitters: Emitter[] = [];

async function emitter(options: Partial<Parameters<typeof createEmitter>[0]> & { topic: string }) {
  const e = await createEmitter({ brokers: [brokers], service: 'sdk-test', ...options });
  emitters.push(e);
  return e;
}

afterEach(async () => {
  await Promise.all(emitters.splice(0).map((e) => e.close({ timeoutMs: 5_000 })));
});

describe('emitter against the local broker', () => {
  it('delivers every emitted event once, keyed by customer_ref, with distinct ids and defaults filled', async () => {
    const topic = await createTopic(brokers);
    const e = await emitter({ topic, maxBatchEvents: 300 });
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++)
      ids.add(e.emit(usage({ customer_ref: `cust-${i % 13}`, tags: { i: String(i) } })));
    await e.flush({ timeoutMs: 30_000 });
    expect(e.stats()).toMatchObject({ accepted: 2_000, sent: 2_000, failed: 0, queued: 0 });
    expect(e.stats().batches).toBeGreaterThanOrEqual(7); // 2000 / 300 per batch

    const got = await consumeAll(brokers, topic);
    expect(got).toHaveLength(2_000);
    expect(new Set(got.map((m) => m.event.event_id))).toEqual(ids);
    for (const m of got) expect(m.key).toBe(m.event.customer_ref);
    // One customer, one partition: the key decides the partition.
    const partitionsOf = new Map<string, Set<number>>();
    for (const m of got) partitionsOf.set(m.key, (partitionsOf.get(m.key) ?? new Set()).add(m.partition));
    for (const parts of partitionsOf.values()) expect(parts.size).toBe(1);
    const sample = got.find((m) => m.event.tags.i === '7')!.event;
    expect(sample).toMatchObject({
      service: 'sdk-test',
      customer_ref: 'cust-7',
      step_kind: 'llm_call',
      depth: 0,
      attempt: 1,
      status: 'ok',
      requests: 1,
      workflow: null,
      user_ref: null,
      tokens: { input: 120, cached_input: 880, cache_write: 0, output: 40, reasoning: 16 },
      units: { images: 0, audio_ms: 0, web_search_calls: 0 },
    });
    expect(Math.abs(sample.occurred_at - Date.now())).toBeLessThan(60_000);
  });

  it('fills workflow fields from the context', async () => {
    const topic = await createTopic(brokers, { partitions: 1 });
    const e = await emitter({ topic });
    let stepId = '';
    await withWorkflow({ workflow: 'triage', runId: 'run-1', customerRef: 'acme', feature: 'inbox' }, () =>
      withStep({ kind: 'tool_call' }, async () => {
        await withStep({ stepId: 'inner' }, async () => {
          e.emit({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
        });
        stepId = e.emit({ provider: 'openai', model: 'gpt-4o', workflow: 'explicit-wins' });
      }),
    );
    await e.flush();
    const got = (await consumeAll(brokers, topic)).map((m) => m.event);
    const inner = got.find((ev) => ev.step_id === 'inner')!;
    const outer = got.find((ev) => ev.event_id === stepId)!;
    expect(inner).toMatchObject({
      customer_ref: 'acme',
      workflow: 'triage',
      workflow_run_id: 'run-1',
      parent_step_id: outer.step_id,
      depth: 1,
      step_kind: 'tool_call',
      feature: 'inbox',
    });
    expect(outer).toMatchObject({
      workflow: 'explicit-wins',
      workflow_run_id: 'run-1',
      depth: 0,
      parent_step_id: null,
    });
  });

  it('rejects invalid events synchronously, naming the field, and accepts nothing for them', async () => {
    const topic = await createTopic(brokers);
    const e = await emitter({ topic });
    const field = (input: object) => {
      try {
        e.emit(input as never);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).field;
      }
      throw new Error('emit accepted an invalid event');
    };
    expect(field({ provider: 'openai', model: 'm' })).toBe('customer_ref');
    expect(field(usage({ tokens: { input: -1 } }))).toBe('tokens.input');
    expect(field(usage({ tokens: { output: 1.5 } }))).toBe('tokens.output');
    expect(field(usage({ step_kind: 'dance' as never }))).toBe('step_kind');
    expect(field(usage({ model: '' }))).toBe('model');
    expect(field(usage({ tags: { note: 'x'.repeat(10_000) } }))).toBe('tags.note');
    expect(
      field(usage({ tags: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])) })),
    ).toBe('tags');
    expect(field(usage({ occurred_at: 1_700_000_000 }))).toBe('occurred_at'); // seconds, not ms
    expect(e.stats()).toMatchObject({ accepted: 0, queued: 0 });
  });

  it("overflow 'reject': emit() throws QueueFullError when the queue is full and stats count it", async () => {
    const topic = await createTopic(brokers);
    // A broker nobody listens on: nothing leaves the queue.
    const e = await emitter({ topic, brokers: ['127.0.0.1:1'], maxQueueEvents: 50, maxBatchEvents: 10 });
    for (let i = 0; i < 50; i++) e.emit(usage());
    expect(() => e.emit(usage())).toThrow(QueueFullError);
    await expect(e.emitAsync(usage())).rejects.toBeInstanceOf(QueueFullError);
    try {
      e.emit(usage());
    } catch (error) {
      expect((error as QueueFullError).code).toBe('queue_full');
      expect((error as QueueFullError).retriable).toBe(true);
    }
    expect(e.stats()).toMatchObject({ accepted: 50, rejected: 3, queued: 50, sent: 0 });
    await expect(e.flush({ timeoutMs: 200 })).rejects.toBeInstanceOf(FlushTimeoutError);
    const report = await e.close({ timeoutMs: 1_000 });
    expect(report.complete).toBe(false);
    expect(report.undelivered.count).toBe(50);
    expect(() => e.emit(usage())).toThrow(EmitterClosedError);
  });

  it("overflow 'block': emitAsync() waits for room and every event gets through", async () => {
    const topic = await createTopic(brokers);
    const e = await emitter({ topic, maxQueueEvents: 20, maxBatchEvents: 5, overflow: 'block' });
    const ids = await Promise.all(Array.from({ length: 200 }, () => e.emitAsync(usage())));
    expect(() => {
      for (let i = 0; i < 100; i++) e.emit(usage());
    }).toThrow(QueueFullError); // a synchronous emit cannot wait
    await e.flush({ timeoutMs: 30_000 });
    const got = await consumeAll(brokers, topic);
    const delivered = new Set(got.map((m) => m.event.event_id));
    for (const id of ids) expect(delivered.has(id)).toBe(true);
    expect(e.stats().accepted).toBe(got.length);
  });

  it('reports events the broker refuses for good (too large) through onError and splits batches that are merely too big', async () => {
    // max.message.bytes bounds one record batch: ~3 of our ~190-byte events fit, one huge one never does.
    const topic = await createTopic(brokers, {
      configEntries: [{ name: 'max.message.bytes', value: '700' }],
    });
    const failures: DeliveryFailure[] = [];
    const logger = captureLogger();
    const e = await emitter({ topic, onError: (f) => failures.push(f), lingerMs: 50, logger });
    const small = Array.from({ length: 60 }, () => e.emit(usage({ customer_ref: 'one-customer' })));
    const blob = 'x'.repeat(250);
    const huge = e.emit(usage({ customer_ref: 'one-customer', tags: { a: blob, b: blob, c: blob } }));
    await e.flush({ timeoutMs: 30_000 });
    expect(failures.flatMap((f) => f.eventIds)).toEqual([huge]);
    expect(failures[0]!.error.code).toBe('kafka_message_too_large');
    expect(failures[0]!.error.retriable).toBe(false);
    expect(e.stats()).toMatchObject({ accepted: 61, sent: 60, failed: 1 });
    expect(e.stats().batches).toBeGreaterThan(10); // 60 events, at most ~3 per accepted batch
    expect(logger.lines.some((l) => l.level === 'warn' && /smaller batches/.test(l.msg))).toBe(true);
    expect(
      logger.lines.some(
        (l) => l.level === 'error' && (l.obj as { code?: string }).code === 'kafka_message_too_large',
      ),
    ).toBe(true);
    const got = await consumeAll(brokers, topic);
    expect(new Set(got.map((m) => m.event.event_id))).toEqual(new Set(small));
  });

  it('uses an existing KafkaJS client and gzip compression', async () => {
    const topic = await createTopic(brokers);
    const kafka = new kafkajs.Kafka({ brokers: [brokers], logLevel: kafkajs.logLevel.NOTHING });
    const e = await emitter({ topic, kafka, compression: 'gzip' });
    for (let i = 0; i < 100; i++) e.emit(usage());
    await e.flush();
    expect(await consumeAll(brokers, topic)).toHaveLength(100);
  });

  it('reports events as failed once retry.maxAttempts is used up (no spool), even if onError throws', async () => {
    const failures: DeliveryFailure[] = [];
    const e = await emitter({
      topic: 'never-reached',
      brokers: ['127.0.0.1:1'],
      retry: { initialMs: 10, maxMs: 20, maxAttempts: 2 },
      onError: (f) => {
        failures.push(f);
        throw new Error('a bug in the callback must not wedge delivery');
      },
    });
    const ids = Array.from({ length: 25 }, () => e.emit(usage()));
    await e.flush({ timeoutMs: 30_000 });
    expect(failures.flatMap((f) => f.eventIds).sort()).toEqual([...ids].sort());
    expect(failures[0]!.error).toMatchObject({ code: 'kafka_unavailable', retriable: true });
    expect(e.stats()).toMatchObject({ accepted: 25, failed: 25, sent: 0, queued: 0, retries: 1 });
  });
  it('names a missing topic (kafka_topic_not_found, retriable) instead of failing vaguely', async () => {
    const failures: DeliveryFailure[] = [];
    const e = await emitter({
      topic: `missing-${Date.now()}`,
      retry: { initialMs: 10, maxMs: 20, maxAttempts: 2 },
      onError: (f) => failures.push(f),
    });
    const id = e.emit(usage());
    await e.flush({ timeoutMs: 30_000 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      eventIds: [id],
      error: { code: 'kafka_topic_not_found', retriable: true },
    });
  });

  it('with the spool full, events wait in memory, the overflow policy applies, and close() lists what it could not spool', async () => {
    const e = await emitter({
      topic: 'never-reached',
      brokers: ['127.0.0.1:1'],
      maxQueueEvents: 200,
      maxBatchEvents: 20,
      lingerMs: 1,
      retry: { initialMs: 10, maxMs: 50 },
      spool: { dir: mkdtempSync(join(tmpdir(), 'sdk-spool-full-')), maxBytes: 10_000 },
    });
    const accepted: string[] = [];
    let rejected = 0;
    await waitFor(
      () => {
        for (let i = 0; i < 20; i++) {
          try {
            accepted.push(e.emit(usage()));
          } catch (error) {
            expect(error).toBeInstanceOf(QueueFullError);
            rejected++;
          }
        }
        return rejected > 0;
      },
      30_000,
      () => new Error(`queue never filled: ${JSON.stringify(e.stats())}`),
    );
    const stats = e.stats();
    expect(stats.spooled).toBeGreaterThan(0);
    expect(stats.spooled * 150).toBeLessThan(10_000); // within the disk budget (events are > 150 B)
    expect(stats.queued).toBe(200);
    expect(stats.accepted).toBe(stats.spooled + stats.queued);
    const report = await e.close({ timeoutMs: 500 });
    expect(report.spooled).toBe(0);
    expect(report.undelivered.count).toBe(200);
    expect(new Set([...report.undelivered.eventIds]).size).toBe(200);
    expect(accepted.slice(-200)).toEqual(report.undelivered.eventIds); // the newest, in order
  });
});

describe('emitter options', () => {
  it('rejects unusable settings with a ConfigError naming the setting', async () => {
    const field = (options: object) =>
      createEmitter({ brokers: [brokers], service: 's', ...options } as never).then(
        () => 'accepted',
        (error) => (error instanceof ConfigError ? error.field : String(error)),
      );
    expect(await field({ brokers: [] })).toBe('brokers');
    expect(await field({ service: '' })).toBe('service');
    expect(await field({ maxBatchEvents: 0 })).toBe('maxBatchEvents');
    expect(await field({ maxQueueEvents: 1.5 })).toBe('maxQueueEvents');
    expect(await field({ lingerMs: -1 })).toBe('lingerMs');
    expect(await field({ overflow: 'drop' })).toBe('overflow');
    expect(await field({ compression: 'zstd' })).toBe('compression'); // no codec registered
    expect(await field({ spool: { dir: '' } })).toBe('spool.dir');
  });
});
