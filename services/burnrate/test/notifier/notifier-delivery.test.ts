import { generateWebhookSecret, verifyWebhook } from '@burnrate/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { fatalErrors, testClickHouse } from '../fixtures.js';
import { budgetAlert, freshCustomer } from './alerts.js';
import { type Receiver, type Reply, signaturesOf, startReceiver } from './receiver.js';
import { type NotifierRig, pollRows, sleep, startNotifierRig } from './rig.js';

/**
 * The notifier end to end with real pieces: BullMQ on the test Redis, real HTTP receivers on
 * 127.0.0.1 that verify Standard Webhooks signatures, and alert_deliveries read back from chDB.
 */
let ch: Awaited<ReturnType<typeof testClickHouse>>;
let redis: Redis;
let rig: NotifierRig | undefined;
const receivers: Receiver[] = [];

beforeAll(async () => {
  ch = await testClickHouse();
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  expect(fatalErrors).toEqual([]);
});
afterAll(async () => {
  await redis.quit();
  await ch.client.close();
});

async function receiver(o: Parameters<typeof startReceiver>[0] = {}): Promise<Receiver> {
  const r = await startReceiver(o);
  receivers.push(r);
  return r;
}

const webhook = (name: string, r: Receiver, secrets: string[]) => ({
  name,
  kind: 'webhook',
  url: r.url,
  secrets,
});

/** Answers `statuses` in turn (the last one from then on). */
const answers =
  (...replies: Reply[]) =>
  (_: unknown, i: number): Reply =>
    replies[Math.min(i, replies.length - 1)]!;

describe('notifier: delivery', () => {
  it('delivers a webhook once, signed with every secret, webhook-id = message id and body = payload', async () => {
    const [current, next, other] = [
      generateWebhookSecret(),
      generateWebhookSecret(),
      generateWebhookSecret(),
    ];
    const rotating = await receiver({ secrets: [current] });
    const single = await receiver({ secrets: [other] });
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [webhook('rotating', rotating, [current, next]), webhook('single', single, [other])],
    });
    const payload = budgetAlert(freshCustomer(), '100');
    await rig.send(payload);

    const rows = await pollRows(ch, [payload.id], (r) => r.length >= 2);
    expect(await rig.settled(payload.id, 'rotating')).toBe('completed');
    expect(await rig.settled(payload.id, 'single')).toBe('completed');
    // Nothing more arrives once both are delivered.
    await sleep(1_000);
    expect(rotating.requests).toHaveLength(1);
    expect(single.requests).toHaveLength(1);

    const [got] = rotating.requests;
    expect(got!.verified).toEqual({ id: payload.id, timestampSeconds: expect.any(Number) });
    expect(got!.headers['webhook-id']).toBe(payload.id);
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.body).toBe(JSON.stringify(payload));
    expect(got!.json).toEqual(payload);
    // A rotation: two signatures, one per secret, and either secret alone verifies the request.
    expect(signaturesOf(got!)).toHaveLength(2);
    expect(signaturesOf(got!).every((s) => s.startsWith('v1,'))).toBe(true);
    expect(verifyWebhook({ headers: got!.headers, body: got!.body, secrets: [next] }).id).toBe(payload.id);
    // The check can fail: a secret the destination does not have, or a body changed by one byte.
    expect(() => verifyWebhook({ headers: got!.headers, body: got!.body, secrets: [other] })).toThrow(
      /No v1 signature/,
    );
    expect(() => verifyWebhook({ headers: got!.headers, body: `${got!.body} `, secrets: [current] })).toThrow(
      /No v1 signature/,
    );
    expect(single.requests[0]!.verified).toEqual({ id: payload.id, timestampSeconds: expect.any(Number) });
    expect(signaturesOf(single.requests[0]!)).toHaveLength(1);

    await sleep(500);
    const final = await pollRows(ch, [payload.id], (r) => r.length >= 2);
    expect(final).toEqual(rows);
    expect(final.map((r) => [r.destination, r.kind, r.attempt, r.outcome, r.status]).sort()).toEqual([
      ['rotating', 'webhook', 1, 'delivered', 200],
      ['single', 'webhook', 1, 'delivered', 200],
    ]);
  });

  it('keeps retrying a receiver that answers 500 for 60 s, with the same webhook-id, and delivers once it recovers', async () => {
    const secret = generateWebhookSecret();
    let recoversAtMs = Number.POSITIVE_INFINITY;
    const flaky = await receiver({
      secrets: [secret],
      reply: (r, i) => {
        if (i === 0) recoversAtMs = r.atMs + 60_000;
        return r.atMs < recoversAtMs ? { status: 500 } : { status: 200 };
      },
    });
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [webhook('flaky', flaky, [secret])],
      attempts: 500,
      backoffBaseMs: 200,
      backoffMaxMs: 2_000,
    });
    const payload = budgetAlert(freshCustomer(), '80');
    await rig.send(payload);

    const rows = await pollRows(ch, [payload.id], (r) => r.some((x) => x.outcome === 'delivered'), 90_000);
    expect(await rig.settled(payload.id, 'flaky')).toBe('completed');
    const requests = flaky.requests;
    const last = requests.at(-1)!;
    // Every request but the last was during the outage; the last came after it, within the backoff cap.
    expect(requests.slice(0, -1).every((r) => r.atMs < recoversAtMs)).toBe(true);
    expect(last.atMs).toBeGreaterThanOrEqual(recoversAtMs);
    expect(last.atMs - recoversAtMs).toBeLessThan(4_000);
    // backoffMaxMs caps every wait (uncapped, the 10th retry alone would wait ~100 s); 1 s for the rest.
    const gaps = requests.slice(1).map((r, i) => r.atMs - requests[i]!.atMs);
    expect(Math.max(...gaps)).toBeLessThan(2_000 + 1_000);
    expect(requests.length).toBeGreaterThanOrEqual(25);
    // One message: the same webhook-id on every attempt, each signed with that attempt's own timestamp.
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([payload.id]));
    for (const r of requests) {
      expect(r.verified).toEqual({ id: payload.id, timestampSeconds: expect.any(Number) });
      const { timestampSeconds } = r.verified as { timestampSeconds: number };
      expect(Math.abs(r.atMs / 1000 - timestampSeconds)).toBeLessThan(2);
      expect(r.body).toBe(JSON.stringify(payload));
    }
    const stamps = requests.map((r) => Number(r.headers['webhook-timestamp']));
    expect(stamps.at(-1)! - stamps[0]!).toBeGreaterThanOrEqual(59);

    await sleep(1_000);
    const final = await pollRows(ch, [payload.id], (r) => r.length >= requests.length);
    expect(final.length).toBe(requests.length);
    expect(final.map((r) => r.attempt)).toEqual(requests.map((_, i) => i + 1));
    expect(final.slice(0, -1).every((r) => r.outcome === 'retrying' && r.status === 500)).toBe(true);
    expect(final.at(-1)).toMatchObject({ outcome: 'delivered', status: 200, attempt: requests.length });
    expect(rows.filter((r) => r.outcome === 'delivered')).toHaveLength(1);
  }, 120_000);

  it('honours Retry-After on 429 and retries 408', async () => {
    const limited = await receiver({
      reply: answers({ status: 429, headers: { 'retry-after': '2' } }, { status: 200 }),
    });
    const slow = await receiver({ reply: answers({ status: 408 }, { status: 200 }) });
    const secret = generateWebhookSecret();
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [webhook('limited', limited, [secret]), webhook('slow', slow, [secret])],
    });
    const payload = budgetAlert(freshCustomer(), '100');
    await rig.send(payload);

    expect(await rig.settled(payload.id, 'limited')).toBe('completed');
    expect(await rig.settled(payload.id, 'slow')).toBe('completed');
    expect(limited.requests).toHaveLength(2);
    // Without Retry-After the backoff would be 100–200 ms.
    const gap = limited.requests[1]!.atMs - limited.requests[0]!.atMs;
    expect(gap).toBeGreaterThanOrEqual(1_800);
    expect(gap).toBeLessThan(5_000);
    expect(slow.requests).toHaveLength(2);
    expect(new Set([...limited.requests, ...slow.requests].map((r) => r.headers['webhook-id']))).toEqual(
      new Set([payload.id]),
    );

    const rows = await pollRows(ch, [payload.id], (r) => r.length >= 4);
    const of = (d: string) => rows.filter((r) => r.destination === d).map((r) => [r.outcome, r.status]);
    expect(of('limited')).toEqual([
      ['retrying', 429],
      ['delivered', 200],
    ]);
    expect(of('slow')).toEqual([
      ['retrying', 408],
      ['delivered', 200],
    ]);
  });

  it('does not retry 400 or 404: one request, the job fails, the outcome is failed', async () => {
    const bad = await receiver({ reply: () => ({ status: 400 }) });
    const missing = await receiver({ reply: () => ({ status: 404 }) });
    const secret = generateWebhookSecret();
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [webhook('bad', bad, [secret]), webhook('missing', missing, [secret])],
    });
    const payload = budgetAlert(freshCustomer(), '50');
    await rig.send(payload);

    expect(await rig.settled(payload.id, 'bad')).toBe('failed');
    expect(await rig.settled(payload.id, 'missing')).toBe('failed');
    // A retry would come within 200 ms (backoffBaseMs); wait far longer.
    await sleep(1_500);
    expect(bad.requests).toHaveLength(1);
    expect(missing.requests).toHaveLength(1);
    const job = await rig.deliveries.getJob(`${payload.id}.bad`);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toBe('the receiver answered 400, which a retry cannot fix');

    const rows = await pollRows(ch, [payload.id], (r) => r.length >= 2);
    expect(rows.map((r) => [r.destination, r.outcome, r.status]).sort()).toEqual([
      ['bad', 'failed', 400],
      ['missing', 'failed', 404],
    ]);
  });

  it('disables a destination that answers 410: later alerts to it are skipped without a request, others still arrive', async () => {
    const gone = await receiver({ reply: () => ({ status: 410 }) });
    const alive = await receiver();
    const secret = generateWebhookSecret();
    rig = await startNotifierRig({
      redis,
      clickhouse: ch,
      destinations: [webhook('gone', gone, [secret]), webhook('alive', alive, [secret])],
    });
    const customer = freshCustomer();
    const first = budgetAlert(customer, '80');
    await rig.send(first);
    expect(await rig.settled(first.id, 'gone')).toBe('failed');
    expect(await rig.settled(first.id, 'alive')).toBe('completed');
    expect(await redis.hget(rig.keys.disabledDestinations, 'gone')).toMatch(/^[0-9a-f]{16}$/);

    const second = budgetAlert(customer, '100');
    await rig.send(second);
    expect(await rig.settled(second.id, 'gone')).toBe('completed');
    expect(await rig.settled(second.id, 'alive')).toBe('completed');
    await sleep(500);
    expect(gone.requests).toHaveLength(1);
    expect(alive.requests.map((r) => r.headers['webhook-id'])).toEqual([first.id, second.id]);

    const rows = await pollRows(ch, [first.id, second.id], (r) => r.length >= 4);
    const outcome = (id: string, d: string) =>
      rows.filter((r) => r.message_id === id && r.destination === d).map((r) => [r.outcome, r.status]);
    expect(outcome(first.id, 'gone')).toEqual([['disabled', 410]]);
    expect(outcome(first.id, 'alive')).toEqual([['delivered', 200]]);
    expect(outcome(second.id, 'gone')).toEqual([['skipped', 0]]);
    expect(outcome(second.id, 'alive')).toEqual([['delivered', 200]]);
    expect(rows.find((r) => r.outcome === 'skipped')!.error).toContain('burnrate alerts enable');
  });
});
